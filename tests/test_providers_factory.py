"""Provider selection per ingest step from plain settings values."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.providers import factory
from ingest.providers.anthropic_analysis import ClaudePatternAnalyzer, ClaudeScenarioGenerator
from ingest.providers.deepgram import DeepgramTranscriber
from ingest.providers.elevenlabs_clone import ElevenLabsVoiceCloner
from ingest.providers.whisper import WhisperTranscriber
from ingest.types import (
    AnalysisResult,
    ExtractedAudio,
    PatternDraft,
    ProgressCallback,
    ScenarioDraft,
    Segment,
    TranscriptResult,
)

SECRET = "key-that-must-never-be-logged"


class OfflineSTT:
    name = "offline"

    async def transcribe(
        self, audio: ExtractedAudio, *, on_progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        return TranscriptResult([], "offline")


class OfflineAnalyzer:
    name = "offline"

    async def analyze(self, segments: list[Segment], *, champion: str) -> AnalysisResult:
        return AnalysisResult([], "offline")


class OfflineScenarios:
    name = "offline"

    async def generate(
        self, segments: list[Segment], *, champion: str, patterns: list[PatternDraft]
    ) -> list[ScenarioDraft]:
        return []


@pytest.fixture(autouse=True)
def fresh_log() -> Iterator[None]:
    factory._log_once.cache_clear()
    yield
    factory._log_once.cache_clear()


@pytest.fixture
def local_model(tmp_path: Path) -> str:
    folder = tmp_path / "whisper-small"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0")
    return str(folder)


def transcriber(provider: str, *, key: str = "", model: str = "") -> object:
    return factory.make_transcriber(
        deepgram_api_key=key, stt_provider=provider, whisper_model=model, offline=OFFLINE_STT
    )


OFFLINE_STT = OfflineSTT()


def test_deepgram_with_a_key_in_auto_or_deepgram_mode(local_model: str) -> None:
    for mode in ("auto", "deepgram"):
        chosen = transcriber(mode, key=SECRET, model=local_model)
        assert isinstance(chosen, DeepgramTranscriber)
        assert chosen.name == "deepgram"


def test_deepgram_without_a_key_falls_back_offline() -> None:
    assert transcriber("deepgram", key="  ") is OFFLINE_STT


def test_whisper_only_when_the_model_is_on_this_machine(local_model: str, tmp_path: Path) -> None:
    assert isinstance(transcriber("whisper", model=local_model), WhisperTranscriber)
    assert isinstance(transcriber("auto", model=local_model), WhisperTranscriber)
    missing = str(tmp_path / "not-downloaded")
    assert transcriber("whisper", key=SECRET, model=missing) is OFFLINE_STT
    assert transcriber("auto", model=missing) is OFFLINE_STT


def test_offline_mode_ignores_keys_and_models(local_model: str) -> None:
    assert transcriber("offline", key=SECRET, model=local_model) is OFFLINE_STT


def test_unknown_stt_provider_is_refused() -> None:
    with pytest.raises(ValueError, match="STT_PROVIDER"):
        transcriber("sphinx")


def test_llm_steps_use_claude_only_with_a_key() -> None:
    analyzer = factory.make_pattern_analyzer(
        anthropic_api_key=SECRET, model="claude-opus-4-1", offline=OfflineAnalyzer()
    )
    generator = factory.make_scenario_generator(
        anthropic_api_key=SECRET, model="claude-opus-4-1", offline=OfflineScenarios()
    )
    assert isinstance(analyzer, ClaudePatternAnalyzer)
    assert isinstance(generator, ClaudeScenarioGenerator)
    assert analyzer._model == "claude-opus-4-1"

    offline_analyzer, offline_generator = OfflineAnalyzer(), OfflineScenarios()
    assert (
        factory.make_pattern_analyzer(anthropic_api_key="", model="m", offline=offline_analyzer)
        is offline_analyzer
    )
    assert (
        factory.make_scenario_generator(anthropic_api_key="", model="m", offline=offline_generator)
        is offline_generator
    )


def test_voice_cloner_only_with_a_key() -> None:
    assert isinstance(factory.make_voice_cloner(elevenlabs_api_key=SECRET), ElevenLabsVoiceCloner)
    assert factory.make_voice_cloner(elevenlabs_api_key="") is None


def test_choices_are_logged_once_without_keys(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.providers.factory")
    for _ in range(3):
        transcriber("deepgram", key=SECRET)
        transcriber("whisper", model=str(tmp_path / "missing"))
        factory.make_voice_cloner(elevenlabs_api_key=SECRET)

    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "ingest transcription: deepgram",
        "the whisper model is not on this machine; transcribing offline",
        "voice cloning: elevenlabs",
    ]
    assert all(SECRET not in message for message in messages)
    assert caplog.records[1].levelno == logging.WARNING
