"""A worker process: takes ingest jobs from the Redis queue and runs them."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Worker
from saq.types import PartialTimersDict

from ingest.queue import (
    JOB_HEARTBEAT_SECONDS,
    RUN_JOB_TASK,
    RedisJobQueue,
    run_ingest_job,
    saq_queue,
)
from ingest.resubmit import RESUBMIT_SECONDS, Resubmitter
from ingest.runner import JobRunner

SWEEP_SECONDS = 15


class _RedisDownFilter(logging.Filter):
    """Drops SAQ's traceback for each upkeep call that fails while Redis is down (several
    a second); the `Resubmitter` says once that the queue is unreachable, and when it is back.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        down = isinstance(error, RedisConnectionError | RedisTimeoutError | OSError)
        return not (down and record.msg == "Upkeep task failed unexpectedly")


def _quiet_saq_while_redis_is_down() -> None:
    saq_logger = logging.getLogger("saq")
    if not any(isinstance(f, _RedisDownFilter) for f in saq_logger.filters):
        saq_logger.addFilter(_RedisDownFilter())


def build_worker(
    *,
    runner: JobRunner,
    redis_url: str,
    prefix: str,
    concurrency: int = 1,
    sweep_seconds: int = SWEEP_SECONDS,
    heartbeat_seconds: int = JOB_HEARTBEAT_SECONDS,
    resubmit_seconds: float = RESUBMIT_SECONDS,
) -> Worker:
    """A SAQ worker that runs jobs with ``runner``.

    It also hands the queue, at start and every ``resubmit_seconds``, the unfinished jobs
    SQL records that the queue may not hold (`ingest.resubmit`); while Redis is down it
    waits for it rather than exiting. The `Resubmitter` is ``worker.context["resubmitter"]``
    once the worker has started.

    Args:
        runner: executes each job (it holds the database, stores and steps).
        redis_url: the deployment's Redis.
        prefix: the deployment's Redis key prefix (names the queue).
        concurrency: jobs this process runs at once.
        sweep_seconds: how often to look for jobs whose worker stopped heartbeating.
        heartbeat_seconds: the heartbeat of the jobs this worker (re-)submits.
        resubmit_seconds: how often to look for unfinished jobs the queue does not hold.
    """
    _quiet_saq_while_redis_is_down()
    queue = saq_queue(redis_url, prefix=prefix)
    resubmitter = Resubmitter(
        queue=RedisJobQueue(queue=queue, db=runner.db, heartbeat_seconds=heartbeat_seconds),
        interval_seconds=resubmit_seconds,
    )

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["runner"] = runner
        ctx["resubmitter"] = resubmitter
        resubmitter.start()

    async def shutdown(ctx: dict[str, Any]) -> None:
        await resubmitter.stop()

    return Worker(
        queue,
        functions=[(RUN_JOB_TASK, run_ingest_job)],
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        # SAQ types every timer as required; these are its defaults but for a quicker sweep.
        timers=PartialTimersDict(schedule=1, worker_info=10, sweep=sweep_seconds, abort=1),
        shutdown_grace_period_s=5,
    )
