"""A running app with an in-process client, signed-up users, and the files an app stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from ingest.steps import VerifyMediaStep
from memory.settings import Settings
from web.app import create_app

PASSWORD = "correct horse battery"


@asynccontextmanager
async def running_app(
    settings: Settings, *, full_ingest: bool = False, anthropic_http_client: Any = None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Starts an app's lifespan and yields it with a client.

    Unless ``full_ingest``, a job only verifies the stored file: tests of the API use short
    tones, which the real pipeline would (rightly) fail for having no speech.
    ``anthropic_http_client`` carries the live Claude engines' requests to a fake API.
    """
    app = create_app(
        settings,
        ingest_steps=None if full_ingest else [VerifyMediaStep()],
        anthropic_http_client=anthropic_http_client,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


async def sign_up(client: httpx.AsyncClient, email: str | None = None) -> dict[str, str]:
    """Registers and signs in a new user; returns the Authorization header."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    response = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def current_user_id(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    """The id of the user signed in with ``auth``."""
    return str((await client.get("/auth/me", headers=auth)).json()["id"])


def stored_files(settings_or_app: Any) -> list[Path]:
    """Every file under the app's media folder (uploads included)."""
    settings = getattr(getattr(settings_or_app, "state", None), "settings", settings_or_app)
    root = settings.media_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
