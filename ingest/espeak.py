"""espeak-ng speech synthesis through ctypes, safe to call from any thread.

espeak-ng keeps global state and is not thread-safe (four threads without a lock corrupt its
heap), so every call into the library holds one process-wide lock. The library releases the GIL
while it synthesises, and a sentence costs a few milliseconds of CPU, so `synthesize_async` runs
it in a worker thread and the lock costs next to nothing.

The C API is declared from `speak_lib.h` (espeak-ng 1.52, shipped by `espeakng_loader`).
"""

from __future__ import annotations

import asyncio
import ctypes
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import espeakng_loader
import numpy as np

from ingest.voice_profile import profile_number

SAMPLE_RATE = 22_050
"""Output rate of espeak-ng's voices; the engine refuses to start if the library reports another."""

# Values from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: synthesise in the calling thread
_INITIALIZE_DONT_EXIT = 0x8000  # report a missing data directory instead of calling exit()
_POS_CHARACTER = 1  # espeak_POSITION_TYPE
_CHARS_UTF8 = 1  # espeak_Synth flags
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4  # espeak_PARAMETER
_EE_OK, _EE_NOT_FOUND = 0, 2  # espeak_ERROR
_BUFFER_MS = 200  # audio handed to the callback per call

RATE_MIN_WPM, RATE_MAX_WPM = 80, 450  # espeakRATE_MINIMUM / espeakRATE_MAXIMUM


class EspeakError(RuntimeError):
    """espeak-ng could not be loaded, initialised, or failed to synthesise."""


@dataclass(frozen=True)
class EspeakVoice:
    """How espeak-ng should speak.

    Attributes:
        name: An espeak-ng voice name, e.g. ``"en-us"``.
        rate_wpm: Speaking rate in words per minute (80-450).
        pitch: Base pitch, 0-100 (50 is the voice's normal pitch).
        pitch_range: Pitch range, 0-100 (0 is monotone, 50 normal).
        volume: Amplitude, 0-200 (100 is normal; above it may distort).
        variant: A voice variant such as ``"m3"`` or ``"f2"``, appended as ``name+variant``.
            espeak-ng ignores a variant it does not know and speaks with the plain voice.
    """

    name: str = "en-us"
    rate_wpm: int = 170
    pitch: int = 50
    pitch_range: int = 50
    volume: int = 100
    variant: str | None = None

    def __post_init__(self) -> None:
        checks = (
            ("rate_wpm", self.rate_wpm, RATE_MIN_WPM, RATE_MAX_WPM),
            ("pitch", self.pitch, 0, 100),
            ("pitch_range", self.pitch_range, 0, 100),
            ("volume", self.volume, 0, 200),
        )
        for field, value, low, high in checks:
            if not low <= value <= high:
                raise ValueError(f"{field} must be between {low} and {high}, got {value}")
        if not self.name or "+" in self.name:
            raise ValueError("name must be a voice name without a variant")
        if self.variant is not None and not self.variant:
            raise ValueError("variant must be None or a variant name")

    @property
    def full_name(self) -> str:
        """The name passed to ``espeak_SetVoiceByName`` (``"en-us+f2"``)."""
        return f"{self.name}+{self.variant}" if self.variant else self.name


DEFAULT_VOICE = EspeakVoice()

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
_lock = threading.Lock()
_chunks: list[np.ndarray] = []  # audio of the synthesis in progress; only touched under _lock


def _collect(wav: Any, num_samples: int, _events: Any) -> int:
    """Receives audio from espeak_Synth (in the synthesising thread, which holds ``_lock``)."""
    if wav and num_samples > 0:
        _chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
    return 0  # 0 = continue


# The library keeps this function pointer for the life of the process; freeing the ctypes
# trampoline while it is registered crashes the interpreter, so it lives in a module global.
_CALLBACK = _SynthCallback(_collect)


class _Engine:
    """The initialised library and the voice currently applied to it."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as exc:
            raise EspeakError("could not load libespeak-ng from espeakng_loader") from exc
        _declare(lib)
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}); is its data directory intact?")
        if rate != SAMPLE_RATE:
            raise EspeakError(f"espeak-ng reports {rate} Hz output, expected {SAMPLE_RATE} Hz")
        lib.espeak_SetSynthCallback(_CALLBACK)
        self._lib = lib
        self._voice: EspeakVoice | None = None

    def synthesize(self, text: bytes, voice: EspeakVoice) -> np.ndarray:
        """Speaks NUL-free UTF-8 ``text``; the caller holds ``_lock``."""
        self._apply(voice)
        _chunks.clear()
        try:
            # Python bytes are NUL-terminated, so size includes the terminator as the API asks.
            _check(
                self._lib.espeak_Synth(
                    text, len(text) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
                ),
                "espeak_Synth",
            )
            _check(self._lib.espeak_Synchronize(), "espeak_Synchronize")
            return np.concatenate(_chunks) if _chunks else np.zeros(0, dtype=np.int16)
        finally:
            _chunks.clear()

    def _apply(self, voice: EspeakVoice) -> None:
        """Selects the voice and sets every parameter (they persist across voice changes)."""
        if voice == self._voice:
            return
        self._voice = None
        status = self._lib.espeak_SetVoiceByName(voice.full_name.encode())
        if status == _EE_NOT_FOUND:
            raise EspeakError(f"espeak-ng has no voice named {voice.full_name!r}")
        _check(status, "espeak_SetVoiceByName")
        for parameter, value in (
            (_RATE, voice.rate_wpm),
            (_VOLUME, voice.volume),
            (_PITCH, voice.pitch),
            (_RANGE, voice.pitch_range),
        ):
            _check(self._lib.espeak_SetParameter(parameter, value, 0), "espeak_SetParameter")
        self._voice = voice


def _declare(lib: ctypes.CDLL) -> None:
    """Declares the C signatures of the functions used."""
    c_int, c_uint = ctypes.c_int, ctypes.c_uint
    lib.espeak_Initialize.argtypes = [c_int, c_int, ctypes.c_char_p, c_int]
    lib.espeak_Initialize.restype = c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = c_int
    lib.espeak_SetParameter.argtypes = [c_int, c_int, c_int]
    lib.espeak_SetParameter.restype = c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,  # text
        ctypes.c_size_t,  # size in bytes, including the terminator
        c_uint,  # position
        c_int,  # position_type
        c_uint,  # end_position
        c_uint,  # flags
        ctypes.POINTER(c_uint),  # unique_identifier
        ctypes.c_void_p,  # user_data
    ]
    lib.espeak_Synth.restype = c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = c_int


def _check(status: int, call: str) -> None:
    if status != _EE_OK:
        raise EspeakError(f"{call} failed with espeak_ERROR {status}")


_engine: _Engine | None = None


def _get_engine() -> _Engine:
    """The process-wide engine, initialised on first use; the caller holds ``_lock``."""
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def synthesize(text: str, voice: EspeakVoice = DEFAULT_VOICE) -> np.ndarray:
    """Speaks ``text`` with espeak-ng.

    Safe to call from any thread; calls are serialised by a process-wide lock.

    Args:
        text: Plain text (not SSML). Empty or whitespace-only text gives no audio.
        voice: The voice and its parameters.

    Returns:
        Mono int16 samples at `SAMPLE_RATE` Hz.

    Raises:
        EspeakError: The library could not be loaded or initialised, the voice does not
            exist, or synthesis failed.
    """
    if not text.strip():
        return np.zeros(0, dtype=np.int16)
    encoded = text.replace("\0", " ").encode("utf-8")
    with _lock:
        return _get_engine().synthesize(encoded, voice)


async def synthesize_async(text: str, voice: EspeakVoice = DEFAULT_VOICE) -> np.ndarray:
    """`synthesize` in a worker thread, so the event loop keeps running while espeak-ng works.

    Args:
        text: Plain text. Empty or whitespace-only text gives no audio.
        voice: The voice and its parameters.

    Returns:
        Mono int16 samples at `SAMPLE_RATE` Hz.

    Raises:
        EspeakError: As for `synthesize`.
    """
    return await asyncio.to_thread(synthesize, text, voice)


# The f0 (Hz) each variant speaks at for espeakPITCH 0, 25, 50, 75 and 99 with the default pitch
# range, measured by autocorrelation on an English sentence. Inverting it gives the espeak pitch
# that reproduces a measured voice; espeak's pitch scale is roughly exponential in Hz.
_PITCH_STEPS = (0.0, 25.0, 50.0, 75.0, 99.0)
_MALE_VARIANT, _MALE_F0_HZ = "m3", (74.0, 86.0, 105.0, 134.0, 174.0)
_FEMALE_VARIANT, _FEMALE_F0_HZ = "f2", (131.0, 160.0, 197.0, 251.0, 324.0)
_FEMALE_FROM_HZ = 160.0  # between typical male (85-155 Hz) and female (165-255 Hz) medians


def voice_for_profile(
    *,
    median_pitch_hz: float | None,
    speaking_rate_wpm: float | None,
    female: bool | None = None,
) -> EspeakVoice:
    """Maps a measured voice profile onto an English espeak-ng voice.

    Args:
        median_pitch_hz: Median fundamental frequency of the speaker, or None if unknown.
            Non-finite or non-positive values count as unknown.
        speaking_rate_wpm: Measured words per minute, or None if unknown; clamped to 80-450.
        female: Whether to use a female variant; None picks one from the pitch (female from
            160 Hz up) and leaves the default voice when the pitch is unknown too.

    Returns:
        A voice whose pitch reproduces ``median_pitch_hz`` as closely as the variant allows.
    """
    hz = _known(median_pitch_hz)
    wpm = _known(speaking_rate_wpm)
    if female is None and hz is not None:
        female = hz >= _FEMALE_FROM_HZ
    variant = None if female is None else _FEMALE_VARIANT if female else _MALE_VARIANT
    pitch = DEFAULT_VOICE.pitch
    if hz is not None:
        table = _FEMALE_F0_HZ if female else _MALE_F0_HZ
        pitch = round(float(np.interp(hz, table, _PITCH_STEPS)))
    rate = DEFAULT_VOICE.rate_wpm
    if wpm is not None:
        rate = round(min(max(wpm, RATE_MIN_WPM), RATE_MAX_WPM))
    return EspeakVoice(rate_wpm=rate, pitch=pitch, variant=variant)


def voice_from_profile(profile: Mapping[str, Any]) -> EspeakVoice:
    """Maps a stored voice profile onto an espeak-ng voice.

    Args:
        profile: A voice profile with ``median_pitch_hz`` and ``speaking_rate_wpm``; either
            may be missing, None or not a number, which leaves that aspect at the default.

    Returns:
        The voice `voice_for_profile` picks for those measurements.
    """
    return voice_for_profile(
        median_pitch_hz=profile_number(profile.get("median_pitch_hz")),
        speaking_rate_wpm=profile_number(profile.get("speaking_rate_wpm")),
    )


def _known(value: float | None) -> float | None:
    """``value`` if it is a usable positive measurement, else None."""
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return float(value)
