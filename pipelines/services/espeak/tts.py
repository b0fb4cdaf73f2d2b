"""espeak-ng as a Pipecat TTS service, with voices mapped from stored voice profiles.

Each sentence is synthesised whole (a few milliseconds of CPU, off the event loop), resampled
from espeak-ng's 22.05 kHz to the pipeline's output rate, and yielded in short chunks so an
interruption can cut the bot off mid-sentence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import numpy as np
import soxr
from loguru import logger
from pipecat.frames.frames import ErrorFrame, Frame, TTSAudioRawFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService
from pipecat.utils.types import is_given

from ingest.espeak import (
    DEFAULT_VOICE,
    SAMPLE_RATE,
    EspeakVoice,
    synthesize_async,
    voice_from_profile,
)


class EspeakTTSService(TTSService):
    """Offline text-to-speech with espeak-ng.

    The base class opens an audio context and pushes `TTSStartedFrame` before each sentence
    and `TTSStoppedFrame` after it; this service yields the sentence's `TTSAudioRawFrame`s
    at the pipeline's output sample rate.
    """

    def __init__(
        self, *, voice: EspeakVoice = DEFAULT_VOICE, chunk_secs: float = 0.04, **kwargs: Any
    ) -> None:
        """Creates the service.

        Args:
            voice: The espeak-ng voice and its parameters.
            chunk_secs: Length of each audio frame yielded; short frames let barge-in cut
                the audio promptly.
            **kwargs: Passed to `TTSService` (e.g. ``sample_rate``, ``text_aggregation_mode``).

        Raises:
            ValueError: ``chunk_secs`` is not positive.
        """
        if chunk_secs <= 0:
            raise ValueError("chunk_secs must be positive")
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice=voice.full_name, language=None),
            **kwargs,
        )
        self._voice = voice
        self._chunk_secs = chunk_secs

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any], **kwargs: Any) -> EspeakTTSService:
        """Creates a service that speaks with the voice mapped from a stored voice profile.

        Args:
            profile: A voice profile (see `voice_from_profile`).
            **kwargs: Passed to the constructor.

        Returns:
            The service.
        """
        return cls(voice=voice_from_profile(profile), **kwargs)

    @property
    def voice(self) -> EspeakVoice:
        """The voice this service speaks with."""
        return self._voice

    def can_generate_metrics(self) -> bool:
        """The service reports TTFB and usage metrics."""
        return True

    async def _update_settings(self, delta: TTSSettings) -> dict[str, Any]:  # type: ignore[override]
        """Applies a settings change; a new ``voice`` is an espeak-ng ``name[+variant]``.

        Args:
            delta: The settings that change.

        Returns:
            The changed fields and their previous values.
        """
        changed = await super()._update_settings(delta)
        if "voice" in changed and is_given(self._settings.voice) and self._settings.voice:
            name, _, variant = str(self._settings.voice).partition("+")
            try:
                self._voice = dataclasses.replace(self._voice, name=name, variant=variant or None)
            except ValueError:
                logger.warning(f"{self}: ignoring an invalid espeak-ng voice name")
        self._warn_unhandled_updated_settings(set(changed) - {"voice"})
        return changed

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Speaks one aggregated piece of text.

        Args:
            text: The text to speak.
            context_id: The audio context the frames belong to.

        Yields:
            `TTSAudioRawFrame`s of about ``chunk_secs`` each, or an `ErrorFrame`.
        """
        try:
            await self.start_tts_usage_metrics(text)
            samples = await synthesize_async(text, self._voice)
            audio = self._resample(samples) if samples.size else b""
        except Exception as exc:  # EspeakError, or anything else: never raise out of here
            yield ErrorFrame(error="espeak-ng could not synthesise speech", exception=exc)
            return
        if not audio:
            return
        await self.stop_ttfb_metrics()
        step = max(1, int(self.sample_rate * self._chunk_secs)) * 2
        for offset in range(0, len(audio), step):
            yield TTSAudioRawFrame(
                audio[offset : offset + step], self.sample_rate, 1, context_id=context_id
            )

    def _resample(self, samples: np.ndarray) -> bytes:
        """espeak-ng's 22.05 kHz samples as PCM bytes at the output sample rate."""
        if self.sample_rate != SAMPLE_RATE:
            samples = soxr.resample(samples, SAMPLE_RATE, self.sample_rate, quality="HQ")
        return bytes(samples.astype(np.int16, copy=False).tobytes())
