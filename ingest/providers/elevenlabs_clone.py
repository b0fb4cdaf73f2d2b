"""Instant voice cloning with ElevenLabs (`POST /v1/voices/add`), and choosing the samples.

The clone is only as clean as its samples, so `select_clone_samples` picks the speaker's
longest stretches that nobody talks over; cutting them from the audio happens elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError

from ingest.provider_errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
    retry_after_seconds,
    with_retries,
)
from ingest.types import Segment

logger = logging.getLogger(__name__)

PROVIDER = "elevenlabs"


class ElevenLabsVoiceCloner:
    """`VoiceCloner` backed by ElevenLabs instant voice cloning.

    Args:
        api_key: the ElevenLabs API key (sent as ``xi-api-key``).
        base_url: the API base URL (a fake's in tests).
        http_client: an httpx client to send requests with (tests inject a mock transport);
            by default a client is opened per call and closed after it.
        timeout: seconds to wait for one request.
        remove_background_noise: ask ElevenLabs to clean the samples first (it can make
            already-clean samples worse, so it is off by default).
        attempts: how many times a retryable failure is tried in all.
        retry_base_delay: the first backoff delay in seconds.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.elevenlabs.io",
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 120.0,
        remove_background_noise: bool = False,
        attempts: int = 4,
        retry_base_delay: float = 1.0,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._http_client = http_client
        self._timeout = timeout
        self._remove_background_noise = remove_background_noise
        self._attempts = attempts
        self._retry_base_delay = retry_base_delay

    async def clone(self, *, name: str, samples: list[Path]) -> str:
        """Uploads ``samples`` (WAV files) as a new voice named ``name``; returns its voice id.

        Raises:
            ValueError: no samples were given.
            ProviderError: the request failed after retries, or the answer had no voice id.
        """
        if not samples:
            raise ValueError("voice cloning needs at least one sample")
        files = [
            (path.name, await asyncio.to_thread(path.read_bytes), "audio/wav") for path in samples
        ]

        async def attempt() -> str:
            async with self._client() as client:
                try:
                    response = await client.voices.ivc.create(
                        name=name,
                        files=list(files),
                        remove_background_noise=self._remove_background_noise,
                        request_options={
                            "max_retries": 0,
                            "timeout_in_seconds": int(self._timeout),
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
            if not response.voice_id:
                raise ProviderError(PROVIDER, "the answer had no voice id", retryable=False)
            return response.voice_id

        logger.info("elevenlabs voice cloning started")
        voice_id = await with_retries(
            attempt, attempts=self._attempts, base_delay=self._retry_base_delay
        )
        logger.info("elevenlabs voice cloning finished")
        return voice_id

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[AsyncElevenLabs]:
        if self._http_client is not None:
            yield self._make_client(self._http_client)
            return
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            yield self._make_client(http)

    def _make_client(self, http: httpx.AsyncClient) -> AsyncElevenLabs:
        return AsyncElevenLabs(
            api_key=self._api_key, base_url=self._base_url, httpx_client=http, timeout=self._timeout
        )


def select_clone_samples(
    segments: list[Segment],
    *,
    speaker: str,
    max_total_seconds: float = 90.0,
    min_segment_seconds: float = 2.0,
) -> list[tuple[float, float]]:
    """The time ranges of ``speaker``'s cleanest speech, for cloning their voice.

    Takes the speaker's longest segments that no other speaker overlaps, longest first,
    until ``max_total_seconds``; the last one is shortened to fit when at least
    ``min_segment_seconds`` of the budget remains.

    Args:
        segments: the whole transcript.
        speaker: whose voice to clone.
        max_total_seconds: the most audio to select in all.
        min_segment_seconds: shorter stretches are skipped (too little to learn a voice from).

    Returns:
        ``(start, end)`` pairs in seconds, in time order.
    """
    others = [s for s in segments if s.speaker != speaker]
    candidates = [
        s
        for s in segments
        if s.speaker == speaker
        and s.text.strip()
        and s.end - s.start >= min_segment_seconds
        and not any(o.start < s.end and s.start < o.end for o in others)
    ]
    chosen: list[tuple[float, float]] = []
    remaining = max_total_seconds
    for segment in sorted(candidates, key=lambda s: s.end - s.start, reverse=True):
        length = min(segment.end - segment.start, remaining)
        if length < min_segment_seconds:
            break
        chosen.append((segment.start, segment.start + length))
        remaining -= length
    return sorted(chosen)
