"""Giving a transcriber's words to the speakers that diarization found.

A recogniser that does not diarize (whisper) returns segments that may run across a change of
speaker: on a mixed recording its voice-activity filter joins the speech of both people before
decoding. Diarization (`ingest.diarize`) labels speech regions instead. Each word goes to the
region it overlaps most (the nearest region when it falls in a gap), and a segment is split
wherever the speaker changes between two of its words. The same filter joins one speaker's
turns across the other's on a stereo channel, so a segment is also split at a long pause.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from ingest.types import Segment, Word
from ingest.vad import SpeechRegion


class RegionSpeakers:
    """Who speaks at a time, from diarized speech regions (sorted, not overlapping).

    Args:
        regions: the speech regions, in time order.
        labels: the speaker label of each region.

    Raises:
        ValueError: ``regions`` and ``labels`` differ in length, or there are no regions.
    """

    def __init__(self, regions: Sequence[SpeechRegion], labels: Sequence[str]) -> None:
        if len(regions) != len(labels):
            raise ValueError("one label per region is needed")
        if not regions:
            raise ValueError("at least one region is needed")
        self._regions = list(regions)
        self._labels = list(labels)
        self._starts = [r.start for r in self._regions]
        self._ends = [r.end for r in self._regions]

    def speaker(self, start: float, end: float) -> str:
        """The speaker of the region that overlaps ``start..end`` most, else the nearest."""
        # Sorted and apart, regions have sorted ends too: those in [first, last) overlap.
        first = bisect.bisect_right(self._ends, start)
        last = bisect.bisect_left(self._starts, end)
        if first < last:
            best = max(
                range(first, last),
                key=lambda i: min(end, self._ends[i]) - max(start, self._starts[i]),
            )
        else:
            middle = (start + end) / 2
            near = [i for i in (first - 1, first) if 0 <= i < len(self._regions)]
            best = min(near, key=lambda i: _distance(self._regions[i], middle))
        return self._labels[best]


def _distance(region: SpeechRegion, moment: float) -> float:
    if moment < region.start:
        return region.start - moment
    return max(moment - region.end, 0.0)


MAX_PAUSE_SECONDS = 1.5
"""A longer silence between two words of a segment ends the segment (a turn was skipped)."""


def split_by_speaker(segment: Segment, speakers: RegionSpeakers | None) -> list[Segment]:
    """``segment`` relabelled, and split where the speaker changes between its words or
    where they are more than `MAX_PAUSE_SECONDS` apart.

    With ``speakers`` None the segment keeps its speaker and is only split at long pauses.
    A segment without words takes the speaker of its whole span. The text of a piece is its
    words joined; an unsplit segment keeps its own text.
    """
    if not segment.words:
        if speakers is not None:
            segment.speaker = speakers.speaker(segment.start, segment.end)
        return [segment]
    runs: list[tuple[str, list[Word]]] = []
    for word in segment.words:
        who = segment.speaker if speakers is None else speakers.speaker(word.start, word.end)
        if runs and runs[-1][0] == who and word.start - runs[-1][1][-1].end <= MAX_PAUSE_SECONDS:
            runs[-1][1].append(word)
        else:
            runs.append((who, [word]))
    if len(runs) == 1:
        segment.speaker = runs[0][0]
        return [segment]
    return [
        Segment(
            start=words[0].start,
            end=words[-1].end,
            speaker=who,
            text=" ".join(w.word for w in words),
            words=words,
        )
        for who, words in runs
    ]


JOIN_GAP_SECONDS = 1.0
"""Two pieces of one speaker this close together join when the first ends mid-sentence."""

_SENTENCE_ENDS = (".", "?", "!")


def join_unfinished(segments: Sequence[Segment]) -> list[Segment]:
    """Joins each segment that stops mid-sentence with the same speaker's next one.

    Whisper cuts its segments by time, not by sentence ("walk me through how a new driver" /
    "gets onboarded today."), and splitting by speaker can leave such halves too; a quote or
    a turn read from half a sentence misleads. A segment whose text does not end a sentence
    is joined with the next segment when the same speaker says it within `JOIN_GAP_SECONDS`
    and nobody else speaks in between. ``segments`` must be in time order.
    """
    joined: list[Segment] = []
    for segment in segments:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.speaker == segment.speaker
            and not last.text.rstrip().endswith(_SENTENCE_ENDS)
            and 0 <= segment.start - last.end <= JOIN_GAP_SECONDS
        ):
            joined[-1] = Segment(
                start=last.start,
                end=max(last.end, segment.end),
                speaker=last.speaker,
                text=f"{last.text.rstrip()} {segment.text.lstrip()}",
                words=[*last.words, *segment.words],
            )
        else:
            joined.append(segment)
    return joined
