"""Runs one champion's ingest job: its steps in order, each one recorded.

Every step is idempotent and its completion is written to the job row before the next
starts, so a job left unfinished by a stopped process resumes at the step it was on and
stores nothing twice. Progress goes to the job row and to the progress bus (SSE, CLI).
Which process runs a job, and when, is the queue's business (`ingest.queue`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ingest.progress import LocalProgressBus, ProgressBus
from ingest.provider_errors import ProviderError
from memory.db import Database
from memory.queries import jobs as job_queries

logger = logging.getLogger(__name__)


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
    """Executes ingest jobs.

    Args:
        db: the database holding job rows.
        steps: the steps of a job, in order.
        resources: shared objects handed to every step (stores, providers).
        final_status: the champion status once every step is done.
        progress: where progress events go.
        step_timeout_seconds: how long one step may run before the job fails.
        max_attempts: how many times a job may start; a job whose process keeps dying
            (out of memory on one recording, say) fails instead of taking down worker
            after worker.
    """

    db: Database
    steps: Sequence[Step]
    resources: dict[str, Any] = field(default_factory=dict)
    final_status: str = "ready"
    progress: ProgressBus = field(default_factory=LocalProgressBus)
    step_timeout_seconds: float = 30 * 60
    max_attempts: int = 5

    async def run_job(self, job_id: str) -> None:
        """Runs the job's remaining steps in order, recording each one."""
        async with self.db.session() as session:
            job = await job_queries.get_job(session, job_id=job_id)
            if job is None or job.status in ("completed", "failed"):
                return
            champion_id, done = job.champion_id, list(job.completed_steps)
            attempts, last_step = job.attempts, job.step or ""
            exhausted = attempts >= self.max_attempts
            if not exhausted:
                await job_queries.update_job(
                    session, job_id=job_id, status="running", attempts=attempts + 1, error=None
                )
                await job_queries.set_champion_status(
                    session, champion_id=champion_id, status="processing"
                )
                await session.commit()
        if exhausted:
            reason = f"the job stopped {attempts} times before it could finish"
            await self._fail(job_id, champion_id, last_step, reason)
            return
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
                await asyncio.wait_for(step.run(ctx), self.step_timeout_seconds)
            except StepFailed as exc:
                await self._fail(job_id, champion_id, step.name, exc.reason)
                return
            except TimeoutError:
                minutes = self.step_timeout_seconds / 60
                reason = f"the {step.name} step took longer than {minutes:g} minutes"
                await self._fail(job_id, champion_id, step.name, reason)
                return
            except ProviderError as exc:
                reason = f"{exc.provider} failed during the {step.name} step ({exc.message}); " + (
                    "try again later" if exc.retryable else "check its API key and settings"
                )
                await self._fail(job_id, champion_id, step.name, reason)
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
                await session.commit()
        async with self.db.session() as session:
            await job_queries.update_job(
                session, job_id=job_id, status="completed", step=None, progress=100.0
            )
            await job_queries.set_champion_status(
                session, champion_id=champion_id, status=self.final_status
            )
            await session.commit()
        await self.progress.publish(
            champion_id, {"job_id": job_id, "status": "completed", "progress": 100.0}
        )

    async def touch(self, job_id: str) -> None:
        """Records that the job is still running here (see `job_queries.resumable_job_ids`)."""
        async with self.db.session() as session:
            await job_queries.touch_job(session, job_id=job_id)
            await session.commit()

    async def _record(self, job_id: str, champion_id: str, *, step: str, progress: float) -> None:
        async with self.db.session() as session:
            await job_queries.update_job(session, job_id=job_id, step=step, progress=progress)
            await session.commit()
        await self.progress.publish(
            champion_id, {"job_id": job_id, "status": "running", "step": step, "progress": progress}
        )

    async def _fail(self, job_id: str, champion_id: str, step: str, reason: str) -> None:
        async with self.db.session() as session:
            await job_queries.update_job(session, job_id=job_id, status="failed", error=reason)
            await job_queries.set_champion_status(
                session, champion_id=champion_id, status="failed", error=reason
            )
            await session.commit()
        await self.progress.publish(
            champion_id, {"job_id": job_id, "status": "failed", "step": step, "error": reason}
        )
