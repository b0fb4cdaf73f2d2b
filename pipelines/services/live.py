"""The speech services of a live call, chosen from plain settings values.

STT follows the order ingest uses (`ingest/providers/factory.py`): a Deepgram key, else a
faster-whisper model already on this machine, else pocketsphinx. A forced ``stt_provider``
that cannot work is refused with a `ValueError` naming what is missing, so a misconfigured
deployment fails at the start of a call instead of silently speaking to a different engine.
TTS is ElevenLabs when a key is set and the voice profile carries a cloned voice id, else the
packaged Piper voice (``en_US-joe-medium``, its GPL engine run as a separate process) shaped
toward the profile's pitch and rate when the voice and the engine are installed, else
espeak-ng with the profile's pitch and rate. A high (female) profile is spoken by espeak-ng's
female variant rather than the male Piper voice (`pipelines.services.piper.voice`).

Entry points read the settings and pass the values in; nothing here reads the environment.
Each choice is logged once per process, with a static message (never a key).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loguru import logger
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService

from ingest.packaged_models import PIPER_JOE, installed_model, piper_engine_installed
from ingest.whisper_models import first_whisper_model
from pipelines.services.espeak.tts import EspeakTTSService
from pipelines.services.piper.tts import PiperTTSService
from pipelines.services.piper.voice import piper_shape_for_profile
from pipelines.services.sphinx.stt import SphinxSTTService
from pipelines.services.whisper.stt import FasterWhisperSTTService

STT_PROVIDERS = ("auto", "deepgram", "whisper", "offline")
DEEPGRAM_MODEL = "nova-3"
ELEVENLABS_URL = "wss://api.elevenlabs.io"
CLONED_VOICE_PROVIDER = "elevenlabs"
PIPER_VOICE_FILE = "en_US-joe-medium.onnx"
"""The voice model in the packaged Piper voice's folder (`ingest.packaged_models.PIPER_JOE`)."""


@functools.cache
def _log_once(level: str, message: str) -> None:
    logger.opt(depth=1).log(level, message)


def make_live_stt(
    *,
    deepgram_api_key: str,
    stt_provider: str,
    whisper_model: str,
    language: str | None = None,
    deepgram_base_url: str | None = None,
    whisper_fallbacks: tuple[str, ...] = (),
    models_dir: Path | None = None,
) -> tuple[STTService, str]:
    """The streaming speech-to-text service for a live call.

    The services take the pipeline's input sample rate (16 kHz in the roleplay bot): Deepgram
    is asked for linear16 at that rate, and faster-whisper reads 16 kHz PCM.

    Args:
        deepgram_api_key: the Deepgram key; empty when not configured.
        stt_provider: "auto" (Deepgram with a key, else a whisper model already on this
            machine, else offline), "deepgram", "whisper" or "offline".
        whisper_model: a faster-whisper model name, repo id or local folder; it is only used
            when already on this machine (never downloaded here). The first call in a
            process loads it (seconds of CPU), later and concurrent calls share that one
            model, so call this off the event loop when whisper may be chosen.
        language: a language code for the cloud or local model; None keeps English.
        deepgram_base_url: another Deepgram endpoint (``wss://`` or, for a private
            deployment, ``ws://`` host and port); None is Deepgram's cloud.
        whisper_fallbacks: other whisper models to use, in order, when ``whisper_model`` is
            missing or damaged (in auto mode; a forced "whisper" refuses instead).
        models_dir: the folder `champion-clone models` installs into; None is the default.

    Returns:
        The service and its provider name ("deepgram", "whisper" or "offline").

    Raises:
        ValueError: ``stt_provider`` is not one of `STT_PROVIDERS`, or it forces a provider
            whose key or model is missing.
    """
    if stt_provider not in STT_PROVIDERS:
        raise ValueError(f"STT_PROVIDER must be one of {', '.join(STT_PROVIDERS)}")
    key = deepgram_api_key.strip()
    if stt_provider == "deepgram" and not key:
        raise ValueError("STT_PROVIDER=deepgram needs DEEPGRAM_API_KEY to be set")
    if stt_provider in ("auto", "deepgram") and key:
        _log_once("INFO", "live transcription: deepgram")
        return _deepgram_stt(key, language, deepgram_base_url), "deepgram"
    if stt_provider in ("auto", "whisper"):
        forced = stt_provider == "whisper"
        candidates = [whisper_model] if forced else [whisper_model, *whisper_fallbacks]
        whisper = _local_whisper_stt(candidates, language, forced=forced, models_dir=models_dir)
        if whisper is not None:
            _log_once("INFO", "live transcription: whisper (local model)")
            return whisper, "whisper"
    _log_once("INFO", "live transcription: offline")
    return SphinxSTTService(), "offline"


def make_live_tts(
    *,
    elevenlabs_api_key: str,
    voice_profile: Mapping[str, Any],
    elevenlabs_model: str = "eleven_flash_v2_5",
    elevenlabs_base_url: str | None = None,
    models_dir: Path | None = None,
) -> tuple[TTSService, str]:
    """The text-to-speech service for a live call, speaking with the given voice.

    The Piper server process is not started here: the service starts it (off the event loop)
    when the call's pipeline starts, once per process, and falls back to espeak-ng with the
    profile's voice if it cannot. The first call in a process checks the voice file's
    digest (a fraction of a second); later calls reuse the result.

    Args:
        elevenlabs_api_key: the ElevenLabs key; empty when not configured.
        voice_profile: the voice the AI speaks with, as the ingest voice step stores it
            (``provider``, ``voice_id`` when cloned, ``median_pitch_hz``, ...).
        elevenlabs_model: the ElevenLabs TTS model.
        elevenlabs_base_url: another ElevenLabs websocket endpoint; None is ElevenLabs' cloud.
        models_dir: the folder `champion-clone models` installs into; None is the default.

    Returns:
        The service and its provider name ("elevenlabs", "piper" or "offline" for
        espeak-ng). The audio comes at the pipeline's output sample rate in every case.
    """
    key = elevenlabs_api_key.strip()
    voice_id = cloned_voice_id(voice_profile)
    if key and voice_id:
        _log_once("INFO", "live speech: elevenlabs (cloned voice)")
        service = ElevenLabsTTSService(
            api_key=key,
            url=elevenlabs_base_url or ELEVENLABS_URL,
            settings=ElevenLabsTTSService.Settings(model=elevenlabs_model, voice=voice_id),
        )
        return service, "elevenlabs"
    if piper_shape_for_profile(voice_profile) is None:
        _log_once("INFO", "live speech: espeak-ng (a high voice the piper voice cannot reach)")
        return EspeakTTSService.from_profile(voice_profile), "offline"
    if not piper_engine_installed():
        _log_once("INFO", "live speech: espeak-ng (the piper engine is not installed)")
        return EspeakTTSService.from_profile(voice_profile), "offline"
    folder = installed_model(PIPER_JOE.name, models_dir=models_dir)
    if folder is None:  # a damaged voice is logged by installed_model
        _log_once("INFO", "live speech: espeak-ng (the piper voice is not installed)")
        return EspeakTTSService.from_profile(voice_profile), "offline"
    _log_once("INFO", "live speech: piper (en_US-joe-medium, shaped to the voice profile)")
    return PiperTTSService.from_profile(voice_profile, model=folder / PIPER_VOICE_FILE), "piper"


def cloned_voice_id(voice_profile: Mapping[str, Any]) -> str | None:
    """The ElevenLabs voice id of a cloned voice profile, or None for a measured one.

    Args:
        voice_profile: a voice profile as the ingest voice step stores it.
    """
    voice_id = voice_profile.get("voice_id")
    if voice_profile.get("provider") != CLONED_VOICE_PROVIDER or not isinstance(voice_id, str):
        return None
    return voice_id.strip() or None


def _deepgram_stt(key: str, language: str | None, base_url: str | None) -> DeepgramSTTService:
    # Interim results keep Deepgram's transcript current while the user speaks; on the VAD's
    # stop the service sends Finalize and Deepgram flushes the tail at once (from_finalize),
    # so the final TranscriptionFrame comes marked finalized and the turn can end without
    # waiting for Deepgram's own endpointing.
    settings = DeepgramSTTService.Settings(
        model=DEEPGRAM_MODEL, interim_results=True, punctuate=True, smart_format=True
    )
    if language:
        settings.language = language
    return DeepgramSTTService(
        api_key=key, base_url=base_url or "", encoding="linear16", settings=settings
    )


def _local_whisper_stt(
    candidates: list[str], language: str | None, *, forced: bool, models_dir: Path | None
) -> STTService | None:
    model = candidates[0]
    found = first_whisper_model(candidates, models_dir=models_dir)
    if found is None:
        if forced:
            raise ValueError(
                f"STT_PROVIDER=whisper needs WHISPER_LIVE_MODEL={model!r} on this machine "
                "(a model folder or the Hugging Face cache); it is never downloaded here"
            )
        return None
    name, folder = found
    if name != model:
        _log_once("WARNING", "the live whisper model is missing; calls use another one")
    try:
        return _whisper_stt(folder, language)
    except Exception as exc:  # CTranslate2 and faster-whisper raise many kinds
        if forced:
            raise ValueError(f"WHISPER_LIVE_MODEL={model!r} could not be loaded") from exc
        _log_once("WARNING", "the local whisper model could not be loaded; calls use offline STT")
        return None


def _whisper_stt(folder: Path, language: str | None) -> FasterWhisperSTTService:
    # A folder path makes faster-whisper load from disk, never from the Hugging Face hub; the
    # model comes from the process-wide cache, so only the first call pays for loading it.
    settings = FasterWhisperSTTService.Settings(model=str(folder))
    if language:
        settings.language = language
    return FasterWhisperSTTService(device="auto", compute_type="int8", settings=settings)


def warm_up_live_speech(
    *,
    deepgram_api_key: str,
    stt_provider: str,
    whisper_model: str,
    elevenlabs_api_key: str,
    whisper_fallbacks: tuple[str, ...] = (),
    models_dir: Path | None = None,
) -> None:
    """Loads what the first call of a process would otherwise wait for (blocking, seconds).

    The live whisper model goes into the process-wide cache and the Piper server starts, so
    the trainee's first call neither waits for a model to load nor for its first reply's
    voice. Nothing here raises: a step that cannot be prepared is left to the call, which
    logs it and falls back as usual.
    """
    try:
        make_live_stt(
            deepgram_api_key=deepgram_api_key,
            stt_provider=stt_provider,
            whisper_model=whisper_model,
            whisper_fallbacks=whisper_fallbacks,
            models_dir=models_dir,
        )
    except Exception:  # a forced provider that cannot work is reported by the call itself
        logger.warning("live transcription could not be prepared before the first call")
    try:
        tts, _ = make_live_tts(
            elevenlabs_api_key=elevenlabs_api_key, voice_profile={}, models_dir=models_dir
        )
        if isinstance(tts, PiperTTSService):
            tts.server.ensure_running()
    except Exception:  # the service retries and falls back to espeak-ng in the call
        logger.warning("the piper voice could not be prepared before the first call")
