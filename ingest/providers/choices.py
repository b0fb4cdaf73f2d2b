"""Which provider serves each model-backed step, from the settings' keys and the local models."""

from __future__ import annotations

from ingest.packaged_models import piper_voice_available
from ingest.whisper_models import first_whisper_model
from memory.settings import Settings


def provider_choices(settings: Settings) -> dict[str, str]:
    """Which provider serves each model-backed step, from the keys and local models.

    "stt" is ingest's transcription and "stt_live" the calls'; in auto mode each counts
    a faster-whisper model on this machine (the configured one, else the other packaged
    one), and "stt_model" / "stt_live_model" name the model then. "tts" is ElevenLabs for
    champions whose voice was cloned, else the packaged Piper voice when it and its
    engine are installed, else espeak-ng ("offline").
    """
    choices: dict[str, str] = {}
    for step, first, second in (
        ("stt", settings.whisper_model, settings.whisper_live_model),
        ("stt_live", settings.whisper_live_model, settings.whisper_model),
    ):
        if settings.stt_provider == "auto" and settings.deepgram_api_key.strip():
            choices[step] = "deepgram"
            continue
        if settings.stt_provider not in ("auto", "whisper"):
            choices[step] = settings.stt_provider
            continue
        candidates = [first] if settings.stt_provider == "whisper" else [first, second]
        found = first_whisper_model(candidates, models_dir=settings.models_folder)
        if found is not None:
            choices[step] = "whisper"
            choices[f"{step}_model"] = found[0]
        else:
            choices[step] = "whisper" if settings.stt_provider == "whisper" else "offline"
    if settings.elevenlabs_api_key.strip():
        tts = "elevenlabs"
    elif piper_voice_available(models_dir=settings.models_folder):
        tts = "piper"
    else:
        tts = "offline"
    choices.update(
        {
            "llm": "anthropic" if settings.anthropic_api_key.strip() else "offline",
            "tts": tts,
            "voice_clone": "elevenlabs" if settings.elevenlabs_api_key.strip() else "offline",
            "embeddings": "sparse",
        }
    )
    return choices
