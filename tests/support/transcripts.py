"""Hand-made transcripts: segments with word timings, for the analysis tests."""

from __future__ import annotations

from ingest.types import Segment, Word

SECONDS_PER_WORD = 0.5


def make_segments(
    turns: list[tuple[str, float, str]], *, seconds_per_word: float = SECONDS_PER_WORD
) -> list[Segment]:
    """Segments from (speaker, start, text), each word given ``seconds_per_word``.

    A word is spoken for 80% of its slot, so the segment ends when its last slot does.
    """
    segments = []
    for speaker, start, text in turns:
        words = [
            Word(raw, start + n * seconds_per_word, start + (n + 0.8) * seconds_per_word)
            for n, raw in enumerate(text.split())
        ]
        end = start + len(words) * seconds_per_word
        segments.append(Segment(start, end, speaker, text, words))
    return segments
