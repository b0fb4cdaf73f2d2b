"""Piper as a Pipecat TTS service, talking HTTP to Piper's own server process.

Pipecat ships `pipecat.services.piper.tts.PiperHttpTTSService`, but its module imports the
``piper`` package at import time (for the in-process service beside it), which would load
GPL code into this process; it also sends only the text, so the voice could not be shaped.
This service does the same job with the request Piper's server takes (``text`` plus
``length_scale``), the server run by `pipelines.services.piper.server`.

Each aggregated sentence is one request: the server answers with the sentence's WAV once it
is synthesised (about a tenth of its duration on one core), and the audio is yielded at
once, so a reply starts speaking after its first sentence while the next ones are still
being synthesised. The server has no streaming mode, so a long first sentence of a reply is
spoken as two requests, split at its first clause break (`first_clause`): the reply is heard
after its first clause is synthesised, and the rest is synthesised while that clause plays.
Later sentences stay whole, so their prosody is the engine's own. The audio is resampled to
the pipeline's output rate, and the pitch shift of the voice shape
(`pipelines.services.piper.voice`) is applied in the same step.

If the server cannot start or stays unreachable after one restart, the rest of the call is
spoken by espeak-ng with the profile's voice (one engine per call, so the voice does not
change back and forth); so is it when a sentence takes longer than the request timeout. A
sentence the server refuses (error status, no audio) is spoken by espeak-ng alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import wave
from collections.abc import AsyncGenerator, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import numpy as np
import soxr
from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    ErrorFrame,
    Frame,
    StartFrame,
    TTSAudioRawFrame,
)
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from ingest.espeak import DEFAULT_VOICE, SAMPLE_RATE, EspeakVoice, voice_from_profile
from ingest.espeak import synthesize_async as espeak_synthesize
from pipelines.services.piper.server import PiperServer, PiperServerError, shared_piper_server
from pipelines.services.piper.voice import NATURAL, PiperVoiceShape, piper_shape_for_profile

_T = TypeVar("_T")
_KEEPALIVE_SECS = 1.0  # well inside the base class's 3 s idle timeout for an audio context
# A comma, semicolon or colon before a space, or a spaced dash: where a speaker may pause.
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s[-\u2013\u2014]+(?=\s)")
_MIN_CLAUSE_WORDS = 4  # shorter clauses ("Sure,", "Honestly,") save too little to split off


class _ServerUnavailable(Exception):
    """The server cannot be reached, even after a restart."""


class _SentenceFailed(Exception):
    """The server could not synthesise this sentence (timeout, error status, bad audio)."""


class PiperTTSService(TTSService):
    """Offline neural text-to-speech with a Piper voice, in a separate server process.

    The base class opens an audio context and pushes `TTSStartedFrame` before each sentence
    and `TTSStoppedFrame` after it; this service yields the sentence's `TTSAudioRawFrame`s
    at the pipeline's output sample rate.
    """

    def __init__(
        self,
        *,
        model: Path,
        shape: PiperVoiceShape = NATURAL,
        fallback_voice: EspeakVoice = DEFAULT_VOICE,
        server: PiperServer | None = None,
        chunk_secs: float = 0.04,
        request_timeout_secs: float = 15.0,
        split_first_clause: bool = True,
        **kwargs: Any,
    ) -> None:
        """Creates the service; the server starts when the pipeline starts (or on first use).

        Args:
            model: The Piper voice's ``.onnx`` file (its ``.onnx.json`` beside it).
            shape: Pitch and pace changes for the speaker (see `piper_shape_for_profile`).
            fallback_voice: The espeak-ng voice used when Piper cannot speak.
            server: The server to use; None shares the process-wide one for ``model``.
            chunk_secs: Length of each audio frame yielded; short frames let barge-in cut
                the audio promptly.
            request_timeout_secs: The most one sentence's synthesis may take.
            split_first_clause: Whether a long first sentence of a reply is spoken as its
                first clause and the rest, so the reply starts sooner (`first_clause`).
            **kwargs: Passed to `TTSService` (e.g. ``sample_rate``, ``text_aggregation_mode``).

        Raises:
            ValueError: ``chunk_secs`` or ``request_timeout_secs`` is not positive.
        """
        if chunk_secs <= 0 or request_timeout_secs <= 0:
            raise ValueError("chunk_secs and request_timeout_secs must be positive")
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice=model.name.removesuffix(".onnx"), language=None),
            **kwargs,
        )
        self._server = server or shared_piper_server(model)
        self._shape = shape
        self._fallback_voice = fallback_voice
        self._chunk_secs = chunk_secs
        self._timeout = aiohttp.ClientTimeout(total=request_timeout_secs)
        self._session: aiohttp.ClientSession | None = None
        self._warm_up: asyncio.Task[None] | None = None
        self._espeak_only = False
        self._split_first_clause = split_first_clause
        self._last_context_id: str | None = None

    @classmethod
    def from_profile(
        cls, profile: Mapping[str, Any], *, model: Path, **kwargs: Any
    ) -> PiperTTSService:
        """Creates a service shaped toward a stored voice profile, espeak-ng's voice for it as
        the fallback.

        Args:
            profile: A voice profile (``median_pitch_hz``, ``speaking_rate_wpm``).
            model: The Piper voice's ``.onnx`` file.
            **kwargs: Passed to the constructor.

        Returns:
            The service.

        Raises:
            ValueError: The profile is a high voice that espeak-ng should speak instead
                (`piper_shape_for_profile` returns None).
        """
        shape = piper_shape_for_profile(profile)
        if shape is None:
            raise ValueError("a high voice profile is spoken by espeak-ng, not this Piper voice")
        return cls(model=model, shape=shape, fallback_voice=voice_from_profile(profile), **kwargs)

    @property
    def shape(self) -> PiperVoiceShape:
        """How the voice is shaped."""
        return self._shape

    @property
    def fallback_voice(self) -> EspeakVoice:
        """The espeak-ng voice used when Piper cannot speak."""
        return self._fallback_voice

    @property
    def server(self) -> PiperServer:
        """The Piper server this service talks to."""
        return self._server

    @property
    def speaking_with_espeak(self) -> bool:
        """Whether Piper failed and the rest of the call is spoken by espeak-ng."""
        return self._espeak_only

    def can_generate_metrics(self) -> bool:
        """The service reports TTFB and usage metrics."""
        return True

    async def start(self, frame: StartFrame) -> None:
        """Opens the HTTP session and starts the server in the background.

        Args:
            frame: The pipeline's start frame.
        """
        await super().start(frame)
        self._session = aiohttp.ClientSession()
        self._warm_up = self.create_task(self._start_server(), name="piper-server-start")

    async def stop(self, frame: EndFrame) -> None:
        """Closes the HTTP session (the shared server keeps running for other calls).

        Args:
            frame: The pipeline's end frame.
        """
        await super().stop(frame)
        await self._close()

    async def cancel(self, frame: CancelFrame) -> None:
        """Closes the HTTP session.

        Args:
            frame: The cancel frame.
        """
        await super().cancel(frame)
        await self._close()

    async def _close(self) -> None:
        if self._warm_up is not None:
            await self.cancel_task(self._warm_up)
            self._warm_up = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _start_server(self) -> None:
        # A failure is logged by the server; the first sentence then falls back to espeak-ng.
        with contextlib.suppress(PiperServerError):
            await self._server.ensure_running_async()

    async def _update_settings(self, delta: TTSSettings) -> dict[str, Any]:  # type: ignore[override]
        """Records a settings change; the voice file is fixed for the service's life.

        Args:
            delta: The settings that change.

        Returns:
            The changed fields and their previous values.
        """
        changed = await super()._update_settings(delta)
        self._warn_unhandled_updated_settings(set(changed))
        return changed

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Speaks one aggregated piece of text (a sentence, by default).

        Args:
            text: The text to speak.
            context_id: The audio context the frames belong to.

        Yields:
            `TTSAudioRawFrame`s of about ``chunk_secs`` each, or an `ErrorFrame` when
            neither Piper nor espeak-ng could speak.
        """
        text = text.strip()
        if not text:
            return
        # A reply's sentences share one context, so a new context is a reply's first text.
        parts = [text]
        if self._split_first_clause and context_id != self._last_context_id:
            parts = [p for p in first_clause(text) if p]
        self._last_context_id = context_id
        await self.start_tts_usage_metrics(text)
        heard = False
        for part in parts:
            try:
                samples, rate = await self._keeping_context_open(self._synthesize(part), context_id)
                audio = self._resample(samples, rate) if samples.size else b""
            except Exception as exc:  # espeak-ng failed too: never raise out of here
                yield ErrorFrame(error="text-to-speech could not synthesise speech", exception=exc)
                return
            if not audio:
                continue
            if not heard:
                heard = True
                await self.stop_ttfb_metrics()
            step = max(1, int(self.sample_rate * self._chunk_secs)) * 2
            for offset in range(0, len(audio), step):
                yield TTSAudioRawFrame(
                    audio[offset : offset + step], self.sample_rate, 1, context_id=context_id
                )

    async def _keeping_context_open(self, work: Coroutine[Any, Any, _T], context_id: str) -> _T:
        """Awaits ``work``, telling the base class the audio context is still in use.

        The base class ends a context that gets no audio for ``stop_frame_timeout_s``; the
        first sentence of a process waits for the server to load its voice (seconds).
        """
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=_KEEPALIVE_SECS)
                if done:
                    return task.result()
                self._refresh_audio_context(context_id)
        finally:
            task.cancel()

    async def _synthesize(self, text: str) -> tuple[np.ndarray, float]:
        """Int16 samples of ``text`` and the rate to read them at (the pitch shift included)."""
        if not self._espeak_only:
            try:
                samples, rate = await self._piper(text)
                return samples, rate * self._shape.pitch_factor
            except _ServerUnavailable:
                self._espeak_only = True
                logger.warning(f"{self}: Piper is unavailable; this call speaks with espeak-ng")
            except _SentenceFailed:
                logger.warning(f"{self}: Piper failed on a sentence; espeak-ng speaks it")
        return await espeak_synthesize(text, self._fallback_voice), float(SAMPLE_RATE)

    async def _piper(self, text: str) -> tuple[np.ndarray, int]:
        """One request to the server, restarting it once if it cannot be reached."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        payload = {"text": text, "length_scale": self._shape.length_scale}
        for attempt in range(2):
            try:
                url = await self._server.ensure_running_async()
            except PiperServerError as exc:
                raise _ServerUnavailable from exc
            try:
                async with self._session.post(
                    f"{url}/synthesize", json=payload, timeout=self._timeout
                ) as response:
                    if response.status != 200:
                        raise _SentenceFailed(f"status {response.status}")
                    body = await response.read()
            except aiohttp.ClientConnectionError as exc:
                # The process died (or was killed) since the last request: start it again.
                if attempt == 0 and await asyncio.to_thread(self._server.restart_if_dead):
                    continue
                raise _ServerUnavailable from exc
            except TimeoutError as exc:  # a server this slow cannot carry a live call
                raise _ServerUnavailable from exc
            return _decode_wav(body)
        raise _ServerUnavailable

    def _resample(self, samples: np.ndarray, rate: float) -> bytes:
        """Samples read at ``rate`` Hz, as PCM bytes at the output sample rate."""
        if abs(rate - self.sample_rate) > 1e-6:
            samples = soxr.resample(samples, rate, self.sample_rate, quality="HQ")
        return bytes(samples.astype(np.int16, copy=False).tobytes())


def first_clause(sentence: str) -> tuple[str, str]:
    """Splits a long sentence after its first clause, to be spoken as two requests.

    The split is at the first comma, semicolon, colon or spaced dash that has at least
    four words before it and four after it. The punctuation stays with the clause (a dash
    becomes a comma), so the clause ends with the engine's pause and continuing tone.

    Args:
        sentence: One sentence.

    Returns:
        The first clause and the rest, or the whole sentence and ``""`` when it has no
        such break.
    """
    for match in _CLAUSE_BREAK.finditer(sentence):
        rest = sentence[match.end() :].strip()
        if len(rest.split()) < _MIN_CLAUSE_WORDS:
            break
        if match.group()[0] in ",;:":
            head = sentence[: match.end()].strip()
        else:
            head = sentence[: match.start()].rstrip() + ","
        if len(head.split()) >= _MIN_CLAUSE_WORDS:
            return head, rest
    return sentence, ""


def _decode_wav(body: bytes) -> tuple[np.ndarray, int]:
    """Mono 16-bit samples and their rate from the server's WAV reply."""
    try:
        with wave.open(io.BytesIO(body)) as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise _SentenceFailed("not mono 16-bit audio")
            return np.frombuffer(
                wav.readframes(wav.getnframes()), dtype=np.int16
            ), wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise _SentenceFailed("not a WAV reply") from exc
