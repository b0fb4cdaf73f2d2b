"""The database pool under load: parallel uploads, progress streams held open and another
user's reads are all answered, on PostgreSQL and on SQLite.

A request holds a pooled connection only while its own queries run, never while it waits for
its body to stream in, for a stream's next event or for a second session; so a pool of 15
serves far more open requests than that. The pool's wait is cut to a few seconds here, so a
request that holds a connection while it waits shows up as an exhausted pool (a 5xx, or a
stream that never starts) instead of a 30 s stall.

The app runs under uvicorn on loopback: httpx's ASGI transport would buffer each stream whole.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import memory.db
from ingest.runner import StepContext
from memory.db import POOL_MAX_OVERFLOW, POOL_SIZE
from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from tests.support.serving import serving
from web.app import create_app

POOL_TIMEOUT_SECONDS = 3.0
# Far above any answer's time on a busy machine, far below a stall's.
CLIENT_TIMEOUT = httpx.Timeout(20.0)
STREAM_TIMEOUT = httpx.Timeout(20.0, read=None)  # a stream waits on the job between events
STREAMS = 20
UPLOADS = 30
READS = 20


class GateStep:
    """An ingest step that waits until the test opens it, so jobs (and streams) stay open."""

    name = "gate"

    def __init__(self) -> None:
        self.opened = asyncio.Event()

    async def run(self, ctx: StepContext) -> None:
        """Waits for the gate."""
        await self.opened.wait()


@pytest.fixture
async def served(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, str, GateStep]]:
    """An app whose ingest jobs wait at a gate, served over loopback, with a short pool wait."""
    monkeypatch.setattr(memory.db, "POOL_TIMEOUT_SECONDS", POOL_TIMEOUT_SECONDS)
    gate = GateStep()
    app = create_app(make_settings(), ingest_steps=[gate])
    async with app.router.lifespan_context(app), serving(app) as base_url:
        try:
            yield app, base_url, gate
        finally:
            gate.opened.set()


def _file(path: Path) -> dict[str, Any]:
    return {"file": (path.name, path.read_bytes(), "audio/wav")}


async def _follow(
    client: httpx.AsyncClient, url: str, auth: dict[str, str], started: asyncio.Event
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with client.stream("GET", url, headers=auth, timeout=STREAM_TIMEOUT) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                started.set()
    return events


async def _all_started(streams: list[asyncio.Task[Any]], started: list[asyncio.Event]) -> None:
    """Returns once every stream has had its first event; fails as soon as one ends first."""
    waiting = asyncio.ensure_future(asyncio.gather(*(event.wait() for event in started)))
    await asyncio.wait(
        [waiting, *streams], timeout=CLIENT_TIMEOUT.read, return_when="FIRST_COMPLETED"
    )
    if not waiting.done():
        waiting.cancel()
        for stream in streams:
            stream.cancel()
        ended = await asyncio.gather(*streams, return_exceptions=True)
        errors = [repr(e) for e in ended if not isinstance(e, asyncio.CancelledError)]
        opened = sum(event.is_set() for event in started)
        pytest.fail(f"{opened} of {len(started)} streams started; ended with: {errors[:3]}")


async def test_uploads_streams_and_reads_in_parallel_are_all_answered(
    served: tuple[FastAPI, str, GateStep], media_files: dict[str, Path]
) -> None:
    _app, base_url, gate = served
    wav = media_files["wav"]
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    client = httpx.AsyncClient(base_url=base_url, timeout=CLIENT_TIMEOUT, limits=limits)
    async with client:
        owner, other = await sign_up(client), await sign_up(client)
        first = await client.post("/upload", headers=owner, files=_file(wav))
        assert first.status_code == 202, first.text
        champion_id = first.json()["champion_id"]
        theirs = await client.post("/upload", headers=other, files=_file(wav))
        assert theirs.status_code == 202, theirs.text

        # Every stream is open at once: each has had the job's current state.
        started = [asyncio.Event() for _ in range(STREAMS)]
        url = f"/champions/{champion_id}/events"
        streams = [asyncio.create_task(_follow(client, url, owner, e)) for e in started]
        await _all_started(streams, started)

        uploads = [client.post("/upload", headers=owner, files=_file(wav)) for _ in range(UPLOADS)]
        reads = [client.get("/champions", headers=other) for _ in range(READS)]
        answers = await asyncio.gather(*uploads, *reads, client.get("/health"))

        statuses = [a.status_code for a in answers]
        assert statuses == [202] * UPLOADS + [200] * READS + [200], [
            a.text for a in answers if a.status_code >= 300
        ][:3]
        for read in answers[UPLOADS:-1]:
            assert [c["id"] for c in read.json()] == [theirs.json()["champion_id"]]
        assert not any(stream.done() for stream in streams)

        gate.opened.set()
        followed = await asyncio.wait_for(asyncio.gather(*streams), CLIENT_TIMEOUT.read)
        for events in followed:
            assert events[0]["status"] in ("queued", "running")
            assert events[-1]["status"] == "completed"
        listing = await client.get("/champions", headers=owner)
        assert len(listing.json()) == UPLOADS + 1


async def test_an_exhausted_pool_answers_503_with_retry_after(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory.db, "POOL_TIMEOUT_SECONDS", 0.5)
    async with running_app(make_settings()) as (app, client):
        auth = await sign_up(client)
        engine = app.state.services.db.engine
        held = [await engine.connect() for _ in range(POOL_SIZE + POOL_MAX_OVERFLOW)]
        try:
            busy = await client.get("/champions", headers=auth)
        finally:
            for connection in held:
                await connection.close()
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) > 0
        assert "busy" in busy.json()["detail"]
        assert (await client.get("/champions", headers=auth)).status_code == 200
