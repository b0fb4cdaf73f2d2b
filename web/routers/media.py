"""Recordings to listen to: a champion's call and both sides of a practice call.

They accept the bearer token or the media cookie (`web/media_auth.py`), so the browser can
stream them straight into `<audio>` elements, with range requests for seeking.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from agents.training.session import TrainingError
from ingest.playback import playback_audio
from ingest.steps import audio_dir
from pipelines.recording import track_path
from web.deps import ServicesDep
from web.media_auth import MediaUser
from web.routers.champions import owned_champion

router = APIRouter()
WAV: dict[int | str, dict[str, Any]] = {200: {"content": {"audio/wav": {}}}}


@router.get(
    "/champions/{champion_id}/audio", response_class=FileResponse, responses=WAV, tags=["champions"]
)
async def champion_audio(champion_id: str, user: MediaUser, services: ServicesDep) -> FileResponse:
    """The champion's call as WAV (16 kHz; stereo when each speaker had a channel), on the
    transcript's timeline, to play a moment of it."""
    champion = await owned_champion(services, user_id=user.id, champion_id=champion_id)
    path = await asyncio.to_thread(playback_audio, audio_dir(services.media, champion.id))
    if path is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "no audio yet; it appears when ingest has extracted it"
        )
    return FileResponse(path, media_type="audio/wav", filename=f"{champion.id}.wav")


@router.get(
    "/training/sessions/{session_id}/recording/{track}",
    response_class=FileResponse,
    responses=WAV,
    tags=["training"],
)
async def recording(
    session_id: str, track: Literal["trainee", "ai"], user: MediaUser, services: ServicesDep
) -> FileResponse:
    """One side of the session's call as a WAV file (16 kHz mono)."""
    try:
        training = await services.training.owned(user_id=user.id, session_id=session_id)
    except TrainingError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    path = track_path(services.media.session_dir(training.id), track)
    if not path.exists():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this session has no recorded call")
    return FileResponse(path, media_type="audio/wav", filename=f"{training.id}-{track}.wav")
