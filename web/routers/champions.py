"""Champions: upload a recording, (re)analyse it, list, read and delete."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ingest.validate import UploadRejected
from memory.models import Champion
from memory.queries import champions as champion_queries
from memory.queries import jobs as job_queries
from memory.schemas import ChampionPublic, ChampionSummary, UploadAccepted
from web.deps import CurrentUser, ServicesDep, SessionDep, limit_per_user
from web.multipart import multipart_request_body
from web.services import Services
from web.uploads import receive_upload, store_upload

router = APIRouter(tags=["champions"])


async def owned_champion_or_404(
    session: AsyncSession, *, user_id: str, champion_id: str, with_patterns: bool = False
) -> Champion:
    """The user's champion; 404 when it does not exist or belongs to someone else."""
    champion = await champion_queries.get_owned_champion(
        session, owner_id=user_id, champion_id=champion_id, with_patterns=with_patterns
    )
    if champion is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "champion not found")
    return champion


async def owned_champion(services: Services, *, user_id: str, champion_id: str) -> Champion:
    """`owned_champion_or_404` in a session of its own, closed before it returns: for a route
    that goes on to wait on something else (a file, a job, the vector store) and must not hold
    a pooled connection meanwhile."""
    async with services.db.session() as session:
        return await owned_champion_or_404(session, user_id=user_id, champion_id=champion_id)


@router.post(
    "/upload",
    response_model=UploadAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[limit_per_user("upload")],
    openapi_extra=multipart_request_body(
        {
            "file": {"type": "string", "format": "binary"},
            "name": {"type": "string", "maxLength": 200},
            "champion_speaker": {
                "type": "string",
                "pattern": "^S[0-9]{1,2}$",
                "description": "Which speaker is the champion (S0 = first "
                "channel or first voice); default: whoever talks most.",
            },
        },
        required=["file"],
    ),
)
async def upload(
    request: Request, user: CurrentUser, services: ServicesDep
) -> UploadAccepted | JSONResponse:
    """Stores a champion recording (.mp4 .mov .avi .wav .mp3 .m4a) and queues its ingest job."""
    # No session while the body streams in: the rows are written in one of their own after.
    try:
        received = await receive_upload(
            request, media=services.media, max_bytes=services.settings.max_upload_bytes
        )
    except UploadRejected as exc:
        headers = {"Connection": "close"} if exc.status_code == 413 else None
        return JSONResponse({"detail": exc.message}, exc.status_code, headers=headers)
    champion, job = await store_upload(services, owner_id=user.id, received=received)
    return UploadAccepted(champion_id=champion.id, job_id=job.id, status="queued")


@router.post(
    "/analyze/{champion_id}",
    response_model=UploadAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[limit_per_user("analyze")],
)
async def analyze(
    champion_id: str, user: CurrentUser, services: ServicesDep, session: SessionDep
) -> UploadAccepted:
    """Runs the champion's ingest again from the start; 409 while a job is still running."""
    champion = await owned_champion_or_404(session, user_id=user.id, champion_id=champion_id)
    if await job_queries.active_job(session, champion_id=champion.id) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "this champion is already being analysed; wait for it to end"
        )
    job = await job_queries.create_job(session, champion_id=champion.id, kind="analyze")
    await services.submit_job(job.id)
    return UploadAccepted(champion_id=champion.id, job_id=job.id, status="queued")


@router.get("/champions", response_model=list[ChampionSummary])
async def list_champions(user: CurrentUser, session: SessionDep) -> list[ChampionSummary]:
    """The signed-in user's champions, newest first."""
    champions = await champion_queries.list_owned_champions(session, owner_id=user.id)
    return [ChampionSummary.model_validate(c) for c in champions]


@router.get("/champions/{champion_id}", response_model=ChampionPublic)
async def get_champion(champion_id: str, user: CurrentUser, session: SessionDep) -> ChampionPublic:
    """A champion with its metrics, patterns, voice profile and latest job."""
    public = await champion_queries.champion_public(
        session, owner_id=user.id, champion_id=champion_id
    )
    if public is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "champion not found")
    return public


@router.delete("/champions/{champion_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_champion(champion_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    """Deletes the champion with its rows, files and vectors."""
    async with services.db.session() as session:
        champion = await owned_champion_or_404(session, user_id=user.id, champion_id=champion_id)
        job = await job_queries.active_job(session, champion_id=champion.id)
    # The job's end and the vector store are waited for without holding a connection.
    if job is not None:
        await services.jobs.cancel(job.id)
    await services.vectors.delete_champion(champion_id=champion.id)
    async with services.db.session() as session:
        await champion_queries.delete_champion(session, champion=champion)
    services.media.delete_champion(champion.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
