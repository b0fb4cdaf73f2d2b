"""Finding cue phrases in a segment and quoting them verbatim with word timings.

Shared by the offline pattern analyzer and scenario generator. A quote is always a character
span of a segment's own text: the sentence holding the cue or, in unpunctuated text, a window
of at most `MAX_QUOTE_WORDS` words around it.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from dataclasses import dataclass

from ingest.analysis import lexicons as lx
from ingest.analysis.metrics import CACHED_TEXTS, sentence_spans, tokens
from ingest.types import Segment

MAX_QUOTE_WORDS = 40
WORDS_BEFORE_CUE = 10
WORDS_AFTER_CUE = 20
_NUMBER = re.compile(r"\d")
_NEGATIONS = frozenset({"no", "not", "never", "without"})


@dataclass(frozen=True)
class Cue:
    """A cue found in a text: its label, token span (inclusive) and character span."""

    label: str
    first: int
    last: int
    start: int
    end: int


def find_cues(text: str, phrases: tuple[str, ...], label: str | None = None) -> list[Cue]:
    """Every occurrence of ``phrases`` in ``text``, negated ones ("no concerns") left out.

    Args:
        text: any transcript text.
        phrases: lower-case phrases, words separated by spaces.
        label: the label of every cue found; by default the phrase itself.

    Returns:
        The cues in text order, at most one per starting word (the first phrase that fits).
    """
    by_first: dict[str, list[list[str]]] = {}
    for phrase in phrases:
        parts = phrase.split()
        by_first.setdefault(parts[0], []).append(parts)
    toks = tokens(text)
    words = [t.norm for t in toks]
    found: list[Cue] = []
    for i, word in enumerate(words):
        for parts in by_first.get(word, ()):
            if words[i : i + len(parts)] != parts:
                continue
            if i > 0 and words[i - 1] in _NEGATIONS and parts[0] not in _NEGATIONS:
                continue
            last = i + len(parts) - 1
            found.append(Cue(label or " ".join(parts), i, last, toks[i].start, toks[last].end))
            break
    return found


def said(text: str, cue: Cue) -> str:
    """The cue's words exactly as they appear in ``text``."""
    return text[cue.start : cue.end]


def quote_span(text: str, cue: Cue) -> tuple[int, int]:
    """The character span to quote for ``cue``: its sentence, or a window of words around it."""
    sentences = sentence_spans(text)
    k = bisect.bisect_right([begin for begin, _ in sentences], cue.start) - 1
    if k < 0 or cue.start >= sentences[k][1]:
        return cue.start, cue.end
    begin, end = sentences[k]
    starts = _token_starts(text)
    lo, hi = bisect.bisect_left(starts, begin), bisect.bisect_left(starts, end)
    if hi - lo <= MAX_QUOTE_WORDS:
        return begin, end
    toks = tokens(text)
    first = max(lo, cue.first - WORDS_BEFORE_CUE)
    last = min(hi - 1, cue.last + WORDS_AFTER_CUE, first + MAX_QUOTE_WORDS - 1)
    return toks[first].start, toks[last].end


def clipped_span(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """``span`` cut to its first `MAX_QUOTE_WORDS` words."""
    starts = _token_starts(text)
    lo, hi = bisect.bisect_left(starts, span[0]), bisect.bisect_left(starts, span[1])
    if hi - lo <= MAX_QUOTE_WORDS:
        return span
    return span[0], tokens(text)[lo + MAX_QUOTE_WORDS - 1].end


def quote_timing(segment: Segment, span: tuple[int, int]) -> tuple[float, float]:
    """When the quoted span was said: first and last quoted word, else the whole segment.

    The segment's ``words`` are aligned to its text word by word, so punctuation, case and
    a word list that differs a little from the text (numbers, contractions) do not matter.
    """
    starts = _token_starts(segment.text)
    lo, hi = bisect.bisect_left(starts, span[0]), bisect.bisect_left(starts, span[1])
    owners = _word_owners(segment.text, tuple(w.word for w in segment.words))
    hits = [owner for owner in owners[lo:hi] if owner is not None]
    if not hits:
        return segment.start, segment.end
    start = min(max(segment.words[hits[0]].start, segment.start), segment.end)
    end = max(min(segment.words[hits[-1]].end, segment.end), start)
    return start, end


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _token_starts(text: str) -> tuple[int, ...]:
    return tuple(t.start for t in tokens(text))


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _word_owners(text: str, words: tuple[str, ...]) -> tuple[int | None, ...]:
    """For each token of ``text``, the index of the timed word it was aligned to, if any."""
    text_norms = [t.norm for t in tokens(text)]
    owners = [n for n, word in enumerate(words) for _ in tokens(word)]
    word_norms = [t.norm for word in words for t in tokens(word)]
    if text_norms == word_norms:
        return tuple(owners)
    mapped: list[int | None] = [None] * len(text_norms)
    matcher = difflib.SequenceMatcher(None, text_norms, word_norms, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mapped[block.a + k] = owners[block.b + k]
    return tuple(mapped)


def objection_cues(text: str) -> list[Cue]:
    """The objections raised in ``text``, one per sentence (or word window), in order.

    Each cue's label is the kind of objection (see `lexicons.OBJECTION_CUES`); a sentence with
    cues of several kinds takes the kind listed first there.
    """
    kinds = list(lx.OBJECTION_CUES)
    cues = sorted(
        (c for kind, phrases in lx.OBJECTION_CUES.items() for c in find_cues(text, phrases, kind)),
        key=lambda c: (kinds.index(c.label), c.start),
    )
    kept: dict[tuple[int, int], Cue] = {}
    for cue in cues:
        span = quote_span(text, cue)
        if not any(span[0] < end and begin < span[1] for begin, end in kept):
            kept[span] = cue
    return sorted(kept.values(), key=lambda c: c.start)


def value_cues(text: str) -> list[Cue]:
    """Value-statement cues in ``text``, numbers with a unit ("30%", "ten hours") included."""
    cues = find_cues(text, lx.VALUE_CUES)
    toks = tokens(text)
    for n, tok in enumerate(toks):
        if not (_NUMBER.search(tok.norm) or tok.norm in lx.NUMBER_WORDS):
            continue
        units = [k for k in range(n + 1, min(n + 3, len(toks))) if toks[k].norm in lx.VALUE_UNITS]
        last = n if tok.norm.endswith("%") else (units[0] if units else None)
        if last is not None:
            cues.append(Cue("number", n, last, tok.start, toks[last].end))
    return cues


def named_customer_cues(text: str) -> list[Cue]:
    """Capitalised names after "like"/"helped" or before "uses"/"cut"/... (cased text only)."""
    toks = tokens(text)
    sentence_starts = {begin for begin, _ in sentence_spans(text)}
    cues = []
    for n, tok in enumerate(toks):
        raw = text[tok.start : tok.end]
        if not raw[:1].isupper() or raw in lx.NOT_NAMES or tok.start in sentence_starts:
            continue
        before = toks[n - 1].norm if n > 0 else ""
        after = toks[n + 1].norm if n + 1 < len(toks) else ""
        if before in lx.NAMED_CUSTOMER_BEFORE or after in lx.NAMED_CUSTOMER_AFTER:
            cues.append(Cue("named customer", n, n, tok.start, tok.end))
    return cues
