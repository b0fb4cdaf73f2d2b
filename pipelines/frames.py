"""Frames of this project's own that travel through the call pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.frames.frames import DataFrame


@dataclass
class SegmentTranscribedFrame(DataFrame):
    """A segmented STT finished one stretch of speech (between two VAD pauses).

    Sent downstream after the segment's `TranscriptionFrame`, or alone when the segment held
    no words, so a turn-stop strategy knows the words it has are all the trainee said so far.
    A data frame, so it stays in order behind the transcript; uninterruptible, because the
    transcript ahead of it starts the turn and that interrupts the bot, which would otherwise
    flush it from the user aggregator's queue.
    """

    interruptible: bool = field(default=False, init=False)
