"""The request edge (web/edge.py): body size and JSON depth limits, security headers,
redirects that never echo a forged Host, and the favicon."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from web.app import create_app
from web.edge import UPLOAD_PATHS, own_location
from web.json_depth import MAX_JSON_DEPTH, json_too_deep
from web.routers import ui
from web.routers.ui import UI_DIST

LIMIT_KB = 16
LIMIT = LIMIT_KB * 1024
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An app on embedded SQLite (the edge never touches the database) with a 16 KB limit."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="test",
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'edge.db'}",
        jwt_secret=secrets.token_urlsafe(48),
        bcrypt_rounds=4,
        max_json_body_kb=LIMIT_KB,
        models_dir=tmp_path / "no-models",  # espeak-ng and offline transcription: a quick start
        stt_provider="offline",
        rate_limit_register="1000/hour",
        rate_limit_login="1000/minute",
        rate_limit_upload="1000/hour",
        rate_limit_training="1000/minute",
    )


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(settings) as pair:
        yield pair


@pytest.fixture
def client(app_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_client[1]


def nested(depth: int) -> str:
    """A JSON value ``depth`` arrays and objects deep."""
    return '{"a": [' * (depth // 2) + "1" + "]}" * (depth // 2)


class CountedBody:
    """A request body streamed in chunks, counting how many the server pulled."""

    def __init__(self, chunks: int, size: int = 4096) -> None:
        self.total, self.size, self.pulled = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.total):
            self.pulled += 1
            yield b"x" * self.size


# JSON depth


def test_the_depth_scan_counts_brackets_outside_strings_only() -> None:
    assert json_too_deep(nested(MAX_JSON_DEPTH + 2))
    assert not json_too_deep(nested(MAX_JSON_DEPTH))
    assert not json_too_deep(json.dumps({"text": "[" * 500 + "{" * 500}))
    # An escaped quote does not end the string; an escaped backslash before a quote does.
    assert not json_too_deep(json.dumps(['say \\" [[[' + "[" * 200]))
    assert json_too_deep('["a\\\\", ' + "[" * 100 + "]" * 100 + "]")
    # Closing brackets first cannot bank depth for the openings after them.
    assert json_too_deep("]" * 100 + "[" * 100)


async def test_deep_json_gets_a_422_before_any_parser(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", content=nested(1200), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert f"deeper than {MAX_JSON_DEPTH} levels" in body["detail"]
    assert body["errors"] == [{"field": "body", "message": body["detail"]}]

    # A JSON body of another JSON type, or of none, is checked too; a form is not JSON.
    for content_type in ("application/merge-patch+json", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = await client.post("/auth/login", content=nested(1200), headers=headers)
        assert answer.status_code == 422 and "levels" in answer.json()["detail"]

    assert (await client.post("/auth/register", json={"email": "x"})).status_code == 422
    auth = await sign_up(client)  # an ordinary body still goes through
    assert (await client.get("/auth/me", headers=auth)).status_code == 200


async def test_deep_tool_arguments_to_mcp_get_a_422(client: httpx.AsyncClient) -> None:
    auth = await sign_up(client)
    call = (
        '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": '
        '{"name": "training_start_session", "arguments": {"champion_id": '
        + "[" * 5000
        + "]" * 5000
        + "}}}"
    )
    headers = {**MCP_HEADERS, **auth, "Content-Type": "application/json"}
    response = await client.post("/mcp", content=call, headers=headers)
    assert response.status_code == 422
    assert "levels" in response.json()["detail"]

    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    ordinary = await client.post("/mcp", json=initialize, headers={**MCP_HEADERS, **auth})
    assert ordinary.status_code == 200
    assert ordinary.json()["result"]["serverInfo"]["name"] == "champion-clone"


async def test_a_deep_orchestrate_context_gets_a_422(client: httpx.AsyncClient) -> None:
    auth = await sign_up(client)

    async def orchestrate(context: str) -> httpx.Response:
        form = {"task": "Start training", "context": context}
        files = {"note": (None, b"")}  # multipart, as a browser sends a file-less form
        return await client.post("/orchestrate", headers=auth, files=files, data=form)

    deep = await orchestrate(nested(1200))
    assert deep.status_code == 422
    assert f"at most {MAX_JSON_DEPTH} levels" in deep.json()["detail"]

    # A context within the bound is read, and the task goes on to the planner.
    shallow = await orchestrate(json.dumps({"mode": "text", "extra": json.loads(nested(10))}))
    assert shallow.status_code == 422
    assert "upload a recording first" in shallow.json()["detail"]


# Body size


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient,
) -> None:
    body = CountedBody(chunks=64)
    headers = {"Content-Type": "application/json", "Content-Length": str(64 * 4096)}
    response = await client.post("/auth/register", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["detail"] == f"request body is larger than the {LIMIT_KB} KB limit"
    assert response.headers["connection"] == "close"
    assert body.pulled == 0


async def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(
    client: httpx.AsyncClient,
) -> None:
    body = CountedBody(chunks=2048)  # 8 MB, never sent in full
    response = await client.post(
        "/auth/register", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert body.pulled == LIMIT // body.size + 1  # the chunk that passed the limit, no more

    # At the limit exactly, the body reaches the route (which finds it is not JSON).
    exact = await client.post(
        "/auth/register",
        content=CountedBody(chunks=LIMIT // 4096),
        headers={"Content-Type": "application/json"},
    )
    assert exact.status_code == 422


async def test_upload_routes_are_bounded_unless_sent_a_multipart_form(
    client: httpx.AsyncClient, media_files: dict[str, Path]
) -> None:
    auth = await sign_up(client)
    for path in ("/upload", "/orchestrate"):
        body = CountedBody(chunks=64)
        response = await client.post(path, content=body, headers=auth)
        assert response.status_code == 413, path
        assert body.pulled == LIMIT // body.size + 1

    recording = media_files["wav"].read_bytes()
    assert len(recording) > LIMIT
    upload = await client.post("/upload", headers=auth, files={"file": ("call.wav", recording)})
    assert upload.status_code == 202, upload.text

    # Those are the API's only multipart routes; a multipart form to another is bounded too.
    spec = (await client.get("/openapi.json")).json()
    multipart = {
        path
        for path, operations in spec["paths"].items()
        for operation in operations.values()
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
    }
    assert multipart == UPLOAD_PATHS
    padding = {"name": "n" * LIMIT}
    bounded = await client.post("/auth/register", files={"f": ("a.txt", b"a")}, data=padding)
    assert bounded.status_code == 413


async def test_a_telephony_webhook_form_is_bounded(client: httpx.AsyncClient) -> None:
    form = {"CallSid": "CA" + "0" * 32, "Padding": "x" * LIMIT}
    response = await client.post("/telephony/twilio/voice", data=form)
    assert response.status_code == 413


@pytest.fixture
async def server_port(settings: Settings) -> AsyncIterator[int]:
    """The app served by uvicorn on a loopback port (connections queue until it starts)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config = uvicorn.Config(create_app(settings), log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    yield int(listener.getsockname()[1])
    server.should_exit = True
    await serving
    listener.close()


@pytest.mark.parametrize(
    "framing",
    [b"Content-Length: 209715200\r\n", b"Transfer-Encoding: chunked\r\n"],
    ids=["declared", "chunked"],
)
async def test_the_server_answers_413_and_hangs_up_without_the_rest_of_the_body(
    server_port: int, framing: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    head = b"POST /auth/register HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n"
    part = b"x" * 4096
    chunk = b"%x\r\n%s\r\n" % (len(part), part)
    # 200 MB declared and 4 KB sent; or chunks past the limit with no last chunk.
    try:
        writer.write(head + framing + b"\r\n" + (part if b"Length" in framing else chunk * 5))
        await writer.drain()

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server_port}") as http:
            health = await http.get("/health")
        assert health.status_code == 200

        # The server closes the connection: reading to its end returns (a hang guard only).
        answer = await asyncio.wait_for(reader.read(), timeout=60)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in answer.lower()
    assert answer.endswith(b'{"detail":"request body is larger than the 16 KB limit"}')


# Headers


async def test_every_answer_has_the_security_headers(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/health"),
        await client.get("/champions"),  # 401
        await client.post("/auth/register", content=CountedBody(chunks=64)),  # 413
        await client.get("/"),
        await client.get("/docs"),
    ]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
    health, page, docs = answers[0], answers[3], answers[4]
    assert "content-security-policy" not in health.headers
    policy = page.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self' blob:;",
        "style-src 'self';",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert directive in policy

    # The docs page runs its one inline script by its hash, and no other inline script.
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = _directive(docs.headers["content-security-policy"], "script-src")
    assert script_src == ["'self'", f"'sha256-{digest}'"]


def _directive(policy: str, name: str) -> list[str]:
    for directive in policy.split(";"):
        words = directive.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"{name} is not in {policy}")


# Redirects


async def test_a_slash_redirect_does_not_echo_a_forged_host(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/?verbose=1", headers={"Host": "evil.example"})
    assert response.status_code == 307
    assert response.headers["location"] == "/health?verbose=1"

    followed = await client.get("/health/", follow_redirects=True)
    assert followed.status_code == 200


def test_a_rewritten_redirect_never_names_another_host() -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", b"evil.example")],
    }
    assert own_location(scope, "http://evil.example//other.example/x") == "/other.example/x"
    assert own_location(scope, "http://EVIL.example/a?b=c") == "/a?b=c"
    # A redirect the app means to another site is left alone.
    assert own_location(scope, "https://provider.example/cb") == "https://provider.example/cb"


# Favicon


async def test_the_favicon_is_served(client: httpx.AsyncClient) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")

    page = (await client.get("/")).text
    link = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert link is not None
    linked = await client.get(link.group(1))
    assert linked.status_code == 200 and linked.content == (UI_DIST / "favicon.svg").read_bytes()
    assert 'href="/favicon.ico"' in (await client.get("/docs")).text


async def test_an_unbuilt_app_answers_the_favicon_with_no_content(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None)
    ui.install(app, dist=tmp_path / "not-built")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        icon = await http.get("/favicon.ico")
    assert icon.status_code == 204 and icon.content == b""
