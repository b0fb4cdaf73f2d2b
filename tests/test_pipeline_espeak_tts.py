"""EspeakTTSService in a real Pipecat pipeline (Pipecat's `run_test`): text in, audio out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    MetricsFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    TTSTextFrame,
    TTSUpdateSettingsFrame,
)
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.pipeline.worker import PipelineParams
from pipecat.services.settings import TTSSettings
from pipecat.tests.utils import SleepFrame, run_test

from ingest.espeak import (
    DEFAULT_VOICE,
    SAMPLE_RATE,
    EspeakVoice,
    synthesize,
    voice_for_profile,
    voice_from_profile,
)
from pipelines.services.espeak.tts import EspeakTTSService

SENTENCE = "Walk me through how your team handles onboarding today."


async def speak(
    tts: EspeakTTSService, frames: Sequence[Frame], rate: int = 24000, **params: Any
) -> tuple[Sequence[Frame], Sequence[Frame]]:
    # The base class emits a sentence's frames from its own task; give it time to finish.
    return await run_test(
        tts,
        frames_to_send=[*frames, SleepFrame(0.5)],
        pipeline_params=PipelineParams(audio_out_sample_rate=rate, **params),
    )


def audio_of(frames: Sequence[Frame]) -> list[TTSAudioRawFrame]:
    return [f for f in frames if isinstance(f, TTSAudioRawFrame)]


def seconds(frames: Sequence[TTSAudioRawFrame]) -> float:
    return sum(f.num_frames / f.sample_rate for f in frames)


@pytest.mark.parametrize("rate", [24000, 16000, 8000])
async def test_a_sentence_becomes_started_audio_stopped_at_the_pipeline_rate(rate: int) -> None:
    down, _up = await speak(EspeakTTSService(), [TTSSpeakFrame(SENTENCE)], rate)

    kinds = [type(f) for f in down if isinstance(f, TTSStartedFrame | TTSStoppedFrame)]
    assert kinds == [TTSStartedFrame, TTSStoppedFrame]
    started = next(f for f in down if isinstance(f, TTSStartedFrame))
    stopped = next(f for f in down if isinstance(f, TTSStoppedFrame))
    audio = audio_of(down)
    assert down.index(started) < down.index(audio[0]) and down.index(audio[-1]) < down.index(
        stopped
    )
    assert {(f.sample_rate, f.num_channels) for f in audio} == {(rate, 1)}
    assert {f.context_id for f in audio} == {started.context_id}
    # Same length as espeak-ng's own rendering (its output varies by under 1%).
    expected = len(synthesize(SENTENCE)) / SAMPLE_RATE
    assert seconds(audio) == pytest.approx(expected, rel=0.02)
    # Short chunks, so an interruption cuts the audio promptly.
    assert len(audio) > 10
    assert max(f.num_frames for f in audio) == int(rate * 0.04)
    pcm = np.frombuffer(b"".join(f.audio for f in audio), np.int16)
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 500


async def test_llm_text_is_spoken_sentence_by_sentence() -> None:
    frames = [
        LLMFullResponseStartFrame(),
        LLMTextFrame("Thanks for asking. "),
        LLMTextFrame("We onboard new hires in two weeks."),
        LLMFullResponseEndFrame(),
    ]

    down, _up = await speak(EspeakTTSService(), frames)

    audio = audio_of(down)
    assert len({f.context_id for f in audio}) == 1  # one turn, one audio context
    spoken = [f.text for f in down if isinstance(f, TTSTextFrame)]
    assert spoken == ["Thanks for asking.", "We onboard new hires in two weeks."]
    expected = sum(len(synthesize(text)) for text in spoken) / SAMPLE_RATE
    assert seconds(audio) == pytest.approx(expected, rel=0.02)
    kinds = [type(f) for f in down if isinstance(f, TTSStartedFrame | TTSStoppedFrame)]
    assert kinds == [TTSStartedFrame, TTSStoppedFrame]


@pytest.mark.parametrize("text", ["", "   ", "\n"])
async def test_empty_text_produces_no_audio_and_no_error(text: str) -> None:
    down, up = await speak(EspeakTTSService(), [TTSSpeakFrame(text)])

    assert audio_of(down) == []
    assert not any(isinstance(f, TTSStartedFrame | TTSStoppedFrame) for f in down)
    assert not any(isinstance(f, ErrorFrame) for f in up)


async def test_run_tts_yields_nothing_for_text_espeak_does_not_voice() -> None:
    tts = EspeakTTSService()

    frames = [frame async for frame in tts.run_tts("  ", "context")]

    assert frames == []


async def test_reports_ttfb_at_first_audio() -> None:
    tts = EspeakTTSService()

    down, _up = await speak(tts, [TTSSpeakFrame(SENTENCE)], enable_metrics=True)

    values = [
        d.value
        for f in down
        if isinstance(f, MetricsFrame)
        for d in f.data
        if isinstance(d, TTFBMetricsData) and d.processor == tts.name and d.value > 0
    ]
    assert len(values) == 1 and values[0] < 1.0


async def test_a_settings_update_changes_the_voice() -> None:
    tts = EspeakTTSService(voice=EspeakVoice(rate_wpm=200))
    update = TTSUpdateSettingsFrame(delta=TTSSettings(voice="en-us+f2"))

    await speak(tts, [update])

    assert tts.voice == EspeakVoice(rate_wpm=200, variant="f2")


def test_the_voice_comes_from_the_stored_profile() -> None:
    profile = {"median_pitch_hz": 210.0, "speaking_rate_wpm": 185.0, "other": "ignored"}

    tts = EspeakTTSService.from_profile(profile)

    expected = voice_for_profile(median_pitch_hz=210.0, speaking_rate_wpm=185.0)
    assert tts.voice == expected
    assert tts.voice.variant == "f2" and tts.voice.rate_wpm == 185


@pytest.mark.parametrize(
    "profile",
    [
        {},
        {"median_pitch_hz": None, "speaking_rate_wpm": None},
        {"median_pitch_hz": "n/a", "speaking_rate_wpm": math.nan},
        {"median_pitch_hz": True, "speaking_rate_wpm": [150]},
    ],
)
def test_a_profile_without_usable_measurements_gives_the_default_voice(
    profile: dict[str, Any],
) -> None:
    assert voice_from_profile(profile) == DEFAULT_VOICE


def test_profile_numbers_may_be_stored_as_strings() -> None:
    voice = voice_from_profile({"median_pitch_hz": "110", "speaking_rate_wpm": "140"})

    assert voice == voice_for_profile(median_pitch_hz=110.0, speaking_rate_wpm=140.0)
    assert voice.variant == "m3"
