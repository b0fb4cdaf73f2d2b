"""Dial-in codes and stream tickets (in process and Redis), and POST .../dial-in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from agents.training.session import TrainingError
from memory.dial_in import DialInCodes, StreamTickets
from memory.session_store import RedisSessionStore, SessionStore
from tests.support.apps import current_user_id, sign_up
from tests.support.training import seed_ready_champion, start_training

AppClient = tuple[FastAPI, httpx.AsyncClient]


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_code_opens_its_session_once(store: SessionStore) -> None:
    clock = Clock()
    codes = DialInCodes(store=store, ttl_seconds=600, clock=clock)
    issued = await codes.issue(session_id="s-1", user_id="u-1")
    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.expires_at == datetime.fromtimestamp(clock.now + 600, UTC)

    first = await codes.redeem(issued.code)
    assert first.status == "accepted"
    assert first.code is not None
    assert (first.code.session_id, first.code.user_id) == ("s-1", "u-1")
    again = await codes.redeem(issued.code)
    assert again.status == "used" and again.code is None


async def test_codes_are_distinct_and_unknown_or_malformed_ones_open_nothing(
    store: SessionStore,
) -> None:
    codes = DialInCodes(store=store)
    issued = {(await codes.issue(session_id=f"s-{i}", user_id="u")).code for i in range(30)}
    assert len(issued) == 30
    unknown = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in issued)
    assert (await codes.redeem(unknown)).status == "unknown"
    for bad in ("", "12345", "1234567", "12345a", "١٢٣٤٥٦", "*12345"):
        assert (await codes.redeem(bad)).status == "unknown", bad


async def test_an_expired_code_is_refused_and_stays_refused(store: SessionStore) -> None:
    clock = Clock()
    codes = DialInCodes(store=store, ttl_seconds=60, clock=clock)
    issued = await codes.issue(session_id="s-1", user_id="u-1")
    clock.now += 60
    assert (await codes.redeem(issued.code)).status == "expired"
    assert (await codes.redeem(issued.code)).status == "expired"


async def test_one_code_keyed_by_many_callers_at_once_opens_one_call(
    store: SessionStore, request: pytest.FixtureRequest
) -> None:
    codes = DialInCodes(store=store)
    issued = await codes.issue(session_id="s-1", user_id="u-1")
    redeemers = [codes]
    if isinstance(store, RedisSessionStore):  # as if from another app process
        url = request.getfixturevalue("redis_url")
        other = RedisSessionStore(redis=Redis.from_url(url), prefix=store.prefix)
        redeemers.append(DialInCodes(store=other))
    try:
        results = await asyncio.gather(
            *(redeemers[i % len(redeemers)].redeem(issued.code) for i in range(12))
        )
    finally:
        for extra in redeemers[1:]:
            await extra.store.close()
    assert sorted(r.status for r in results).count("accepted") == 1
    assert {r.status for r in results} <= {"accepted", "used", "unknown"}


async def test_a_stream_ticket_admits_one_stream_of_its_provider(store: SessionStore) -> None:
    tickets = StreamTickets(store=store)
    ticket = await tickets.issue("twilio")
    assert not await tickets.redeem(ticket, "telnyx")  # taken by the wrong provider: gone
    ticket = await tickets.issue("twilio")
    assert await tickets.redeem(ticket, "twilio")
    assert not await tickets.redeem(ticket, "twilio")
    assert not await tickets.redeem("made-up", "twilio")
    assert not await tickets.redeem("x" * 500, "twilio")


async def test_only_the_trainee_of_an_active_session_gets_a_code(app_client: AppClient) -> None:
    app, client = app_client
    owner, other = await sign_up(client), await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, owner))
    session_id = (await start_training(client, owner, champion_id)).json()["session_id"]
    path = f"/training/sessions/{session_id}/dial-in"

    assert (await client.post(path)).status_code == 401
    assert (await client.post(path, headers=other)).status_code == 404
    missing = await client.post("/training/sessions/no-such-session/dial-in", headers=owner)
    assert missing.status_code == 404

    got = await client.post(path, headers=owner)
    assert got.status_code == 201, got.text
    body = got.json()
    assert len(body["code"]) == 6 and body["code"].isdigit()
    assert body["number"] is None  # DIAL_IN_NUMBER is not set
    expires = datetime.fromisoformat(body["expires_at"])
    assert 550 < (expires - datetime.now(UTC)).total_seconds() <= 600
    # The code really opens this session.
    codes = DialInCodes(store=app.state.services.sessions)
    redeemed = await codes.redeem(body["code"])
    assert redeemed.code is not None and redeemed.code.session_id == session_id

    await client.post("/training/end", headers=owner, json={"session_id": session_id})
    ended = await client.post(path, headers=owner)
    assert ended.status_code == 409 and "ended" in ended.json()["detail"]


async def test_one_active_session_check_for_dial_in_and_calls(app_client: AppClient) -> None:
    app, client = app_client
    training = app.state.services.training
    owner, other = await sign_up(client), await sign_up(client)
    owner_id, other_id = await current_user_id(client, owner), await current_user_id(client, other)
    champion_id = await seed_ready_champion(app, owner_id)
    session_id = (await start_training(client, owner, champion_id)).json()["session_id"]
    offer = {"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "type": "offer"}

    assert (await training.active(user_id=owner_id, session_id=session_id)).id == session_id
    with pytest.raises(TrainingError) as foreign:
        await training.active(user_id=other_id, session_id=session_id)
    assert (foreign.value.status, foreign.value.message) == (404, "training session not found")

    await client.post("/training/end", headers=owner, json={"session_id": session_id})
    with pytest.raises(TrainingError) as ended:
        await training.active(user_id=owner_id, session_id=session_id)
    assert (ended.value.status, ended.value.message) == (
        409,
        "this session has ended; start a new one",
    )
    # The routes answer with the check's status and message.
    for path, body in (("dial-in", None), ("offer", offer)):
        url = f"/training/sessions/{session_id}/{path}"
        refused = await client.post(url, headers=owner, json=body)
        assert (refused.status_code, refused.json()["detail"]) == (409, ended.value.message)
        stranger = await client.post(url, headers=other, json=body)
        assert (stranger.status_code, stranger.json()["detail"]) == (404, foreign.value.message)
