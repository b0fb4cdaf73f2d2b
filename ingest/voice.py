"""A speaker's voice, measured from the recording: median pitch, energy, speaking rate.

The offline TTS applies this profile; with ElevenLabs configured, clean samples of the
speaker are also cut out here for instant voice cloning.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ingest.extract import read_wav
from ingest.types import Segment

RATE = 16_000
FRAME = 640  # 40 ms
HOP = 320
MIN_F0, MAX_F0 = 60.0, 400.0
MAX_ANALYSED_SECONDS = 120.0


def frame_pitches(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    """Fundamental frequency (Hz) of each voiced 40 ms frame, by normalised autocorrelation."""
    if samples.size < FRAME:
        return np.empty(0)
    signal = samples.astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(signal, FRAME)[::HOP]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = np.sqrt((frames**2).mean(axis=1))
    voiced = frames[energy > max(300.0, 0.2 * float(np.median(energy)) if energy.size else 0.0)]
    if voiced.size == 0:
        return np.empty(0)
    spectrum = np.fft.rfft(voiced * np.hanning(FRAME), n=2 * FRAME, axis=1)
    autocorr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :FRAME]
    autocorr /= np.maximum(autocorr[:, :1], 1e-9)
    low, high = int(rate / MAX_F0), int(rate / MIN_F0)
    window = autocorr[:, low:high]
    lags = window.argmax(axis=1) + low
    strength = window.max(axis=1)
    return rate / lags[strength > 0.4]


def _spread(segments: list[Segment], limit: float) -> list[Segment]:
    """Up to ``limit`` seconds of segments, taken evenly across the call."""
    step = max(1, int(sum(s.end - s.start for s in segments) / limit))
    chosen, total = [], 0.0
    for segment in segments[::step]:
        chosen.append(segment)
        total += segment.end - segment.start
        if total >= limit:
            break
    return chosen


def measure_voice(
    channel: Path, segments: list[Segment], *, speaker: str
) -> tuple[float | None, float | None, float | None]:
    """(median pitch Hz, speaking rate wpm, energy dBFS) of ``speaker`` in ``channel``.

    Segments are analysed one at a time, so memory does not grow with the call's length.
    """
    own = [s for s in segments if s.speaker == speaker and s.end > s.start]
    if not own:
        return None, None, None
    pitches: list[np.ndarray] = []
    square_sum, sample_count = 0.0, 0
    for segment in _spread(own, MAX_ANALYSED_SECONDS):
        samples = read_wav(channel, segment.start, segment.end)
        pitches.append(frame_pitches(samples))
        square_sum += float(np.dot(samples.astype(np.float64), samples.astype(np.float64)))
        sample_count += samples.size
    found = np.concatenate(pitches) if pitches else np.empty(0)
    pitch = round(float(np.median(found)), 1) if found.size >= 5 else None
    talk_minutes = sum(s.end - s.start for s in own) / 60
    words = sum(len(s.words) or len(s.text.split()) for s in own)
    rate = round(words / talk_minutes, 1) if talk_minutes > 0 else None
    rms = (square_sum / sample_count) ** 0.5 if sample_count else 0.0
    energy = round(20 * float(np.log10(rms / 32768)), 1) if rms > 0 else None
    return pitch, rate, energy


def write_samples(channel: Path, ranges: list[tuple[float, float]], out: Path) -> Path:
    """Writes the given time ranges of ``channel``, joined by short silences, as one WAV."""
    gap = np.zeros(int(0.3 * RATE), dtype=np.int16)
    parts = []
    for start, end in ranges:
        parts += [read_wav(channel, start, end), gap]
    with wave.open(str(out), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(np.concatenate(parts).tobytes() if parts else b"")
    return out
