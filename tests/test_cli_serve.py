"""`champion-clone serve` runs uvicorn without its proxy-header trust, at LOG_LEVEL, and the
app believes forwarded headers only from FORWARDED_ALLOW_IPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from web import cli


@pytest.mark.parametrize(
    ("allowed", "trusted"), [("", []), ("10.0.0.1, 10.0.0.2", [["10.0.0.1", "10.0.0.2"]])]
)
def test_serve_hands_uvicorn_the_level_and_keeps_forwarded_headers_to_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, allowed: str, trusted: list[list[str]]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    levels: list[str] = []
    runs: list[tuple[FastAPI, dict[str, Any]]] = []
    monkeypatch.setattr(cli, "configure_logging", levels.append)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))
    env = {
        "LOG_LEVEL": "warning",
        "FORWARDED_ALLOW_IPS": allowed,
        "HOST": "127.0.0.1",
        "DATA_DIR": str(tmp_path),
    }

    result = CliRunner().invoke(cli.app, ["serve", "--port", "8123"], env=env)

    assert result.exit_code == 0, result.output
    assert levels == ["WARNING"]
    [(app, options)] = runs
    assert options == {
        "host": "127.0.0.1",
        "port": 8123,
        "proxy_headers": False,
        "log_config": None,
        "log_level": "warning",
    }
    proxies = app.user_middleware
    assert [m.kwargs["trusted_hosts"] for m in proxies if m.cls is ProxyHeadersMiddleware] == (
        trusted
    )
    assert proxies[0].cls is ProxyHeadersMiddleware or not trusted  # outermost
