"""Training sessions over text: start, respond, end, and the session history."""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter, HTTPException, status

from agents.training.public import reply_public, session_public, started_public
from agents.training.session import TrainingError
from agents.training.types import RUBRIC, RUBRIC_DESCRIPTIONS
from memory.queries import training as queries
from memory.training_schemas import (
    CriterionPublic,
    RubricPublic,
    SessionPublic,
    SessionSummary,
    TrainingEnd,
    TrainingReply,
    TrainingRespond,
    TrainingStart,
    TrainingStarted,
)
from web.deps import CurrentUser, ServicesDep, SessionDep, limit_per_user

router = APIRouter(prefix="/training", tags=["training"], dependencies=[limit_per_user("training")])


def _raise(exc: TrainingError) -> NoReturn:
    raise HTTPException(exc.status, exc.message) from exc


@router.post("/start", response_model=TrainingStarted, status_code=status.HTTP_201_CREATED)
async def start(body: TrainingStart, user: CurrentUser, services: ServicesDep) -> TrainingStarted:
    """Opens a session on one of your ready champions; the AI's first line comes back."""
    try:
        started = await services.training.start(
            user_id=user.id,
            champion_id=body.champion_id,
            scenario_id=body.scenario_id,
            mode=body.mode,
            difficulty=body.difficulty,
        )
    except TrainingError as exc:
        _raise(exc)
    return started_public(started, mode=body.mode, difficulty=body.difficulty)


@router.post("/respond", response_model=TrainingReply)
async def respond(body: TrainingRespond, user: CurrentUser, services: ServicesDep) -> TrainingReply:
    """A text turn: the AI answers and the turn is scored against the rubric."""
    try:
        replied = await services.training.respond(
            user_id=user.id, session_id=body.session_id, message=body.message
        )
    except TrainingError as exc:
        _raise(exc)
    return reply_public(body.session_id, replied)


@router.post("/end", response_model=SessionPublic)
async def end(body: TrainingEnd, user: CurrentUser, services: ServicesDep) -> SessionPublic:
    """Ends the session and returns it with its scorecard."""
    try:
        training = await services.training.end(user_id=user.id, session_id=body.session_id)
    except TrainingError as exc:
        _raise(exc)
    return await _public(services, user.id, training.id)


@router.get("/rubric", response_model=RubricPublic)
async def rubric(_user: CurrentUser, services: ServicesDep) -> RubricPublic:
    """The transparent rubric every trainee turn is scored against, and the pass mark."""
    criteria = {
        name: CriterionPublic(weight=weight, description=RUBRIC_DESCRIPTIONS[name])
        for name, weight in RUBRIC.items()
    }
    return RubricPublic(criteria=criteria, pass_threshold=services.training.pass_threshold)


@router.get("/sessions", response_model=list[SessionSummary])
async def sessions(
    user: CurrentUser, session: SessionDep, champion_id: str | None = None
) -> list[SessionSummary]:
    """Your sessions, newest first (optionally for one champion)."""
    rows = await queries.list_sessions(session, user_id=user.id, champion_id=champion_id)
    return [SessionSummary.model_validate(r) for r in rows]


@router.get("/sessions/{session_id}", response_model=SessionPublic)
async def get_session(session_id: str, user: CurrentUser, services: ServicesDep) -> SessionPublic:
    """One of your sessions with its turns and scorecard."""
    return await _public(services, user.id, session_id)


async def _public(services: ServicesDep, user_id: str, session_id: str) -> SessionPublic:
    public = await session_public(services.db, user_id=user_id, session_id=session_id)
    if public is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "training session not found")
    return public
