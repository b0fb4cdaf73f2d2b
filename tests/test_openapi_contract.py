"""The OpenAPI document says what the API answers: statuses, the one error body, limits, and
timestamps that read the same on every database."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from memory.models import User
from memory.settings import Settings
from tests.support.apps import sign_up
from web.app import create_app
from web.errors import ErrorPublic
from web.openapi_contract import ROUTE_ANSWERS, ROUTE_BODIES, ROUTE_ERRORS

AppClient = tuple[FastAPI, httpx.AsyncClient]
ERROR_REF = "#/components/schemas/ErrorPublic"
METHODS = ("get", "post", "put", "patch", "delete")
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app's OpenAPI document (no lifespan needed to make it)."""
    folder: Path = tmp_path_factory.mktemp("spec")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=folder,
        database_url=f"sqlite+aiosqlite:///{folder / 'spec.db'}",
        jwt_secret=secrets.token_urlsafe(48),
    )
    return create_app(settings).openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every documented operation."""
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def concrete(path: str) -> str:
    """A path with each parameter filled in (``track`` with one of its values)."""
    return path.replace("{track}", "ai").replace("{", "").replace("}", "")


def assert_error_body(response: httpx.Response) -> dict[str, Any]:
    """The answer is JSON with exactly the documented error body."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) <= {"detail", "errors"}, body
    ErrorPublic.model_validate(body, strict=True)
    return dict(body)


def test_every_error_answer_has_the_one_documented_body(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorPublic"]["required"] == ["detail"]
    assert schemas["ErrorPublic"]["properties"]["detail"]["type"] == "string"
    checked = 0
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and (method, path, status) != (
                "GET",
                "/health",
                "503",
            ):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
                checked += 1
    assert checked > 100


def test_the_route_tables_name_real_operations(spec: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in operations(spec)}
    for table in (ROUTE_ERRORS, ROUTE_ANSWERS, ROUTE_BODIES):
        assert set(table) <= documented, set(table) - documented


def test_limits_and_retries_are_documented_with_their_headers(spec: dict[str, Any]) -> None:
    ops = {(method, path): operation for method, path, operation in operations(spec)}
    login = ops[("POST", "/auth/login")]["responses"]
    assert login["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert {"401", "413", "422"} <= set(login)
    upload = ops[("POST", "/upload")]["responses"]
    assert {"400", "401", "413", "415", "422", "429"} <= set(upload)
    assert "409" in ops[("POST", "/auth/register")]["responses"]
    assert "409" in ops[("POST", "/analyze/{champion_id}")]["responses"]
    assert "404" in ops[("GET", "/champions/{champion_id}")]["responses"]
    health = ops[("GET", "/health")]["responses"]["503"]["content"]["application/json"]
    assert health["schema"] == {"$ref": "#/components/schemas/HealthPublic"}


def test_the_schema_says_an_empty_message_is_refused(spec: dict[str, Any]) -> None:
    message = spec["components"]["schemas"]["TrainingRespond"]["properties"]["message"]
    assert message["minLength"] == 1
    assert message["maxLength"] == 2000
    assert "pattern" in message
    password = spec["components"]["schemas"]["UserRegister"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (8, 72)


@ON_SQLITE
async def test_every_operation_that_needs_a_token_documents_and_answers_401(
    spec: dict[str, Any], client: httpx.AsyncClient
) -> None:
    needing = [(m, p, op) for m, p, op in operations(spec) if op.get("security")]
    assert len(needing) > 20
    for method, path, operation in needing:
        documented = operation["responses"]["401"]
        assert documented["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
        assert documented["headers"]["WWW-Authenticate"]["required"] is True
        body = (
            {"json": {}}
            if "application/json" in operation.get("requestBody", {}).get("content", {})
            else {}
        )
        response = await client.request(method, concrete(path), **body)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert_error_body(response)


@ON_SQLITE
async def test_an_empty_training_message_is_refused_with_the_error_body(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for message in ("", " \t\x00 "):
        response = await client.post(
            "/training/respond", headers=auth, json={"session_id": "s1", "message": message}
        )
        assert response.status_code == 422, response.text
        body = assert_error_body(response)
        assert body["errors"] == [{"field": "message", "message": "message must not be empty"}]


@ON_SQLITE
async def test_bodies_that_are_not_json_get_the_error_body(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    json_type = {**auth, "content-type": "application/json"}
    for content in (b'{"session_id": ', b'{"session_id": "\xff\xfe"}'):
        response = await client.post("/training/end", headers=json_type, content=content)
        assert response.status_code == 422, response.text
        assert assert_error_body(response)["errors"][0]["field"] == "body"
    deep = b"[" * 200 + b"]" * 200
    response = await client.post("/training/end", headers=json_type, content=deep)
    assert response.status_code == 422
    assert_error_body(response)
    response = await client.post("/training/end", headers=json_type, content=b" " * 300_000)
    assert response.status_code == 413
    assert_error_body(response)


async def test_text_no_database_stores_is_refused_not_a_server_error(
    client: httpx.AsyncClient, auth: dict[str, str], database_url: str
) -> None:
    # PostgreSQL stores no NUL: an id holding one is refused; SQLite looks it up and finds none.
    on_postgres = database_url.startswith("postgresql")
    for path, found in (
        ("/champions/a%00b", 404),
        ("/training/sessions/a%00b", 404),
        ("/training/sessions?champion_id=%00", 200),
    ):
        response = await client.get(path, headers=auth)
        assert response.status_code == (422 if on_postgres else found), (path, response.text)
        if response.status_code >= 400:
            assert_error_body(response)
    for body, refused in (
        (b'{"session_id": "a\\u0000"}', on_postgres),
        (b'{"session_id": "a\\ud800"}', True),
    ):
        response = await client.post(
            "/training/end", headers={**auth, "content-type": "application/json"}, content=body
        )
        assert response.status_code == (422 if refused else 404), response.text
        assert_error_body(response)


async def test_timestamps_read_the_same_on_every_database(
    app_client: AppClient, database_url: str
) -> None:
    app, client = app_client
    auth = await sign_up(client)
    me = await client.get("/auth/me", headers=auth)
    assert me.json()["created_at"].endswith("Z"), me.text
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    async with app.state.services.db.session() as session:
        await session.execute(
            update(User).where(User.id == me.json()["id"]).values(created_at=moment)
        )
        await session.commit()
    again = await client.get("/auth/me", headers=auth)
    assert again.json()["created_at"] == "2024-05-06T07:08:09.123456Z", database_url
