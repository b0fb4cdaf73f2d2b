"""Speech that sounds like people, for tests and benchmarks that check what was understood.

Recognisers fail on espeak-ng where they succeed on human speech, so tests of understanding
speak with natural voices: Debian's ``flite`` voices (``slt`` female; ``awb``, ``rms``,
``kal`` male) and the packaged Piper voice ``en_US-joe-medium``, whose GPL engine runs as
its own process (``python -m piper``), never imported. Each rendering is cached on disk by
voice and text, so a test session speaks each sentence once.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from memory.packaged_models import installed_model

IN_CI = os.environ.get("CI", "").lower() == "true"
FLITE_VOICES = ("slt", "awb", "rms", "kal")
PIPER_VOICE = "piper"
CACHE = Path(tempfile.gettempdir()) / "champion-clone-test-voices"


class VoiceUnavailable(RuntimeError):
    """The engine or voice is not installed on this machine."""


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    return samples, rate


def _flite(text: str, voice: str, out: Path) -> None:
    flite = shutil.which("flite")
    if flite is None:
        raise VoiceUnavailable("flite is not installed (apt-get install flite)")
    subprocess.run(
        [flite, "-voice", voice, "-t", text, "-o", str(out)], check=True, capture_output=True
    )


def _piper(text: str, out: Path) -> None:
    folder = installed_model("joe")
    if folder is None:
        raise VoiceUnavailable("the Piper voice is not installed (champion-clone models install)")
    model = folder / "en_US-joe-medium.onnx"
    done = subprocess.run(
        [sys.executable, "-m", "piper", "-m", str(model), "-f", str(out)],
        input=text.encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise VoiceUnavailable("the Piper engine did not run (pip install 'piper-tts[http]')")


def speak(text: str, voice: str = "slt", *, rate: int = 16_000) -> np.ndarray:
    """``text`` spoken by a natural voice, as int16 samples at ``rate`` Hz.

    Args:
        text: what to say.
        voice: a flite voice (`FLITE_VOICES`) or "piper" for the Piper joe voice.
        rate: the sample rate to return.

    Raises:
        VoiceUnavailable: the engine or voice is missing.
    """
    key = hashlib.sha256(f"{voice}\0{text}".encode()).hexdigest()[:24]
    cached = CACHE / f"{key}.wav"
    if not cached.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        if voice == PIPER_VOICE:
            _piper(text, partial)
        elif voice in FLITE_VOICES:
            _flite(text, voice, partial)
        else:
            raise ValueError(f"unknown voice {voice!r}")
        partial.replace(cached)
    samples, source_rate = _read_wav(cached.read_bytes())
    if source_rate != rate:
        samples = soxr.resample(samples, source_rate, rate)
    return np.asarray(samples, dtype=np.int16)


def require_voice(voice: str) -> None:
    """Skips (fails under CI) when ``voice`` cannot speak on this machine."""
    try:
        speak("hello", voice)
    except VoiceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI must provide it")
        pytest.skip(str(exc))
