"""The champion's real lines, found in Qdrant for one session's champion."""

from __future__ import annotations

from agents.training.types import ChampionLine
from memory.vectors import VectorStore


class QdrantChampionLines:
    """`ChampionLines` over the pattern index, scoped to one champion.

    Args:
        vectors: the pattern store.
        champion_id: whose lines to search.
    """

    def __init__(self, *, vectors: VectorStore, champion_id: str) -> None:
        self.vectors = vectors
        self.champion_id = champion_id

    async def closest(
        self, text: str, *, category: str | None = None, limit: int = 3
    ) -> list[ChampionLine]:
        """The champion's lines most like ``text`` (within ``category`` when given)."""
        hits = await self.vectors.search(
            champion_id=self.champion_id, text=text, limit=limit, category=category
        )
        return [
            ChampionLine(
                quote=str(hit.payload.get("quote", "")),
                category=str(hit.payload.get("category", "")),
                why=str(hit.payload.get("why", "")),
                start=float(hit.payload.get("start", 0.0)),
                end=float(hit.payload.get("end", 0.0)),
                score=hit.score,
            )
            for hit in hits
        ]
