"""Keeps Qdrant in step with SQL: the patterns in SQL are the truth, Qdrant is their index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from memory.db import Database
from memory.models import Pattern
from memory.vectors import VectorStore


def pattern_payload(pattern: Pattern) -> dict[str, Any]:
    """A stored pattern as the index holds it."""
    return {
        "id": pattern.id,
        "quote": pattern.quote,
        "category": pattern.category,
        "start": pattern.start,
        "end": pattern.end,
        "why": pattern.why,
        "context": pattern.context,
    }


async def index_patterns(
    *, vectors: VectorStore, champion_id: str, patterns: Sequence[Pattern]
) -> None:
    """Indexes stored patterns (re-indexing one replaces it)."""
    await vectors.upsert_patterns(
        champion_id=champion_id, patterns=[pattern_payload(p) for p in patterns]
    )


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
    await index_patterns(vectors=vectors, champion_id=champion_id, patterns=rows)
    return len(rows)


async def add_patterns(
    *, db: Database, vectors: VectorStore, champion_id: str, patterns: Sequence[Pattern]
) -> None:
    """Stores new patterns of a champion in SQL, then indexes them.

    The champion's earlier patterns are indexed first when the index has none of them, so
    the index never ends up holding only the new ones.
    """
    await ensure_indexed(db=db, vectors=vectors, champion_id=champion_id)
    async with db.session() as session:
        session.add_all(patterns)
        await session.commit()
    await index_patterns(vectors=vectors, champion_id=champion_id, patterns=patterns)
