"""GET /health: each component's state and the providers in use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from importlib.metadata import version

from fastapi import APIRouter, Response, status

from memory.schemas import ComponentHealth, HealthPublic
from web.deps import ServicesDep

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 3.0


async def _check(backend: str, ping: Callable[[], Awaitable[None]]) -> ComponentHealth:
    try:
        await asyncio.wait_for(ping(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return ComponentHealth(status="down", backend=backend, detail=type(exc).__name__)
    return ComponentHealth(status="ok", backend=backend)


@router.get("/health", response_model=HealthPublic)
async def health(services: ServicesDep, response: Response) -> HealthPublic:
    """Reports each component; answers 503 when any is down."""
    names = ("database", "vector_store", "session_store", "job_queue")
    checks = await asyncio.gather(
        _check(services.db.backend, services.db.ping),
        _check(services.vectors.backend, services.vectors.ping),
        _check(services.sessions.backend, services.sessions.ping),
        _check(services.jobs.backend, services.jobs.ping),
    )
    components = dict(zip(names, checks, strict=True))
    healthy = all(c.status == "ok" for c in components.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthPublic(
        status="ok" if healthy else "degraded",
        version=version("champion-clone"),
        components=components,
        providers=services.provider_choices(),
    )
