"""Ingest job queries: the job row is the record of step, progress and error."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from memory.models import Champion, IngestJob, utcnow

ACTIVE_JOB_STATUSES = ("queued", "running")


async def get_job(session: AsyncSession, *, job_id: str) -> IngestJob | None:
    """The job with this id, if any."""
    return await session.get(IngestJob, job_id)


async def latest_job(session: AsyncSession, *, champion_id: str) -> IngestJob | None:
    """The champion's most recent job."""
    return await session.scalar(
        select(IngestJob)
        .where(IngestJob.champion_id == champion_id)
        .order_by(IngestJob.created_at.desc())
        .limit(1)
    )


async def active_job(session: AsyncSession, *, champion_id: str) -> IngestJob | None:
    """The champion's queued or running job, if one exists."""
    return await session.scalar(
        select(IngestJob).where(
            IngestJob.champion_id == champion_id, IngestJob.status.in_(ACTIVE_JOB_STATUSES)
        )
    )


async def unfinished_job_ids(session: AsyncSession) -> Sequence[str]:
    """Jobs left queued or running, e.g. by a process that stopped; oldest first."""
    result = await session.scalars(
        select(IngestJob.id)
        .where(IngestJob.status.in_(ACTIVE_JOB_STATUSES))
        .order_by(IngestJob.created_at)
    )
    return result.all()


async def resumable_job_ids(session: AsyncSession, *, idle_since: datetime) -> Sequence[str]:
    """Jobs no process is known to hold: every queued job, and running jobs whose row has not
    been written since ``idle_since`` (a live worker writes it every few seconds); oldest
    first."""
    result = await session.scalars(
        select(IngestJob.id)
        .where(
            (IngestJob.status == "queued")
            | ((IngestJob.status == "running") & (IngestJob.updated_at < idle_since))
        )
        .order_by(IngestJob.created_at)
    )
    return result.all()


async def touch_job(session: AsyncSession, *, job_id: str) -> None:
    """Records that a job is still being worked on (the caller commits)."""
    await session.execute(
        update(IngestJob)
        .where(IngestJob.id == job_id, IngestJob.status == "running")
        .values(updated_at=utcnow())
    )


async def create_job(session: AsyncSession, *, champion_id: str, kind: str) -> IngestJob:
    """Queues a new job for a champion and marks the champion queued."""
    job = IngestJob(champion_id=champion_id, kind=kind, status="queued")
    session.add(job)
    await session.execute(
        update(Champion).where(Champion.id == champion_id).values(status="queued", error=None)
    )
    await session.commit()
    return job


async def update_job(session: AsyncSession, *, job_id: str, **values: Any) -> None:
    """Writes new values onto a job row (the caller commits)."""
    await session.execute(update(IngestJob).where(IngestJob.id == job_id).values(**values))


async def set_champion_status(
    session: AsyncSession, *, champion_id: str, status: str, error: str | None = None
) -> None:
    """Writes a champion's status and failure reason (the caller commits)."""
    await session.execute(
        update(Champion).where(Champion.id == champion_id).values(status=status, error=error)
    )
