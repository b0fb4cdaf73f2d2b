"""A client that goes away in the middle of its upload: the request ends quietly, and nothing
of the upload is left behind (no file, no row, no error in the log)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.apps import stored_files

BOUNDARY = "cut-off-upload"


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


async def test_a_client_leaving_mid_upload_leaves_nothing_and_logs_no_error(
    app_client: tuple[FastAPI, httpx.AsyncClient],
    auth: dict[str, str],
    media_files: dict[str, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, client = app_client
    data = media_files["wav"].read_bytes()
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="call.wav"'
        "\r\nContent-Type: audio/wav\r\n\r\n"
    ).encode()
    whole = head + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    # Half of the file arrives, then the connection drops.
    arriving: list[dict[str, Any]] = [
        {"type": "http.request", "body": head + data[: len(data) // 2], "more_body": True}
    ]

    async def receive() -> dict[str, Any]:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = {
        **auth,
        "host": "testserver",
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        "content-length": str(len(whole)),
    }
    with caplog.at_level(logging.INFO):
        await app(_scope("/upload", headers), receive, send)

    assert not arriving, "the app stopped reading before the disconnect"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] < 500
    assert stored_files(app) == []
    listing = await client.get("/champions", headers=auth)
    assert listing.json() == []
