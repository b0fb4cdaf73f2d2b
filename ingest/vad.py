"""Speech regions of a recording, found with the Silero VAD model that ships in pipecat-ai.

The WAV is read in blocks and scored window by window (32 ms), so memory stays flat in
the recording's length. Long regions are split at their quietest point so each piece can
be decoded on its own, in parallel.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pipecat.audio.vad.silero import SileroOnnxModel

WINDOW = 512  # samples per Silero window at 16 kHz
RATE = 16_000
WINDOW_SECONDS = WINDOW / RATE
RESET_AFTER_WINDOWS = int(5.0 / WINDOW_SECONDS)


@dataclass(frozen=True)
class SpeechRegion:
    """A stretch of speech, in seconds from the start of the recording."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class VadSettings:
    """Hysteresis thresholds and timings for turning window scores into regions."""

    start_threshold: float = 0.5
    end_threshold: float = 0.35
    min_speech_seconds: float = 0.25
    min_silence_seconds: float = 0.35
    pad_seconds: float = 0.15
    max_region_seconds: float = 12.0


def _model() -> SileroOnnxModel:
    path = resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx")
    return SileroOnnxModel(str(path), force_onnx_cpu=True)


def window_scores(path: Path, *, block_windows: int = 2048) -> np.ndarray:
    """Speech probability of every 32 ms window of a 16 kHz mono WAV."""
    model = _model()
    scores: list[float] = []
    quiet_windows = 0
    with wave.open(str(path), "rb") as reader:
        if reader.getframerate() != RATE or reader.getnchannels() != 1:
            raise ValueError("VAD needs 16 kHz mono audio")
        while True:
            block = np.frombuffer(reader.readframes(WINDOW * block_windows), np.int16)
            if block.size == 0:
                break
            usable = block.size - block.size % WINDOW
            if usable == 0:
                break
            windows = block[:usable].astype(np.float32).reshape(-1, WINDOW) / 32768.0
            for window in windows:
                score = float(model(window[np.newaxis, :], RATE)[0][0])
                scores.append(score)
                quiet_windows = quiet_windows + 1 if score < 0.1 else 0
                # Silero drifts on long inputs; reset its state in long silences.
                if quiet_windows >= RESET_AFTER_WINDOWS:
                    model.reset_states()
                    quiet_windows = 0
    return np.asarray(scores, dtype=np.float32)


def regions_from_scores(
    scores: np.ndarray, settings: VadSettings = VadSettings(), *, duration: float | None = None
) -> list[SpeechRegion]:
    """Turns window scores into padded, merged, length-capped speech regions."""
    raw: list[tuple[int, int]] = []
    speaking, start, silent = False, 0, 0
    min_silence = max(1, round(settings.min_silence_seconds / WINDOW_SECONDS))
    for index, score in enumerate(scores):
        if not speaking and score >= settings.start_threshold:
            speaking, start, silent = True, index, 0
        elif speaking:
            silent = silent + 1 if score < settings.end_threshold else 0
            if silent >= min_silence:
                raw.append((start, index - silent + 1))
                speaking = False
    if speaking:
        raw.append((start, len(scores)))
    total = duration if duration is not None else len(scores) * WINDOW_SECONDS
    regions: list[SpeechRegion] = []
    for first, last in raw:
        if (last - first) * WINDOW_SECONDS < settings.min_speech_seconds:
            continue
        for a, b in _split_long(scores, first, last, settings.max_region_seconds):
            start_s = max(0.0, a * WINDOW_SECONDS - settings.pad_seconds)
            end_s = min(total, b * WINDOW_SECONDS + settings.pad_seconds)
            if regions and start_s <= regions[-1].end:
                start_s = regions[-1].end
            if end_s > start_s:
                regions.append(SpeechRegion(round(start_s, 3), round(end_s, 3)))
    return regions


def _split_long(
    scores: np.ndarray, first: int, last: int, max_seconds: float
) -> list[tuple[int, int]]:
    max_windows = int(max_seconds / WINDOW_SECONDS)
    if last - first <= max_windows:
        return [(first, last)]
    # Cut at the least speech-like window in the middle half, then split each side again.
    quarter = (last - first) // 4
    middle = scores[first + quarter : last - quarter]
    cut = first + quarter + int(np.argmin(middle))
    return _split_long(scores, first, cut, max_seconds) + _split_long(
        scores, cut, last, max_seconds
    )


def speech_regions(path: Path, settings: VadSettings = VadSettings()) -> list[SpeechRegion]:
    """The speech regions of a 16 kHz mono WAV file."""
    with wave.open(str(path), "rb") as reader:
        duration = reader.getnframes() / reader.getframerate()
    return regions_from_scores(window_scores(path), settings, duration=duration)
