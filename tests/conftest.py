"""Shared fixtures: real PostgreSQL and Redis (required when CI=true), apps and clients."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from memory.session_store import InProcessSessionStore, RedisSessionStore, SessionStore
from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from tests.support.services import PG_ADMIN_DSN, REDIS_TEST_URL, truncate_all, unavailable


@pytest.fixture(scope="session")
def postgres_url() -> Any:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    name = f"cc_test_{os.getpid()}_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable("PostgreSQL", exc)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis; keys a test writes use its own prefix (see `redis_prefix`)."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    finally:
        client.close()
    return REDIS_TEST_URL


@pytest.fixture(params=["in-process", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """A session store of each kind: in-process, and Redis under the test's own key prefix."""
    if request.param == "in-process":
        yield InProcessSessionStore()
        return
    url = request.getfixturevalue("redis_url")
    prefix = request.getfixturevalue("redis_prefix")
    redis_store = RedisSessionStore(redis=Redis.from_url(url), prefix=prefix)
    yield redis_store
    keys = await redis_store.redis.keys(f"{prefix}*")
    if keys:
        await redis_store.redis.delete(*keys)
    await redis_store.close()


@pytest.fixture(params=["in-process", "redis"])
def limiter_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for rate limits counted in process, or shared in Redis."""
    if request.param == "in-process":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_prefix": request.getfixturevalue("redis_prefix"),
    }


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses."""
    return f"cc-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Each test using this runs once on embedded SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    asyncio.run(truncate_all(url))


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Settings for a test app: its own data folder, the test database, generous limits."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "jwt_secret": secrets.token_urlsafe(48),
            "bcrypt_rounds": 4,
            "rate_limit_upload": "1000/hour",
            "rate_limit_analyze": "1000/hour",
            "rate_limit_training": "1000/minute",
            "rate_limit_login": "1000/minute",
            "rate_limit_register": "1000/hour",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
async def app_client(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A running app on the test database with a client."""
    async with running_app(make_settings()) as pair:
        yield pair


@pytest.fixture
def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    """The client of `app_client`."""
    return app_client[1]


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    """Authorization header of a freshly signed-up user."""
    return await sign_up(client)


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small real recording per accepted format, plus damaged ones."""
    from tests.support.media import write_audio, write_video

    folder = tmp_path_factory.mktemp("media")
    files = {
        "wav": write_audio(folder / "call.wav"),
        "mp3": write_audio(folder / "call.mp3", codec="libmp3lame"),
        "m4a": write_audio(folder / "call.m4a", codec="aac"),
        "mp4": write_video(folder / "pitch.mp4"),
        "mov": write_video(folder / "pitch.mov"),
        "avi": write_video(folder / "pitch.avi"),
        "long_faststart": write_video(
            folder / "long.mp4", seconds=20, options={"movflags": "faststart"}
        ),
    }
    for source, name in (("mp4", "cut.mp4"), ("long_faststart", "cut_faststart.mp4")):
        data = files[source].read_bytes()
        files[name.removesuffix(".mp4")] = folder / name
        (folder / name).write_bytes(data[: len(data) // 2])
    return files


@pytest.fixture(scope="session")
def whisper_models() -> dict[str, Path]:
    """The packaged whisper models ingest (base) and calls (tiny.en) use by default.

    Tests that check what was understood need them: they fail under CI, skip elsewhere, when
    `champion-clone models install` has not put them in place.
    """
    from ingest.packaged_models import installed_model

    found = {name: installed_model(name) for name in ("base", "tiny.en")}
    missing = [name for name, folder in found.items() if folder is None]
    if missing:
        unavailable(f"the whisper model {missing[0]}", FileNotFoundError("run make models"))
    return {name: folder for name, folder in found.items() if folder is not None}


@pytest.fixture(scope="session")
def sales_call() -> Any:
    """The scripted two-speaker sales call, rendered once in two natural voices."""
    from tests.support.dialogue import render_or_skip

    return render_or_skip()


@pytest.fixture(scope="session")
def short_call() -> Any:
    """The call's first twelve turns (about 70 s, one objection): quicker to ingest."""
    from tests.support.dialogue import SALES_CALL, render_or_skip

    return render_or_skip(SALES_CALL[:12])


@pytest.fixture(scope="session")
def call_files(
    tmp_path_factory: pytest.TempPathFactory, sales_call: Any, short_call: Any
) -> dict[str, Path]:
    """Recordings of the generated calls in each container the app accepts."""
    from tests.support.dialogue import (
        SALES_CALL,
        render_or_skip,
        write_mono_wav,
        write_stereo_wav,
        write_video,
        write_video_without_audio,
    )

    folder = tmp_path_factory.mktemp("calls")
    opening = render_or_skip(SALES_CALL[:4])
    return {
        "mp4": write_video(sales_call, folder / "full-call.mp4"),
        "short_stereo": write_stereo_wav(short_call, folder / "short-stereo.wav"),
        "short_mono": write_mono_wav(short_call, folder / "short-mono.wav"),
        "opening_stereo": write_stereo_wav(opening, folder / "opening-stereo.wav"),
        "opening_mov": write_video(opening, folder / "opening.mov"),
        "opening_avi": write_video(opening, folder / "opening.avi"),
        "opening_mp4": write_video(opening, folder / "opening.mp4"),
        "silent_video": write_video_without_audio(folder / "no-audio.mp4", 3.0),
    }
