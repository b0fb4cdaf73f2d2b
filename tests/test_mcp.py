"""The agents' MCP server, driven by the official SDK's client: over stdio (the
`champion-clone mcp` command in its own process) and over streamable HTTP at /mcp."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from agents.mcp_server import mcp_name
from agents.registry import agents_for
from memory.settings import Settings
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.training import seed_ready_champion

CLI = Path(sys.executable).parent / "champion-clone"
TIMEOUT = timedelta(seconds=60)


def _text(result: CallToolResult) -> str:
    assert result.content and isinstance(result.content[0], TextContent)
    return result.content[0].text


def _cli_env(settings: Settings) -> dict[str, str]:
    """The environment that points a `champion-clone` process at the test's stores."""
    return {
        "ENVIRONMENT": "test",
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.resolved_database_url,
        "JWT_SECRET": settings.jwt_secret,
    }


@asynccontextmanager
async def _http_session(app: FastAPI, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as c,
        streamable_http_client("http://testserver/mcp", http_client=c) as (read, write, _),
        ClientSession(read, write, read_timeout_seconds=TIMEOUT) as session,
    ):
        await session.initialize()
        yield session


async def _check_tool_errors(session: ClientSession, session_id: str) -> None:
    """A bad input and an unknown tool answer as tool errors; the session goes on."""
    bad = await session.call_tool("training_process_response", {"session_id": session_id})
    assert bad.isError
    assert _text(bad) == "bad input for process_response: message: Field required"

    wrong_type = await session.call_tool("training_start_session", {"champion_id": 7})
    assert wrong_type.isError
    assert "champion_id: Input should be a valid string" in _text(wrong_type)

    unknown = await session.call_tool("training_fly_to_the_moon", {})
    assert unknown.isError
    assert _text(unknown).startswith("there is no tool 'training_fly_to_the_moon'")
    assert "training_start_session" in _text(unknown)


async def test_tools_over_streamable_http(make_settings: Callable[..., Settings]) -> None:
    async with running_app(make_settings()) as (app, client):
        auth = await sign_up(client)
        user_id = await current_user_id(client, auth)
        champion_id = await seed_ready_champion(app, user_id)
        expected = {
            mcp_name(agent_name, spec.name): spec
            for agent_name, agent in agents_for(app.state.services.agent_deps(), user_id).items()
            for spec in agent.tools
        }

        async with _http_session(app, auth) as session:
            listed = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(listed) == set(expected)
            assert {"training_start_session", "training_process_response"} <= set(listed)
            start = listed["training_start_session"]
            assert start.inputSchema == expected["training_start_session"].input_schema
            assert start.inputSchema["required"] == ["champion_id"]

            started = await session.call_tool(
                "training_start_session", {"champion_id": champion_id, "difficulty": "easy"}
            )
            assert not started.isError, _text(started)
            session_id = json.loads(_text(started))["session_id"]
            assert started.structuredContent and started.structuredContent["session_id"]
            assert started.structuredContent["session_id"] == session_id

            reply = await session.call_tool(
                "training_process_response",
                {"session_id": session_id, "message": "What does onboarding cost you today?"},
            )
            assert not reply.isError, _text(reply)
            assert 0 <= json.loads(_text(reply))["score"] <= 100

            await _check_tool_errors(session, session_id)

        # The session is the token's user's: the API shows it to them, and another
        # user's token cannot reach it through MCP.
        detail = await client.get(f"/training/sessions/{session_id}", headers=auth)
        assert detail.status_code == 200
        assert [t["role"] for t in detail.json()["turns"]] == ["ai", "trainee", "ai"]
        async with _http_session(app, await sign_up(client)) as other:
            theirs = await other.call_tool("training_get_session", {"session_id": session_id})
            assert theirs.isError
            assert "onboarding" not in _text(theirs)


_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
_ACCEPT = {"Accept": "application/json, text/event-stream"}


async def test_http_needs_a_valid_token(make_settings: Callable[..., Settings]) -> None:
    initialize, accept = _INITIALIZE, _ACCEPT
    async with running_app(make_settings()) as (_app, client):
        missing = await client.post("/mcp", json=initialize, headers=accept)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "sign in first" in missing.json()["detail"]

        bad = await client.post(
            "/mcp", json=initialize, headers={**accept, "Authorization": "Bearer not-a-token"}
        )
        assert bad.status_code == 401
        assert bad.json()["detail"] == "token is invalid; sign in again"

        good = await client.post(
            "/mcp", json=initialize, headers={**accept, **await sign_up(client)}
        )
        assert good.status_code == 200
        assert good.json()["result"]["serverInfo"]["name"] == "champion-clone"


async def test_http_is_rate_limited_per_user(
    make_settings: Callable[..., Settings], limiter_settings: dict[str, str]
) -> None:
    extra = limiter_settings
    settings = make_settings(rate_limit_mcp="2/minute", **extra)
    async with running_app(settings) as (_app, client):
        alice, bob = await sign_up(client), await sign_up(client)

        async def post(auth: dict[str, str]) -> httpx.Response:
            return await client.post("/mcp", json=_INITIALIZE, headers={**_ACCEPT, **auth})

        assert [(await post(alice)).status_code for _ in range(2)] == [200, 200]
        limited = await post(alice)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["detail"].startswith("too many requests; try again in")

        # Another user's requests are counted apart and still reach the server.
        other = await post(bob)
        assert other.status_code == 200
        assert other.json()["result"]["serverInfo"]["name"] == "champion-clone"
        assert (await post(alice)).status_code == 429


async def test_tools_over_stdio_beside_the_running_app(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """`champion-clone mcp --user EMAIL` acts for that account on the app's stores, while
    the app holds the embedded Qdrant folder (the command then indexes in memory)."""
    settings = make_settings()
    email = f"mcp-{uuid.uuid4().hex[:8]}@example.com"
    async with running_app(settings) as (app, client):
        auth = await sign_up(client, email)
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        server = StdioServerParameters(
            command=str(CLI),
            args=["mcp", "--user", email.upper()],
            env=_cli_env(settings),
            cwd=tmp_path,
        )
        with (tmp_path / "mcp-stderr.log").open("w") as errlog:
            async with (
                stdio_client(server, errlog=errlog) as (read, write),
                ClientSession(read, write, read_timeout_seconds=TIMEOUT) as session,
            ):
                info = await session.initialize()
                assert info.serverInfo.name == "champion-clone"
                names = {tool.name for tool in (await session.list_tools()).tools}
                assert {"training_start_session", "training_end_session"} <= names

                started = await session.call_tool(
                    "training_start_session", {"champion_id": champion_id}
                )
                assert not started.isError, _text(started)
                session_id = json.loads(_text(started))["session_id"]
                await _check_tool_errors(session, session_id)

                ended = await session.call_tool("training_end_session", {"session_id": session_id})
                assert not ended.isError, _text(ended)
                assert json.loads(_text(ended))["status"] == "ended"

        # Written to the shared database, as the account's own session.
        detail = await client.get(f"/training/sessions/{session_id}", headers=auth)
        assert detail.status_code == 200
        assert detail.json()["status"] == "ended"


def test_stdio_refuses_an_unknown_account(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    env: dict[str, Any] = {"PATH": "/usr/bin:/bin", **_cli_env(make_settings())}
    done = subprocess.run(
        [str(CLI), "mcp", "--user", "nobody@example.com"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "no account has the e-mail 'nobody@example.com'" in done.stderr.replace("\n", " ")
    assert done.stdout == ""
