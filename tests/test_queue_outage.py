"""Jobs recorded while the queue was unreachable still run, once, when it is back."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis, RedisError
from saq import Queue

from ingest.queue import InProcessJobQueue, RedisJobQueue, run_ingest_job, saq_queue
from ingest.resubmit import Resubmitter
from ingest.runner import JobRunner, StepContext
from ingest.worker import build_worker
from memory.db import Database
from memory.models import utcnow
from memory.queries import jobs as job_queries
from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from tests.support.jobs import record_job
from tests.support.services import closed_port, unavailable

DEADLINE_SECONDS = 90.0


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Polls ``condition`` until it holds, failing after a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _answers(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except RedisError:
        return False


class OwnRedis:
    """A redis-server of this test's own, to stop and start again (no persistence)."""

    def __init__(self, directory: Path) -> None:
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Starts the server and waits until it answers."""
        server = shutil.which("redis-server")
        if server is None:
            unavailable("redis-server", FileNotFoundError("redis-server"))
        assert server is not None
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        options["dir"] = str(self.directory)
        self.process = subprocess.Popen(
            [server, *(part for k, v in options.items() for part in (f"--{k}", v))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while not _answers(client):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Stops the server (its data is gone, as after a restart without persistence)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class CountingStep:
    """Records every run, by job id."""

    name: str = "verify"
    runs: list[str] = field(default_factory=list)

    async def run(self, ctx: StepContext) -> None:
        self.runs.append(ctx.job_id)
        await ctx.report(1.0)


async def _status(db: Database, job_id: str) -> tuple[str, int]:
    async with db.session() as session:
        job = await job_queries.get_job(session, job_id=job_id)
        assert job is not None
        return job.status, job.attempts


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_uploads_during_a_redis_outage_run_once_when_it_is_back(
    make_settings: Callable[..., Settings],
    media_files: dict[str, Path],
    own_redis: OwnRedis,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        redis_url=own_redis.url, redis_prefix=redis_prefix, job_heartbeat_seconds=2
    )
    async with running_app(settings) as (_app, client):
        auth = await sign_up(client)
        own_redis.stop()

        # A worker that starts while Redis is down waits for it instead of exiting.
        step = CountingStep()
        worker_db = Database(url=settings.resolved_database_url)
        worker = build_worker(
            runner=JobRunner(db=worker_db, steps=[step]),
            redis_url=own_redis.url,
            prefix=redis_prefix,
            sweep_seconds=1,
            heartbeat_seconds=2,
            resubmit_seconds=0.2,
        )
        working = asyncio.create_task(worker.start())
        try:
            caplog.set_level(logging.WARNING, logger="web.services")
            wav = media_files["wav"].read_bytes()
            job_ids = []
            for name in ("a.wav", "b.wav"):
                upload = await client.post("/upload", headers=auth, files={"file": (name, wav)})
                assert upload.status_code == 202, upload.text
                job_ids.append(upload.json()["job_id"])
            outage_warnings = [
                r
                for r in caplog.records
                if r.name == "web.services" and r.levelno == logging.WARNING
            ]
            assert len(outage_warnings) == 1, [r.getMessage() for r in outage_warnings]
            assert "job queue unreachable" in outage_warnings[0].getMessage()
            for job_id in job_ids:
                assert await _status(worker_db, job_id) == ("queued", 0)

            async def resubmitter_failed() -> bool:
                resubmitter = worker.context.get("resubmitter")
                return resubmitter is not None and not resubmitter.reachable

            await until(resubmitter_failed, "the worker to find Redis down")
            assert not working.done()

            own_redis.start()  # empty: nothing of the jobs survives in Redis

            async def all_completed() -> bool:
                statuses = [(await _status(worker_db, job_id))[0] for job_id in job_ids]
                return statuses == ["completed"] * len(job_ids)

            await until(all_completed, "the jobs to complete")
            resubmitter = worker.context["resubmitter"]
            passes = resubmitter.passes

            async def two_more_passes() -> bool:
                return resubmitter.passes >= passes + 2

            await until(two_more_passes, "two more resubmitter passes")
            assert sorted(step.runs) == sorted(job_ids)
            for job_id in job_ids:
                assert await _status(worker_db, job_id) == ("completed", 1)
            assert not working.done()
        finally:
            worker.event.set()
            await asyncio.wait_for(working, 30)
            await worker.queue.disconnect()
            await worker_db.close()


@dataclass
class FlakyQueue:
    """A queue that cannot be reached for its first ``down_passes`` pings."""

    down_passes: int
    pings: int = 0
    backend: str = "fake"

    async def ping(self) -> None:
        self.pings += 1
        if self.pings <= self.down_passes:
            raise ConnectionError("refused")

    async def resume_unfinished(self) -> int:
        return 1

    async def submit(self, job_id: str) -> None:
        raise NotImplementedError

    async def cancel(self, job_id: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


async def test_the_resubmitter_says_once_that_the_queue_is_down_and_once_that_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.resubmit")
    resubmitter = Resubmitter(queue=FlakyQueue(down_passes=3))
    taken = [await resubmitter.run_once() for _ in range(5)]
    assert taken == [0, 0, 0, 1, 1]
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert [m for m in messages if m[0] == logging.WARNING] == [
        (
            logging.WARNING,
            "job queue unreachable: unfinished jobs are handed to it once it is back "
            "(ConnectionError)",
        )
    ]
    assert (logging.INFO, "job queue reachable again") in messages
    assert resubmitter.passes == 5


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(url=database_url)
    await database.migrate()
    yield database
    await database.close()


async def test_in_process_a_job_whose_start_failed_runs_on_the_next_pass(db: Database) -> None:
    # The database blinks as the job starts: nothing is written and the job stays queued.
    step = CountingStep()

    class BlinkingRunner(JobRunner):
        blinked = False

        async def run_job(self, job_id: str) -> None:
            if not self.blinked:
                self.blinked = True
                raise ConnectionRefusedError("database restarting")
            await super().run_job(job_id)

    queue = InProcessJobQueue(runner=BlinkingRunner(db=db, steps=[step]))
    job = await record_job(db)
    await queue.submit(job.id)
    await queue.wait(job.id)
    assert await _status(db, job.id) == ("queued", 0)

    resubmitter = Resubmitter(queue=queue, interval_seconds=0.05)
    resubmitter.start()
    try:

        async def completed() -> bool:
            return await _status(db, job.id) == ("completed", 1)

        await until(completed, "the job to complete")
    finally:
        await resubmitter.stop()
        await queue.close()
    assert step.runs == [job.id]


@pytest.fixture
def saq(redis_url: str, redis_prefix: str) -> Iterator[Queue]:
    queue = saq_queue(redis_url, prefix=redis_prefix)
    yield queue
    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{redis_prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


async def test_redis_takes_the_jobs_no_worker_holds_and_only_those(
    db: Database, saq: Queue
) -> None:
    queue = RedisJobQueue(queue=saq, db=db, heartbeat_seconds=2)
    idle = utcnow() - timedelta(seconds=60)
    waiting = await record_job(db)
    running_here = await record_job(db, status="running", attempts=1)  # its row was just written
    running_nowhere = await record_job(db, status="running", attempts=1)
    finished = await record_job(db, status="completed")
    async with db.session() as session:
        await job_queries.update_job(session, job_id=running_nowhere.id, updated_at=idle)
        await job_queries.update_job(session, job_id=finished.id, updated_at=idle)
        await session.commit()
    try:
        assert await queue.resume_unfinished() == 2
        unfinished = (waiting.id, running_here.id, running_nowhere.id)
        assert {key for key in unfinished if await saq.job(key) is not None} == {
            waiting.id,
            running_nowhere.id,
        }
        assert await saq.job(finished.id) is None
        # SAQ holds them now: handing them over again adds nothing.
        assert await queue.resume_unfinished() == 0
        assert await saq.count("queued") == 2
    finally:
        await saq.disconnect()


async def test_a_running_job_keeps_its_row_fresh_while_redis_is_down(db: Database) -> None:
    step_started = asyncio.Event()
    release = asyncio.Event()

    class Waiting:
        name = "transcribe"

        async def run(self, ctx: StepContext) -> None:
            step_started.set()
            await release.wait()

    class RedisDown:
        heartbeat = 1

        async def update(self) -> None:
            raise ConnectionRefusedError("redis is down")

    runner = JobRunner(db=db, steps=[Waiting()])
    job = await record_job(db)
    running = asyncio.create_task(
        run_ingest_job({"runner": runner, "job": RedisDown()}, job_id=job.id)
    )
    try:
        await asyncio.wait_for(step_started.wait(), DEADLINE_SECONDS)
        started_at = await _updated_at(db, job.id)

        async def beaten() -> bool:
            return await _updated_at(db, job.id) > started_at

        await until(beaten, "a heartbeat to reach the job's row")
        stamp = await _updated_at(db, job.id)

        async def beaten_again() -> bool:
            return await _updated_at(db, job.id) > stamp

        await until(beaten_again, "a heartbeat after a failed one")
    finally:
        release.set()
        await asyncio.wait_for(running, DEADLINE_SECONDS)
    assert await _status(db, job.id) == ("completed", 1)


async def _updated_at(db: Database, job_id: str) -> datetime:
    async with db.session() as session:
        job = await job_queries.get_job(session, job_id=job_id)
        assert job is not None
        await session.refresh(job)
        return job.updated_at


async def test_in_process_a_cancelled_job_is_not_handed_over_again(db: Database) -> None:
    started = asyncio.Event()
    runs: list[str] = []

    class Slow:
        name = "transcribe"

        async def run(self, ctx: StepContext) -> None:
            runs.append(ctx.job_id)
            started.set()
            await asyncio.sleep(DEADLINE_SECONDS)

    queue = InProcessJobQueue(runner=JobRunner(db=db, steps=[Slow()]))
    job = await record_job(db)
    await queue.submit(job.id)
    await asyncio.wait_for(started.wait(), DEADLINE_SECONDS)
    await queue.cancel(job.id)  # its champion is being deleted; the row is still there
    try:
        assert await _status(db, job.id) == ("running", 1)
        assert await queue.resume_unfinished() == 0
        await queue.submit(job.id)
        await queue.wait(job.id)
        assert runs == [job.id]
    finally:
        await queue.close()
