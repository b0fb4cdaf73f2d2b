"""A worker process: takes ingest jobs from the Redis queue and runs them."""

from __future__ import annotations

from typing import Any

from saq import Worker
from saq.types import PartialTimersDict

from ingest.queue import RUN_JOB_TASK, run_ingest_job, saq_queue
from ingest.runner import JobRunner

SWEEP_SECONDS = 15


def build_worker(
    *,
    runner: JobRunner,
    redis_url: str,
    prefix: str,
    concurrency: int = 1,
    sweep_seconds: int = SWEEP_SECONDS,
) -> Worker:
    """A SAQ worker that runs jobs with ``runner``.

    Args:
        runner: executes each job (it holds the database, stores and steps).
        redis_url: the deployment's Redis.
        prefix: the deployment's Redis key prefix (names the queue).
        concurrency: jobs this process runs at once.
        sweep_seconds: how often to look for jobs whose worker stopped heartbeating.
    """

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runner"] = runner

    return Worker(
        saq_queue(redis_url, prefix=prefix),
        functions=[(RUN_JOB_TASK, run_ingest_job)],
        concurrency=concurrency,
        startup=startup,
        # SAQ types every timer as required; these are its defaults but for a quicker sweep.
        timers=PartialTimersDict(schedule=1, worker_info=10, sweep=sweep_seconds, abort=1),
        shutdown_grace_period_s=5,
    )
