"""The in-process job runner: order, progress, failures and resumption."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from ingest.progress import LocalProgressBus, ProgressEvent
from ingest.provider_errors import ProviderStatusError
from ingest.queue import InProcessJobQueue
from ingest.runner import JobRunner, StepContext, StepFailed
from memory.db import Database
from memory.models import Champion, IngestJob
from memory.queries import jobs as job_queries
from tests.support.jobs import record_job


@dataclass
class RecordingStep:
    """A step that records each run and can be told to fail."""

    name: str
    runs: list[str] = field(default_factory=list)
    error: Exception | None = None

    async def run(self, ctx: StepContext) -> None:
        self.runs.append(ctx.job_id)
        await ctx.report(0.5)
        if self.error is not None:
            raise self.error
        await ctx.report(1.0)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(url=database_url)
    await database.migrate()
    yield database
    await database.close()


async def _reload(db: Database, job_id: str) -> tuple[IngestJob, Champion]:
    async with db.session() as session:
        job = await job_queries.get_job(session, job_id=job_id)
        assert job is not None
        champion = await session.get(Champion, job.champion_id)
        assert champion is not None
        return job, champion


async def test_steps_run_in_order_and_progress_is_published(db: Database) -> None:
    steps = [RecordingStep("extract"), RecordingStep("transcribe")]
    bus = LocalProgressBus()
    runner = JobRunner(db=db, steps=steps, final_status="ready", progress=bus)
    job = await record_job(db)
    subscription = await bus.subscribe(job.champion_id)
    await runner.run_job(job.id)
    seen: list[ProgressEvent] = []
    while (event := await subscription.get(wait_seconds=0.1)) is not None:
        seen.append(event)
    await subscription.close()
    stored, champion = await _reload(db, job.id)
    assert stored.status == "completed"
    assert stored.completed_steps == ["extract", "transcribe"]
    assert stored.progress == 100.0
    assert stored.attempts == 1
    assert champion.status == "ready"
    progress = [e["progress"] for e in seen]
    assert progress == sorted(progress)
    assert [e.get("step") for e in seen if e["progress"] == 25.0] == ["extract"]
    assert seen[-1] == {"job_id": job.id, "status": "completed", "progress": 100.0}


async def test_a_step_failure_fails_job_and_champion_with_the_reason(db: Database) -> None:
    steps = [
        RecordingStep("extract", error=StepFailed("the video has no audio track")),
        RecordingStep("transcribe"),
    ]
    runner = JobRunner(db=db, steps=steps)
    job = await record_job(db)
    await runner.run_job(job.id)
    stored, champion = await _reload(db, job.id)
    assert (stored.status, stored.step, stored.error) == (
        "failed",
        "extract",
        "the video has no audio track",
    )
    assert (champion.status, champion.error) == ("failed", "the video has no audio track")
    assert steps[1].runs == []


async def test_an_unexpected_error_names_the_step_not_the_internals(db: Database) -> None:
    runner = JobRunner(db=db, steps=[RecordingStep("analyse", error=KeyError("secret-ish"))])
    job = await record_job(db)
    await runner.run_job(job.id)
    stored, _champion = await _reload(db, job.id)
    assert stored.status == "failed"
    assert stored.error == "the analyse step failed unexpectedly (KeyError)"


async def test_unfinished_jobs_resume_at_the_step_they_were_on(db: Database) -> None:
    steps = [RecordingStep("extract"), RecordingStep("transcribe"), RecordingStep("analyse")]
    left_running = await record_job(
        db, status="running", step="transcribe", attempts=1, completed_steps=["extract"]
    )
    finished = await record_job(db, status="completed", completed_steps=["extract"])
    queue = InProcessJobQueue(runner=JobRunner(db=db, steps=steps))
    assert await queue.resume_unfinished() == 1
    await queue.wait(left_running.id)
    stored, _ = await _reload(db, left_running.id)
    assert stored.status == "completed"
    assert stored.attempts == 2
    assert stored.completed_steps == ["extract", "transcribe", "analyse"]
    assert steps[0].runs == []
    assert steps[1].runs == [left_running.id]
    assert finished.id not in steps[2].runs
    await queue.close()


async def test_closing_cancels_a_running_job_which_stays_resumable(db: Database) -> None:
    started = asyncio.Event()

    class Slow:
        name = "slow"

        async def run(self, ctx: StepContext) -> None:
            started.set()
            await asyncio.sleep(30)

    queue = InProcessJobQueue(runner=JobRunner(db=db, steps=[Slow()]))
    job = await record_job(db)
    await queue.submit(job.id)
    await asyncio.wait_for(started.wait(), 5)
    await queue.close()
    stored, _ = await _reload(db, job.id)
    assert stored.status == "running"
    with pytest.raises(RuntimeError, match="closed"):
        await queue.submit(job.id)
    async with db.session() as session:
        assert job.id in await job_queries.unfinished_job_ids(session)


async def test_a_step_that_runs_too_long_fails_the_job(db: Database) -> None:
    class Stuck:
        name = "transcribe"

        async def run(self, ctx: StepContext) -> None:
            await asyncio.sleep(30)

    runner = JobRunner(db=db, steps=[Stuck()], step_timeout_seconds=0.2)
    job = await record_job(db)
    await runner.run_job(job.id)
    stored, champion = await _reload(db, job.id)
    assert stored.status == "failed"
    assert stored.error == "the transcribe step took longer than 0.00333333 minutes"
    assert champion.status == "failed"


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (ProviderStatusError("deepgram", 503), "try again later"),
        (ProviderStatusError("deepgram", 401), "check its API key"),
    ],
)
async def test_a_provider_failure_names_the_provider_and_what_to_do(
    db: Database, error: Exception, advice: str
) -> None:
    runner = JobRunner(db=db, steps=[RecordingStep("transcribe", error=error)])
    job = await record_job(db)
    await runner.run_job(job.id)
    stored, _champion = await _reload(db, job.id)
    assert stored.status == "failed"
    assert stored.error is not None
    assert stored.error.startswith("deepgram failed during the transcribe step (HTTP ")
    assert advice in stored.error


async def test_a_job_that_keeps_stopping_its_worker_fails_instead_of_running_again(
    db: Database,
) -> None:
    step = RecordingStep("transcribe")
    runner = JobRunner(db=db, steps=[step], max_attempts=3)
    job = await record_job(db, status="running", step="transcribe", attempts=3)
    await runner.run_job(job.id)
    stored, champion = await _reload(db, job.id)
    assert step.runs == []
    assert (stored.status, stored.attempts) == ("failed", 3)
    assert stored.error == "the job stopped 3 times before it could finish"
    assert (champion.status, champion.error) == ("failed", stored.error)


async def test_a_job_under_its_attempt_limit_runs(db: Database) -> None:
    step = RecordingStep("transcribe")
    runner = JobRunner(db=db, steps=[step], max_attempts=3)
    job = await record_job(db, status="running", step="transcribe", attempts=2)
    await runner.run_job(job.id)
    stored, _champion = await _reload(db, job.id)
    assert (stored.status, stored.attempts, step.runs) == ("completed", 3, [job.id])
