"""Speech for tests and benchmarks in natural voices (Piper, flite), or in espeak-ng.

Recognisers fail on espeak-ng where they succeed on people, so tests and benchmarks that check
what was understood speak with natural voices: the packaged Piper voice ``en_US-joe-medium``
(run as its own process: the engine is GPL and is never imported here) and Debian's ``flite``
voices. Every utterance is cached on disk, keyed by engine, voice and text, so a test session
or a benchmark synthesises each sentence once per machine, not once per run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from ingest.espeak import SAMPLE_RATE as ESPEAK_RATE
from ingest.espeak import EspeakVoice, synthesize
from ingest.packaged_models import installed_model

CACHE_DIR = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "champion-clone"
    / "test-speech"
)
"""Where synthesised utterances are kept between runs (one WAV per engine, voice and text)."""

PEAK = 0.6 * 32767  # every utterance is scaled to this peak, so the voices are equally loud
_SILENCE = 64  # |sample| below this counts as silence when trimming


class SpeechUnavailable(RuntimeError):
    """A voice's engine or model is not on this machine."""


@dataclass(frozen=True)
class PiperVoice:
    """A packaged Piper voice (``champion-clone models install`` puts it in place).

    Attributes:
        model: the packaged model's name, e.g. ``"joe"`` for ``piper-en_US-joe-medium``.
    """

    model: str = "joe"

    @property
    def label(self) -> str:
        """A short name for tables."""
        return f"piper {self.model}"


@dataclass(frozen=True)
class FliteVoice:
    """One of Debian's flite voices: ``slt`` (female), ``awb``, ``rms``, ``kal``, ``kal16``."""

    name: str = "slt"

    @property
    def label(self) -> str:
        """A short name for tables."""
        return f"flite {self.name}"


Voice = PiperVoice | FliteVoice | EspeakVoice
"""Anything `speak` can speak with."""


def voice_label(voice: Voice) -> str:
    """A short name for ``voice`` in tables and messages."""
    if isinstance(voice, EspeakVoice):
        return f"espeak {voice.variant or voice.name}"
    return voice.label


def speak(texts: Sequence[str], voice: Voice, *, sample_rate: int = 16_000) -> list[np.ndarray]:
    """Each text spoken by ``voice``, trimmed of leading and trailing silence (int16).

    Utterances already in the cache are read from it; the others are synthesised together
    (one Piper process for all of them) and stored.

    Raises:
        SpeechUnavailable: the voice's engine or model is missing.
    """
    folder = CACHE_DIR / _voice_key(voice)
    paths = [folder / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.wav" for text in texts]
    missing = [(text, path) for text, path in zip(texts, paths, strict=True) if not path.exists()]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        _synthesise(voice, dict((path, text) for text, path in missing))
    return [_read(path, sample_rate) for path in paths]


def require_voices(*voices: Voice) -> None:
    """Checks that every voice can speak.

    Raises:
        SpeechUnavailable: the first missing engine or model, named.
    """
    for voice in voices:
        if isinstance(voice, PiperVoice):
            _piper_model(voice)
        elif isinstance(voice, FliteVoice):
            _flite()


def _voice_key(voice: Voice) -> str:
    if isinstance(voice, PiperVoice):
        # The model's digest is pinned by its package, so its folder name identifies it.
        return f"piper-{voice.model}"
    if isinstance(voice, FliteVoice):
        return f"flite-{voice.name}"
    return "espeak-" + hashlib.sha256(repr(voice).encode()).hexdigest()[:12]


def _synthesise(voice: Voice, jobs: dict[Path, str]) -> None:
    if isinstance(voice, PiperVoice):
        _piper(voice, jobs)
    elif isinstance(voice, FliteVoice):
        flite = _flite()
        for path, text in jobs.items():
            temporary = path.with_suffix(".tmp.wav")
            subprocess.run(
                [flite, "-voice", voice.name, "-t", text, "-o", str(temporary)],
                check=True,
                capture_output=True,
                timeout=60,
            )
            temporary.replace(path)
    else:
        for path, text in jobs.items():
            _write(path, synthesize(text, voice), ESPEAK_RATE)


def _piper_model(voice: PiperVoice) -> Path:
    folder = installed_model(voice.model)
    models = sorted(folder.glob("*.onnx")) if folder is not None else []
    if not models:
        raise SpeechUnavailable(
            f"the Piper voice {voice.model!r} is not installed (champion-clone models install)"
        )
    return models[0]


def _flite() -> str:
    found = shutil.which("flite")
    if found is None:
        raise SpeechUnavailable("flite is not installed (apt-get install flite)")
    return found


def _piper(voice: PiperVoice, jobs: dict[Path, str]) -> None:
    """Runs one Piper process for every text: one line in, one WAV out, in order."""
    model = _piper_model(voice)
    with tempfile.TemporaryDirectory(prefix="cc-piper-") as out:
        lines = "".join(" ".join(text.split()) + "\n" for text in jobs.values())
        try:
            subprocess.run(
                [sys.executable, "-m", "piper", "-m", str(model), "-d", out],
                input=lines.encode(),
                check=True,
                capture_output=True,
                timeout=600,
            )
        except subprocess.CalledProcessError as exc:
            raise SpeechUnavailable(
                f"the Piper engine failed (pip install 'piper-tts==1.8.0'): {exc.stderr[-300:]!r}"
            ) from exc
        # Files are named by a monotonic clock as each line is spoken: name order is line order.
        written = sorted(Path(out).glob("*.wav"), key=lambda p: int(p.stem))
        if len(written) != len(jobs):
            raise SpeechUnavailable(f"Piper wrote {len(written)} files for {len(jobs)} lines")
        for source, path in zip(written, jobs, strict=True):
            shutil.move(source, path.with_suffix(".tmp.wav"))
            path.with_suffix(".tmp.wav").replace(path)


def _write(path: Path, samples: np.ndarray, rate: int) -> None:
    temporary = path.with_suffix(".tmp.wav")
    with wave.open(str(temporary), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.asarray(samples, np.int16).tobytes())
    temporary.replace(path)


def _read(path: Path, sample_rate: int) -> np.ndarray:
    with wave.open(str(path), "rb") as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= _SILENCE)
    samples = samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]
    audio = samples.astype(np.float32)
    if rate != sample_rate and audio.size:
        audio = soxr.resample(audio, rate, sample_rate)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0:
        audio *= PEAK / peak
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)
