"""Failures at a provider's edge, and retrying only what is retryable.

Every cloud client translates its SDK's or HTTP library's errors into these, so callers
(job steps, the agents) handle one small hierarchy.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER_SECONDS = 60.0
"""The longest wait a provider's ``Retry-After`` may ask for; asked for more, the call fails
at once rather than hold a job or a trainee that long."""


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (it may be a number of seconds
    or an HTTP date); None when there is none or it cannot be read.

    Args:
        headers: the error response's headers (any capitalisation of the name).
    """
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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
    """The provider answered with an error status; retryable for 408/429/5xx.

    Args:
        provider: which provider.
        status: the HTTP status.
        message: a short description safe to show a user.
        retry_after: the seconds the provider asked us to wait (its ``Retry-After``), if any.
    """

    def __init__(
        self, provider: str, status: int, message: str = "", *, retry_after: float | None = None
    ) -> None:
        super().__init__(
            provider,
            f"HTTP {status}" + (f": {message}" if message else ""),
            retryable=status in RETRYABLE_STATUSES,
        )
        self.status = status
        self.retry_after = retry_after


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay: float = 1.0,
    max_delay: float = 20.0,
) -> T:
    """Runs ``call``, retrying retryable `ProviderError`s with exponential backoff and jitter.

    The one retry policy of every provider call (the SDKs' own retries are off). A provider's
    ``Retry-After`` is honoured: the wait is at least what it asked for, and a call it asks
    to hold off longer than `MAX_RETRY_AFTER_SECONDS` fails at once.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except ProviderError as exc:
            asked = getattr(exc, "retry_after", None)
            too_long = asked is not None and asked > MAX_RETRY_AFTER_SECONDS
            if not exc.retryable or attempt == attempts or too_long:
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311
            delay = max(delay, asked or 0.0)
            logger.warning("%s call failed (retryable), retrying in %.1f s", exc.provider, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
