"""Keeps Qdrant in step with SQL: the patterns in SQL are the truth, Qdrant is their index."""

from __future__ import annotations

from sqlalchemy import select

from memory.db import Database
from memory.models import Pattern
from memory.vectors import VectorStore


async def ensure_indexed(*, db: Database, vectors: VectorStore, champion_id: str) -> int:
    """Indexes the champion's stored patterns if the index has none of them (e.g. it was
    written by a worker with its own embedded Qdrant); returns how many are indexed."""
    indexed = await vectors.count(champion_id=champion_id)
    if indexed:
        return indexed
    async with db.session() as session:
        rows = (
            await session.scalars(select(Pattern).where(Pattern.champion_id == champion_id))
        ).all()
    await vectors.upsert_patterns(
        champion_id=champion_id,
        patterns=[
            {
                "id": p.id,
                "quote": p.quote,
                "category": p.category,
                "start": p.start,
                "end": p.end,
                "why": p.why,
                "context": p.context,
            }
            for p in rows
        ],
    )
    return len(rows)
