"""The Redis-backed queue with a separate `champion-clone worker` process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from select import select as wait_readable
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy import func, select
from typer.testing import CliRunner

from memory.db import Database
from memory.models import Pattern, Transcript
from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from tests.support.jobs import record_job
from tests.support.services import closed_port
from web.cli import app as cli


@pytest.fixture
def redis_keys_cleaned(redis_url: str, redis_prefix: str) -> Iterator[None]:
    yield
    client = Redis.from_url(redis_url)
    keys = [k for k in client.scan_iter(match=f"*{redis_prefix}*")]
    if keys:
        client.delete(*keys)
    client.close()


def _start_worker(settings: Settings, data_dir: Path) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ["PATH"],
        "ENVIRONMENT": "test",
        "JWT_SECRET": settings.jwt_secret,
        "DATABASE_URL": settings.resolved_database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_PREFIX": settings.redis_prefix,
        "DATA_DIR": str(data_dir),
        "MEDIA_DIR": str(settings.media_dir),
        "JOB_HEARTBEAT_SECONDS": str(settings.job_heartbeat_seconds),
    }
    executable = Path(sys.executable).with_name("champion-clone")
    return subprocess.Popen(
        [str(executable), "worker"],
        env=env,
        text=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def _job_of(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    champion_id: str,
    until: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    for _ in range(600):
        detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
        if until(detail):
            return dict(detail)
        await asyncio.sleep(0.2)
    raise AssertionError(f"job did not finish: {detail}")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_worker_process_runs_jobs_from_redis(
    make_settings: Callable[..., Settings],
    redis_url: str,
    redis_prefix: str,
    redis_keys_cleaned: None,
    call_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    settings = make_settings(
        redis_url=redis_url, redis_prefix=redis_prefix, media_dir=tmp_path / "shared-media"
    )
    async with running_app(settings) as (app, client):
        health = (await client.get("/health")).json()
        assert health["components"]["job_queue"] == {
            "status": "ok",
            "backend": "redis",
            "detail": None,
        }
        auth = await sign_up(client)
        wav = call_files["short_stereo"].read_bytes()
        upload = await client.post("/upload", headers=auth, files={"file": ("a.wav", wav)})
        assert upload.status_code == 202
        champion_id = upload.json()["champion_id"]
        await asyncio.sleep(1.0)
        # No worker yet: the job waits in Redis, recorded as queued.
        waiting = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
        assert waiting["latest_job"]["status"] == "queued"

        worker = _start_worker(settings, tmp_path / "worker-data")
        try:
            done = await _job_of(
                client,
                auth,
                champion_id,
                lambda d: d["latest_job"]["status"] in ("completed", "failed"),
            )
            assert done["latest_job"]["status"] == "completed", done["error"]
            assert done["status"] == "ready"
            assert done["patterns"]

            # Progress from the worker process reaches this app through Redis.
            subscription = await app.state.services.progress.subscribe(champion_id)
            analyze = await client.post(f"/analyze/{champion_id}", headers=auth)
            assert analyze.status_code == 202
            events: list[dict[str, Any]] = []
            while not events or events[-1]["status"] == "running":
                event = await subscription.get(wait_seconds=60)
                assert event is not None, "no progress event arrived from the worker"
                events.append(event)
            await subscription.close()
            assert {e["job_id"] for e in events} == {analyze.json()["job_id"]}
            assert next(e.get("step") for e in events if e["status"] == "running") == "verify"
        finally:
            worker.send_signal(signal.SIGTERM)
            output = worker.communicate(timeout=30)[0]
        assert worker.returncode == 0, output
        assert "worker taking ingest jobs from Redis" in output


def test_the_worker_needs_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "set REDIS_URL" in result.output


async def _record_a_queued_job(settings: Settings) -> None:
    db = Database(url=settings.resolved_database_url)
    try:
        await db.migrate()
        await record_job(db)
    finally:
        await db.close()


def test_a_worker_started_while_redis_is_down_waits_for_it(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    asyncio.run(_record_a_queued_job(settings))
    worker = _start_worker(settings, tmp_path / "worker-data")
    try:
        assert worker.stdout is not None
        lines: list[str] = []
        while not any("job queue unreachable" in line for line in lines):
            ready, _, _ = wait_readable([worker.stdout], [], [], 120)
            assert ready, f"the worker said nothing of Redis: {lines}"
            line = worker.stdout.readline()
            assert line, f"the worker exited: {lines}"
            lines.append(line)
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        output = "".join(lines) + worker.communicate(timeout=60)[0]
    assert worker.returncode == 0, output
    assert output.count("job queue unreachable") == 1, output
    assert "Traceback" not in output


async def test_an_upload_while_redis_is_down_is_kept_and_queued(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with running_app(settings) as (_app, client):
        auth = await sign_up(client)
        wav = media_files["wav"].read_bytes()
        response = await client.post("/upload", headers=auth, files={"file": ("a.wav", wav)})
        assert response.status_code == 202
        detail = (
            await client.get(f"/champions/{response.json()['champion_id']}", headers=auth)
        ).json()
        assert detail["latest_job"]["status"] == "queued"
        assert detail["status"] == "queued"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_killed_worker_leaves_a_job_another_worker_finishes(
    make_settings: Callable[..., Settings],
    redis_url: str,
    redis_prefix: str,
    redis_keys_cleaned: None,
    call_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    settings = make_settings(
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        media_dir=tmp_path / "shared-media",
        job_heartbeat_seconds=2,
    )
    async with running_app(settings) as (app, client):
        auth = await sign_up(client)
        wav = call_files["short_mono"].read_bytes()
        upload = await client.post("/upload", headers=auth, files={"file": ("a.wav", wav)})
        champion_id = upload.json()["champion_id"]

        doomed = _start_worker(settings, tmp_path / "worker-a")
        try:
            await _job_of(
                client, auth, champion_id, lambda d: d["latest_job"]["step"] == "transcribe"
            )
        finally:
            os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its decoder processes
            doomed.wait(timeout=10)
        stopped = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
        assert stopped["latest_job"]["status"] == "running"
        assert stopped["latest_job"]["completed_steps"] == ["verify", "extract"]

        rescuer = _start_worker(settings, tmp_path / "worker-b")
        try:
            done = await _job_of(
                client,
                auth,
                champion_id,
                lambda d: d["latest_job"]["status"] in ("completed", "failed"),
            )
        finally:
            rescuer.send_signal(signal.SIGTERM)
            rescuer.communicate(timeout=30)
        job = done["latest_job"]
        assert job["status"] == "completed", done["error"]
        assert job["attempts"] == 2
        assert job["completed_steps"] == [
            "verify",
            "extract",
            "transcribe",
            "analyse",
            "scenarios",
            "voice",
        ]
        services = app.state.services
        async with services.db.session() as session:
            transcripts = await session.scalar(
                select(func.count())
                .select_from(Transcript)
                .where(Transcript.champion_id == champion_id)
            )
            patterns = await session.scalar(
                select(func.count()).select_from(Pattern).where(Pattern.champion_id == champion_id)
            )
        assert transcripts == 1
        assert patterns == len(done["patterns"]) == len({p["quote"] for p in done["patterns"]})
    # Without QDRANT_URL each worker keeps its own embedded index; the rescuer's has them all.
    from memory.vectors import VectorStore

    store = VectorStore(path=tmp_path / "worker-b" / "qdrant")
    try:
        assert await store.count(champion_id=champion_id) == patterns
    finally:
        await store.close()
