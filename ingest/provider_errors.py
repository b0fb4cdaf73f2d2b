"""Failures at a provider's edge, and retrying only what is retryable.

Every cloud client translates its SDK's or HTTP library's errors into these, so callers
(job steps, the agents) handle one small hierarchy.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


class ProviderError(Exception):
    """A provider call failed.

    Args:
        provider: which provider (e.g. "deepgram").
        message: a short description safe to show a user (no keys, no transcript text).
        retryable: whether the same call may succeed later.
    """

    def __init__(self, provider: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.retryable = retryable


class ProviderTimeout(ProviderError):
    """The provider did not answer in time (retryable)."""

    def __init__(self, provider: str, message: str = "timed out") -> None:
        super().__init__(provider, message, retryable=True)


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (retryable)."""

    def __init__(self, provider: str, message: str = "could not connect") -> None:
        super().__init__(provider, message, retryable=True)


class ProviderStatusError(ProviderError):
    """The provider answered with an error status; retryable for 408/429/5xx."""

    def __init__(self, provider: str, status: int, message: str = "") -> None:
        super().__init__(
            provider,
            f"HTTP {status}" + (f": {message}" if message else ""),
            retryable=status in RETRYABLE_STATUSES,
        )
        self.status = status


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay: float = 1.0,
    max_delay: float = 20.0,
) -> T:
    """Runs ``call``, retrying retryable `ProviderError`s with exponential backoff and jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except ProviderError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311
            logger.warning("%s call failed (retryable), retrying in %.1f s", exc.provider, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
