"""A champion's practice scenarios."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from memory.queries.champions import scenarios_public
from memory.schemas import ScenarioPublic
from web.deps import CurrentUser, SessionDep

router = APIRouter(tags=["scenarios"])


@router.get("/scenarios/{champion_id}", response_model=list[ScenarioPublic])
async def get_scenarios(
    champion_id: str, user: CurrentUser, session: SessionDep
) -> list[ScenarioPublic]:
    """The champion's scenarios (empty until ingest has built them)."""
    scenarios = await scenarios_public(session, owner_id=user.id, champion_id=champion_id)
    if scenarios is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "champion not found")
    return scenarios
