"""The champion's call as one WAV file to listen to, on the transcript's timeline."""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import numpy as np

PLAYBACK_NAME = "playback.wav"
BLOCK_FRAMES = 64_000  # 4 s at 16 kHz per read: the join never holds the whole call


def playback_audio(audio_folder: Path) -> Path | None:
    """The call to play back: the extracted mono track, or, for a call recorded with one
    speaker per channel, both channels joined into a stereo file (made once, remade when the
    channels are newer, e.g. after re-analysis).

    Args:
        audio_folder: where the extract step wrote ``channel0.wav`` (and ``channel1.wav``).

    Returns:
        The WAV file, or None when the audio has not been extracted (yet).
    """
    first, second = audio_folder / "channel0.wav", audio_folder / "channel1.wav"
    if not first.exists():
        return None
    if not second.exists():
        return first
    joined = audio_folder / PLAYBACK_NAME
    newest_channel = max(first.stat().st_mtime, second.stat().st_mtime)
    if joined.exists() and joined.stat().st_mtime >= newest_channel:
        return joined
    # Each request joins into its own temporary file, renamed into place when complete: two
    # requests at once never share a half-written file, and a failure leaves nothing behind.
    handle, temporary = tempfile.mkstemp(dir=audio_folder, suffix=".partial")
    os.close(handle)
    try:
        _join(first, second, Path(temporary))
        os.replace(temporary, joined)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return joined


def _join(left_path: Path, right_path: Path, out_path: Path) -> None:
    """Writes the two mono 16-bit files as the left and right channels of one stereo file,
    block by block; the shorter side is padded with silence."""
    with (
        wave.open(str(left_path), "rb") as left,
        wave.open(str(right_path), "rb") as right,
        wave.open(str(out_path), "wb") as writer,
    ):
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(left.getframerate())
        while True:
            a = np.frombuffer(left.readframes(BLOCK_FRAMES), dtype=np.int16)
            b = np.frombuffer(right.readframes(BLOCK_FRAMES), dtype=np.int16)
            if not a.size and not b.size:
                return
            block = np.zeros((max(a.size, b.size), 2), dtype=np.int16)
            block[: a.size, 0] = a
            block[: b.size, 1] = b
            writer.writeframes(block.tobytes())
