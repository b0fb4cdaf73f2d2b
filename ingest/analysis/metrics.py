"""Conversation metrics for the champion, and the text measures behind them.

The measures work on punctuated text (cloud speech recognition) and on the lower-case,
unpunctuated text of the offline recogniser: questions are found from how a clause starts
(wh-word plus auxiliary, auxiliary-subject inversion, "tell me", "walk me through"; the
detector in ``ingest/questions.py``, which the live scorer shares), with a trailing "?" as
extra evidence when there is one.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import NamedTuple

from ingest.analysis import lexicons as lx
from ingest.questions import is_open, question_starts
from ingest.types import Segment

MONOLOGUE_MERGE_GAP = 1.5  # seconds of silence that still count as one champion monologue
QUESTION_SPAN_WORDS = 25  # the longest question quoted from unpunctuated text
CACHED_TEXTS = 256

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.?!]+(?=[\s\"')\]]|$)")
_CLAUSE_BREAK = re.compile(r"[,.;:?!]")


class Token(NamedTuple):
    """A word of a text: lower-cased form and its character span in the original."""

    norm: str
    start: int
    end: int


@dataclass(frozen=True)
class QuestionSpan:
    """A question inside a text: its character span, whether it is open, and its opener."""

    start: int
    end: int
    open: bool
    opener: str | None


def tokens(text: str) -> list[Token]:
    """Splits ``text`` into word tokens (numbers kept whole, "30%" one token)."""
    return list(_tokens(text))


# The analysers look at each segment's text many times; these small caches keep that linear.
@functools.lru_cache(maxsize=CACHED_TEXTS)
def _tokens(text: str) -> tuple[Token, ...]:
    return tuple(
        Token(m.group().lower().replace("\u2019", "'"), m.start(), m.end())
        for m in _TOKEN.finditer(text)
    )


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, or of the whole text if unpunctuated."""
    return list(_sentence_spans(text))


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    begin = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.end() if match else len(text)
        chunk = text[begin:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((begin + lead, begin + len(chunk.rstrip())))
        begin = end
    return tuple(spans)


def question_spans(text: str) -> list[QuestionSpan]:
    """The questions asked in ``text``, punctuated or not.

    A sentence ending in "?" is one question. Elsewhere (and in unpunctuated text) each
    question opener starts a question that runs to the next opener, the end of the sentence or
    `QUESTION_SPAN_WORDS` words.
    """
    return list(_question_spans(text))


@functools.lru_cache(maxsize=CACHED_TEXTS)
def _question_spans(text: str) -> tuple[QuestionSpan, ...]:
    found: list[QuestionSpan] = []
    for s_begin, s_end in sentence_spans(text):
        toks = tokens(text[s_begin:s_end])
        if not toks:
            continue
        words = [t.norm for t in toks]
        starts = question_starts(words)
        opener = starts[0][1] if starts else None
        if text[s_begin:s_end].endswith("?"):
            if opener is None and words[0] in lx.WH_WORDS:
                opener = words[0]
            found.append(QuestionSpan(s_begin, s_end, is_open(opener), opener))
            continue
        for n, (first, cue) in enumerate(starts):
            last = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(toks) - 1
            last = min(last, first + QUESTION_SPAN_WORDS - 1)
            while last > first and words[last] in lx.TRAILING_CONNECTIVES:
                last -= 1
            # A question that ends its sentence keeps the sentence's final punctuation.
            end = s_end if last == len(toks) - 1 else s_begin + toks[last].end
            found.append(QuestionSpan(s_begin + toks[first].start, end, is_open(cue), cue))
    return tuple(found)


def is_question(text: str) -> bool:
    """Whether ``text`` asks at least one question (with or without a "?")."""
    return bool(question_spans(text))


def count_fillers(text: str) -> int:
    """Filler words and phrases in ``text`` ("um", "you know", "like" used as a filler)."""
    toks = tokens(text)
    count = 0
    i = 0
    while i < len(toks):
        word = toks[i].norm
        # No word before this one in the same clause when punctuation separates them.
        joined = i > 0 and not _CLAUSE_BREAK.search(text[toks[i - 1].end : toks[i].start])
        prev = toks[i - 1].norm if joined else ""
        nxt = toks[i + 1].norm if i + 1 < len(toks) else ""
        pair = (word, nxt)
        if word in lx.FILLER_WORDS:
            count += 1
        elif word == "like":
            comma_after = text[toks[i].end : toks[i].end + 1] == ","
            at_start = not prev and nxt in ("um", "uh", "so", "i", "we", "it's", "really")
            if comma_after or at_start or prev in lx.LIKE_FILLER_BEFORE:
                count += 1
        elif pair in lx.FILLER_PHRASES and prev not in lx.FILLER_PHRASES[pair]:
            count += 1
            i += 1
        i += 1
    return count


def conversation_metrics(
    segments: list[Segment], *, champion: str
) -> dict[str, float | int | None]:
    """Talk, question, pace and filler measures of ``champion`` in a transcript.

    Args:
        segments: the transcript, any order.
        champion: the champion's speaker label, e.g. "S0".

    Returns:
        ``duration_seconds`` (first speech to last), ``champion_talk_seconds``, ``talk_ratio``
        (champion talk over all talk), ``longest_monologue_seconds`` (champion segments with
        no other speaker between and under 1.5 s of silence between them count as one),
        ``questions_total``, ``questions_per_minute`` (of call duration),
        ``words_per_minute`` (of champion talk), ``filler_words_total``,
        ``filler_rate_per_100_words``, ``patience_seconds`` (mean pause before a champion
        reply to another speaker, overlaps counted as 0; None without replies),
        ``turns_total`` and ``champion_turns`` (runs of one speaker). Rates are None when
        their denominator is zero. Floats are rounded to 3 decimals.
    """
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    mine = [s for s in ordered if s.speaker == champion]
    duration = max(s.end for s in ordered) - ordered[0].start if ordered else 0.0
    total_talk = sum(max(0.0, s.end - s.start) for s in ordered)
    talk = sum(max(0.0, s.end - s.start) for s in mine)

    longest = 0.0
    run_start: float | None = None
    previous: Segment | None = None
    for seg in ordered:
        if seg.speaker != champion:
            run_start = None
        elif (
            run_start is None or previous is None or seg.start - previous.end >= MONOLOGUE_MERGE_GAP
        ):
            run_start = seg.start
        if run_start is not None:
            longest = max(longest, seg.end - run_start)
        previous = seg

    pauses = [
        max(0.0, seg.start - before.end)
        for before, seg in itertools.pairwise(ordered)
        if seg.speaker == champion and before.speaker != champion
    ]
    turns = [
        s.speaker for n, s in enumerate(ordered) if n == 0 or ordered[n - 1].speaker != s.speaker
    ]

    words = sum(len(tokens(s.text)) for s in mine)
    questions = sum(len(question_spans(s.text)) for s in mine)
    fillers = sum(count_fillers(s.text) for s in mine)
    return {
        "duration_seconds": _round(duration),
        "champion_talk_seconds": _round(talk),
        "talk_ratio": _ratio(talk, total_talk),
        "longest_monologue_seconds": _round(longest),
        "questions_total": questions,
        "questions_per_minute": _ratio(questions, duration / 60),
        "words_per_minute": _ratio(words, talk / 60),
        "filler_words_total": fillers,
        "filler_rate_per_100_words": _ratio(fillers * 100, words),
        "patience_seconds": _ratio(sum(pauses), len(pauses)),
        "turns_total": len(turns),
        "champion_turns": turns.count(champion),
    }


def _round(value: float) -> float:
    return round(value, 3)


def _ratio(numerator: float, denominator: float) -> float | None:
    return _round(numerator / denominator) if denominator > 0 else None
