"""The OpenAPI document as the API really answers.

FastAPI documents a route's success and its 422 (as a list of pydantic errors, which is not
what `web/errors.py` answers). `install` makes ``app.openapi()`` say every status a route can
give, each error with the one body the API uses (`web.errors.ErrorPublic`):

- what a route depends on says most of it: the signed-in user → 401 (with
  ``WWW-Authenticate``); a rate limit → 429 (with ``Retry-After``); a path parameter → 404;
  a body → 413 (the edge's size limit) and 422; a JSON body → the edge's nesting limit; a
  multipart upload → 400, 413, 415 and 422;
- what only a route's code knows is in `ROUTE_ERRORS`, keyed by method and path.

Generated clients and the contract tests (`tests/test_openapi_contract.py`, the schemathesis
fuzz in `tests/test_api_fuzz.py`) rely on this document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from web.deps import get_current_user
from web.errors import ErrorPublic
from web.media_auth import MEDIA_COOKIE, get_media_user
from web.telephony.markup import XML_MEDIA_TYPE

ERROR_REF = "#/components/schemas/ErrorPublic"
JSON_DEPTH_STATUS = 422  # the edge's answer to JSON nested too deep (`web/edge.py`)
MEDIA_COOKIE_SCHEME = "MediaCookie"
REPLACED_SCHEMAS = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS = {
    400: "The request cannot be used as sent.",
    401: "Not signed in: send a valid `Authorization: Bearer <token>`.",
    403: "Refused: the request's signature is missing or invalid.",
    404: "Not found, or not yours.",
    409: "Conflicts with the current state of what it names.",
    413: "The body is larger than this operation accepts.",
    415: "The body's media type or the file's type is not accepted.",
    422: "Invalid input: `detail` says what is wrong and `errors` names each field at fault.",
    429: "Too many requests: wait the seconds `Retry-After` gives.",
    503: "Something this needs is unavailable or not configured; try again later.",
}
RESPONSE_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (`Bearer`).",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the limit lets a request through again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
UPLOAD_ERRORS = {
    400: "The form has no boundary, or the file is empty.",
    413: "The file is larger than the upload limit (MAX_UPLOAD_MB).",
    415: "Not a multipart/form-data form, or not a recording type the app accepts.",
    422: "A form field is missing or invalid, or the file holds no usable media.",
}
WEBHOOK_ERRORS = {
    403: "The provider's request signature is missing or invalid.",
    413: "The webhook body is larger than 64 KB.",
    503: "The provider has no signing credential outside development, or the request's "
    "Host is not this server's and PUBLIC_BASE_URL is not set.",
}
TRAINING_ERRORS = {
    404: "The training session (or champion, or scenario) is not found, or not yours.",
    409: "The session has ended, or the champion is not ready to practise.",
}
CALL_ERRORS = {
    **TRAINING_ERRORS,
    400: "The SDP offer or an ICE candidate cannot be used.",
    503: "No call process is available.",
}

# What only a route's code knows: (method, path) → {status: description}.
ROUTE_ERRORS: dict[tuple[str, str], dict[int, str]] = {
    ("POST", "/auth/register"): {409: "An account with this e-mail already exists."},
    ("POST", "/auth/login"): {401: "The e-mail and password do not match an account."},
    ("POST", "/analyze/{champion_id}"): {409: "The champion is already being analysed."},
    ("POST", "/training/start"): TRAINING_ERRORS,
    ("POST", "/training/respond"): TRAINING_ERRORS,
    ("POST", "/training/end"): TRAINING_ERRORS,
    ("GET", "/training/sessions/{session_id}/recording/{track}"): {
        404: "The session is not yours, or it has no recorded call."
    },
    ("GET", "/training/sessions/{session_id}/ice-servers"): TRAINING_ERRORS,
    ("POST", "/training/sessions/{session_id}/offer"): CALL_ERRORS,
    ("PATCH", "/training/sessions/{session_id}/offer"): CALL_ERRORS,
    ("POST", "/training/sessions/{session_id}/dial-in"): {
        **TRAINING_ERRORS,
        503: "Dial-in codes cannot be issued now.",
    },
    ("POST", "/telephony/twilio/voice"): WEBHOOK_ERRORS,
    ("POST", "/telephony/telnyx/voice"): WEBHOOK_ERRORS,
    ("POST", "/orchestrate"): {422: "The task, its context or a tool's input is invalid."},
}
# Answers that are not errors: (method, path) → {status: response object}.
ROUTE_ANSWERS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("GET", "/health"): {
        "503": {
            "description": "A component is down; the body says which.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HealthPublic"}}
            },
        }
    },
    **{
        ("POST", f"/telephony/{provider}/voice"): {
            "200": {
                "description": f"The call's answer ({markup}): connect a media stream.",
                "content": {XML_MEDIA_TYPE: {"schema": {"type": "string"}}},
            }
        }
        for provider, markup in (("twilio", "TwiML"), ("telnyx", "TeXML"))
    },
}
# Bodies a route reads itself, so FastAPI cannot describe them.
ROUTE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", f"/telephony/{provider}/voice"): {
        "required": False,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
    }
    for provider in ("twilio", "telnyx")
}


def install(app: FastAPI) -> None:
    """Makes ``app.openapi()`` describe every answer the routes give."""
    generate = app.openapi  # FastAPI's, cached until the routes change
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()
        if not any(document is seen for seen in described):
            described[:] = [describe_answers(app, document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def describe_answers(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """Adds each operation's error answers to FastAPI's ``document`` (changed in place).

    Args:
        app: the app whose routes the document describes.
        document: FastAPI's OpenAPI document of ``app``.

    Returns:
        The document.
    """
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in REPLACED_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_error_schemas())
    schemes = components.setdefault("securitySchemes", {})
    schemes[MEDIA_COOKIE_SCHEME] = {
        "type": "apiKey",
        "in": "cookie",
        "name": MEDIA_COOKIE,
        "description": "The media cookie from POST /auth/media-cookie (media routes only).",
    }
    for route in _api_routes(app):
        for method in sorted(route.methods):
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _describe_operation(route, method, operation)
    return document


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's documented API routes, included routers' routes as FastAPI resolves them
    (`iter_route_contexts` where FastAPI has it, the plain route list before)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = contexts(app.routes) if contexts is not None else app.routes
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.include_in_schema:
            yield route


def _error_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(ErrorPublic, "serialization")], ref_template="#/components/schemas/{model}"
    )
    return dict(top.get("$defs", {}))


def _describe_operation(route: Any, method: str, operation: dict[str, Any]) -> None:
    key = (method, route.path_format)
    if key in ROUTE_BODIES:
        operation["requestBody"] = ROUTE_BODIES[key]
    calls = set(_dependency_calls(route.dependant))
    errors: dict[int, str] = {}
    if get_current_user in calls or get_media_user in calls:
        errors[401] = DESCRIPTIONS[401]
    if get_media_user in calls:
        operation["security"] = [{"HTTPBearer": []}, {MEDIA_COOKIE_SCHEME: []}]
    if any(_is_rate_limit(call) for call in calls):
        errors[429] = DESCRIPTIONS[429]
    if route.dependant.path_params:
        errors[404] = DESCRIPTIONS[404]
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        errors[413] = DESCRIPTIONS[413]
    if "application/json" in content:
        errors.setdefault(JSON_DEPTH_STATUS, DESCRIPTIONS[JSON_DEPTH_STATUS])
    if "multipart/form-data" in content:
        errors.update(UPLOAD_ERRORS)
    if route.body_field is not None or route.dependant.query_params or route.dependant.path_params:
        errors.setdefault(422, DESCRIPTIONS[422])
    errors.update(ROUTE_ERRORS.get(key, {}))

    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(errors):
        responses[str(status)] = _error_response(status, errors[status])
    responses.update(ROUTE_ANSWERS.get(key, {}))
    operation["responses"] = dict(sorted(responses.items()))


def _error_response(status: int, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }
    if status in RESPONSE_HEADERS:
        response["headers"] = RESPONSE_HEADERS[status]
    return response


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)


def _is_rate_limit(call: Callable[..., Any]) -> bool:
    """Whether ``call`` is a dependency made by `web.deps.limit_per_user` / `limit_per_client`."""
    qualname = getattr(call, "__qualname__", "")
    module = getattr(call, "__module__", "")
    return module == "web.deps" and qualname.startswith(("limit_per_user.", "limit_per_client."))
