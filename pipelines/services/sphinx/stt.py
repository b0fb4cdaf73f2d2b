"""Streaming pocketsphinx speech-to-text as a Pipecat STT service.

The decoder works while the user speaks: every 20 ms of input audio inside an utterance goes
straight into it, so when the VAD reports the stop only ``end_utt()`` is left (~5 ms). The
VAD's frames reach this service after the audio that triggered them (and, when the VAD lives
in the user aggregator, travelling upstream), so the last ``preroll_secs`` of audio before an
utterance is kept and fed to the decoder first; without it the first word is lost.

One decoder costs ~91 MB, so a session borrows one from the process's `DecoderPool` for
each utterance only, not for the whole call: a process holds as many decoders as trainees
speak at the same moment, not one per call. Audio that arrives while a decoder is being
lent (or, rarely, built) waits in the pre-roll and is decoded first, in order.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import numpy as np
import soxr
from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    ErrorFrame,
    Frame,
    InterimTranscriptionFrame,
    StartFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import STTService
from pipecat.utils.time import time_now_iso8601

from pipelines.services.sphinx.pool import DecoderPool, default_pool

DECODER_SAMPLE_RATE = 16_000
"""The en-us acoustic model's rate; other input rates are resampled to it."""

_ALTERNATE = re.compile(r"\(\d+\)$")  # "read(2)": an alternate pronunciation
_NOT_WORDS = {"<s>", "</s>", "<sil>"}
_PREROLL_FEED_BYTES = 3_200  # 100 ms: the pre-roll is fed in slices, yielding in between


def clean_words(words: Iterable[str]) -> str:
    """Joins decoder words into text, without alternate markers, fillers or silences.

    Args:
        words: Words as pocketsphinx reports them (``"probably(2)"``, ``"[noise]"``).

    Returns:
        Lower-case words separated by single spaces.
    """
    kept = []
    for word in words:
        word = _ALTERNATE.sub("", word).lower()
        if word and word not in _NOT_WORDS and not word.startswith(("<", "[", "++")):
            kept.append(word)
    return " ".join(kept)


class SphinxSTTService(STTService):
    """Offline streaming STT: pocketsphinx fed while the user speaks, finalised on VAD stop.

    Needs VAD frames (`VADUserStartedSpeakingFrame` / `VADUserStoppedSpeakingFrame`) from
    either side; it pushes one finalized `TranscriptionFrame` per utterance that has words,
    and `InterimTranscriptionFrame` partials at most every ``interim_interval_secs``.
    """

    def __init__(
        self,
        *,
        pool: DecoderPool | None = None,
        preroll_secs: float = 0.6,
        interim_interval_secs: float | None = 0.3,
        ttfs_p99_latency: float | None = 0.3,
        settings: STTSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Creates the service; the decoder is borrowed when the pipeline starts.

        Args:
            pool: Where decoders come from; the process-wide `default_pool()` if None.
            preroll_secs: Audio kept from before an utterance and decoded with it.
            interim_interval_secs: Least time between interim transcripts; None for none.
            ttfs_p99_latency: Speech end to final transcript, p99, in seconds. With the
                VAD's ``stop_secs`` of 0.2 the finalisation adds ~5-40 ms.
            settings: Overrides for the default ``STTSettings(model=None, language=None)``.
            **kwargs: Passed to `STTService` (e.g. ``sample_rate``, ``audio_passthrough``).

        Raises:
            ValueError: ``preroll_secs`` is negative.
        """
        if preroll_secs < 0:
            raise ValueError("preroll_secs must not be negative")
        full_settings = STTSettings(model=None, language=None)
        if settings is not None:
            full_settings.apply_update(settings)
        super().__init__(settings=full_settings, ttfs_p99_latency=ttfs_p99_latency, **kwargs)
        self._pool = pool
        self._preroll_limit = int(preroll_secs * DECODER_SAMPLE_RATE) * 2
        self._interim_interval = interim_interval_secs
        self._decoder: Any = None  # lent for the current utterance only
        self._lending: asyncio.Task[None] | None = None
        self._stop_pending = False
        self._ended = False
        self._resampler: soxr.ResampleStream | None = None
        self._preroll = bytearray()
        self._in_utterance = False
        self._last_interim_at = 0.0
        self._last_interim_text = ""

    def can_generate_metrics(self) -> bool:
        """TTFB (VAD stop to final transcript) is reported by the base class."""
        return True

    async def start(self, frame: StartFrame) -> None:
        """Prepares resampling to 16 kHz if needed and makes sure a decoder is ready to lend.

        Args:
            frame: The pipeline's start frame.
        """
        await super().start(frame)
        if self.sample_rate != DECODER_SAMPLE_RATE:
            self._resampler = soxr.ResampleStream(
                self.sample_rate, DECODER_SAMPLE_RATE, 1, dtype="int16", quality="HQ"
            )
        try:
            await self._decoders().prewarm(1)
        except Exception as exc:
            await self.push_error(
                "Could not create the pocketsphinx decoder",
                exception=exc,
                force_treat_as_permanent=True,
            )

    async def stop(self, frame: EndFrame) -> None:
        """Gives back a decoder still lent at the end of the session.

        Args:
            frame: The end frame.
        """
        await super().stop(frame)
        await self._end_session()

    async def cancel(self, frame: CancelFrame) -> None:
        """Gives back a decoder still lent when the session is cancelled.

        Args:
            frame: The cancel frame.
        """
        await super().cancel(frame)
        await self._end_session()

    async def cleanup(self) -> None:
        """Gives back the decoder if neither stop nor cancel did."""
        await super().cleanup()
        await self._end_session()

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Decodes 20 ms of input inside an utterance, or keeps it as pre-roll outside one.

        Args:
            audio: 16-bit mono PCM at the pipeline's input sample rate.

        Yields:
            An `InterimTranscriptionFrame` when the partial result changed and the
            interim interval has passed; an `ErrorFrame` if the decoder fails.
        """
        pcm = self._to_decoder_rate(audio)
        if self._decoder is None:  # between utterances, or while a decoder is being lent
            self._preroll += pcm
            excess = len(self._preroll) - self._preroll_limit
            if excess > 0 and not self._in_utterance:
                del self._preroll[:excess]
            return
        if not pcm:
            return  # the resampler holds back its first few milliseconds
        try:
            self._decoder.process_raw(pcm, False, False)
            interim = self._interim()
        except Exception as exc:
            self._abandon_utterance()
            yield ErrorFrame(error="pocketsphinx failed to decode audio", exception=exc)
            return
        if interim is not None:
            yield interim

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Starts and finalises utterances on VAD frames from either direction.

        The base class passes every frame on (VAD frames in the direction they came) and
        feeds input audio to `run_stt`.

        Args:
            frame: The frame to process.
            direction: The direction it travels.
        """
        await super().process_frame(frame, direction)
        if isinstance(frame, VADUserStartedSpeakingFrame):
            await self._begin_utterance()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            await self._finish_utterance()

    async def _begin_utterance(self) -> None:
        """Borrows a decoder and starts decoding, beginning with the pre-roll."""
        if self._in_utterance or self.is_muted or self._ended:
            return
        self._in_utterance = True
        self._stop_pending = False
        decoder = self._decoders().lend_idle()
        if decoder is None:  # every decoder is busy: build one beside the audio path
            self._lending = self.create_task(self._borrow_then_start(), "sphinx-borrow")
            return
        await self._start_decoding(decoder)

    async def _borrow_then_start(self) -> None:
        try:
            decoder = await self._decoders().acquire()
        except Exception as exc:
            self._in_utterance = False
            await self.push_error("Could not create the pocketsphinx decoder", exception=exc)
            return
        finally:
            self._lending = None
        if not self._in_utterance:  # the session ended meanwhile
            self._decoders().release(decoder)
            return
        await self._start_decoding(decoder)

    async def _start_decoding(self, decoder: Any) -> None:
        """Feeds the pre-roll (and whatever arrives meanwhile) in order, then decodes live."""
        try:
            decoder.start_utt()
            while self._preroll:
                chunk = bytes(self._preroll[:_PREROLL_FEED_BYTES])
                del self._preroll[:_PREROLL_FEED_BYTES]
                decoder.process_raw(chunk, False, False)
                await asyncio.sleep(0)  # let other sessions run between slices
                if not self._in_utterance:  # the session ended meanwhile
                    decoder.end_utt()
                    self._decoders().release(decoder)
                    return
        except Exception as exc:
            self._in_utterance = False
            self._decoders().release(decoder)
            await self.push_error("pocketsphinx could not start an utterance", exception=exc)
            return
        self._decoder = decoder
        self._last_interim_at = time.monotonic()
        self._last_interim_text = ""
        if self._stop_pending:
            await self._finish_utterance()

    async def _finish_utterance(self) -> None:
        """Ends the utterance, gives the decoder back and pushes the transcript, if any."""
        if not self._in_utterance:
            return
        if self._decoder is None:  # still being lent or catching up: finish right after
            self._stop_pending = True
            return
        self._in_utterance = False
        decoder, self._decoder = self._decoder, None
        try:
            decoder.end_utt()
            text = clean_words(segment.word for segment in decoder.seg())
        except Exception as exc:
            await self.push_error("pocketsphinx could not finish an utterance", exception=exc)
            return
        finally:
            self._decoders().release(decoder)
        if not text:
            return
        await self.push_frame(
            TranscriptionFrame(
                text, self._user_id, time_now_iso8601(), language=None, finalized=True
            )
        )
        await self.emit_stt_usage_metrics()

    def _interim(self) -> InterimTranscriptionFrame | None:
        """The partial result, if it is due and differs from the last one sent."""
        if self._interim_interval is None:
            return None
        now = time.monotonic()
        if now - self._last_interim_at < self._interim_interval:
            return None
        self._last_interim_at = now
        hypothesis = self._decoder.hyp()
        text = clean_words(hypothesis.hypstr.split()) if hypothesis is not None else ""
        if not text or text == self._last_interim_text:
            return None
        self._last_interim_text = text
        return InterimTranscriptionFrame(text, self._user_id, time_now_iso8601(), language=None)

    def _to_decoder_rate(self, audio: bytes) -> bytes:
        """Resamples input audio to 16 kHz (statefully, so chunk edges stay clean)."""
        if self._resampler is None:
            return audio
        samples = np.frombuffer(audio, dtype=np.int16, count=len(audio) // 2)
        return bytes(self._resampler.resample_chunk(samples).tobytes())

    def _decoders(self) -> DecoderPool:
        return self._pool or default_pool()

    def _abandon_utterance(self) -> None:
        """Leaves the current utterance without a transcript and gives the decoder back."""
        self._in_utterance = False
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        try:
            decoder.end_utt()
        except Exception:
            logger.warning("pocketsphinx could not end an abandoned utterance")
            return  # a decoder in an unknown state is not lent again
        self._decoders().release(decoder)

    async def _end_session(self) -> None:
        """Stops any loan in progress and gives back a lent decoder (idempotent)."""
        self._ended = True
        lending, self._lending = self._lending, None
        if lending is not None:
            await self.cancel_task(lending)
        self._abandon_utterance()
        self._preroll.clear()
