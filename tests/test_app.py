"""Health, CORS and the `champion-clone serve` command on a clean environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from memory.settings import Settings
from tests.support.apps import running_app
from tests.support.services import closed_port


async def test_health_reports_each_component(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "database": "ok",
        "vector_store": "ok",
        "session_store": "ok",
        "job_queue": "ok",
    }
    assert body["components"]["session_store"]["backend"] == "in-process"
    assert body["providers"]["llm"] == "offline"


async def test_health_uses_redis_when_configured(
    make_settings: Callable[..., Settings], redis_url: str, redis_prefix: str
) -> None:
    async with running_app(make_settings(redis_url=redis_url, redis_prefix=redis_prefix)) as (
        _app,
        client,
    ):
        body = (await client.get("/health")).json()
        assert body["components"]["session_store"] == {
            "status": "ok",
            "backend": "redis",
            "detail": None,
        }


async def test_health_is_503_when_redis_is_down(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    async with running_app(settings) as (_app, client):
        response = await client.get("/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "degraded"
        assert body["components"]["session_store"]["status"] == "down"
        assert body["components"]["database"]["status"] == "ok"


async def test_cors_allows_only_listed_origins(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(cors_origins="https://app.example.com, https://admin.example.com")
    async with running_app(settings) as (_app, client):
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization",
        }
        allowed = await client.options(
            "/upload", headers={"origin": "https://admin.example.com", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://admin.example.com"
        refused = await client.options(
            "/upload", headers={"origin": "https://evil.example.com", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_with_no_environment_variables(tmp_path: Path) -> None:
    """What `make run` does: the CLI on embedded defaults, in an empty folder."""
    port = _free_port()
    executable = Path(sys.executable).with_name("champion-clone")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [str(executable), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert body is not None, "the server did not answer /health"
        assert body["status"] == "ok"
        assert body["components"]["database"]["backend"] == "sqlite"
        assert body["components"]["vector_store"]["backend"] == "qdrant-local"
        assert (tmp_path / "data" / "champion_clone.db").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}" in output
