"""Ingest progress events: fanned out in process, or through Redis pub/sub across processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.asyncio import Redis

ProgressEvent = dict[str, Any]


class ProgressBus(Protocol):
    """Where job progress goes, and where SSE streams and CLIs read it."""

    async def publish(self, champion_id: str, event: ProgressEvent) -> None:
        """Sends one event to the champion's listeners."""
        ...

    def listen(self, champion_id: str) -> AsyncIterator[ProgressEvent]:
        """Yields the champion's events as they come, until the caller stops."""
        ...


class LocalProgressBus:
    """Progress within one process."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[ProgressEvent]]] = {}

    async def publish(self, champion_id: str, event: ProgressEvent) -> None:
        for queue in list(self._queues.get(champion_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    async def listen(self, champion_id: str) -> AsyncIterator[ProgressEvent]:
        queue: asyncio.Queue[ProgressEvent] = asyncio.Queue(maxsize=256)
        self._queues.setdefault(champion_id, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[champion_id].discard(queue)


class RedisProgressBus:
    """Progress through Redis pub/sub, so a worker's events reach every app process.

    Args:
        redis: a connected client.
        prefix: channel prefix.
    """

    def __init__(self, *, redis: Redis, prefix: str = "cc:progress:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def publish(self, champion_id: str, event: ProgressEvent) -> None:
        await self.redis.publish(self.prefix + champion_id, json.dumps(event))

    async def listen(self, champion_id: str) -> AsyncIterator[ProgressEvent]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.prefix + champion_id)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
