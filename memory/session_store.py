"""Live session state: Redis when REDIS_URL is set, an in-process store otherwise."""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from redis.asyncio import Redis


class SessionStore(Protocol):
    """Key/value store for live session state, with expiry."""

    backend: str

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value under ``key``, or None if absent or expired."""
        ...

    async def set(self, key: str, value: dict[str, Any], *, ttl_seconds: int) -> None:
        """Stores ``value`` under ``key`` for ``ttl_seconds``."""
        ...

    async def delete(self, key: str) -> None:
        """Forgets ``key``."""
        ...

    async def ping(self) -> None:
        """Raises if the store cannot answer."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


class InProcessSessionStore:
    """A dict with expiry; state lives as long as the process."""

    backend = "in-process"

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, str]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires_at, raw = item
        if expires_at <= time.monotonic():
            del self._items[key]
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def set(self, key: str, value: dict[str, Any], *, ttl_seconds: int) -> None:
        self._items[key] = (time.monotonic() + ttl_seconds, json.dumps(value))

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._items.clear()


class RedisSessionStore:
    """Session state in Redis, shared by every app process.

    Args:
        redis: a connected `redis.asyncio.Redis` client.
        prefix: key prefix, so several apps (or tests) can share one Redis.
    """

    backend = "redis"

    def __init__(self, *, redis: Redis, prefix: str = "cc:session:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.prefix + key)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def set(self, key: str, value: dict[str, Any], *, ttl_seconds: int) -> None:
        await self.redis.set(self.prefix + key, json.dumps(value), ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def ping(self) -> None:
        await self.redis.ping()  # type: ignore[misc]  # redis-py types ping for sync and async

    async def close(self) -> None:
        await self.redis.aclose()


def open_session_store(*, redis_url: str, prefix: str) -> SessionStore:
    """The session store the settings name: Redis at ``redis_url``, else in this process.

    Args:
        redis_url: ``REDIS_URL`` ("" for none).
        prefix: the deployment's Redis key prefix (``REDIS_PREFIX``).
    """
    if redis_url:
        return RedisSessionStore(redis=Redis.from_url(redis_url), prefix=f"{prefix}session:")
    return InProcessSessionStore()
