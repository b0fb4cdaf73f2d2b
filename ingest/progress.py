"""Ingest progress events: fanned out in process, or through Redis pub/sub across processes.

A listener subscribes before it reads the job's current state from the database, so no
event falls between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Protocol

from redis.asyncio import Redis

ProgressEvent = dict[str, Any]


class Subscription(Protocol):
    """One listener's stream of a champion's events."""

    async def get(self, wait_seconds: float) -> ProgressEvent | None:
        """The next event, or None if none came within ``wait_seconds``."""
        ...

    async def close(self) -> None:
        """Stops listening."""
        ...


class ProgressBus(Protocol):
    """Where job progress goes, and where SSE streams and the CLI read it."""

    async def publish(self, champion_id: str, event: ProgressEvent) -> None:
        """Sends one event to the champion's listeners."""
        ...

    async def subscribe(self, champion_id: str) -> Subscription:
        """Starts listening to the champion's events."""
        ...


class _LocalSubscription:
    def __init__(self, registry: set[asyncio.Queue[ProgressEvent]]) -> None:
        self.queue: asyncio.Queue[ProgressEvent] = asyncio.Queue(maxsize=256)
        self.registry = registry
        registry.add(self.queue)

    async def get(self, wait_seconds: float) -> ProgressEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), wait_seconds)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self.registry.discard(self.queue)


class LocalProgressBus:
    """Progress within one process."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[ProgressEvent]]] = {}

    async def publish(self, champion_id: str, event: ProgressEvent) -> None:
        for queue in list(self._queues.get(champion_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    async def subscribe(self, champion_id: str) -> Subscription:
        return _LocalSubscription(self._queues.setdefault(champion_id, set()))


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def get(self, wait_seconds: float) -> ProgressEvent | None:
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message and message.get("type") == "message":
                event: ProgressEvent = json.loads(message["data"])
                return event
        return None

    async def close(self) -> None:
        await self.pubsub.unsubscribe()
        await self.pubsub.aclose()


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

    async def subscribe(self, champion_id: str) -> Subscription:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.prefix + champion_id)
        return _RedisSubscription(pubsub)
