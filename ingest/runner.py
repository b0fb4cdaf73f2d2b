"""The in-process job runner: runs a champion's ingest steps in order and records each one.

Every step is idempotent and its completion is written to the job row before the next
starts, so a job left unfinished by a stopped process resumes at the step it was on and
stores nothing twice. Progress goes to the job row and to subscribers (SSE, CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from memory.db import Database
from memory.queries import jobs as job_queries

logger = logging.getLogger(__name__)

ProgressEvent = dict[str, Any]


class StepFailed(Exception):
    """A step cannot succeed with this input; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class StepContext:
    """What a step gets: the job, the champion, shared resources, and a progress reporter."""

    job_id: str
    champion_id: str
    db: Database
    resources: dict[str, Any]
    report: Callable[[float], Awaitable[None]]


class Step(Protocol):
    """One idempotent ingest step."""

    name: str

    async def run(self, ctx: StepContext) -> None:
        """Does the step's work; raises `StepFailed` with a user-facing reason."""
        ...


@dataclass
class JobRunner:
    """Runs ingest jobs as tasks in this process.

    Args:
        db: the database holding job rows.
        steps: the steps of a job, in order.
        resources: shared objects handed to every step (stores, providers).
        final_status: the champion status once every step is done.
        max_concurrent: how many jobs run at once.
    """

    db: Database
    steps: Sequence[Step]
    resources: dict[str, Any] = field(default_factory=dict)
    final_status: str = "ready"
    max_concurrent: int = 1
    backend: str = "in-process"
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    _subscribers: dict[str, set[asyncio.Queue[ProgressEvent]]] = field(
        default_factory=dict, init=False
    )
    _closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.max_concurrent)

    async def submit(self, job_id: str) -> None:
        """Schedules a queued job; a job already scheduled is left alone."""
        if self._closed:
            raise RuntimeError("job runner is closed")
        if job_id in self._tasks:
            return
        task = asyncio.create_task(self._guarded(job_id), name=f"ingest-job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job_id, None))

    async def resume_unfinished(self) -> int:
        """Schedules every job a previous process left queued or running; returns how many."""
        async with self.db.session() as session:
            job_ids = await job_queries.unfinished_job_ids(session)
        for job_id in job_ids:
            await self.submit(job_id)
        return len(job_ids)

    async def wait(self, job_id: str) -> None:
        """Waits until a scheduled job has finished (returns at once if it is not running)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def cancel(self, job_id: str) -> None:
        """Stops a job running in this process (used before its champion is deleted)."""
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def subscribe(self, champion_id: str) -> asyncio.Queue[ProgressEvent]:
        """A queue that receives the champion's progress events until `unsubscribe`."""
        queue: asyncio.Queue[ProgressEvent] = asyncio.Queue(maxsize=256)
        self._subscribers.setdefault(champion_id, set()).add(queue)
        return queue

    def unsubscribe(self, champion_id: str, queue: asyncio.Queue[ProgressEvent]) -> None:
        """Stops sending events to ``queue``."""
        self._subscribers.get(champion_id, set()).discard(queue)

    async def ping(self) -> None:
        """Raises if the runner no longer accepts jobs."""
        if self._closed:
            raise RuntimeError("job runner is closed")

    async def close(self) -> None:
        """Cancels running jobs; they stay recorded and resume at the next start."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _guarded(self, job_id: str) -> None:
        async with self._slots:
            try:
                await self.run_job(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("ingest job crashed outside a step")

    async def run_job(self, job_id: str) -> None:
        """Runs the job's remaining steps in order, recording each one."""
        async with self.db.session() as session:
            job = await job_queries.get_job(session, job_id=job_id)
            if job is None or job.status in ("completed", "failed"):
                return
            champion_id, done = job.champion_id, list(job.completed_steps)
            await job_queries.update_job(
                session, job_id=job_id, status="running", attempts=job.attempts + 1, error=None
            )
            await job_queries.set_champion_status(
                session, champion_id=champion_id, status="processing"
            )
        total = max(len(self.steps), 1)
        for index, step in enumerate(self.steps):
            if step.name in done:
                continue
            base = index / total

            async def report(fraction: float, _step: str = step.name, _base: float = base) -> None:
                percent = round(100 * (_base + min(max(fraction, 0.0), 1.0) / total), 1)
                await self._record(job_id, champion_id, step=_step, progress=percent)

            await report(0.0)
            ctx = StepContext(job_id, champion_id, self.db, self.resources, report)
            try:
                await step.run(ctx)
            except StepFailed as exc:
                await self._fail(job_id, champion_id, step.name, exc.reason)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception("ingest step raised an unexpected error")
                reason = f"the {step.name} step failed unexpectedly ({type(exc).__name__})"
                await self._fail(job_id, champion_id, step.name, reason)
                return
            done.append(step.name)
            async with self.db.session() as session:
                await job_queries.update_job(session, job_id=job_id, completed_steps=list(done))
        async with self.db.session() as session:
            await job_queries.update_job(
                session, job_id=job_id, status="completed", step=None, progress=100.0
            )
            await job_queries.set_champion_status(
                session, champion_id=champion_id, status=self.final_status
            )
        self._publish(champion_id, {"job_id": job_id, "status": "completed", "progress": 100.0})

    async def _record(self, job_id: str, champion_id: str, *, step: str, progress: float) -> None:
        async with self.db.session() as session:
            await job_queries.update_job(session, job_id=job_id, step=step, progress=progress)
        self._publish(
            champion_id, {"job_id": job_id, "status": "running", "step": step, "progress": progress}
        )

    async def _fail(self, job_id: str, champion_id: str, step: str, reason: str) -> None:
        async with self.db.session() as session:
            await job_queries.update_job(session, job_id=job_id, status="failed", error=reason)
            await job_queries.set_champion_status(
                session, champion_id=champion_id, status="failed", error=reason
            )
        self._publish(
            champion_id, {"job_id": job_id, "status": "failed", "step": step, "error": reason}
        )

    def _publish(self, champion_id: str, event: ProgressEvent) -> None:
        for queue in list(self._subscribers.get(champion_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)
