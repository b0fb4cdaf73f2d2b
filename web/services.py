"""The objects one app process holds: built from settings at start-up, closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from ingest.runner import JobRunner
from ingest.steps import FINAL_STATUS, default_steps
from memory.db import Database
from memory.files import MediaStore
from memory.session_store import InProcessSessionStore, RedisSessionStore, SessionStore
from memory.settings import Settings
from memory.vectors import VectorStore
from web.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from web.security import TokenService

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request handler may need, owned by the app's lifespan."""

    settings: Settings
    db: Database
    vectors: VectorStore
    sessions: SessionStore
    limiter: RateLimiter
    media: MediaStore
    runner: JobRunner
    tokens: TokenService
    redis: Redis | None = None

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        """Connects every component, applies migrations and resumes unfinished jobs."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(url=settings.resolved_database_url)
        await db.migrate()
        vectors = VectorStore(
            url=settings.qdrant_url, path=settings.qdrant_path, api_key=settings.qdrant_api_key
        )
        await vectors.ensure_collection()
        redis: Redis | None = None
        sessions: SessionStore
        limiter: RateLimiter
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            sessions = RedisSessionStore(redis=redis, prefix=f"{settings.redis_prefix}session:")
            limiter = RedisRateLimiter(redis=redis, prefix=f"{settings.redis_prefix}rate:")
        else:
            sessions = InProcessSessionStore()
            limiter = MemoryRateLimiter()
        media = MediaStore(root=settings.media_dir)
        media.clear_incoming()
        runner = JobRunner(
            db=db,
            steps=default_steps(),
            resources={"media": media, "vectors": vectors},
            final_status=FINAL_STATUS,
        )
        tokens = TokenService(
            secret=settings.effective_jwt_secret(), expires_minutes=settings.jwt_expires_minutes
        )
        services = cls(settings, db, vectors, sessions, limiter, media, runner, tokens, redis)
        for step, provider in settings.provider_choices().items():
            logger.info("provider for %s: %s", step, provider)
        resumed = await runner.resume_unfinished()
        if resumed:
            logger.info("resumed %d unfinished ingest jobs", resumed)
        return services

    async def close(self) -> None:
        """Stops jobs (they resume at the next start) and closes every connection."""
        await self.runner.close()
        await self.vectors.close()
        await self.sessions.close()
        await self.db.close()
