"""Where ingest jobs wait and which process runs them.

`InProcessJobQueue` runs jobs as tasks of the app (embedded default). `RedisJobQueue`
puts them on a SAQ queue in Redis for `champion-clone worker` processes; SAQ's heartbeat
sweep hands a job whose worker died to another worker, which resumes it at its step.

SQL is the record of which jobs are unfinished; the queue may lose them (a submit while
Redis is down, a Redis restart without persistence). `resume_unfinished` hands a queue the
unfinished jobs it may not hold, and `ingest.resubmit` calls it periodically. Submitting a
job twice is harmless: SAQ keeps one job per key while it waits, runs or is being aborted,
and `JobRunner.run_job` does nothing for a job that SQL records as finished or deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any, Protocol

from saq import Queue

from ingest.runner import JobRunner
from memory.db import Database
from memory.models import utcnow
from memory.queries import jobs as job_queries

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "run_ingest_job"
JOB_TIMEOUT_SECONDS = 60 * 60
JOB_HEARTBEAT_SECONDS = 30
JOB_RETRIES = 3
IDLE_HEARTBEATS = 3  # a running job whose row is this many heartbeats old has no live worker


class JobQueue(Protocol):
    """Accepts ingest jobs for running."""

    backend: str

    async def submit(self, job_id: str) -> None:
        """Schedules a queued job (a job already scheduled is left alone)."""
        ...

    async def cancel(self, job_id: str) -> None:
        """Stops a job if it is running or waiting."""
        ...

    async def resume_unfinished(self) -> int:
        """Schedules the unfinished jobs this queue may not hold; returns how many it took."""
        ...

    async def ping(self) -> None:
        """Raises if the queue cannot take jobs."""
        ...

    async def close(self) -> None:
        """Stops taking jobs; unfinished ones stay recorded."""
        ...


async def _unfinished(db: Database) -> list[str]:
    async with db.session() as session:
        return list(await job_queries.unfinished_job_ids(session))


async def _resumable(db: Database, *, idle_seconds: float) -> list[str]:
    idle_since = utcnow() - timedelta(seconds=idle_seconds)
    async with db.session() as session:
        return list(await job_queries.resumable_job_ids(session, idle_since=idle_since))


class InProcessJobQueue:
    """Runs jobs as tasks in this process, a few at a time.

    Args:
        runner: executes a job.
        max_concurrent: how many jobs run at once.
    """

    backend = "in-process"

    def __init__(self, *, runner: JobRunner, max_concurrent: int = 1) -> None:
        self.runner = runner
        self._slots = asyncio.Semaphore(max_concurrent)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()  # never run again (their champion is going)
        self._closed = False

    async def submit(self, job_id: str) -> None:
        if self._closed:
            raise RuntimeError("job queue is closed")
        if job_id in self._tasks or job_id in self._cancelled:
            return
        task = asyncio.create_task(self._run(job_id), name=f"ingest-job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job_id, None))

    async def _run(self, job_id: str) -> None:
        async with self._slots:
            try:
                await self.runner.run_job(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("ingest job crashed outside a step")

    async def wait(self, job_id: str) -> None:
        """Waits until a scheduled job has finished (returns at once if none is running)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def resume_unfinished(self) -> int:
        # Only this process runs these jobs: one it holds no task for is not running.
        held = self._tasks.keys() | self._cancelled
        job_ids = [j for j in await _unfinished(self.runner.db) if j not in held]
        for job_id in job_ids:
            await self.submit(job_id)
        return len(job_ids)

    async def ping(self) -> None:
        if self._closed:
            raise RuntimeError("job queue is closed")

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class RedisJobQueue:
    """Puts jobs on a SAQ queue in Redis for worker processes.

    Args:
        queue: the SAQ queue (see `saq_queue`).
        db: the database, to find unfinished jobs.
    """

    backend = "redis"

    def __init__(
        self, *, queue: Queue, db: Database, heartbeat_seconds: int = JOB_HEARTBEAT_SECONDS
    ) -> None:
        self.queue = queue
        self.db = db
        self.heartbeat_seconds = heartbeat_seconds

    async def submit(self, job_id: str) -> None:
        await self._enqueue(job_id)

    async def _enqueue(self, job_id: str) -> bool:
        """Puts the job on the queue unless SAQ holds it already; returns whether it did."""
        job = await self.queue.enqueue(
            RUN_JOB_TASK,
            key=job_id,
            job_id=job_id,
            timeout=JOB_TIMEOUT_SECONDS,
            heartbeat=self.heartbeat_seconds,
            retries=JOB_RETRIES,
            retry_delay=5.0,
            retry_backoff=True,
        )
        return job is not None

    async def cancel(self, job_id: str) -> None:
        job = await self.queue.job(job_id)
        if job is not None:
            await self.queue.abort(job, error="the champion was deleted")

    async def resume_unfinished(self) -> int:
        # A running job whose worker is alive has a fresh row (`run_ingest_job` heartbeats
        # it), whether or not Redis still knows the job: it is left to that worker.
        idle_seconds = IDLE_HEARTBEATS * self.heartbeat_seconds
        job_ids = await _resumable(self.db, idle_seconds=idle_seconds)
        return sum([await self._enqueue(job_id) for job_id in job_ids])

    async def ping(self) -> None:
        await self.queue.info()

    async def close(self) -> None:
        await self.queue.disconnect()


def saq_queue(redis_url: str, *, prefix: str) -> Queue:
    """The SAQ queue every app and worker process of one deployment shares."""
    return Queue.from_url(redis_url, name=f"{prefix}ingest")


async def run_ingest_job(ctx: dict[str, Any], *, job_id: str) -> None:
    """The SAQ task: runs a job with the worker's `JobRunner`, heartbeating while it runs.

    The heartbeat goes to Redis (SAQ's sweep retries elsewhere a job whose heartbeat stops)
    and to the job's row (so a job Redis lost is not re-submitted while this worker runs it).
    It stops if this worker dies; a beat that fails (Redis or SQL briefly down) is skipped.
    """
    runner: JobRunner = ctx["runner"]
    saq_job = ctx["job"]

    async def heartbeat() -> None:
        failing = False
        while True:
            await asyncio.sleep(max(saq_job.heartbeat or JOB_HEARTBEAT_SECONDS, 1) / 3)
            beats = await asyncio.gather(
                saq_job.update(), runner.touch(job_id), return_exceptions=True
            )
            errors = [type(b).__name__ for b in beats if isinstance(b, Exception)]
            if errors and not failing:
                logger.warning("ingest job heartbeat failed, the job goes on (%s)", errors[0])
            failing = bool(errors)

    beating = asyncio.create_task(heartbeat())
    try:
        await runner.run_job(job_id)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
