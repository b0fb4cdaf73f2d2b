"""Recordings the browser tests feed the app: the trainee's voice and a champion's video."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soxr

from ingest.espeak import SAMPLE_RATE, EspeakVoice, synthesize
from tests.support.dialogue import SALES_CALL, render_call, write_video

TRAINEE_LINE = (
    "Hi Dana, thanks for your time. How do you onboard new drivers today, "
    "and what does that cost you?"
)
"""What the fake microphone says: a discovery question a sales rep would ask."""

TRAINEE_VOICE = EspeakVoice(variant="m1", rate_wpm=160)
"""A voice unlike the scripted call's champion (m3) and prospect (f2)."""

FAKE_MIC_RATE = 48_000
"""Chromium captures at 48 kHz; it resamples a file at any other rate (16 kHz works too)."""


def speech_samples(
    text: str = TRAINEE_LINE,
    *,
    voice: EspeakVoice = TRAINEE_VOICE,
    sample_rate: int = FAKE_MIC_RATE,
    lead_seconds: float = 1.0,
    silence_seconds: float = 8.0,
) -> np.ndarray:
    """Speaks ``text`` with espeak-ng: int16 mono, with silence before and after.

    Args:
        text: What to say.
        voice: The espeak-ng voice.
        sample_rate: Rate of the returned samples.
        lead_seconds: Silence before the speech.
        silence_seconds: Silence after it (Chromium loops the file: the pause between repeats).

    Returns:
        The samples.
    """
    speech = soxr.resample(synthesize(text, voice), SAMPLE_RATE, sample_rate).astype(np.int16)
    lead = np.zeros(round(lead_seconds * sample_rate), np.int16)
    tail = np.zeros(round(silence_seconds * sample_rate), np.int16)
    return np.concatenate([lead, speech, tail])


def write_wav(samples: np.ndarray, path: Path, sample_rate: int = FAKE_MIC_RATE) -> Path:
    """Writes int16 mono samples as a 16-bit PCM WAV (what Chromium's fake capture reads)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Reads a 16-bit mono WAV written by `write_wav`: (int16 samples, sample rate)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise ValueError(f"{path} is not 16-bit mono")
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.int16), wav.getframerate()


def write_champion_video(path: Path, turns: Sequence[tuple[str, str]] = SALES_CALL[:12]) -> Path:
    """Writes a small two-speaker sales-call video (mpeg4 + AAC for .mp4/.mov) to upload.

    The default is the scripted call's first twelve turns: about 75 s, 0.7 MB, with one
    objection, which the full ingest pipeline turns into a ready champion.
    """
    return write_video(render_call(turns), path)


def similarity(recorded: np.ndarray, reference: np.ndarray) -> float:
    """How well ``reference`` is found anywhere inside ``recorded`` (both at one rate).

    The peak of the normalised cross-correlation over every offset: 1.0 when ``recorded``
    holds an exact (scaled) copy of ``reference``, near 0 for unrelated sound or silence.

    Raises:
        ValueError: ``recorded`` is shorter than ``reference``.
    """
    signal = np.asarray(recorded, np.float64)
    template = np.asarray(reference, np.float64)
    count, size = len(signal), len(template)
    if count < size:
        raise ValueError("the recording is shorter than the reference")
    width = 1 << (count + size).bit_length()
    spectrum = np.fft.rfft(signal, width) * np.conj(np.fft.rfft(template, width))
    correlation = np.fft.irfft(spectrum, width)[: count - size + 1]
    energy = np.concatenate([[0.0], np.cumsum(signal**2)])
    local = np.sqrt((energy[size:] - energy[:-size]) * float(np.sum(template**2)))
    return float(np.max(correlation / np.maximum(local, 1e-9)))
