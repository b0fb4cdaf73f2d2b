"""One natural-voice sentence at a time, by voice name (a front for `tests.support.speech`).

Recognisers fail on espeak-ng where they succeed on human speech, so tests of understanding
speak with natural voices: Debian's ``flite`` voices (``slt`` female; ``awb``, ``rms``,
``kal`` male) and the packaged Piper voice ("piper", en_US-joe-medium, its GPL engine run as
its own process). Utterances are cached on disk by `tests.support.speech`.
"""

from __future__ import annotations

import numpy as np

from tests.support.speech import FliteVoice, PiperVoice, SpeechUnavailable, Voice
from tests.support.speech import speak as speak_all

FLITE_VOICES = ("slt", "awb", "rms", "kal")
PIPER_VOICE = "piper"


def voice_named(name: str) -> Voice:
    """The voice called ``name``: "piper", or one of `FLITE_VOICES`."""
    if name == PIPER_VOICE:
        return PiperVoice()
    if name in FLITE_VOICES:
        return FliteVoice(name)
    raise ValueError(f"unknown voice {name!r}")


def speak(text: str, voice: str = "slt", *, rate: int = 16_000) -> np.ndarray:
    """``text`` spoken by the named voice, trimmed of silence, as int16 at ``rate`` Hz.

    Raises:
        SpeechUnavailable: the engine or voice is missing.
    """
    return speak_all([text], voice_named(voice), sample_rate=rate)[0]


def require_voice(voice: str) -> None:
    """Fails under CI, skips elsewhere, when the named voice cannot speak here."""
    from tests.support.services import unavailable  # pytest's side; benchmarks only speak

    try:
        speak("hello", voice)
    except SpeechUnavailable as exc:
        unavailable(f"the {voice} voice", exc)
