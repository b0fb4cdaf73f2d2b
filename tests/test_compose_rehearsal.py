"""The compose topology rehearsed as processes: `champion-clone serve` and `champion-clone
worker` run as the image's user (uid 10001, no root groups) with the compose file's own
environment, their own data folders and a media folder owned as the image creates it, on a
fresh PostgreSQL database and a Redis prefix of their own; an upload is ingested by the worker.

What it cannot show (no container runtime in the suite): the images themselves, the named
volumes and the Qdrant server (each process here keeps an embedded index, as without
QDRANT_URL). `bench/compose_stack.py` runs the real stack where Docker is available.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis import Redis

from tests.support.apps import PASSWORD
from tests.support.deployment import RUNTIME_UID, SAMPLE_ENV, compose_app_env
from tests.support.dialogue import SALES_CALL, render_or_skip, write_stereo_wav
from tests.support.services import PG_ADMIN_DSN, closed_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="running the processes as uid 10001 needs root"
)


@pytest.fixture
def rehearsal_root() -> Iterator[Path]:
    """A folder the runtime user can reach (pytest's own tmp folders are root's only)."""
    root = Path(tempfile.mkdtemp(prefix="cc-compose-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    name = f"cc_compose_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    prefix = f"cc-compose:{secrets.token_hex(4)}:"
    yield prefix
    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _owned_folder(path: Path) -> Path:
    """A folder as the Dockerfile makes /data and /media: the runtime user's."""
    path.mkdir()
    os.chown(path, RUNTIME_UID, RUNTIME_UID)
    return path


def _start(command: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Runs ``champion-clone command`` as the runtime user with no supplementary groups.

    This machine's Python may live in root's home (pyenv), which the user cannot enter, so
    the process keeps one capability: reading and searching any file (CAP_DAC_READ_SEARCH).
    Every write is still checked against uid 10001, which is what the image's folders decide.
    """
    executable = Path(sys.executable).with_name("champion-clone")
    identity = [f"--reuid={RUNTIME_UID}", f"--regid={RUNTIME_UID}", "--clear-groups"]
    caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    return subprocess.Popen(
        [shutil.which("setpriv") or "/usr/bin/setpriv", *identity, *caps, str(executable), command],
        env=env,
        text=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.communicate()[0]


async def _until(check: Any, what: str, processes: dict[str, subprocess.Popen[str]]) -> Any:
    for _ in range(900):
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited while waiting for {what}"
        try:
            result = await check()
        except httpx.TransportError:
            result = None
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} did not happen")


async def test_serve_and_worker_as_the_image_user_ingest_an_upload(
    rehearsal_root: Path, fresh_database: str, redis_url: str, prefix: str
) -> None:
    recording = write_stereo_wav(render_or_skip(SALES_CALL[:4]), rehearsal_root / "call.wav")
    media = _owned_folder(rehearsal_root / "media")
    port = closed_port()
    env = compose_app_env(SAMPLE_ENV) | {
        # The services' addresses as this machine has them; no Qdrant server here.
        "DATABASE_URL": fresh_database,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "QDRANT_URL": "",
        "MEDIA_DIR": str(media),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "STT_PROVIDER": "offline",  # the suite's models are root's; the image has its own
        "MODELS_DIR": str(_owned_folder(rehearsal_root / "models")),
        "PATH": os.environ["PATH"],
    }
    processes = {
        command: _start(
            command,
            env
            | {
                "DATA_DIR": str(_owned_folder(rehearsal_root / f"{command}-data")),
                "HOME": str(_owned_folder(rehearsal_root / f"{command}-home")),
            },
        )
        for command in ("serve", "worker")
    }
    app, worker = processes["serve"], processes["worker"]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            async def healthy() -> bool:
                return (await client.get("/health")).status_code == 200

            await _until(healthy, "the app to be healthy", processes)
            email = f"compose-{secrets.token_hex(4)}@example.com"
            account = {"email": email, "password": PASSWORD}
            assert (await client.post("/auth/register", json=account)).status_code == 201
            token = (await client.post("/auth/login", json=account)).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            upload = await client.post(
                "/upload", headers=auth, files={"file": ("call.wav", recording.read_bytes())}
            )
            assert upload.status_code == 202, upload.text
            champion_id, job_id = upload.json()["champion_id"], upload.json()["job_id"]

            async def finished() -> dict[str, Any] | None:
                detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
                done = detail["latest_job"]["status"] in ("completed", "failed")
                return dict(detail) if done else None

            detail = await _until(finished, "the ingest job to finish", processes)
            assert detail["latest_job"]["status"] == "completed", detail.get("error")
            assert detail["status"] == "ready"
    finally:
        app_log, worker_log = _stop(app), _stop(worker)
    # The recording was written by the app and read by the worker, as the runtime user.
    stored = [p for p in media.rglob("*") if p.is_file() and champion_id in str(p)]
    assert stored, app_log
    assert {p.stat().st_uid for p in stored} == {RUNTIME_UID}
    # The worker, not the app, ran the job.
    assert "worker taking ingest jobs from Redis" in worker_log
    assert f"key: {job_id}" in worker_log, worker_log
