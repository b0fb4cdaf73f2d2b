"""Error responses a person can act on: one short `detail` plus the fields at fault."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)
DATABASE_BUSY_RETRY_SECONDS = 5


def _describe(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    field = ".".join(location) or "body"
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": "request body is not valid JSON"}
    if error.get("type") == "missing":
        return {"field": field, "message": f"{field} is required"}
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return {"field": field, "message": message}


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with a readable summary of every invalid field."""
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    summary = "; ".join(
        p["message"]
        if p["field"] == "body" or p["message"].startswith(p["field"])
        else f"{p['field']}: {p['message']}"
        for p in problems
    )
    return JSONResponse({"detail": summary or "request is invalid", "errors": problems}, 422)


async def database_busy(_request: Request, _exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` when no pooled database connection came free in time: the
    server is overloaded, not broken, and the request may be sent again shortly."""
    logger.warning("no database connection came free in time; answered 503")
    return JSONResponse(
        {"detail": "the server is busy; try again in a few seconds"},
        503,
        headers={"Retry-After": str(DATABASE_BUSY_RETRY_SECONDS)},
    )


async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """500 without internals; the exception is logged by type only."""
    logger.error("unhandled %s while serving a request", type(exc).__name__)
    return JSONResponse({"detail": "internal error; the request was not completed"}, 500)


def install(app: FastAPI) -> None:
    """Registers the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(PoolTimeout, database_busy)
    app.add_exception_handler(Exception, unexpected_error)
