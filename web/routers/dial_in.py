"""Dial-in codes: the trainee gets a code that lets a phone call join one of their sessions."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from agents.training.session import TrainingError
from memory.dial_in import DialInError
from web.deps import CurrentUser, ServicesDep, limit_per_user
from web.telephony import dial_in_codes

router = APIRouter(
    prefix="/training/sessions", tags=["training"], dependencies=[limit_per_user("training")]
)


class DialInCodePublic(BaseModel):
    """A code to key in on the phone, once, before ``expires_at``."""

    code: str = Field(description="six digits, keyed in after calling the practice number")
    expires_at: datetime
    number: str | None = Field(description="the practice number to call (DIAL_IN_NUMBER)")


@router.post(
    "/{session_id}/dial-in", response_model=DialInCodePublic, status_code=status.HTTP_201_CREATED
)
async def dial_in(session_id: str, user: CurrentUser, services: ServicesDep) -> DialInCodePublic:
    """A single-use code for practising this session by phone; only its trainee may ask."""
    try:
        training = await services.training.active(user_id=user.id, session_id=session_id)
    except TrainingError as exc:
        raise HTTPException(exc.status, exc.message) from exc
    try:
        code = await dial_in_codes(services).issue(session_id=training.id, user_id=user.id)
    except DialInError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    return DialInCodePublic(
        code=code.code, expires_at=code.expires_at, number=services.settings.dial_in_number or None
    )
