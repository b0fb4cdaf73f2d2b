"""X-Forwarded-For is believed only from the proxies in FORWARDED_ALLOW_IPS: a client cannot
buy a fresh sign-in budget by sending a new header value with each guess."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from memory.settings import Settings
from tests.support.apps import PASSWORD, running_app
from web.cli import server_options

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@asynccontextmanager
async def served(app: FastAPI, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Serves ``app`` (lifespan already running) with uvicorn as ``champion-clone serve``
    runs it; yields a client of it. The socket listens before uvicorn starts, so requests
    queue until it accepts them."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="off", **server_options(settings))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _logins(client: httpx.AsyncClient, forwarded_for: list[str]) -> list[int]:
    body = {"email": "nobody@example.com", "password": PASSWORD}
    return [
        (await client.post("/auth/login", json=body, headers={"X-Forwarded-For": ip})).status_code
        for ip in forwarded_for
    ]


NEW_EACH_TIME = [f"203.0.113.{i}" for i in range(11)]


@sqlite_only
async def test_a_forged_forwarded_for_buys_no_fresh_budget_from_the_server(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_login="10/minute")
    async with running_app(settings) as (app, _), served(app, settings) as client:
        assert await _logins(client, NEW_EACH_TIME) == [401] * 10 + [429]


@sqlite_only
async def test_a_configured_proxy_names_the_client(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_login="10/minute", forwarded_allow_ips="127.0.0.1")
    async with running_app(settings) as (app, _), served(app, settings) as client:
        assert await _logins(client, NEW_EACH_TIME) == [401] * 11
        assert await _logins(client, ["198.51.100.7"] * 11) == [401] * 10 + [429]


@sqlite_only
@pytest.mark.parametrize(("allowed", "limited"), [("", True), ("127.0.0.1", False)])
async def test_the_app_decides_under_any_server(
    make_settings: Callable[..., Settings], allowed: str, limited: bool
) -> None:
    """Without uvicorn at all (the test client's peer is 127.0.0.1)."""
    settings = make_settings(rate_limit_login="10/minute", forwarded_allow_ips=allowed)
    async with running_app(settings) as (_app, client):
        codes = await _logins(client, NEW_EACH_TIME)
    assert codes[-1] == (429 if limited else 401)


@sqlite_only
async def test_a_peer_that_is_not_a_configured_proxy_is_not_believed(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(rate_limit_login="10/minute", forwarded_allow_ips="10.0.0.1")
    async with running_app(settings) as (app, _), served(app, settings) as client:
        assert await _logins(client, NEW_EACH_TIME) == [401] * 10 + [429]
