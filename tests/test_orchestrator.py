"""The orchestrator's offline flows end to end, on the real agents and storage."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from agents.intents import ChampionRef
from agents.orchestrator import Orchestrator
from agents.registry import agents_for
from tests.support.apps import current_user_id, sign_up
from tests.support.training import seed_ready_champion

AppClient = tuple[FastAPI, httpx.AsyncClient]


async def test_the_training_flow_starts_a_session_and_gives_tips(app_client: AppClient) -> None:
    app, client = app_client
    user_id = await current_user_id(client, await sign_up(client))
    champion_id = await seed_ready_champion(app, user_id)
    agents = agents_for(app.state.services.agent_deps(), user_id)
    orchestrator = Orchestrator(agents=agents, champions=[ChampionRef(champion_id, "Alex")])

    report = await orchestrator.run("Start training with Alex on hard")

    assert report["status"] == "done" and report["intent"] == "start_training"
    start, tips = report["steps"]
    assert start["status"] == tips["status"] == "done"
    assert start["args"]["difficulty"] == "hard"
    assert tips["args"]["session_id"] == start["result"]["session_id"]  # passed along
    assert tips["result"]["tips"]
    assert report["result"]["session_id"] == start["result"]["session_id"]
    session = await client.get(
        f"/training/sessions/{start['result']['session_id']}",
        headers=await sign_up(client),  # someone else: the session is not theirs
    )
    assert session.status_code == 404


async def test_a_question_is_answered_from_the_champions_stored_patterns(
    app_client: AppClient,
) -> None:
    app, client = app_client
    user_id = await current_user_id(client, await sign_up(client))
    champion_id = await seed_ready_champion(app, user_id)
    agents = agents_for(app.state.services.agent_deps(), user_id)
    orchestrator = Orchestrator(agents=agents, champions=[ChampionRef(champion_id, "Alex")])

    report = await orchestrator.run("How does Alex handle price objections?")

    assert report["status"] == "done" and report["intent"] == "ask_about_champion"
    (find,) = report["steps"]
    assert (find["agent"], find["tool"]) == ("pattern", "find_patterns")
    lines = report["result"]["lines"]
    assert lines and all(line["category"] == "objection_handling" for line in lines)
    assert "price" in lines[0]["quote"].lower() or "cost" in lines[0]["quote"].lower()
