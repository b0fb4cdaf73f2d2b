"""Choosing the provider for each ingest step from plain settings values.

Order per step: a configured cloud key, else a local model that is already present, else the
offline engine. Entry points read the settings and pass the values in; nothing here reads the
environment. Each choice is logged once per process, with a static message (never a key).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from ingest.providers.anthropic_analysis import ClaudePatternAnalyzer, ClaudeScenarioGenerator
from ingest.providers.deepgram import DeepgramTranscriber
from ingest.providers.elevenlabs_clone import ElevenLabsVoiceCloner
from ingest.providers.whisper import WhisperTranscriber
from ingest.types import PatternAnalyzer, ScenarioGenerator, Transcriber, VoiceCloner
from ingest.whisper_models import first_whisper_model

logger = logging.getLogger(__name__)

STT_PROVIDERS = ("auto", "deepgram", "whisper", "offline")


@functools.cache
def _log_once(level: int, message: str) -> None:
    logger.log(level, message)


def make_transcriber(
    *,
    deepgram_api_key: str,
    stt_provider: str,
    whisper_model: str,
    offline: Transcriber,
    deepgram_model: str = "nova-3",
    language: str | None = None,
    whisper_fallbacks: tuple[str, ...] = (),
    models_dir: Path | None = None,
) -> Transcriber:
    """The batch transcriber for ingest.

    Args:
        deepgram_api_key: the Deepgram key; empty when not configured.
        stt_provider: "auto" (Deepgram with a key, else a present whisper model, else
            offline), "deepgram", "whisper" or "offline".
        whisper_model: a faster-whisper model name or local folder; it is only used when
            already on this machine (never downloaded here).
        offline: the offline transcriber to fall back to.
        deepgram_model: the Deepgram model.
        language: a language hint for the cloud or local model; None detects it.
        whisper_fallbacks: other whisper models to use, in order, when ``whisper_model`` is
            not on this machine (a package went missing, a file was damaged).
        models_dir: the folder `champion-clone models` installs into; None is the default.

    Raises:
        ValueError: ``stt_provider`` is not one of `STT_PROVIDERS`.
    """
    if stt_provider not in STT_PROVIDERS:
        raise ValueError(f"STT_PROVIDER must be one of {', '.join(STT_PROVIDERS)}")
    key = deepgram_api_key.strip()
    if stt_provider in ("auto", "deepgram") and key:
        _log_once(logging.INFO, "ingest transcription: deepgram")
        return DeepgramTranscriber(api_key=key, model=deepgram_model, language=language)
    if stt_provider == "deepgram":
        _log_once(logging.WARNING, "deepgram chosen but no key is set; transcribing offline")
        return offline
    found = None
    if stt_provider in ("auto", "whisper"):
        found = first_whisper_model([whisper_model, *whisper_fallbacks], models_dir=models_dir)
    if found is not None:
        name, folder = found
        if name != whisper_model:
            _log_once(logging.WARNING, "the configured whisper model is missing; using another")
        _log_once(logging.INFO, "ingest transcription: whisper (local model)")
        return WhisperTranscriber(model=str(folder), language=language, model_name=name)
    if stt_provider == "whisper":
        _log_once(logging.WARNING, "the whisper model is not on this machine; transcribing offline")
        return offline
    _log_once(logging.INFO, "ingest transcription: offline")
    return offline


def make_pattern_analyzer(
    *, anthropic_api_key: str, model: str, offline: PatternAnalyzer
) -> PatternAnalyzer:
    """Claude (``model``) when an Anthropic key is set, else ``offline``."""
    key = anthropic_api_key.strip()
    if key:
        _log_once(logging.INFO, "pattern analysis: anthropic")
        return ClaudePatternAnalyzer(api_key=key, model=model)
    _log_once(logging.INFO, "pattern analysis: offline (no anthropic key)")
    return offline


def make_scenario_generator(
    *, anthropic_api_key: str, model: str, offline: ScenarioGenerator
) -> ScenarioGenerator:
    """Claude (``model``) when an Anthropic key is set, else ``offline``."""
    key = anthropic_api_key.strip()
    if key:
        _log_once(logging.INFO, "scenario generation: anthropic")
        return ClaudeScenarioGenerator(api_key=key, model=model)
    _log_once(logging.INFO, "scenario generation: offline (no anthropic key)")
    return offline


def make_voice_cloner(*, elevenlabs_api_key: str) -> VoiceCloner | None:
    """ElevenLabs instant cloning when a key is set; None means "measure an offline voice
    profile instead"."""
    key = elevenlabs_api_key.strip()
    if key:
        _log_once(logging.INFO, "voice cloning: elevenlabs")
        return ElevenLabsVoiceCloner(api_key=key)
    _log_once(logging.INFO, "voice cloning: offline voice profile (no elevenlabs key)")
    return None
