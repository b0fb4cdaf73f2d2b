"""A champion's practice scenarios."""

from __future__ import annotations

from fastapi import APIRouter

from memory.queries.champions import list_scenarios
from memory.schemas import ScenarioPublic
from web.deps import CurrentUser, SessionDep
from web.routers.champions import owned_champion_or_404

router = APIRouter(tags=["scenarios"])


@router.get("/scenarios/{champion_id}", response_model=list[ScenarioPublic])
async def get_scenarios(
    champion_id: str, user: CurrentUser, session: SessionDep
) -> list[ScenarioPublic]:
    """The champion's scenarios (empty until ingest has built them)."""
    champion = await owned_champion_or_404(session, user_id=user.id, champion_id=champion_id)
    return [
        ScenarioPublic.model_validate(s)
        for s in await list_scenarios(session, champion_id=champion.id)
    ]
