"""Batch transcription with Deepgram's pre-recorded API (`POST /v1/listen`), with diarization.

The recording's channel files are sent as one WAV: mono when the speakers share a channel
(Deepgram diarizes them), stereo with ``multichannel=true`` when a call recording has one
speaker per channel (the channel index is the speaker).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import wave
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from deepgram import AsyncDeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.types import ListenV1Response

from ingest.provider_errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
    retry_after_seconds,
    with_retries,
)
from ingest.types import ExtractedAudio, ProgressCallback, Segment, TranscriptResult, Word

logger = logging.getLogger(__name__)

PROVIDER = "deepgram"
CHUNK_FRAMES = 16_000 * 8
# A pause this long starts a new segment when utterances are missing from the response.
FALLBACK_PAUSE_SECONDS = 1.5


class DeepgramTranscriber:
    """`Transcriber` backed by Deepgram pre-recorded transcription.

    Args:
        api_key: the Deepgram API key (sent as ``Authorization: Token <key>``).
        model: the Deepgram model, e.g. "nova-3".
        language: a BCP-47 language hint; None lets Deepgram use the model's default.
        base_url: the REST base URL (a fake's URL in tests).
        http_client: an httpx client to send requests with (tests inject a mock transport);
            by default a client is opened per call and closed after it.
        timeout: seconds to wait for one request; long recordings take a while.
        attempts: how many times a retryable failure is tried in all.
        retry_base_delay: the first backoff delay in seconds.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "nova-3",
        language: str | None = None,
        base_url: str = "https://api.deepgram.com",
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 600.0,
        attempts: int = 4,
        retry_base_delay: float = 1.0,
    ) -> None:
        self._api_key = api_key
        self._model = model
        self._language = language
        self._base_url = base_url.rstrip("/")
        self._http_client = http_client
        self._timeout = timeout
        self._attempts = attempts
        self._retry_base_delay = retry_base_delay

    async def transcribe(
        self, audio: ExtractedAudio, *, on_progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        """Transcribes the recording; speakers come from channels (two files) or diarization.

        ``on_progress`` hears the upload's progress as 0..0.5 (Deepgram reports nothing while
        it works) and 1.0 when the transcript is in; it never goes backwards on a retry.

        Raises:
            ProviderError: the request failed (timeout, connection, error status) after retries.
            ValueError: the channel files are not 16-bit mono WAV at one sample rate.
        """
        if not audio.channels:
            raise ValueError("the recording has no channel files")
        multichannel = len(audio.channels) > 1
        _check_channels(audio.channels)
        reported = 0.0

        async def uploaded(fraction: float) -> None:
            nonlocal reported
            if on_progress is not None and fraction / 2 > reported:
                reported = fraction / 2
                await on_progress(reported)

        async def attempt() -> ListenV1Response:
            stream = _wav_stream(audio.channels, uploaded)
            async with self._client() as client, aclosing(stream) as body:
                return await self._send(client, body, multichannel=multichannel)

        logger.info("deepgram transcription started")
        response = await with_retries(
            attempt, attempts=self._attempts, base_delay=self._retry_base_delay
        )
        segments = segments_from_response(response, multichannel=multichannel)
        if on_progress is not None:
            await on_progress(1.0)
        logger.info("deepgram transcription finished")
        return TranscriptResult(segments, PROVIDER, self._language or _detected(response))

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[AsyncDeepgramClient]:
        environment = DeepgramClientEnvironment(
            base=self._base_url,
            production=self._base_url.replace("http", "ws", 1),
            agent="wss://agent.deepgram.com",
            agent_rest="https://agent.deepgram.com",
        )
        if self._http_client is not None:
            yield self._make_client(environment, self._http_client)
            return
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            yield self._make_client(environment, http)

    def _make_client(
        self, environment: DeepgramClientEnvironment, http: httpx.AsyncClient
    ) -> AsyncDeepgramClient:
        # Retries are ours (with_retries), so the SDK's own are switched off.
        return AsyncDeepgramClient(
            api_key=self._api_key,
            environment=environment,
            httpx_client=http,
            timeout=self._timeout,
            max_retries=0,
        )

    async def _send(
        self, client: AsyncDeepgramClient, body: AsyncIterator[bytes], *, multichannel: bool
    ) -> ListenV1Response:
        try:
            response = await client.listen.v1.media.transcribe_file(
                request=body,
                model=self._model,
                language=self._language,
                diarize=None if multichannel else True,
                multichannel=True if multichannel else None,
                punctuate=True,
                smart_format=True,
                utterances=True,
                request_options={
                    "timeout": self._timeout,
                    "max_retries": 0,
                    # Same spelling as the SDK's own header, so this one replaces it.
                    "additional_headers": {"content-type": "audio/wav"},
                },
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(PROVIDER) from exc
        except httpx.TransportError as exc:
            raise ProviderConnectionError(PROVIDER) from exc
        except ApiError as exc:
            raise ProviderStatusError(
                PROVIDER, exc.status_code or 0, retry_after=retry_after_seconds(exc.headers)
            ) from exc
        if not isinstance(response, ListenV1Response):
            raise ProviderError(PROVIDER, "the response has no transcript", retryable=False)
        return response


def segments_from_response(response: ListenV1Response, *, multichannel: bool) -> list[Segment]:
    """Reads segments from Deepgram's ``results.utterances``, else from the channels' words.

    Args:
        response: the parsed ``/v1/listen`` response.
        multichannel: whether channels (rather than diarized speaker numbers) are speakers.
    """
    results = response.results
    if results.utterances:
        segments = []
        for utterance in results.utterances:
            text = (utterance.transcript or "").strip()
            if not text:
                continue
            number = utterance.channel if multichannel else utterance.speaker
            words = [
                Word(w.punctuated_word or w.word or "", float(w.start or 0), float(w.end or 0))
                for w in utterance.words or []
            ]
            segments.append(
                Segment(
                    float(utterance.start or 0),
                    float(utterance.end or 0),
                    f"S{number or 0}",
                    text,
                    words,
                )
            )
        return sorted(segments, key=lambda s: s.start)
    return _segments_from_words(results.channels, multichannel=multichannel)


def _segments_from_words(channels: Sequence[Any], *, multichannel: bool) -> list[Segment]:
    """Groups each channel's words into segments at speaker changes and long pauses."""
    segments: list[Segment] = []
    for index, channel in enumerate(channels):
        if not channel.alternatives:
            continue
        current: Segment | None = None
        for item in channel.alternatives[0].words or []:
            speaker = f"S{index if multichannel else item.speaker or 0}"
            word = Word(
                getattr(item, "punctuated_word", None) or item.word or "",
                float(item.start or 0),
                float(item.end or 0),
            )
            if (
                current is None
                or current.speaker != speaker
                or word.start - current.end >= FALLBACK_PAUSE_SECONDS
            ):
                current = Segment(word.start, word.end, speaker, "", [])
                segments.append(current)
            current.words.append(word)
            current.end = word.end
    for segment in segments:
        segment.text = " ".join(w.word for w in segment.words)
    return sorted(segments, key=lambda s: s.start)


def _detected(response: ListenV1Response) -> str | None:
    for channel in response.results.channels:
        language = getattr(channel, "detected_language", None)
        if isinstance(language, str):
            return language
    return None


def _check_channels(paths: list[Path]) -> None:
    rates = set()
    for path in paths:
        with wave.open(str(path), "rb") as reader:
            if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
                raise ValueError("each channel file must be 16-bit mono WAV")
            rates.add(reader.getframerate())
    if len(rates) != 1:
        raise ValueError("the channel files have different sample rates")


def wav_header(*, channels: int, sample_rate: int, frames: int) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV file holding ``frames`` frames."""
    data_size = frames * channels * 2
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * channels * 2,
        channels * 2,
        16,
        b"data",
        data_size,
    )


async def _wav_stream(paths: list[Path], on_sent: ProgressCallback) -> AsyncGenerator[bytes, None]:
    """The channel files as one WAV (interleaved when there are two), read in chunks.

    Streaming keeps an hour-long recording out of memory; a shorter channel is padded with
    silence so both channels have the same length.
    """
    readers = [wave.open(str(path), "rb") for path in paths]  # noqa: SIM115 (closed below)
    try:
        frames = max(reader.getnframes() for reader in readers)
        rate = readers[0].getframerate()
        yield wav_header(channels=len(readers), sample_rate=rate, frames=frames)
        sent = 0
        while sent < frames:
            count = min(CHUNK_FRAMES, frames - sent)
            blocks = await asyncio.to_thread(_read_block, readers, count)
            sent += count
            yield blocks
            await on_sent(sent / frames)
    finally:
        for reader in readers:
            reader.close()


def _read_block(readers: list[wave.Wave_read], count: int) -> bytes:
    blocks = []
    for reader in readers:
        samples = np.frombuffer(reader.readframes(count), dtype="<i2")
        blocks.append(np.pad(samples, (0, count - samples.size)))
    if len(blocks) == 1:
        return blocks[0].tobytes()
    return np.stack(blocks, axis=1).astype("<i2").tobytes()
