"""Records a call, one WAV file per track (trainee, AI), written as the call goes."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor

RECORDING_RATE = 16_000
FLUSH_BYTES = RECORDING_RATE * 2 * 5  # write to disk about every 5 s of audio
TRACKS = ("trainee", "ai")


def track_path(folder: Path, track: str) -> Path:
    """Where a call's track is stored."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}")
    return folder / f"{track}.wav"


class CallRecorder:
    """A Pipecat audio buffer whose tracks are appended to WAV files in ``folder``.

    Args:
        folder: the session's recording folder (created here).
    """

    def __init__(self, *, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.processor = AudioBufferProcessor(
            sample_rate=RECORDING_RATE, num_channels=1, buffer_size=FLUSH_BYTES
        )
        self._writers: dict[str, wave.Wave_write] = {}
        self.processor.add_event_handler("on_track_audio_data", self._on_tracks)
        self.processor.add_event_handler("on_recording_stopped", self._on_stopped)

    def _writer(self, track: str) -> wave.Wave_write:
        if track not in self._writers:
            writer = wave.open(str(track_path(self.folder, track)), "wb")  # noqa: SIM115
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(RECORDING_RATE)
            self._writers[track] = writer
        return self._writers[track]

    async def _on_tracks(self, _buffer: Any, user: bytes, bot: bytes, rate: int, _ch: int) -> None:
        for track, audio in (("trainee", user), ("ai", bot)):
            if audio:
                self._writer(track).writeframesraw(audio)

    async def _on_stopped(self, _buffer: Any) -> None:
        self.close()

    async def start(self) -> None:
        """Starts recording (when the trainee connects)."""
        await self.processor.start_recording()

    def close(self) -> None:
        """Finishes the files (their headers get the final length)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
