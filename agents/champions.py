"""The acting user's champion, for agents whose tools take a champion id."""

from __future__ import annotations

from memory.db import Database
from memory.models import Champion
from memory.queries import champions as champion_queries


class ChampionNotFound(LookupError):
    """No champion with that id belongs to the acting user."""

    def __init__(self) -> None:
        super().__init__("champion not found")


async def owned_champion(db: Database, *, user_id: str, champion_id: str) -> Champion:
    """The user's champion (any other id, or someone else's, is `ChampionNotFound`)."""
    async with db.session() as session:
        champion = await champion_queries.get_owned_champion(
            session, owner_id=user_id, champion_id=champion_id
        )
    if champion is None:
        raise ChampionNotFound()
    return champion
