"""Hands a job queue, now and then, the unfinished jobs SQL records that it may not hold.

A job accepted while Redis was down, or lost with a Redis restart, stays queued in SQL (the
record of truth) and no worker would ever see it. Every process that holds a queue (the
app, each `champion-clone worker`) runs a `Resubmitter`, so such a job reaches a worker once
the queue is back, without a restart. Re-submitting is safe (see `ingest.queue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ingest.queue import JobQueue

logger = logging.getLogger(__name__)

RESUBMIT_SECONDS = 20.0


class Resubmitter:
    """Calls ``queue.resume_unfinished()`` at once and then every ``interval_seconds``.

    While the queue (or the database) cannot be reached it says so once and keeps trying.

    Args:
        queue: the queue to hand unfinished jobs to.
        interval_seconds: the pause between two passes.
    """

    def __init__(self, *, queue: JobQueue, interval_seconds: float = RESUBMIT_SECONDS) -> None:
        self.queue = queue
        self.interval_seconds = interval_seconds
        self.passes = 0  # completed passes, failed or not
        self.reachable = True
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """One pass; returns how many jobs the queue took (0 when it could not be reached)."""
        try:
            await self.queue.ping()  # so an outage is noticed with no job to hand over
            taken = await self.queue.resume_unfinished()
        except Exception as exc:
            if self.reachable:
                logger.warning(
                    "job queue unreachable: unfinished jobs are handed to it once it is back (%s)",
                    type(exc).__name__,
                )
            self.reachable = False
            return 0
        finally:
            self.passes += 1
        if not self.reachable:
            logger.info("job queue reachable again")
        self.reachable = True
        if taken:
            logger.info("handed %d unfinished ingest jobs to the job queue", taken)
        return taken

    async def run(self) -> None:
        """Passes forever, until cancelled."""
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval_seconds)

    def start(self) -> None:
        """Runs `run` as a task of the current event loop."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="resubmit-unfinished-jobs")

    async def stop(self) -> None:
        """Stops the task started by `start`."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
