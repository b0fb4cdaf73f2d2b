"""Sign-up, sign-in and bearer tokens, including every way a token can be bad."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.conftest import PASSWORD, sign_up


async def test_register_returns_the_user_without_the_password(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", json={"email": "Ada@Example.com ", "password": PASSWORD}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert set(body) == {"id", "email", "created_at"}


async def test_duplicate_email_is_409_even_in_another_case(client: httpx.AsyncClient) -> None:
    await client.post("/auth/register", json={"email": "bo@example.com", "password": PASSWORD})
    response = await client.post(
        "/auth/register", json={"email": "BO@example.com", "password": "another-password"}
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "c@example.com", "password": "short"}, "password"),
        ({"email": "c@example.com", "password": "é" * 40}, "password"),
        ({"email": "c@example.com"}, "password"),
        ({"email": "c@example.com", "password": PASSWORD, "role": "admin"}, "role"),
    ],
)
async def test_bad_registration_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_malformed_json_is_422_with_a_plain_message(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "request body is not valid JSON"


async def test_login_returns_a_bearer_token_that_opens_the_api(client: httpx.AsyncClient) -> None:
    await client.post("/auth/register", json={"email": "d@example.com", "password": PASSWORD})
    response = await client.post(
        "/auth/login", json={"email": "d@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 60 * 60
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "d@example.com"


@pytest.mark.parametrize("email", ["e@example.com", "nobody@example.com"])
async def test_wrong_password_or_unknown_email_is_the_same_401(
    client: httpx.AsyncClient, email: str
) -> None:
    await client.post("/auth/register", json={"email": "e@example.com", "password": PASSWORD})
    response = await client.post("/auth/login", json={"email": email, "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json()["detail"] == "incorrect e-mail or password"


async def test_password_longer_than_bcrypt_accepts_does_not_match_its_prefix(
    client: httpx.AsyncClient,
) -> None:
    password = "p" * 72
    await client.post("/auth/register", json={"email": "f@example.com", "password": password})
    response = await client.post(
        "/auth/login", json={"email": "f@example.com", "password": password + "extra"}
    )
    assert response.status_code == 401


def _claims(app: FastAPI, token: str) -> dict[str, object]:
    secret = app.state.services.tokens.secret
    return jwt.decode(token, secret, algorithms=["HS256"])


async def _bad_tokens(app: FastAPI, good: str) -> dict[str, str]:
    secret = app.state.services.tokens.secret
    claims = _claims(app, good)
    header, _payload, signature = good.split(".")
    forged_payload = jwt.encode({**claims, "sub": "someone-else"}, "x" * 40).split(".")[1]
    now = int(time.time())
    return {
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret),
        "tampered": f"{header}.{forged_payload}.{signature}",
        "alg-none": jwt.encode(claims, None, algorithm="none"),
        "other-secret": jwt.encode(claims, "another-secret-that-is-long-enough-1234567"),
        "no-expiry": jwt.encode({"sub": claims["sub"], "iat": now, "typ": "access"}, secret),
        "garbage": "not.a.token",
    }


async def test_every_bad_token_is_401(app_client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = app_client
    headers = await sign_up(client)
    good = headers["Authorization"].removeprefix("Bearer ")
    for name, token in (await _bad_tokens(app, good)).items():
        response = await client.get("/champions", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert "sign in again" in response.json()["detail"], name
    expired = (await _bad_tokens(app, good))["expired"]
    response = await client.get("/champions", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
)
async def test_missing_token_is_401_with_a_challenge(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/champions", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "sign in" in response.json()["detail"]


async def test_secrets_never_reach_the_logs(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    headers = await sign_up(client, "g@example.com")
    await client.post("/auth/login", json={"email": "g@example.com", "password": "wrong-password"})
    token = headers["Authorization"].removeprefix("Bearer ")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in logged
    assert "wrong-password" not in logged
    assert token not in logged
