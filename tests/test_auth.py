"""Sign-up, sign-in and bearer tokens, including every way a token can be bad."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import bcrypt
import httpx
import jwt
import pytest
from fastapi import FastAPI

from memory.queries.users import create_user, get_user_by_email
from memory.settings import Settings
from tests.support.apps import PASSWORD, running_app, sign_up
from web import security


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


@pytest.fixture
def checked_costs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cost field of every hash bcrypt.checkpw is asked to check."""
    costs: list[int] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        costs.append(int(hashed.split(b"$")[2]))
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return costs


async def test_an_unknown_email_is_checked_at_the_cost_of_a_real_account(
    make_settings: Callable[..., Settings], checked_costs: list[int]
) -> None:
    async with running_app(make_settings(bcrypt_rounds=5)) as (_app, client):
        await client.post("/auth/register", json={"email": "h@example.com", "password": PASSWORD})
        checked_costs.clear()
        for email in ("h@example.com", "nobody@example.com"):
            wrong = {"email": email, "password": "wrong-password"}
            assert (await client.post("/auth/login", json=wrong)).status_code == 401
        too_long = {"email": "h@example.com", "password": "p" * 73}
        assert (await client.post("/auth/login", json=too_long)).status_code == 401
    # The same work whether or not the account exists: the time cannot tell them apart.
    assert checked_costs == [5, 5, 5]


async def test_a_hash_of_another_cost_is_remade_at_the_configured_cost(
    make_settings: Callable[..., Settings], checked_costs: list[int]
) -> None:
    old_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    async with running_app(make_settings(bcrypt_rounds=5)) as (app, client):
        async with app.state.services.db.session() as session:
            await create_user(session, email="old@example.com", password_hash=old_hash)
        checked_costs.clear()
        unknown = {"email": "nobody@example.com", "password": PASSWORD}
        assert (await client.post("/auth/login", json=unknown)).status_code == 401
        good = {"email": "old@example.com", "password": PASSWORD}
        assert (await client.post("/auth/login", json=good)).status_code == 200
        async with app.state.services.db.session() as session:
            user = await get_user_by_email(session, email="old@example.com")
        assert user is not None and user.password_hash is not None
        assert security.hash_cost(user.password_hash) == 5
        assert (await client.post("/auth/login", json=good)).status_code == 200
    # The dummy follows the setting, not the odd account; the account then follows too.
    assert checked_costs == [5, 4, 5]


async def test_dummy_hashes_are_made_once_per_cost_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    real = bcrypt.hashpw

    def spy(password: bytes, salt: bytes) -> bytes:
        threads.append(threading.current_thread())
        return real(password, salt)

    monkeypatch.setattr(bcrypt, "hashpw", spy)
    monkeypatch.setattr(security, "_dummy_hashes", {})
    first, again, other = [await security.dummy_hash(r) for r in (5, 5, 6)]
    assert first == again
    assert (security.hash_cost(first), security.hash_cost(other)) == (5, 6)
    assert len(threads) == 2
    assert threading.current_thread() not in threads


def test_importing_the_module_hashes_nothing() -> None:
    probe = (
        "import bcrypt\n"
        "calls = []\n"
        "real = bcrypt.hashpw\n"
        "bcrypt.hashpw = lambda *args: calls.append(args) or real(*args)\n"
        "import web.security\n"
        "print(len(calls))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
