"""A champion's transcript, and its ingest progress as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import StreamingResponse

from memory.queries import champions as champion_queries
from memory.queries import jobs as job_queries
from memory.schemas import TranscriptPublic
from web.deps import CurrentUser, ServicesDep, SessionDep
from web.routers.champions import owned_champion_or_404
from web.services import Services

router = APIRouter(tags=["champions"])
KEEPALIVE_SECONDS = 15.0
FINISHED = ("completed", "failed")


@router.get("/champions/{champion_id}/transcript", response_model=TranscriptPublic)
async def get_transcript(
    champion_id: str, user: CurrentUser, session: SessionDep
) -> TranscriptPublic:
    """The champion's transcript: speaker-labelled segments with word timings."""
    champion = await owned_champion_or_404(session, user_id=user.id, champion_id=champion_id)
    transcript = await champion_queries.transcript_public(session, champion=champion)
    if transcript is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "no transcript yet; it appears when ingest has transcribed"
        )
    return transcript


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def _stream(services: Services, champion_id: str) -> AsyncIterator[str]:
    subscription = await services.progress.subscribe(champion_id)
    try:
        async with services.db.session() as session:
            job = await job_queries.latest_job(session, champion_id=champion_id)
        if job is None:
            return
        current = {
            "job_id": job.id,
            "status": job.status,
            "step": job.step,
            "progress": job.progress,
            "error": job.error,
        }
        yield _sse("progress", current)
        if job.status in FINISHED:
            return
        while True:
            event = await subscription.get(wait_seconds=KEEPALIVE_SECONDS)
            if event is None:
                yield ": keep-alive\n\n"
                continue
            yield _sse("progress", event)
            if event.get("status") in FINISHED:
                return
    finally:
        await subscription.close()


@router.get(
    "/champions/{champion_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def champion_events(
    champion_id: str, user: CurrentUser, services: ServicesDep, session: SessionDep
) -> StreamingResponse:
    """Ingest progress as server-sent events (`event: progress`, data: job_id, status, step,
    progress 0-100, error), starting with the current state and ending when the job does."""
    champion = await owned_champion_or_404(session, user_id=user.id, champion_id=champion_id)
    return StreamingResponse(
        _stream(services, champion.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
