"""Rate limits per user and per client address, in process and shared through Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from memory.settings import RateLimit, Settings, SettingsError
from tests.support.apps import PASSWORD, running_app, sign_up
from tests.support.services import closed_port


async def _login(client: httpx.AsyncClient, email: str = "x@example.com") -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": PASSWORD})


async def test_login_limit_answers_429_with_retry_after(
    make_settings: Callable[..., Settings], limiter_settings: dict[str, str]
) -> None:
    extra = limiter_settings
    async with running_app(make_settings(rate_limit_login="3/minute", **extra)) as (_app, client):
        await client.post("/auth/register", json={"email": "x@example.com", "password": PASSWORD})
        statuses = [(await _login(client)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await _login(client)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "try again in" in limited.json()["detail"]
        # Wrong passwords count too: the limit is what stops password guessing.
        assert (await _login(client, "other@example.com")).status_code == 429


async def test_redis_limit_is_shared_by_two_app_processes(
    make_settings: Callable[..., Settings], redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        rate_limit_login="4/minute", redis_url=redis_url, redis_prefix=redis_prefix
    )
    other = settings.model_copy(update={"data_dir": settings.data_dir.with_name("other")})
    async with running_app(settings) as (_a, first), running_app(other) as (_b, second):
        await first.post("/auth/register", json={"email": "x@example.com", "password": PASSWORD})
        codes = [(await _login(c)).status_code for c in (first, second, first, second)]
        assert codes == [200, 200, 200, 200]
        assert (await _login(first)).status_code == 429
        assert (await _login(second)).status_code == 429
    redis = Redis.from_url(redis_url)
    keys = await redis.keys(f"{redis_prefix}rate:*")
    await redis.delete(*keys)
    await redis.aclose()
    assert len([key for key in keys if b"rate:login:" in key]) == 1


async def test_window_resets(make_settings: Callable[..., Settings]) -> None:
    async with running_app(make_settings(rate_limit_login="1/1s")) as (_app, client):
        assert (await _login(client)).status_code == 401
        assert (await _login(client)).status_code == 429
        await asyncio.sleep(1.1)
        assert (await _login(client)).status_code == 401


async def test_upload_limit_is_per_user(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    wav = media_files["wav"].read_bytes()
    async with running_app(make_settings(rate_limit_upload="2/hour")) as (app, client):
        alice, bob = await sign_up(client), await sign_up(client)
        for _ in range(2):
            response = await client.post("/upload", headers=alice, files={"file": ("a.wav", wav)})
            assert response.status_code == 202
        refused = await client.post("/upload", headers=alice, files={"file": ("a.wav", wav)})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 3000
        assert len((await client.get("/champions", headers=alice)).json()) == 2
        ok = await client.post("/upload", headers=bob, files={"file": ("a.wav", wav)})
        assert ok.status_code == 202
        for champion in (await client.get("/champions", headers=alice)).json():
            await app.state.services.jobs.wait(
                (await client.get(f"/champions/{champion['id']}", headers=alice)).json()[
                    "latest_job"
                ]["id"]
            )


async def test_analyze_limit(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    wav = media_files["wav"].read_bytes()
    async with running_app(make_settings(rate_limit_analyze="1/hour")) as (app, client):
        auth = await sign_up(client)
        upload = await client.post("/upload", headers=auth, files={"file": ("a.wav", wav)})
        champion_id = upload.json()["champion_id"]
        await app.state.services.jobs.wait(upload.json()["job_id"])
        first = await client.post(f"/analyze/{champion_id}", headers=auth)
        assert first.status_code == 202
        await app.state.services.jobs.wait(first.json()["job_id"])
        assert (await client.post(f"/analyze/{champion_id}", headers=auth)).status_code == 429


@pytest.mark.parametrize(
    ("text", "limit", "window"),
    [
        ("10/hour", 10, 3600),
        ("60/minute", 60, 60),
        ("5/30s", 5, 30),
        ("2/day", 2, 86400),
        ("3 / 2 minutes", 3, 120),
    ],
)
def test_rate_limit_parsing(text: str, limit: int, window: int) -> None:
    parsed = RateLimit.parse(text)
    assert (parsed.limit, parsed.window_seconds) == (limit, window)


@pytest.mark.parametrize("text", ["ten/hour", "10/fortnight", "0/hour", "10", ""])
def test_bad_rate_limits_are_refused(text: str) -> None:
    with pytest.raises(SettingsError):
        RateLimit.parse(text)


async def test_limits_still_hold_per_process_while_redis_is_down(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        rate_limit_login="2/minute", redis_url=f"redis://127.0.0.1:{closed_port()}/0"
    )
    async with running_app(settings) as (_app, client):
        assert [(await _login(client)).status_code for _ in range(3)] == [401, 401, 429]


async def test_registration_is_limited_per_client_address(
    make_settings: Callable[..., Settings], limiter_settings: dict[str, str]
) -> None:
    settings = make_settings(rate_limit_register="2/hour", **limiter_settings)
    async with running_app(settings) as (_app, client):

        async def register(email: str) -> httpx.Response:
            return await client.post("/auth/register", json={"email": email, "password": PASSWORD})

        assert (await register("r1@example.com")).status_code == 201
        assert (await register("r1@example.com")).status_code == 409  # a refusal counts too
        limited = await register("r2@example.com")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 3000
        login = await client.post(
            "/auth/login", json={"email": "r2@example.com", "password": PASSWORD}
        )
        assert login.status_code == 401  # no account was made


def test_registration_limit_defaults_to_five_an_hour() -> None:
    limit = Settings(_env_file=None).rate_limit("register")  # type: ignore[call-arg]
    assert (limit.limit, limit.window_seconds) == (5, 3600)
