"""The FastAPI app factory: the outer edge of Champion Clone (nothing imports web/)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ingest.runner import Step
from memory.settings import Settings
from web import edge, errors, mcp_http, openapi_contract, proxies
from web.routers import (
    agents,
    auth,
    champions,
    dial_in,
    health,
    media,
    orchestrate,
    progress,
    scenarios,
    telephony,
    training,
    ui,
    webrtc,
)
from web.services import Services

if TYPE_CHECKING:
    import httpx2


def create_app(
    settings: Settings | None = None,
    *,
    ingest_steps: Sequence[Step] | None = None,
    anthropic_http_client: httpx2.AsyncClient | None = None,
) -> FastAPI:
    """Builds the app; its services start with the lifespan and stop with it.

    Args:
        settings: the configuration; read from the environment when not given.
        ingest_steps: replaces the ingest steps (for tests of the API on its own).
        anthropic_http_client: the HTTP client the live Claude engines send through (tests
            inject a fake Messages API); None for the SDK's own.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.start(
            settings, ingest_steps=ingest_steps, anthropic_http_client=anthropic_http_client
        )
        app.state.services = services
        try:
            async with mcp_http.running(app):
                yield
        finally:
            await services.close()

    app = FastAPI(
        title="Champion Clone",
        summary="Practise selling against a clone of your best seller.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by the UI bundle, without a CDN (web/routers/ui.py)
        redoc_url=None,
    )
    app.state.settings = settings
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    errors.install(app)
    routers = (
        health.router,
        auth.router,
        champions.router,
        progress.router,
        media.router,
        scenarios.router,
        training.router,
        webrtc.router,
        dial_in.router,
        telephony.router,
        agents.router,
        orchestrate.router,
    )
    for router in routers:
        app.include_router(router)
    mcp_http.install(app)
    ui.install(app)
    openapi_contract.install(app)
    edge.install(app, settings)
    proxies.install(app, settings)  # outermost: the client address every layer sees
    return app
