"""Champion, pattern and scenario queries. Every read is scoped to the owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from memory.models import Champion, IngestJob, Scenario


async def create_champion(
    session: AsyncSession,
    *,
    champion_id: str,
    owner_id: str,
    name: str,
    source_filename: str,
    media_file: str,
    media_kind: str,
    media_format: str,
    size_bytes: int,
    duration_seconds: float | None,
    champion_speaker: str | None = None,
) -> tuple[Champion, IngestJob]:
    """Inserts a champion and its queued ingest job in one transaction."""
    champion = Champion(
        id=champion_id,
        owner_id=owner_id,
        name=name,
        status="queued",
        source_filename=source_filename,
        media_file=media_file,
        media_kind=media_kind,
        media_format=media_format,
        size_bytes=size_bytes,
        duration_seconds=duration_seconds,
        champion_speaker=champion_speaker,
    )
    session.add(champion)
    await session.flush()
    job = IngestJob(champion_id=champion.id, kind="ingest", status="queued")
    session.add(job)
    await session.commit()
    return champion, job


async def get_owned_champion(
    session: AsyncSession, *, owner_id: str, champion_id: str, with_patterns: bool = False
) -> Champion | None:
    """The champion if it exists and belongs to ``owner_id``; None otherwise."""
    query = select(Champion).where(Champion.id == champion_id, Champion.owner_id == owner_id)
    if with_patterns:
        query = query.options(selectinload(Champion.patterns))
    return await session.scalar(query)


async def list_owned_champions(session: AsyncSession, *, owner_id: str) -> Sequence[Champion]:
    """The owner's champions, newest first."""
    result = await session.scalars(
        select(Champion).where(Champion.owner_id == owner_id).order_by(Champion.created_at.desc())
    )
    return result.all()


async def count_scenarios(session: AsyncSession, *, champion_id: str) -> int:
    """How many scenarios a champion has."""
    count = await session.scalar(
        select(func.count()).select_from(Scenario).where(Scenario.champion_id == champion_id)
    )
    return int(count or 0)


async def list_scenarios(session: AsyncSession, *, champion_id: str) -> Sequence[Scenario]:
    """A champion's scenarios, oldest first."""
    result = await session.scalars(
        select(Scenario).where(Scenario.champion_id == champion_id).order_by(Scenario.created_at)
    )
    return result.all()


async def delete_champion(session: AsyncSession, *, champion: Champion) -> None:
    """Deletes a champion and, by cascade, its transcript, patterns, scenarios and jobs."""
    await session.delete(champion)
    await session.commit()
