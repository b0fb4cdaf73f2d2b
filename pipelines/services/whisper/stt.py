"""Pipecat's faster-whisper STT, drawing its model from a process-wide cache.

Pipecat's `WhisperSTTService` builds a ``faster_whisper.WhisperModel`` in its constructor
(``_load``), so every call would spend seconds of CPU and hundreds of MB on its own copy of
the same weights. Pipecat has no argument for passing a loaded model in; this service
replaces only ``_load``, taking the model from a `WhisperModelCache`, and inherits the rest
(segmenting on the VAD, transcription on a worker thread, the language check, settings).

One model object serving several calls at once is safe: faster-whisper keeps no per-call
state on it, and CTranslate2 queues transcriptions from several threads on its workers.

Each segment (one stretch of speech between two VAD pauses) is decoded on a worker thread
with an encoder window fitted to its length and greedy search (`decode.decode_segment`):
tiny.en's text is ready in a fraction of the time the 30 s window and beam 5 take, which is
most of what the trainee waits for after they stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, cast

import numpy as np
from loguru import logger
from pipecat.frames.frames import ErrorFrame, Frame, TranscriptionFrame
from pipecat.services.whisper.stt import WhisperSTTService, WhisperSTTSettings
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601
from pipecat.utils.types import assert_given, require_given

from ingest.whisper_models import WhisperModelCache, shared_whisper_models
from pipelines.frames import SegmentTranscribedFrame
from pipelines.services.whisper.decode import decode_segment

LIVE_BEAM_SIZE = 1
"""Greedy decoding. On the 72 natural-voice utterances of bench/turn_taking.py (tiny.en,
2 idle cores), per segment: fitted window, beam 1: 115 ms, WER 5.7%; beam 5: 151 ms, 5.0%;
faster-whisper's 30 s window, beam 5 (Pipecat's): 393 ms, 4.4%. A question's turn ends
0.2 s after the VAD stop, so a decode that fits inside that adds nothing."""


class FasterWhisperSTTService(WhisperSTTService):
    """`WhisperSTTService` whose model is loaded once per process and shared between calls.

    The settings' ``model`` must already be on this machine (a model folder, or a name or
    repo id in the local Hugging Face cache); it is never downloaded.
    """

    _settings: WhisperSTTSettings

    def __init__(
        self,
        *,
        models: WhisperModelCache | None = None,
        beam_size: int = LIVE_BEAM_SIZE,
        **kwargs: Any,
    ) -> None:
        """Creates the service, loading its model on first use in the process (blocking).

        Args:
            models: the cache to draw the model from; None is the process-wide one.
            beam_size: Whisper's beam; 1 is greedy decoding.
            **kwargs: `WhisperSTTService` arguments (``device``, ``compute_type``,
                ``settings``, ...).

        Raises:
            FileNotFoundError: the model is not on this machine.
            ValueError: the model cannot transcribe the configured language.
            Exception: whatever faster-whisper raises for a model that does not load.
        """
        # The base constructor ends by calling _load, which reads this.
        self._models = models if models is not None else shared_whisper_models()
        self._beam_size = beam_size
        super().__init__(**kwargs)

    def _load(self) -> None:
        # Replaces the base class's per-instance load; the language check is the same.
        model = require_given(self._settings.model, "Whisper model")
        self._model = self._models.get(model, device=self._device, compute_type=self._compute_type)
        unsupported = self._unsupported_language()
        if unsupported:
            raise ValueError(unsupported)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """Transcribes one segment on a worker thread, off the event loop.

        Args:
            audio: The segment as 16-bit mono PCM at 16 kHz.

        Yields:
            A finalized `TranscriptionFrame` when Whisper heard words, an `ErrorFrame` when
            decoding failed, then a `SegmentTranscribedFrame` in every case, so the turn's
            end can be decided knowing no words are on their way.
        """
        async for frame in self._transcribe(audio):
            yield frame
        yield SegmentTranscribedFrame()

    async def _transcribe(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        model = self._model
        if model is None:
            yield ErrorFrame("Whisper model not available")
            return
        if assert_given(self._settings.hotwords) or assert_given(self._settings.initial_prompt):
            # Prompted decoding is the base class's (full window); the live calls never set it.
            async for frame in super().run_stt(audio):
                yield frame
            return
        await self.start_processing_metrics()
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
        # The stored language is a Whisper code; Language is a StrEnum, so either is fine.
        language = cast("Language | None", assert_given(self._settings.language))
        try:
            decoded = await asyncio.to_thread(
                decode_segment,
                model,
                samples,
                language=str(language) if language else None,
                beam_size=self._beam_size,
            )
        except Exception as exc:  # CTranslate2 raises plain RuntimeErrors
            await self.stop_processing_metrics()
            logger.exception("whisper could not decode a segment")
            yield ErrorFrame(f"whisper could not decode a segment: {type(exc).__name__}")
            return
        threshold = assert_given(self._settings.no_speech_prob)
        text = " ".join(
            d.text.strip() for d in decoded if threshold is None or d.no_speech_prob < threshold
        ).strip()
        await self.stop_processing_metrics()
        if text:
            await self._handle_transcription(text, True, language)
            yield TranscriptionFrame(text, self._user_id, time_now_iso8601(), language)
