"""Fixed-window rate limits, in process or shared through Redis."""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from memory.settings import RateLimit

logger = logging.getLogger(__name__)


class RateLimiter(Protocol):
    """Counts hits per key and window."""

    backend: str

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        """Counts one hit; returns seconds to wait if over the limit, else None."""
        ...


class MemoryRateLimiter:
    """Per-process counters (one app process)."""

    backend = "in-process"

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= limit.window_seconds:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        if len(self._windows) > 100_000:
            self._forget_expired(now, limit.window_seconds)
        if count > limit.limit:
            return max(1, math.ceil(started + limit.window_seconds - now))
        return None

    def _forget_expired(self, now: float, window: int) -> None:
        for key, (started, _count) in list(self._windows.items()):
            if now - started >= window:
                del self._windows[key]


class RedisRateLimiter:
    """Counters in Redis, shared by every app process.

    While Redis cannot be reached the limits are still enforced, per process, so an outage
    neither opens the door to password guessing nor takes the API down.

    Args:
        redis: a connected client.
        prefix: key prefix.
    """

    backend = "redis"

    def __init__(self, *, redis: Redis, prefix: str = "cc:rate:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._fallback = MemoryRateLimiter()

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        try:
            return await self._hit_redis(key, limit)
        except (RedisError, OSError) as exc:
            logger.warning(
                "rate limits counted in process: Redis unavailable (%s)", type(exc).__name__
            )
            return await self._fallback.hit(key, limit)

    async def _hit_redis(self, key: str, limit: RateLimit) -> int | None:
        redis_key = f"{self.prefix}{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, limit.window_seconds, nx=True)
            pipe.ttl(redis_key)
            count, _set, ttl = await pipe.execute()
        if int(count) > limit.limit:
            return max(1, int(ttl))
        return None
