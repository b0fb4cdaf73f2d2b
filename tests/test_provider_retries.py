"""The one retry policy of provider calls honours the provider's Retry-After."""

from __future__ import annotations

import email.utils
import time

import pytest

import ingest.provider_errors as provider_errors
from ingest.provider_errors import (
    MAX_RETRY_AFTER_SECONDS,
    ProviderStatusError,
    retry_after_seconds,
    with_retries,
)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses `with_retries` takes, recorded instead of slept."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(provider_errors.asyncio, "sleep", record)
    return recorded


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": " 2.5 "}) == 2.5
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= (retry_after_seconds({"Retry-After": in_a_minute}) or 0) <= 60
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Content-Type": "application/json"}) is None
    assert retry_after_seconds(None) is None


async def test_the_wait_is_at_least_what_the_provider_asked(waits: list[float]) -> None:
    answers: list[ProviderStatusError | None] = [
        ProviderStatusError("deepgram", 429, retry_after=7.0),
        None,
    ]

    async def call() -> str:
        failure = answers.pop(0)
        if failure is not None:
            raise failure
        return "done"

    assert await with_retries(call, base_delay=0.001) == "done"
    assert len(waits) == 1 and waits[0] >= 7.0


async def test_a_wait_longer_than_the_bound_fails_at_once(waits: list[float]) -> None:
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        raise ProviderStatusError("elevenlabs", 429, retry_after=MAX_RETRY_AFTER_SECONDS + 1)

    with pytest.raises(ProviderStatusError) as caught:
        await with_retries(call, base_delay=0.001)

    assert calls == 1 and waits == []
    assert caught.value.retry_after == MAX_RETRY_AFTER_SECONDS + 1


async def test_without_retry_after_the_backoff_stays_short(waits: list[float]) -> None:
    answers: list[ProviderStatusError | None] = [ProviderStatusError("anthropic", 503), None]

    async def call() -> str:
        failure = answers.pop(0)
        if failure is not None:
            raise failure
        return "done"

    assert await with_retries(call, base_delay=0.001) == "done"
    assert len(waits) == 1 and waits[0] < 0.01
