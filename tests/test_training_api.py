"""Text training sessions: start, respond, end, history; bad input; nothing lost on restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from memory.models import Turn
from memory.settings import Settings
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.training import PRICE_REPLY, SCENARIO, seed_ready_champion, start_training

AppClient = tuple[FastAPI, httpx.AsyncClient]


async def test_a_text_session_from_start_to_scorecard(app_client: AppClient) -> None:
    app, client = app_client
    auth = await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, auth))

    started = await start_training(client, auth, champion_id, difficulty="medium")
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["first_message"] == SCENARIO["opening_line"]
    assert body["scenario"]["title"] == SCENARIO["title"]
    assert body["tips"] and body["provider"] == "offline"
    session_id = body["session_id"]
    assert await app.state.services.vectors.count(champion_id=champion_id) == 4

    turn = await client.post(
        "/training/respond",
        headers=auth,
        json={
            "session_id": session_id,
            "message": "Thanks Dana. Walk me through how you onboard new drivers today?",
        },
    )
    assert turn.status_code == 200, turn.text
    reply = turn.json()
    assert reply["prospect_response"]
    assert 0 <= reply["score"] <= 100
    assert set(reply["criteria"]) <= {
        "discovery",
        "objection_handling",
        "value",
        "next_step",
        "listening",
    }
    assert reply["feedback"]

    detail = (await client.get(f"/training/sessions/{session_id}", headers=auth)).json()
    assert [t["role"] for t in detail["turns"]] == ["ai", "trainee", "ai"]
    assert detail["turns"][1]["score"] == reply["score"]
    assert detail["status"] == "active"

    ended = await client.post("/training/end", headers=auth, json={"session_id": session_id})
    assert ended.status_code == 200, ended.text
    card = ended.json()["scorecard"]
    assert ended.json()["status"] == "ended"
    assert 0 <= card["overall"] <= 100
    assert card["pass_threshold"] == 70.0
    assert set(card["rubric"]) == {
        "discovery",
        "objection_handling",
        "value",
        "next_step",
        "listening",
    }
    assert card["metrics"]["champion"]["talk_ratio"] == 0.55

    again = await client.post("/training/end", headers=auth, json={"session_id": session_id})
    assert again.json()["scorecard"] == card
    late = await client.post(
        "/training/respond",
        headers=auth,
        json={"session_id": session_id, "message": "one more thing"},
    )
    assert late.status_code == 409
    assert "ended" in late.json()["detail"]


async def test_the_champions_way_is_their_own_line(app_client: AppClient) -> None:
    app, client = app_client
    auth = await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
    session_id = (await start_training(client, auth, champion_id, difficulty="hard")).json()[
        "session_id"
    ]
    ways = []
    for message in (
        "what does your onboarding look like today",
        "we can save you a lot of time with our platform",
        "ok",
        "does thursday at ten work for a demo",
    ):
        reply = (
            await client.post(
                "/training/respond",
                headers=auth,
                json={"session_id": session_id, "message": message},
            )
        ).json()
        ways.append(reply["champion_way"])
    seeded = {
        PRICE_REPLY,
        "Walk me through how a new driver gets onboarded today.",
        "Does Thursday at 10 work for a demo with your finance director?",
        "We helped Northwind cut onboarding time by 40 percent.",
    }
    assert any(ways)
    assert all(way in seeded for way in ways if way)


async def test_a_session_the_server_no_longer_holds_still_ends_with_a_scorecard(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    async with running_app(settings) as (app, client):
        auth = await sign_up(client, "restart@example.com")
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        session_id = (await start_training(client, auth, champion_id)).json()["session_id"]
        await client.post(
            "/training/respond",
            headers=auth,
            json={"session_id": session_id, "message": "How do you track new hires today?"},
        )
        # The server stops after storing a turn but before scoring it.
        async with app.state.services.db.session() as session:
            session.add(
                Turn(
                    session_id=session_id,
                    index=3,
                    role="trainee",
                    text="Could we set up a pilot next week?",
                )
            )
            await session.commit()
    async with running_app(settings) as (_app, client):
        login = await client.post(
            "/auth/login",
            json={"email": "restart@example.com", "password": "correct horse battery"},
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        ended = await client.post("/training/end", headers=auth, json={"session_id": session_id})
        assert ended.status_code == 200, ended.text
        turns = ended.json()["turns"]
        assert [t["role"] for t in turns] == ["ai", "trainee", "ai", "trainee"]
        assert all(t["score"] is not None for t in turns if t["role"] == "trainee")
        assert ended.json()["scorecard"]["turn_count"] == 2


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ("", "must not be empty"),
        ("   \n\t ", "must not be empty"),
        ("x" * 10_000, "at most 2000 characters"),
    ],
)
async def test_bad_messages_are_422_and_store_nothing(
    app_client: AppClient, message: str, detail: str
) -> None:
    app, client = app_client
    auth = await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
    session_id = (await start_training(client, auth, champion_id)).json()["session_id"]
    response = await client.post(
        "/training/respond", headers=auth, json={"session_id": session_id, "message": message}
    )
    assert response.status_code == 422
    assert detail in response.json()["detail"]
    turns = (await client.get(f"/training/sessions/{session_id}", headers=auth)).json()["turns"]
    assert len(turns) == 1


async def test_starting_needs_a_ready_owned_champion_and_a_real_scenario(
    app_client: AppClient,
) -> None:
    app, client = app_client
    owner, other = await sign_up(client), await sign_up(client)
    ready = await seed_ready_champion(app, await current_user_id(client, owner))
    processing = await seed_ready_champion(
        app, await current_user_id(client, owner), status="processing"
    )
    assert (await start_training(client, other, ready)).status_code == 404
    not_ready = await start_training(client, owner, processing)
    assert not_ready.status_code == 409 and "not ready" in not_ready.json()["detail"]
    wrong_scenario = await start_training(client, owner, ready, scenario_id="nope")
    assert wrong_scenario.status_code == 404
    bad_mode = await start_training(client, owner, ready, mode="karaoke")
    assert bad_mode.status_code == 422
    assert (await start_training(client, owner, ready, mode="demo")).status_code == 201


async def test_sessions_belong_to_their_trainee(app_client: AppClient) -> None:
    app, client = app_client
    owner, other = await sign_up(client), await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, owner))
    first = (await start_training(client, owner, champion_id)).json()["session_id"]
    second = (await start_training(client, owner, champion_id)).json()["session_id"]
    listed = (await client.get("/training/sessions", headers=owner)).json()
    assert [s["id"] for s in listed] == [second, first]
    assert (await client.get("/training/sessions", headers=other)).json() == []
    for method, path, body in (
        ("GET", f"/training/sessions/{first}", None),
        ("POST", "/training/respond", {"session_id": first, "message": "hello"}),
        ("POST", "/training/end", {"session_id": first}),
    ):
        response = await client.request(method, path, headers=other, json=body)
        assert response.status_code == 404, (method, path)
    unknown = await client.post("/training/end", headers=owner, json={"session_id": "missing"})
    assert unknown.status_code == 404


async def test_training_routes_are_rate_limited(make_settings: Callable[..., Settings]) -> None:
    async with running_app(make_settings(rate_limit_training="2/minute")) as (_app, client):
        auth = await sign_up(client)
        codes = [
            (await client.get("/training/sessions", headers=auth)).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]


async def test_demo_mode_answers_with_the_champions_lines_and_scores_nothing(
    app_client: AppClient,
) -> None:
    app, client = app_client
    auth = await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
    session_id = (await start_training(client, auth, champion_id, mode="demo")).json()["session_id"]
    reply = (
        await client.post(
            "/training/respond",
            headers=auth,
            json={"session_id": session_id, "message": "Honestly, that sounds expensive."},
        )
    ).json()
    assert reply["score"] is None
    assert reply["prospect_response"] == PRICE_REPLY
    ended = (
        await client.post("/training/end", headers=auth, json={"session_id": session_id})
    ).json()
    assert ended["status"] == "ended"
    assert all(t["score"] is None for t in ended["turns"])


async def test_the_rubric_is_published_with_the_pass_mark(
    make_settings: Any,
) -> None:
    async with running_app(make_settings(pass_threshold=65)) as (_app, client):
        auth = await sign_up(client)
        assert (await client.get("/training/rubric")).status_code == 401
        rubric = (await client.get("/training/rubric", headers=auth)).json()
    assert rubric["pass_threshold"] == 65
    weights = {name: c["weight"] for name, c in rubric["criteria"].items()}
    assert set(weights) == {"discovery", "objection_handling", "value", "next_step", "listening"}
    assert abs(sum(weights.values()) - 1) < 1e-9
    assert all(c["description"] for c in rubric["criteria"].values())
