"""The offline pattern analyzer: cue phrases and turn positions, no model and no network.

Only the champion's segments are quoted. Opening and objection handling come from where a
turn sits (the first minute; right after a prospect's objection), the other categories from
cue phrases (`lexicons`), questions from `metrics.question_spans`. Each quote is a sentence of
one segment, or a window of words in unpunctuated text (see `quotes`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ingest.analysis import lexicons as lx
from ingest.analysis.metrics import question_spans, sentence_spans, tokens
from ingest.analysis.quotes import (
    MAX_QUOTE_WORDS,
    Cue,
    clipped_span,
    find_cues,
    named_customer_cues,
    objection_cues,
    quote_span,
    quote_timing,
    said,
    value_cues,
)
from ingest.types import AnalysisResult, PatternDraft, Segment

PER_CATEGORY = 5
MAX_OPENINGS = 2
OPENING_WINDOW_SECONDS = 60.0
CONTEXT_MAX_WORDS = 60
MIN_CLOSING_SCORE = 2.0  # one closing cue late in the call, or two anywhere
# The order in which categories take turns to pick quotes; a quote goes to one category.
PRIORITY = (
    "opening",
    "objection_handling",
    "closing",
    "social_proof",
    "value_statement",
    "discovery_question",
)
_WHY = {
    "value_statement": "Value statement: ties the offer to a concrete outcome for the prospect "
    '("{cue}") rather than to a feature.',
    "social_proof": 'Social proof: points to customers like the prospect ("{cue}") so the claim '
    "rests on other people's results.",
    "closing": 'Closing: proposes a concrete next step ("{cue}") so the call ends with a '
    "commitment rather than a vague follow-up.",
}


@dataclass
class _Candidate:
    category: str
    segment: Segment
    span: tuple[int, int]
    score: float
    why: str
    context: str | None = None


class HeuristicPatternAnalyzer:
    """Finds the champion's techniques with word lists and turn positions (offline)."""

    name = "offline"

    def __init__(self, *, per_category: int = PER_CATEGORY) -> None:
        self._per_category = per_category

    async def analyze(self, segments: list[Segment], *, champion: str) -> AnalysisResult:
        """Patterns spoken by ``champion``, each quoted verbatim from one of its segments."""
        patterns = find_patterns(segments, champion=champion, per_category=self._per_category)
        return AnalysisResult(patterns=patterns, provider=self.name)


def find_patterns(
    segments: list[Segment], *, champion: str, per_category: int = PER_CATEGORY
) -> list[PatternDraft]:
    """The champion's patterns in ``segments``, at most ``per_category`` each, by start time.

    Args:
        segments: the transcript, any order.
        champion: the champion's speaker label.
        per_category: the most patterns kept per category (the best scored); openings are
            capped at `MAX_OPENINGS`.
    """
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    if not ordered:
        return []
    call_start = ordered[0].start
    duration = max(s.end for s in ordered) - call_start
    found = [*_openings(ordered, champion), *_objection_replies(ordered, champion)]
    for seg in ordered:
        if seg.speaker != champion or not seg.text.strip():
            continue
        position = (seg.start - call_start) / duration if duration > 0 else 0.0
        late = (position >= 0.6) + (position >= 0.85)
        proof = find_cues(seg.text, lx.SOCIAL_PROOF_CUES) + named_customer_cues(seg.text)
        closing = _cue_candidates("closing", seg, find_cues(seg.text, lx.CLOSING_CUES), late)
        found += _questions(seg)
        found += _cue_candidates("value_statement", seg, value_cues(seg.text), 0)
        found += _cue_candidates("social_proof", seg, proof, 0)
        found += [c for c in closing if c.score >= MIN_CLOSING_SCORE]
    return _select(found, per_category)


def _select(candidates: list[_Candidate], per_category: int) -> list[PatternDraft]:
    """The best candidates of each category; a quote goes to one category only.

    Categories take turns, each picking its best unused quote, so a sentence that is both
    social proof and a value statement does not leave one of them empty.
    """
    queues = {
        category: sorted(
            (c for c in candidates if c.category == category),
            key=lambda c: (-c.score, c.segment.start, c.span[0]),
        )
        for category in PRIORITY
    }
    used: set[str] = set()
    taken: dict[str, list[_Candidate]] = {category: [] for category in PRIORITY}
    picked = True
    while picked:
        picked = False
        for category, queue in queues.items():
            cap = MAX_OPENINGS if category == "opening" else per_category
            while queue and len(taken[category]) < cap:
                cand = queue.pop(0)
                key = " ".join(_quote(cand).lower().split())
                overlaps = any(
                    t.segment is cand.segment
                    and t.span[0] < cand.span[1]
                    and cand.span[0] < t.span[1]
                    for t in taken[category]
                )
                if key and key not in used and not overlaps:
                    used.add(key)
                    taken[category].append(cand)
                    picked = True
                    break
    chosen = [
        PatternDraft(c.category, _quote(c), *quote_timing(c.segment, c.span), c.why, c.context)
        for category in PRIORITY
        for c in taken[category]
    ]
    return sorted(chosen, key=lambda p: (p.start, PRIORITY.index(p.category)))


def _quote(cand: _Candidate) -> str:
    return cand.segment.text[cand.span[0] : cand.span[1]]


def _whole(text: str) -> tuple[int, int]:
    lead = len(text) - len(text.lstrip())
    return clipped_span(text, (lead, len(text.rstrip())))


def _word_count(text: str, span: tuple[int, int]) -> int:
    return sum(1 for t in tokens(text) if span[0] <= t.start < span[1])


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _openings(ordered: list[Segment], champion: str) -> list[_Candidate]:
    """The champion's first substantive turn, and a second one if it does opening work."""
    found: list[_Candidate] = []
    for seg in ordered:
        since = seg.start - ordered[0].start
        if seg.speaker != champion or since > OPENING_WINDOW_SECONDS or len(found) == MAX_OPENINGS:
            continue
        text = seg.text
        if len(tokens(text)) < 4:
            continue
        cues = sorted(
            (c for kind, ps in lx.OPENING_CUES.items() for c in find_cues(text, ps, kind)),
            key=lambda c: c.start,
        )
        if found and not cues:
            continue
        sentences = sentence_spans(text)
        target = max((quote_span(text, c)[1] for c in cues), default=0)
        end = sentences[0][1]
        for _, sentence_end in sentences:
            words = _word_count(text, (sentences[0][0], sentence_end))
            if words > MAX_QUOTE_WORDS:
                break
            end = sentence_end
            if sentence_end >= target and words >= 8:
                break
        span = clipped_span(text, (sentences[0][0], end))
        firsts: dict[str, Cue] = {}
        for cue in cues:
            if cue.end <= span[1]:
                firsts.setdefault(cue.label, cue)
        done = [f'{kind} ("{said(text, cue)}")' for kind, cue in firsts.items()]
        if any(span[0] <= q.start < span[1] for q in question_spans(text)):
            done.append("opens with a question")
        why = (
            f"Opening: in the first turn, {since:.0f} s into the call, the champion "
            f"{_listed(done)}."
            if done
            else f"Opening: the champion's first turn, {since:.0f} s into the call, introduces "
            "the call and frames it before any pitch."
        )
        found.append(_Candidate("opening", seg, span, 10.0 - len(found), why))
    return found


def _objection_replies(ordered: list[Segment], champion: str) -> list[_Candidate]:
    """Champion turns that answer an objection raised in the turn just before."""
    found: list[_Candidate] = []
    for before, seg in itertools.pairwise(ordered):
        if seg.speaker != champion or before.speaker == champion or not tokens(seg.text):
            continue
        raised = objection_cues(before.text)
        if not raised:
            continue
        objection = raised[-1]
        approaches: dict[str, Cue] = {}
        for kind, phrases in lx.REFRAME_CUES.items():
            cues = find_cues(seg.text, phrases, kind)
            if cues:
                approaches[kind] = cues[0]
        if len(tokens(seg.text)) > MAX_QUOTE_WORDS:
            pivots = [c for k, c in approaches.items() if k != "acknowledges it"]
            first = sentence_spans(seg.text)[0]
            span = quote_span(seg.text, pivots[0]) if pivots else clipped_span(seg.text, first)
        else:
            span = _whole(seg.text)
        how = [f'{kind} ("{said(seg.text, cue)}")' for kind, cue in approaches.items()]
        why = (
            f"Objection handling: the prospect raised {objection.label} "
            f'("{said(before.text, objection)}") and the champion '
            + (_listed(how) if how else "answers it head-on instead of moving past it")
            + "."
        )
        context = before.text.strip()
        if len(tokens(context)) > CONTEXT_MAX_WORDS:
            begin, end = quote_span(before.text, objection)
            context = before.text[begin:end]
        found.append(_Candidate("objection_handling", seg, span, 3.0 + len(how), why, context))
    return found


def _questions(seg: Segment) -> list[_Candidate]:
    found = []
    for q in question_spans(seg.text):
        span = clipped_span(seg.text, (q.start, q.end))
        quoted = seg.text[span[0] : span[1]]
        if find_cues(quoted, lx.CLOSING_CUES):
            continue  # a question about the next step is a close, scored as one
        words = [t.norm for t in tokens(quoted)]
        score = (2.0 if q.open else 1.0) + 0.5 * (len(words) >= 6)
        score += 0.5 * ("you" in words or "your" in words)
        if q.open:
            kind = f'an open "{q.opener}" question'
        else:
            kind = f'a direct "{q.opener}" question' if q.opener else "a direct question"
        purpose = (
            "gets the prospect describing their situation in their own words"
            if q.open
            else "pins down a fact about the prospect's situation"
        )
        found.append(
            _Candidate(
                "discovery_question",
                seg,
                span,
                score,
                f"Discovery question: {kind} that {purpose}.",
            )
        )
    return found


def _cue_candidates(category: str, seg: Segment, cues: list[Cue], bonus: float) -> list[_Candidate]:
    """One candidate per quoted sentence (or window) holding ``cues``, scored by distinct cues.

    Cues inside a question count only for closing ("does Thursday work?").
    """
    questions = [(q.start, q.end) for q in question_spans(seg.text)]
    groups: dict[tuple[int, int], list[Cue]] = {}
    for cue in cues:
        asked = any(begin <= cue.start < end for begin, end in questions)
        if category == "closing" or not asked:
            groups.setdefault(quote_span(seg.text, cue), []).append(cue)
    found = []
    for span, group in groups.items():
        shown = list(dict.fromkeys(said(seg.text, c) for c in group))[:3]
        why = _WHY[category].format(cue='", "'.join(shown))
        found.append(_Candidate(category, seg, span, len({c.label for c in group}) + bonus, why))
    return found
