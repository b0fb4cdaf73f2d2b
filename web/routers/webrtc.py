"""Browser calls over WebRTC (SmallWebRTC): the ICE servers, the SDP offer/answer and
trickle ICE."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Response, status
from pipecat.transports.smallwebrtc.request_handler import IceCandidate
from pydantic import BaseModel, ConfigDict, Field

from agents.training.session import TrainingError
from memory.models import TrainingSession
from pipelines.call_host import CallError, CallOffer, Calls
from web.deps import CurrentUser, ServicesDep, limit_per_user
from web.services import Services

router = APIRouter(
    prefix="/training/sessions", tags=["training"], dependencies=[limit_per_user("training")]
)
MAX_SDP_CHARS = 100_000


class OfferBody(BaseModel):
    """An SDP offer (``pc_id`` to renegotiate an existing call)."""

    model_config = ConfigDict(populate_by_name=True)

    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    type: Literal["offer"]
    pc_id: str | None = None
    restart_pc: bool | None = None


class AnswerBody(BaseModel):
    """The SDP answer and the peer connection's id."""

    sdp: str
    type: str
    pc_id: str


class CandidateBody(BaseModel):
    """One ICE candidate (an empty ``candidate`` ends the list)."""

    candidate: str = Field(max_length=2_000)
    sdp_mid: str
    sdp_mline_index: int


class IceBody(BaseModel):
    """Trickled ICE candidates for a call."""

    pc_id: str
    candidates: list[CandidateBody] = Field(max_length=100)


class IceServerPublic(BaseModel):
    """One STUN or TURN server, shaped as the browser's ``RTCIceServer``."""

    urls: str
    username: str | None = None
    credential: str | None = None


class IceServersPublic(BaseModel):
    """The ICE servers a call's peer connection gathers candidates through."""

    ice_servers: list[IceServerPublic]


async def _active_session(services: Services, user_id: str, session_id: str) -> TrainingSession:
    try:
        return await services.training.active(user_id=user_id, session_id=session_id)
    except TrainingError as exc:
        raise HTTPException(exc.status, exc.message) from exc


@router.get(
    "/{session_id}/ice-servers", response_model=IceServersPublic, response_model_exclude_none=True
)
async def ice_servers(
    session_id: str, response: Response, user: CurrentUser, services: ServicesDep
) -> IceServersPublic:
    """The STUN/TURN servers (``ICE_SERVERS``) for the session's call; only its trainee gets
    them, since TURN credentials let their holder relay traffic through the server. With
    ``TURN_SECRET`` the TURN credentials are minted for this trainee and expire within the
    hour (`memory.ice_servers.turn_credentials`)."""
    await _active_session(services, user.id, session_id)
    response.headers["Cache-Control"] = "no-store"
    servers = [
        IceServerPublic(urls=s.urls, username=s.username, credential=s.credential)
        for s in services.settings.ice_servers_for(user.id)
    ]
    return IceServersPublic(ice_servers=servers)


@router.post("/{session_id}/offer", response_model=AnswerBody)
async def offer(
    session_id: str,
    body: OfferBody,
    user: CurrentUser,
    services: ServicesDep,
) -> AnswerBody:
    """Starts (or renegotiates) the session's voice call; only its trainee may connect."""
    training = await _active_session(services, user.id, session_id)
    if body.pc_id is not None and not _calls(services).holds(body.pc_id, session_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "call not found for this session")
    if not body.sdp.lstrip().startswith("v=0"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "sdp is not an SDP offer (v=0 ...)")
    if "m=audio" not in body.sdp:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the offer has no audio to send or hear")
    offer = CallOffer(sdp=body.sdp, type=body.type, pc_id=body.pc_id, restart_pc=body.restart_pc)
    try:
        answer = await _calls(services).offer(training, offer)
    except CallError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    return AnswerBody(**answer)


@router.patch("/{session_id}/offer", status_code=status.HTTP_204_NO_CONTENT)
async def ice(session_id: str, body: IceBody, user: CurrentUser, services: ServicesDep) -> None:
    """Adds trickled ICE candidates to the session's call."""
    await _active_session(services, user.id, session_id)
    candidates = [IceCandidate(c.candidate, c.sdp_mid, c.sdp_mline_index) for c in body.candidates]
    try:
        await _calls(services).ice(session_id, body.pc_id, candidates)
    except CallError as exc:
        raise HTTPException(exc.status, exc.message) from exc


def _calls(services: Services) -> Calls:
    if services.calls is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "calls are not available")
    return services.calls
