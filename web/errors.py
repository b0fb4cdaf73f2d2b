"""Error responses a person can act on: one short `detail` plus the fields at fault.

Every error the API gives has the body `ErrorPublic` (the OpenAPI document says so for each
status, see `web/openapi_contract.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)
DATABASE_BUSY_RETRY_SECONDS = 5

# PostgreSQL's "character not in repertoire" and "untranslatable character": text with NUL.
UNSTORABLE_SQLSTATES = frozenset({"22021", "22P05"})
UNSTORABLE = "the request holds text that cannot be stored (a NUL or an unpaired surrogate)"


class FieldError(BaseModel):
    """One field at fault and what is wrong with it."""

    field: str = Field(description="where the problem is: a dotted path, or `body`")
    message: str


class ErrorPublic(BaseModel):
    """Every error's body: what went wrong, and with invalid input each field at fault."""

    detail: str = Field(description="what went wrong, in words a person can act on")
    errors: list[FieldError] = Field(
        default=[], description="each invalid field (422 on invalid input only)"
    )


def error_body(detail: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    """An `ErrorPublic` as JSON (``errors`` only when there are any)."""
    return ErrorPublic(detail=detail, errors=errors or []).model_dump(exclude_defaults=True)


def _describe(error: Any) -> FieldError:
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    field = ".".join(location) or "body"
    if error.get("type") == "json_invalid":
        return FieldError(field="body", message="request body is not valid JSON")
    if error.get("type") == "missing":
        return FieldError(field=field, message=f"{field} is required")
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return FieldError(field=field, message=message)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with a readable summary of every invalid field."""
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    summary = "; ".join(
        p.message
        if p.field == "body" or p.message.startswith(p.field)
        else f"{p.field}: {p.message}"
        for p in problems
    )
    body = ErrorPublic(detail=summary or "request is invalid", errors=problems)
    return JSONResponse(body.model_dump(), 422)


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer to an `HTTPException`, its ``detail`` always a string; a JSON body
    that is not UTF-8 is invalid JSON (422), as any other JSON that cannot be decoded."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        problem = FieldError(field="body", message="request body is not valid JSON (not UTF-8)")
        return JSONResponse(error_body(problem.message, [problem]), 422)
    if not isinstance(exc.detail, str):
        exc = StarletteHTTPException(exc.status_code, str(exc.detail), exc.headers)
    return await http_exception_handler(request, exc)


def unstorable_text(exc: BaseException) -> bool:
    """Whether ``exc`` comes from text no database takes: NUL (PostgreSQL refuses it) or an
    unpaired surrogate (not UTF-8 at all), which only a request can have brought in."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, UnicodeEncodeError):
            return True
        if getattr(error, "sqlstate", None) in UNSTORABLE_SQLSTATES:
            return True
        pending += [error.__cause__, error.__context__, getattr(error, "orig", None)]
    return False


async def text_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 for text in a path, query or body that the database cannot take; anything else
    goes on to `unexpected_error`."""
    if not unstorable_text(exc):
        raise exc
    logger.info("refused a request holding text that cannot be stored")
    return JSONResponse(error_body(UNSTORABLE), 422)


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
    return JSONResponse(error_body("internal error; the request was not completed"), 500)


def install(app: FastAPI) -> None:
    """Registers the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, text_error)
    app.add_exception_handler(UnicodeEncodeError, text_error)
    app.add_exception_handler(PoolTimeout, database_busy)
    app.add_exception_handler(Exception, unexpected_error)
