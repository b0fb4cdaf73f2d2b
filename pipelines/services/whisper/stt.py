"""Pipecat's faster-whisper STT, drawing its model from a process-wide cache.

Pipecat's `WhisperSTTService` builds a ``faster_whisper.WhisperModel`` in its constructor
(``_load``), so every call would spend seconds of CPU and hundreds of MB on its own copy of
the same weights. Pipecat has no argument for passing a loaded model in; this service
replaces only ``_load``, taking the model from a `WhisperModelCache`, and inherits the rest
(segmenting on the VAD, transcription on a worker thread, the language check, settings).

One model object serving several calls at once is safe: faster-whisper keeps no per-call
state on it, and CTranslate2 queues transcriptions from several threads on its workers.
"""

from __future__ import annotations

from typing import Any

from pipecat.services.whisper.stt import WhisperSTTService, WhisperSTTSettings
from pipecat.utils.types import require_given

from memory.whisper_models import WhisperModelCache, shared_whisper_models


class FasterWhisperSTTService(WhisperSTTService):
    """`WhisperSTTService` whose model is loaded once per process and shared between calls.

    The settings' ``model`` must already be on this machine (a model folder, or a name or
    repo id in the local Hugging Face cache); it is never downloaded.
    """

    _settings: WhisperSTTSettings

    def __init__(self, *, models: WhisperModelCache | None = None, **kwargs: Any) -> None:
        """Creates the service, loading its model on first use in the process (blocking).

        Args:
            models: the cache to draw the model from; None is the process-wide one.
            **kwargs: `WhisperSTTService` arguments (``device``, ``compute_type``,
                ``settings``, ...).

        Raises:
            FileNotFoundError: the model is not on this machine.
            ValueError: the model cannot transcribe the configured language.
            Exception: whatever faster-whisper raises for a model that does not load.
        """
        # The base constructor ends by calling _load, which reads this.
        self._models = models if models is not None else shared_whisper_models()
        super().__init__(**kwargs)

    def _load(self) -> None:
        # Replaces the base class's per-instance load; the language check is the same.
        model = require_given(self._settings.model, "Whisper model")
        self._model = self._models.get(model, device=self._device, compute_type=self._compute_type)
        unsupported = self._unsupported_language()
        if unsupported:
            raise ValueError(unsupported)
