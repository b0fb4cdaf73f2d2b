"""The champion's call as one WAV file to listen to, on the transcript's timeline."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

PLAYBACK_NAME = "playback.wav"


def playback_audio(audio_folder: Path) -> Path | None:
    """The call to play back: the extracted mono track, or, for a call recorded with one
    speaker per channel, both channels joined into a stereo file (made once, then kept).

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
    if joined.exists():
        return joined
    left, rate = _samples(first)
    right, _ = _samples(second)
    length = max(len(left), len(right))
    stereo = np.zeros((length, 2), dtype=np.int16)
    stereo[: len(left), 0] = left
    stereo[: len(right), 1] = right
    partial = joined.with_suffix(".partial")
    with wave.open(str(partial), "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(stereo.tobytes())
    partial.replace(joined)  # never a half-written file under the real name
    return joined


def _samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16), (
            reader.getframerate()
        )
