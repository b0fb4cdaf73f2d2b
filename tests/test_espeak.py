"""The espeak-ng engine: audio it makes, voice parameters, thread safety, profile mapping."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ingest.espeak import (
    SAMPLE_RATE,
    EspeakError,
    EspeakVoice,
    synthesize,
    synthesize_async,
    voice_for_profile,
)
from tests.support.dialogue import median_f0

TEN_WORDS = "Thanks for joining, I would love to hear about your team."
SENTENCE = "Our customers usually see results within the first few weeks of the pilot."


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_a_sentence_has_plausible_length_and_is_not_silent() -> None:
    audio = synthesize(TEN_WORDS)

    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 1.5 <= len(audio) / SAMPLE_RATE <= 6.0
    assert rms(audio) > 1000


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_gives_no_audio(text: str) -> None:
    audio = synthesize(text)

    assert audio.dtype == np.int16 and audio.shape == (0,)


def test_higher_pitch_gives_higher_f0() -> None:
    low = synthesize(SENTENCE, EspeakVoice(variant="m3", pitch=20))
    high = synthesize(SENTENCE, EspeakVoice(variant="m3", pitch=80))

    assert median_f0(high, SAMPLE_RATE) > 1.3 * median_f0(low, SAMPLE_RATE)


def test_female_variant_speaks_higher_than_male() -> None:
    male = synthesize(SENTENCE, EspeakVoice(variant="m3"))
    female = synthesize(SENTENCE, EspeakVoice(variant="f2"))

    assert median_f0(female, SAMPLE_RATE) > 1.5 * median_f0(male, SAMPLE_RATE)


def test_higher_rate_gives_shorter_audio() -> None:
    slow = synthesize(SENTENCE, EspeakVoice(rate_wpm=120))
    fast = synthesize(SENTENCE, EspeakVoice(rate_wpm=300))

    assert len(slow) > 1.8 * len(fast)


def test_volume_scales_amplitude() -> None:
    quiet = synthesize(SENTENCE, EspeakVoice(volume=30))
    normal = synthesize(SENTENCE, EspeakVoice(volume=100))

    assert rms(quiet) < 0.5 * rms(normal)


def test_concurrent_threads_each_get_their_own_voice() -> None:
    # Different rates per thread: a voice applied for one thread but used by another would
    # change the length of that thread's audio.
    voices = [EspeakVoice(rate_wpm=rate) for rate in (120, 170, 240, 320)]
    expected = {voice: len(synthesize(SENTENCE, voice)) for voice in voices}

    def speak(voice: EspeakVoice) -> list[int]:
        return [len(synthesize(SENTENCE, voice)) for _ in range(25)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(voices, pool.map(speak, voices), strict=True))

    for voice, lengths in results.items():
        assert len(lengths) == 25
        assert all(abs(n - expected[voice]) <= 0.02 * expected[voice] for n in lengths)


async def test_async_synthesis_matches_sync() -> None:
    audio = await synthesize_async(SENTENCE)

    assert abs(len(audio) - len(synthesize(SENTENCE))) <= 0.02 * len(audio)
    assert rms(audio) > 1000


def test_unknown_voice_raises_espeak_error() -> None:
    with pytest.raises(EspeakError, match="no voice"):
        synthesize("hello", EspeakVoice(name="xx-nowhere"))


@pytest.mark.parametrize(
    "fields",
    [{"rate_wpm": 20}, {"rate_wpm": 900}, {"pitch": -1}, {"pitch": 101}, {"volume": 300}],
)
def test_out_of_range_parameters_are_rejected(fields: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        EspeakVoice(**fields)  # type: ignore[arg-type]


def test_variant_is_appended_to_the_voice_name() -> None:
    assert EspeakVoice(variant="f2").full_name == "en-us+f2"
    assert EspeakVoice().full_name == "en-us"


def test_unknown_profile_gives_the_default_voice() -> None:
    voice = voice_for_profile(median_pitch_hz=None, speaking_rate_wpm=None)

    assert voice == EspeakVoice()


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0.0, -5.0])
def test_unusable_measurements_count_as_unknown(bad: float) -> None:
    voice = voice_for_profile(median_pitch_hz=bad, speaking_rate_wpm=bad)

    assert (voice.pitch, voice.rate_wpm, voice.variant) == (50, 170, None)


def test_profile_picks_variant_from_pitch() -> None:
    low = voice_for_profile(median_pitch_hz=110, speaking_rate_wpm=150)
    high = voice_for_profile(median_pitch_hz=210, speaking_rate_wpm=150)

    assert low.variant == "m3" and high.variant == "f2"
    assert low.rate_wpm == high.rate_wpm == 150


def test_explicit_gender_overrides_pitch() -> None:
    low_woman = voice_for_profile(median_pitch_hz=150, speaking_rate_wpm=None, female=True)
    high_man = voice_for_profile(median_pitch_hz=200, speaking_rate_wpm=None, female=False)
    woman = voice_for_profile(median_pitch_hz=None, speaking_rate_wpm=None, female=True)

    assert (low_woman.variant, high_man.variant) == ("f2", "m3")
    assert high_man.pitch == 99
    assert woman == EspeakVoice(variant="f2")


def test_profile_pitch_rises_with_hz_and_is_clamped() -> None:
    pitches = [
        voice_for_profile(median_pitch_hz=hz, speaking_rate_wpm=None, female=False).pitch
        for hz in (40, 85, 100, 120, 155, 400)
    ]

    assert pitches == sorted(pitches)
    assert pitches[0] == 0 and pitches[-1] == 99
    assert len(set(pitches[1:-1])) == 4


@pytest.mark.parametrize(("wpm", "expected"), [(30, 80), (80, 80), (163.6, 164), (900, 450)])
def test_profile_rate_is_clamped(wpm: float, expected: int) -> None:
    assert voice_for_profile(median_pitch_hz=None, speaking_rate_wpm=wpm).rate_wpm == expected


@pytest.mark.parametrize("hz", [100.0, 125.0, 190.0, 230.0])
def test_profile_voice_reproduces_the_measured_pitch(hz: float) -> None:
    voice = voice_for_profile(median_pitch_hz=hz, speaking_rate_wpm=None)

    measured = median_f0(synthesize(SENTENCE, voice), SAMPLE_RATE)

    assert measured == pytest.approx(hz, rel=0.15)
