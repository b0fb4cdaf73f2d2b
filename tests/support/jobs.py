"""Ingest jobs recorded straight in the database, for the job runner and worker tests."""

from __future__ import annotations

from memory.db import Database
from memory.models import Champion, IngestJob, User


async def record_job(db: Database, **job_values: object) -> IngestJob:
    """An ingest job of a new user's queued champion, stored with ``job_values``."""
    async with db.session() as session:
        user = User(email=f"{id(job_values)}@example.com", password_hash="x")
        session.add(user)
        await session.flush()
        champion = Champion(
            owner_id=user.id,
            name="c",
            source_filename="a.wav",
            media_file="source.wav",
            media_kind="audio",
            media_format="wav",
            size_bytes=1,
            status="queued",
        )
        session.add(champion)
        await session.flush()
        job = IngestJob(champion_id=champion.id, **job_values)
        session.add(job)
        await session.commit()
        return job
