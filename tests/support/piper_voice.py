"""The packaged Piper voice and its engine for tests (required when CI=true), and a pitch
tracker that is reliable for low voices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.packaged_models import PIPER_JOE, installed_model, piper_engine_installed
from pipelines.services.live import PIPER_VOICE_FILE
from tests.support.services import unavailable


def packaged_piper_model() -> Path:
    """The installed ``en_US-joe-medium.onnx``; fails under CI, skips elsewhere, if absent."""
    if not piper_engine_installed():
        unavailable("The Piper engine", ModuleNotFoundError("pip install 'piper-tts[http]'"))
    folder = installed_model(PIPER_JOE.name)
    if folder is None:
        unavailable("The Piper voice", FileNotFoundError("run `champion-clone models install`"))
    assert folder is not None
    return folder / PIPER_VOICE_FILE


def median_pitch_hz(samples: np.ndarray, rate: int) -> float:
    """Median f0 of the voiced frames, by autocorrelation corrected for the window.

    Dividing by the window's own autocorrelation (Boersma's method) removes the bias toward
    short lags that makes a plain windowed autocorrelation report low voices an octave up.
    """
    frame, hop = int(0.06 * rate), int(0.01 * rate)
    signal = samples.astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(signal, frame)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = np.sqrt((frames**2).mean(axis=1))
    voiced = frames[energy > 0.1 * energy.max()]
    window = np.hanning(frame)
    window_ac = np.fft.irfft(np.abs(np.fft.rfft(window, n=2 * frame)) ** 2)[:frame]
    window_ac /= window_ac[0]
    spectrum = np.fft.rfft(voiced * window, n=2 * frame, axis=1)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    ac /= np.maximum(ac[:, :1], 1e-9)
    low, high = int(rate / 400), int(rate / 60)
    corrected = ac[:, low:high] / window_ac[low:high]
    best = corrected.argmax(axis=1)
    strength = corrected[np.arange(len(corrected)), best]
    lags = np.arange(low, high)[best][strength > 0.5]
    return float(np.median(rate / lags))
