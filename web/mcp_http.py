"""The agents' MCP server over streamable HTTP at ``/mcp``, behind the API's bearer token.

Each request is authenticated like any API request (401 without a valid token); the token's
user is the user the tools act for, and each request counts against that user's
``RATE_LIMIT_MCP`` (429 with ``Retry-After`` once it is used up). The SDK's
`StreamableHTTPSessionManager` runs stateless (a fresh transport per request, plain JSON
answers), so any app process can serve any request behind a load balancer; it lives as long as
the app's lifespan (`running`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from agents.mcp_server import Caller, create_server
from web.deps import bearer, enforce_user_limit, get_current_user, get_services

MCP_PATH = "/mcp"
_CALLER_KEY = "champion_clone.mcp_caller"


def _caller_of(request: Any) -> Caller:
    """The caller `McpEndpoint` put on the request once its token was checked."""
    caller: Caller = request.scope[_CALLER_KEY]
    return caller


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """Runs the MCP session manager while the app runs (enter it inside the lifespan).

    A manager runs once, so each lifespan makes its own. It runs in a task of its own: its
    `run()` holds an anyio task group, which must be left in the task that entered it, and a
    lifespan may end in another task than it began in (pytest-asyncio fixtures do this).
    """
    manager = StreamableHTTPSessionManager(
        app=create_server(_caller_of), stateless=True, json_response=True
    )
    ready, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with manager.run():
            ready.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="mcp-session-manager")
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait((task, waiting), return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():
        waiting.cancel()
        await task  # raises why the manager could not start
        raise RuntimeError("the MCP session manager stopped before it started")
    app.state.mcp_sessions = manager
    try:
        yield
    finally:
        stop.set()
        await task


class McpEndpoint:
    """ASGI app at ``/mcp``: checks the bearer token and the user's rate limit, then hands the
    request to the SDK."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        services = get_services(request)
        try:
            user = await get_current_user(services, await bearer(request))
            await enforce_user_limit(services, "mcp", user.id)
        except HTTPException as exc:
            response = JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
            await response(scope, receive, send)
            return
        scope[_CALLER_KEY] = Caller(deps=services.agent_deps(), user_id=user.id)
        manager: StreamableHTTPSessionManager = request.app.state.mcp_sessions
        await manager.handle_request(scope, receive, send)


def install(app: FastAPI) -> None:
    """Adds the ``/mcp`` endpoint to ``app`` (its lifespan must enter `running`)."""
    app.router.routes.append(Route(MCP_PATH, endpoint=McpEndpoint(), include_in_schema=False))
