"""Holds parallel uploads and progress streams open against a real server on PostgreSQL and
prints what another user's reads cost meanwhile.

    .venv/bin/python -m bench.load [--uploads 30] [--streams 200] [--upload-seconds 5]

The server is uvicorn in a subprocess on a fresh PostgreSQL database (dropped afterwards).
Its ingest jobs wait at a held step, so every progress stream stays open for the whole run;
each upload streams its body slowly, as a slow client does. Meanwhile another user lists
their champions again and again. It prints the uploads and streams held at once, the
answers that were not 2xx, p50/p95 of the other user's ``GET /champions`` idle and under
the load, /health under the load, and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np

from bench.api import _free_port, _peak_rss_mb, _percentiles

PG_ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
BOUNDARY = "bench-load-boundary"
RATE = 16_000
REPO = Path(__file__).resolve().parent.parent


class HeldStep:
    """An ingest step that never ends while the bench runs: jobs, and their streams, stay open."""

    name = "held"

    async def run(self, ctx: object) -> None:
        """Waits (the server is stopped at the end of the run)."""
        await asyncio.Event().wait()


def serve(port: int) -> None:
    """The server side: the app on its settings from the environment, its jobs held."""
    import uvicorn

    from memory.settings import Settings
    from web.app import create_app

    app = create_app(Settings(), ingest_steps=[HeldStep()])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _wav(seconds: float) -> bytes:
    samples = np.random.default_rng(7).normal(0, 2000, int(RATE * seconds))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.clip(-32767, 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


@dataclass
class Load:
    """What the run saw."""

    uploads_in_flight: int = 0
    uploads_held: int = 0
    streams_open: int = 0
    streams_held: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, what: str) -> None:
        """Counts an answer that was not 2xx (or a request that broke off)."""
        self.failures[what] = self.failures.get(what, 0) + 1


async def _slow_body(data: bytes, seconds: float) -> AsyncIterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="call.wav"'
        "\r\nContent-Type: audio/wav\r\n\r\n"
    ).encode()
    pieces = 20
    step = -(-len(data) // pieces)
    for start in range(0, len(data), step):
        yield data[start : start + step]
        await asyncio.sleep(seconds / pieces)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def _upload(
    client: httpx.AsyncClient, auth: dict[str, str], load: Load, data: bytes, seconds: float
) -> None:
    headers = {**auth, "content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    load.uploads_in_flight += 1
    load.uploads_held = max(load.uploads_held, load.uploads_in_flight)
    try:
        response = await client.post("/upload", content=_slow_body(data, seconds), headers=headers)
        if response.status_code != 202:
            load.fail(f"upload {response.status_code}")
    except httpx.HTTPError as exc:
        load.fail(f"upload {type(exc).__name__}")
    finally:
        load.uploads_in_flight -= 1


async def _stream(
    client: httpx.AsyncClient, url: str, auth: dict[str, str], load: Load, started: asyncio.Event
) -> None:
    opened = False
    try:
        async with client.stream("GET", url, headers=auth) as response:
            if response.status_code != 200:
                load.fail(f"stream {response.status_code}")
                return
            async for line in response.aiter_lines():
                if line.startswith("data: ") and not opened:
                    json.loads(line.removeprefix("data: "))
                    opened = True
                    load.streams_open += 1
                    load.streams_held = max(load.streams_held, load.streams_open)
                    started.set()
        load.fail("stream ended early")
    except httpx.HTTPError as exc:
        load.fail(f"stream {type(exc).__name__}")
    finally:
        if opened:
            load.streams_open -= 1
        started.set()


async def _timed_read(client: httpx.AsyncClient, auth: dict[str, str], load: Load) -> float:
    began = time.perf_counter()
    try:
        response = await client.get("/champions", headers=auth)
        if response.status_code != 200:
            load.fail(f"read {response.status_code}")
    except httpx.HTTPError as exc:
        load.fail(f"read {type(exc).__name__}")
    return time.perf_counter() - began


async def _reads_until(
    client: httpx.AsyncClient, auth: dict[str, str], load: Load, until: asyncio.Future[Any]
) -> list[float]:
    samples = [await _timed_read(client, auth, load)]
    while not until.done():
        samples.append(await _timed_read(client, auth, load))
    return samples


async def _account(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    credentials = {"email": email, "password": "bench password"}
    (await client.post("/auth/register", json=credentials)).raise_for_status()
    response = await client.post("/auth/login", json=credentials)
    return {"Authorization": f"Bearer {response.raise_for_status().json()['access_token']}"}


async def run_load(base_url: str, server_pid: int, args: argparse.Namespace) -> None:
    """Drives the load against the server at ``base_url`` and prints the figures."""
    load = Load()
    data = _wav(args.seconds_of_audio)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(60.0, read=None)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        owner = await _account(client, "owner@example.com")
        other = await _account(client, "other@example.com")
        files = {"file": ("call.wav", data, "audio/wav")}
        for auth in (other, owner):
            upload = await client.post("/upload", headers=auth, files=files)
            upload.raise_for_status()
        champion_id = upload.json()["champion_id"]
        idle = [await _timed_read(client, other, load) for _ in range(50)]

        started = [asyncio.Event() for _ in range(args.streams)]
        url = f"/champions/{champion_id}/events"
        streams = [asyncio.create_task(_stream(client, url, owner, load, e)) for e in started]
        await asyncio.gather(*(event.wait() for event in started))
        streams_before_uploads = load.streams_open

        uploads = asyncio.gather(
            *(_upload(client, owner, load, data, args.upload_seconds) for _ in range(args.uploads))
        )
        busy = await _reads_until(client, other, load, uploads)
        health = (await client.get("/health")).status_code
        streams_after = load.streams_open
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)

    failures = ", ".join(f"{n} {what}" for what, n in sorted(load.failures.items())) or "none"
    print(f"PostgreSQL, pool of 5 + 10, {args.upload_seconds:g} s per upload body")
    print(
        f"held at once: {load.uploads_held} uploads, {streams_before_uploads} progress streams "
        f"({streams_after} still open after the uploads)"
    )
    print(f"answers not 2xx (or broken off): {failures}; /health under load: {health}")
    print(f"other user's GET /champions idle: {_percentiles(idle)}")
    print(f"other user's GET /champions under load: {_percentiles(busy)} over {len(busy)} reads")
    print(f"server peak RSS: {_peak_rss_mb(server_pid):.0f} MB")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--upload-seconds", type=float, default=5.0)
    parser.add_argument("--seconds-of-audio", type=float, default=10.0)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    name = f"cc_bench_load_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    database_url = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    work = Path(tempfile.mkdtemp(prefix="cc-bench-load-"))
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "DATA_DIR": str(work / "data"),
        "DATABASE_URL": f"{database_url}/{name}",
        "RATE_LIMIT_UPLOAD": "100000/hour",
        "RATE_LIMIT_LOGIN": "1000/minute",
        "RATE_LIMIT_REGISTER": "1000/minute",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "--serve", str(port)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base_url}/health", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        asyncio.run(run_load(base_url, server.pid, args))
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
