"""Records a call, one WAV file per track (trainee, AI), written as the call goes.

Two taps, no buffer: `CallRecorder.trainee` sits right after the user aggregator, writes the
trainee's audio and ends its journey there (nothing after the aggregator needs it, and every
stage it would cross costs CPU 50 times a second); `CallRecorder.ai` sits after the output
transport and writes what the bot actually sent. The trainee's audio arrives without gaps, in
real time, so its track is the call's clock: AI audio is placed where the trainee's track has
got to, and the shorter track is padded with silence when the call ends.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from pipecat.frames.frames import (
    AudioRawFrame,
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

RECORDING_RATE = 16_000
TRACKS = ("trainee", "ai")


def track_path(folder: Path, track: str) -> Path:
    """Where a call's track is stored."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}")
    return folder / f"{track}.wav"


class _Track:
    """One WAV file at the recording rate, fed audio at any rate."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.samples = 0
        self._writer: wave.Wave_write | None = None
        self._resampler: soxr.ResampleStream | None = None
        self._rate = 0

    def write(self, frame: AudioRawFrame) -> None:
        audio = np.frombuffer(frame.audio, dtype=np.int16)
        if frame.num_channels > 1:
            audio = audio[:: frame.num_channels]
        if frame.sample_rate != RECORDING_RATE:
            if self._resampler is None or self._rate != frame.sample_rate:
                self._rate = frame.sample_rate
                self._resampler = soxr.ResampleStream(
                    frame.sample_rate, RECORDING_RATE, 1, dtype="int16"
                )
            audio = self._resampler.resample_chunk(audio)
        self._append(audio.tobytes())

    def pad_to(self, samples: int) -> None:
        if samples > self.samples:
            self._append(bytes(2 * (samples - self.samples)))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _append(self, pcm: bytes) -> None:
        if not pcm:
            return
        if self._writer is None:
            self._writer = wave.open(str(self.path), "wb")  # noqa: SIM115
            self._writer.setnchannels(1)
            self._writer.setsampwidth(2)
            self._writer.setframerate(RECORDING_RATE)
        self._writer.writeframesraw(pcm)
        self.samples += len(pcm) // 2


class _Tap(FrameProcessor):
    def __init__(self, recorder: CallRecorder, track: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._recorder = recorder
        self._track = track

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if self._track == "trainee" and isinstance(frame, InputAudioRawFrame):
            self._recorder.record_trainee(frame)
            return  # the trainee's audio goes no further
        if self._track == "ai" and isinstance(frame, OutputAudioRawFrame):
            self._recorder.record_ai(frame)
        await self.push_frame(frame, direction)


class CallRecorder:
    """The two recording taps of a call and their WAV files in ``folder``.

    Args:
        folder: the session's recording folder (created here); None records nothing, and
            the trainee tap still ends the trainee audio's journey.
    """

    def __init__(self, *, folder: Path | None) -> None:
        self.folder = folder
        self._tracks: dict[str, _Track] = {}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self._tracks = {name: _Track(track_path(folder, name)) for name in TRACKS}
        self._recording = False
        self.trainee = _Tap(self, "trainee", name="TraineeRecorder")
        self.ai = _Tap(self, "ai", name="AIRecorder")

    async def start(self) -> None:
        """Starts recording (when the trainee connects)."""
        self._recording = True

    def record_trainee(self, frame: AudioRawFrame) -> None:
        """Appends the trainee's audio."""
        if self._recording and self._tracks:
            self._tracks["trainee"].write(frame)

    def record_ai(self, frame: AudioRawFrame) -> None:
        """Appends the bot's audio where the call has got to."""
        if self._recording and self._tracks:
            ai = self._tracks["ai"]
            ai.pad_to(self._tracks["trainee"].samples)
            ai.write(frame)

    def close(self) -> None:
        """Pads the shorter track and finishes the files (headers get the final length)."""
        if any(track.samples for track in self._tracks.values()):
            longest = max(track.samples for track in self._tracks.values())
            for track in self._tracks.values():
                track.pad_to(longest)
        for track in self._tracks.values():
            track.close()
        self._recording = False
