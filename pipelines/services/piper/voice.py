"""How the one packaged Piper voice is shaped toward a measured voice profile.

The packaged voice, ``en_US-joe-medium``, is one low male speaker: a median f0 of about
91 Hz (window-corrected autocorrelation over a test paragraph) at about 228 words per
minute for sentence-by-sentence synthesis. A stored voice profile carries the speaker's
median pitch and speaking rate (`ingest.voice.measure_voice`). The rule:

* **Pitch.** The voice is moved to the measured median by resampling: its 22.05 kHz audio
  is read as if it were recorded at ``22050 * k`` Hz, which multiplies every frequency by
  ``k``, and Piper's ``length_scale`` is raised so the duration comes out unchanged.
  Resampling moves the formants with the pitch, so past a few semitones it stops sounding
  like a person (a smaller or larger head, then a cartoon); ``k`` is therefore kept within
  -3 and +4 semitones (0.84-1.26, i.e. 77-115 Hz). Measured on the output: k = 1.2 gives a
  110 Hz median and k = 1.5 gives 138 Hz, against 91 Hz unshifted.
* **Rate.** The profile's rate is taken relative to 170 wpm (the conversational rate the
  espeak-ng voices use as normal): a speaker at 170 wpm keeps Piper's own pace, a faster
  or slower one speeds it up or slows it down by the same ratio, within 0.8x-1.25x of the
  duration. The two rates are measured differently (a recording's talk time includes its
  pauses, a synthesised sentence has almost none), so only their ratio is used. Piper's
  ``length_scale`` does not scale the duration in proportion (silences and short phonemes
  stretch less), so the wanted duration is turned into a ``length_scale`` through a table
  measured on this voice.
* **High voices go to espeak-ng.** From a measured median of 160 Hz up (the same line the
  espeak-ng voice mapping uses between male and female variants) the Piper voice would need
  a shift of nearly +10 semitones (+14 for a typical 200 Hz voice): far outside the natural
  range, it would come out as a pitched-up man with a child's formants. A female champion or
  prospect must not speak with a male voice, so `piper_shape_for_profile` returns None and
  the caller uses espeak-ng's female variant at the measured pitch and rate: robotic, but
  the right kind of voice.

Two different speakers therefore sound different (pitch and pace both follow the profile), a
prospect and a champion of different sexes get different engines, and a profile without
measurements gets the voice unshifted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.voice_profile import profile_number

VOICE_MEDIAN_HZ = 91.0
"""Median f0 of ``en_US-joe-medium`` unshifted (measured)."""

NATURAL_RATE_WPM = 170.0
"""The profile rate at which the voice keeps its own pace."""

HIGH_VOICE_FROM_HZ = 160.0
"""From this measured median up the profile is spoken by espeak-ng's female variant."""

MIN_PITCH_FACTOR = 2 ** (-3 / 12)
MAX_PITCH_FACTOR = 2 ** (4 / 12)
MIN_TEMPO_DURATION, MAX_TEMPO_DURATION = 0.8, 1.25

# Total duration of six test sentences for each length_scale, relative to length_scale 1
# (two runs each, averaged). Interpolating the inverse gives the length_scale for a wanted
# duration factor.
_LENGTH_SCALES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.8, 2.0)
_DURATION_FACTORS = (0.647, 0.693, 0.779, 0.890, 0.956, 1.0, 1.064, 1.179, 1.338, 1.581, 1.716)


@dataclass(frozen=True)
class PiperVoiceShape:
    """How the Piper voice is changed for one speaker.

    Attributes:
        pitch_factor: Every frequency is multiplied by this (by resampling); 1 leaves the
            voice as it is.
        length_scale: Piper's ``length_scale`` for the request; it already includes the
            compensation for the duration the pitch change takes away.
    """

    pitch_factor: float = 1.0
    length_scale: float = 1.0

    def __post_init__(self) -> None:
        for name, value in (
            ("pitch_factor", self.pitch_factor),
            ("length_scale", self.length_scale),
        ):
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value}")


NATURAL = PiperVoiceShape()
"""The voice unchanged."""


def length_scale_for(duration_factor: float) -> float:
    """The ``length_scale`` that makes Piper's speech ``duration_factor`` times as long.

    Args:
        duration_factor: Wanted duration relative to ``length_scale`` 1; clamped to the
            measured table (0.65-1.72).

    Returns:
        The length scale, from the table measured on this voice.
    """
    return round(float(np.interp(duration_factor, _DURATION_FACTORS, _LENGTH_SCALES)), 3)


def piper_shape_for_profile(profile: Mapping[str, Any]) -> PiperVoiceShape | None:
    """The shaping that brings the Piper voice toward a voice profile (see the module rule).

    Args:
        profile: A voice profile with ``median_pitch_hz`` and ``speaking_rate_wpm``; a
            missing, non-numeric or non-positive value leaves that aspect unchanged.

    Returns:
        The shape, or None when the measured pitch is a high (female) voice that this male
        voice cannot reach naturally; espeak-ng should speak that profile instead.
    """
    hz = _measured(profile.get("median_pitch_hz"))
    wpm = _measured(profile.get("speaking_rate_wpm"))
    if hz is not None and hz >= HIGH_VOICE_FROM_HZ:
        return None
    pitch_factor = 1.0
    if hz is not None:
        pitch_factor = min(max(hz / VOICE_MEDIAN_HZ, MIN_PITCH_FACTOR), MAX_PITCH_FACTOR)
    tempo_duration = 1.0
    if wpm is not None:
        tempo_duration = min(max(NATURAL_RATE_WPM / wpm, MIN_TEMPO_DURATION), MAX_TEMPO_DURATION)
    # Reading the audio k times faster shortens it by k: synthesise it k times longer.
    length_scale = length_scale_for(tempo_duration * pitch_factor)
    return PiperVoiceShape(pitch_factor=round(pitch_factor, 4), length_scale=length_scale)


def _measured(value: Any) -> float | None:
    """``value`` as a positive finite float, or None."""
    number = profile_number(value)
    return number if number is not None and number > 0 else None
