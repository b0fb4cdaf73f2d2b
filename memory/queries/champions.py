"""Champion, pattern and scenario queries. Every read is scoped to the owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from memory.models import Champion, IngestJob, Scenario, Transcript
from memory.queries.jobs import latest_job
from memory.schemas import ChampionPublic, JobPublic, ScenarioPublic, TranscriptPublic


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
    """The champion if it exists and belongs to ``owner_id``; None otherwise (also for an
    id that is not a UUID, which no champion has)."""
    if not _is_uuid(champion_id):
        return None
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


async def champion_names(session: AsyncSession, *, owner_id: str) -> list[tuple[str, str]]:
    """The owner's champions' ids and names, oldest first (as "champion N" counts them)."""
    result = await session.execute(
        select(Champion.id, Champion.name)
        .where(Champion.owner_id == owner_id)
        .order_by(Champion.created_at, Champion.id)
    )
    return [(row.id, row.name) for row in result]


async def transcript_public(
    session: AsyncSession, *, champion: Champion
) -> TranscriptPublic | None:
    """The champion's stored transcript with its champion speaker; None before ingest stored one.

    Args:
        session: the database session.
        champion: a champion the caller has already checked is theirs.
    """
    transcript = await session.scalar(
        select(Transcript).where(Transcript.champion_id == champion.id)
    )
    if transcript is None:
        return None
    return TranscriptPublic(
        champion_id=champion.id,
        provider=transcript.provider,
        language=transcript.language,
        champion_speaker=champion.champion_speaker,
        segments=transcript.segments,
    )


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


async def champion_public(
    session: AsyncSession, *, owner_id: str, champion_id: str
) -> ChampionPublic | None:
    """One of the owner's champions as the API shows it: metrics, patterns, voice profile,
    scenario count and latest job; None for anyone else's (or no such champion)."""
    # The job is read before the champion: a job's end and the champion's new status
    # commit together, so a finished job is never shown beside a stale champion status.
    job = await latest_job(session, champion_id=champion_id)
    champion = await get_owned_champion(
        session, owner_id=owner_id, champion_id=champion_id, with_patterns=True
    )
    if champion is None:
        return None
    public = ChampionPublic.model_validate(champion)
    public.scenario_count = await count_scenarios(session, champion_id=champion.id)
    public.latest_job = JobPublic.model_validate(job) if job else None
    return public


async def scenarios_public(
    session: AsyncSession, *, owner_id: str, champion_id: str
) -> list[ScenarioPublic] | None:
    """The owner's champion's scenarios, oldest first (empty until ingest has built them);
    None for anyone else's champion (or no such champion)."""
    champion = await get_owned_champion(session, owner_id=owner_id, champion_id=champion_id)
    if champion is None:
        return None
    return [
        ScenarioPublic.model_validate(s)
        for s in await list_scenarios(session, champion_id=champion.id)
    ]


async def delete_champion(session: AsyncSession, *, champion: Champion) -> None:
    """Deletes a champion and, by cascade, its transcript, patterns, scenarios and jobs."""
    await session.delete(champion)
    await session.commit()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
