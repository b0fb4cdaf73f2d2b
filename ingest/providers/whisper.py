"""Batch transcription with a local faster-whisper model, one speaker per channel file.

faster-whisper does not diarize, so a mono recording is one speaker ("S0") and a two-speaker
stereo call is "S0" (left) and "S1" (right). The model runs on a worker thread so the event
loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.types import ExtractedAudio, ProgressCallback, Segment, TranscriptResult, Word
from memory.provider_errors import ProviderError
from memory.whisper_models import shared_whisper_models

logger = logging.getLogger(__name__)

PROVIDER = "whisper"


class WhisperTranscriber:
    """`Transcriber` backed by faster-whisper with word timestamps and VAD filtering.

    Args:
        model: a model name ("small", "large-v3", a Hugging Face repo id) or a local folder.
        language: an ISO language code; None lets the model detect it.
        beam_size: the decoder's beam size.
        device: where CTranslate2 runs the model ("cpu", "cuda", "auto").
        compute_type: the CTranslate2 compute type ("int8" suits a CPU).
        local_files_only: never download; the model must be a folder or already cached.
        model_factory: builds the model from ``model``; the default takes it from the
            process-wide model cache (one loaded copy shared with live calls), or, when
            downloads are allowed, builds a ``faster_whisper.WhisperModel``. Tests pass a fake.
        model_name: the name to report for the model (``model`` when None), e.g. "base"
            for a packaged model's folder.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        model: str = "small",
        language: str | None = None,
        beam_size: int = 5,
        device: str = "cpu",
        compute_type: str = "int8",
        local_files_only: bool = True,
        model_factory: Callable[[str], Any] | None = None,
        model_name: str | None = None,
    ) -> None:
        self._model_name = model
        self.model_name = model_name or model
        self._language = language
        self._beam_size = beam_size
        self._device = device
        self._compute_type = compute_type
        self._local_files_only = local_files_only
        self._factory = model_factory or self._build_model
        self._model: Any = None
        self._lock = threading.Lock()

    async def transcribe(
        self, audio: ExtractedAudio, *, on_progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        """Transcribes each channel file as one speaker and merges them in time order.

        ``on_progress`` hears the fraction of the audio decoded so far (in steps of at least
        1%), from the worker thread by way of the event loop.

        Raises:
            ProviderError: the model could not be loaded (not retryable).
        """
        loop = asyncio.get_running_loop()
        reported = 0.0
        total = max(audio.duration_seconds, 1e-6) * len(audio.channels)

        async def report(fraction: float) -> None:
            if on_progress is not None:
                await on_progress(fraction)

        def progress(seconds_done: float) -> None:
            nonlocal reported
            fraction = min(seconds_done / total, 1.0)
            if on_progress is not None and fraction - reported >= 0.01:
                reported = fraction
                asyncio.run_coroutine_threadsafe(report(fraction), loop).result()

        result = await asyncio.to_thread(
            self._transcribe_sync, audio.channels, audio.duration_seconds, progress
        )
        if on_progress is not None:
            await on_progress(1.0)
        return result

    def _transcribe_sync(
        self, channels: list[Path], duration: float, progress: Callable[[float], None]
    ) -> TranscriptResult:
        model = self._load()
        segments: list[Segment] = []
        language: str | None = None
        logger.info("whisper transcription started")
        for index, path in enumerate(channels):
            found, info = model.transcribe(
                str(path),
                language=self._language,
                beam_size=self._beam_size,
                word_timestamps=True,
                vad_filter=True,
            )
            # faster-whisper decodes lazily: the work happens while the iterator is consumed.
            for item in found:
                segment = _segment(item, speaker=f"S{index}")
                if segment is not None:
                    segments.append(segment)
                progress(index * duration + min(float(item.end), duration))
            language = language or getattr(info, "language", None)
        logger.info("whisper transcription finished")
        segments.sort(key=lambda s: (s.start, s.speaker))
        return TranscriptResult(segments, PROVIDER, self._language or language)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                logger.info("loading the whisper model")
                try:
                    self._model = self._factory(self._model_name)
                except Exception as exc:  # the model library raises many kinds
                    raise ProviderError(
                        PROVIDER, "the speech model could not be loaded", retryable=False
                    ) from exc
            return self._model

    def _build_model(self, model: str) -> Any:
        if self._local_files_only:
            return shared_whisper_models().get(
                model, device=self._device, compute_type=self._compute_type
            )
        from faster_whisper import WhisperModel

        return WhisperModel(
            model,
            device=self._device,
            compute_type=self._compute_type,
            local_files_only=self._local_files_only,
        )


def _segment(item: Any, *, speaker: str) -> Segment | None:
    text = str(item.text).strip()
    if not text:
        return None
    words = [
        Word(str(w.word).strip(), float(w.start), float(w.end))
        for w in item.words or []
        if str(w.word).strip()
    ]
    return Segment(float(item.start), float(item.end), speaker, text, words)
