"""The objects one process holds: built from settings at start-up, closed at shutdown."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from agents.registry import AgentDeps
from agents.training.engines import dialogue_factory, turn_scorer
from agents.training.session import TrainingService
from ingest.progress import LocalProgressBus, ProgressBus, RedisProgressBus
from ingest.providers.choices import provider_choices
from ingest.providers.setup import IngestProviders
from ingest.queue import InProcessJobQueue, JobQueue, RedisJobQueue, saq_queue
from ingest.resubmit import Resubmitter
from ingest.runner import JobRunner, Step
from ingest.steps import FINAL_STATUS, default_steps
from memory.db import Database
from memory.files import MediaStore
from memory.session_store import InProcessSessionStore, RedisSessionStore, SessionStore
from memory.settings import Settings
from memory.vectors import VectorStore, VectorStoreBusy
from pipelines.call_host import Calls, LocalCalls
from pipelines.call_processes import CallProcesses
from web.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from web.security import TokenService

if TYPE_CHECKING:
    import httpx2

logger = logging.getLogger(__name__)


@dataclass
class Storage:
    """SQL, vectors and media files: what both the app and the workers open."""

    db: Database
    vectors: VectorStore
    media: MediaStore
    providers: IngestProviders | None = None

    @classmethod
    async def open(cls, settings: Settings, *, index_in_memory_if_busy: bool = False) -> Storage:
        """Connects the stores and brings the schema up to date.

        Args:
            settings: the configuration.
            index_in_memory_if_busy: when another process (the app) holds the embedded
                Qdrant folder, keep the pattern index in this process's memory instead of
                failing; it fills from SQL, the patterns' truth, as call processes do.
        """
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(url=settings.resolved_database_url)
        await db.migrate()
        try:
            vectors = VectorStore(
                url=settings.qdrant_url, path=settings.qdrant_path, api_key=settings.qdrant_api_key
            )
        except VectorStoreBusy:
            if not index_in_memory_if_busy:
                await db.close()
                raise
            logger.warning(
                "the embedded Qdrant folder is in use by another process: this process "
                "indexes patterns in memory (set QDRANT_URL to share one Qdrant server)"
            )
            vectors = VectorStore.in_memory()
        await vectors.ensure_collection()
        return cls(db=db, vectors=vectors, media=MediaStore(root=settings.media_dir))

    def job_runner(
        self, progress: ProgressBus, settings: Settings, steps: Sequence[Step] | None = None
    ) -> JobRunner:
        """The executor of ingest jobs over these stores, with the configured providers."""
        self.providers = self.providers or IngestProviders.from_settings(settings)
        return JobRunner(
            db=self.db,
            steps=default_steps() if steps is None else steps,
            resources={"media": self.media, "vectors": self.vectors, **self.providers.resources()},
            final_status=FINAL_STATUS,
            progress=progress,
        )

    async def close(self) -> None:
        """Closes every connection and stops the transcriber's worker processes."""
        if self.providers is not None:
            self.providers.close()
        await self.vectors.close()
        await self.db.close()


def training_service(
    settings: Settings,
    db: Database,
    vectors: VectorStore,
    *,
    anthropic_http_client: httpx2.AsyncClient | None = None,
) -> TrainingService:
    """The training service with the configured engines (Claude with a key, else offline)."""
    return TrainingService(
        db=db,
        vectors=vectors,
        dialogue=dialogue_factory(
            anthropic_api_key=settings.anthropic_api_key,
            model=settings.anthropic_live_model,
            http_client=anthropic_http_client,
        ),
        scorer=turn_scorer(
            anthropic_api_key=settings.anthropic_api_key,
            model=settings.anthropic_live_model,
            http_client=anthropic_http_client,
        ),
        pass_threshold=settings.pass_threshold,
    )


def log_provider_choices(settings: Settings) -> None:
    """Says once, at start-up, which provider serves each model-backed step."""
    for step, provider in provider_choices(settings).items():
        logger.info("provider for %s: %s", step, provider)


@dataclass
class Services:
    """Everything a request handler may need, owned by the app's lifespan."""

    settings: Settings
    storage: Storage
    sessions: SessionStore
    limiter: RateLimiter
    jobs: JobQueue
    progress: ProgressBus
    tokens: TokenService
    training: TrainingService
    redis: Redis | None = None
    calls: Calls | None = None
    resubmitter: Resubmitter | None = None
    _queue_down: bool = field(default=False, init=False, repr=False)

    def agent_deps(self) -> AgentDeps:
        """What the agents work on (the ingest providers are made on first use)."""
        storage = self.storage
        storage.providers = storage.providers or IngestProviders.from_settings(self.settings)
        return AgentDeps(
            settings=self.settings,
            db=storage.db,
            vectors=storage.vectors,
            media=storage.media,
            training=self.training,
            providers=storage.providers,
            sessions=self.sessions,
        )

    async def submit_job(self, job_id: str) -> None:
        """Hands a recorded job to the queue. If the queue is down the job stays recorded as
        queued, and a resubmitter (`ingest.resubmit`) hands it over once the queue is back;
        the outage is logged once, not once per job."""
        try:
            await self.jobs.submit(job_id)
        except Exception as exc:
            if not self._queue_down:
                logger.warning(
                    "job queue unreachable: jobs stay queued until it is back (%s)",
                    type(exc).__name__,
                )
            self._queue_down = True
        else:
            if self._queue_down:
                logger.info("job queue reachable again")
            self._queue_down = False

    def provider_choices(self) -> dict[str, str]:
        """The provider serving each model-backed step, as actually chosen where known."""
        choices = provider_choices(self.settings)
        if self.storage.providers is not None:
            choices.update(self.storage.providers.names())
        return choices

    @property
    def db(self) -> Database:
        """The SQL database."""
        return self.storage.db

    @property
    def vectors(self) -> VectorStore:
        """The Qdrant pattern store."""
        return self.storage.vectors

    @property
    def media(self) -> MediaStore:
        """The uploaded recordings."""
        return self.storage.media

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        ingest_steps: Sequence[Step] | None = None,
        anthropic_http_client: httpx2.AsyncClient | None = None,
    ) -> Services:
        """Connects every component, applies migrations and resumes unfinished jobs.

        Args:
            settings: the configuration.
            ingest_steps: replaces the ingest steps (tests of the API alone use this).
            anthropic_http_client: the HTTP client the live Claude engines send through
                (tests inject a fake Messages API); None for the SDK's own.
        """
        storage = await Storage.open(settings)
        storage.media.clear_incoming()
        redis: Redis | None = None
        sessions: SessionStore
        limiter: RateLimiter
        progress: ProgressBus
        jobs: JobQueue
        if settings.redis_url:
            prefix = settings.redis_prefix
            redis = Redis.from_url(settings.redis_url)
            sessions = RedisSessionStore(redis=redis, prefix=f"{prefix}session:")
            limiter = RedisRateLimiter(redis=redis, prefix=f"{prefix}rate:")
            progress = RedisProgressBus(redis=redis, prefix=f"{prefix}progress:")
            queue = saq_queue(settings.redis_url, prefix=prefix)
            jobs = RedisJobQueue(
                queue=queue, db=storage.db, heartbeat_seconds=settings.job_heartbeat_seconds
            )
        else:
            sessions = InProcessSessionStore()
            limiter = MemoryRateLimiter()
            progress = LocalProgressBus()
            jobs = InProcessJobQueue(runner=storage.job_runner(progress, settings, ingest_steps))
        tokens = TokenService(
            secret=settings.effective_jwt_secret(), expires_minutes=settings.jwt_expires_minutes
        )
        training = training_service(
            settings, storage.db, storage.vectors, anthropic_http_client=anthropic_http_client
        )
        calls: Calls
        if settings.call_processes:
            calls = await CallProcesses.start(
                settings=settings, count=settings.call_processes, server_module="web.call_server"
            )
        else:
            calls = LocalCalls(settings, storage.db, training, storage.media)
        # Resumes unfinished jobs now, then hands the queue any it lost (see ingest.resubmit);
        # a queue that is down does not stop the API from serving.
        resubmitter = Resubmitter(queue=jobs)
        services = cls(
            settings,
            storage,
            sessions,
            limiter,
            jobs,
            progress,
            tokens,
            training,
            redis,
            calls,
            resubmitter,
        )
        log_provider_choices(settings)
        resubmitter.start()
        return services

    async def _stop_resubmitting(self) -> None:
        if self.resubmitter is not None:
            await self.resubmitter.stop()

    async def _end_calls(self) -> None:
        if self.calls is not None:
            await self.calls.close()

    async def close(self) -> None:
        """Stops jobs (they resume at the next start) and closes every connection.

        Each component closes on its own, so one that is down does not keep the others open.
        """
        closes = (
            self._end_calls,
            self._stop_resubmitting,
            self.jobs.close,
            self.sessions.close,
            self.storage.close,
        )
        for close in closes:
            try:
                await close()
            except Exception as exc:
                logger.warning("a component failed to close cleanly (%s)", type(exc).__name__)
