"""The TrainingAgent's tools through `execute_tool`, on the offline engines and real storage;
the tool registry, its committed definitions files and the `/tools` and `/agents/status` API."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from agents.registry import DEFINITIONS_DIR, definitions_files
from agents.tools.spec import ToolError
from agents.training.agent import TrainingAgent
from tests.support.apps import current_user_id, sign_up
from tests.support.training import seed_ready_champion

AppClient = tuple[FastAPI, httpx.AsyncClient]


async def _agent(app: FastAPI, client: httpx.AsyncClient) -> tuple[TrainingAgent, str]:
    user_id = await current_user_id(client, await sign_up(client))
    services = app.state.services
    agent = TrainingAgent(
        training=services.training, user_id=user_id, provider="offline", memory=services.sessions
    )
    return agent, await seed_ready_champion(app, user_id)


async def test_a_session_runs_through_the_tools(app_client: AppClient) -> None:
    app, client = app_client
    agent, champion_id = await _agent(app, client)

    started = await agent.execute_tool("start_session", {"champion_id": champion_id})
    session_id = started["session_id"]
    assert started["first_message"] and started["mode"] == "roleplay"
    assert started["scenario"]["id"]

    tips = await agent.execute_tool("generate_tips", {"session_id": session_id})
    assert tips["tips"] and any("talking to" in tip for tip in tips["tips"])

    reply = await agent.execute_tool(
        "process_response",
        {"session_id": session_id, "message": "What does onboarding cost your team today?"},
    )
    assert reply["prospect_response"] and 0 <= reply["score"] <= 100
    assert reply["turn_index"] == 1

    detail = await agent.execute_tool("get_session", {"session_id": session_id})
    assert [t["role"] for t in detail["turns"]] == ["ai", "trainee", "ai"]
    assert detail["turns"][1]["score"] == reply["score"]

    ended = await agent.execute_tool("end_session", {"session_id": session_id})
    assert ended["status"] == "ended"
    assert ended["scorecard"]["turn_count"] == 1


async def test_the_agent_remembers_the_session_it_started(app_client: AppClient) -> None:
    app, client = app_client
    agent, champion_id = await _agent(app, client)
    other, _ = await _agent(app, client)

    with pytest.raises(ToolError) as nothing_yet:
        await agent.execute_tool("process_response", {"message": "Hello there"})
    assert "give a session_id" in nothing_yet.value.message

    started = await agent.execute_tool("start_session", {"champion_id": champion_id})
    reply = await agent.execute_tool("process_response", {"message": "What slows you down?"})
    assert reply["session_id"] == started["session_id"]
    tips = await agent.execute_tool("generate_tips", {})
    assert tips["session_id"] == started["session_id"]
    with pytest.raises(ToolError):  # another user's agent has its own memory
        await other.execute_tool("get_session", {})

    ended = await agent.execute_tool("end_session", {})
    assert ended["id"] == started["session_id"] and ended["status"] == "ended"
    with pytest.raises(ToolError) as forgotten:  # an ended session is not "current" any more
        await agent.execute_tool("process_response", {"message": "One more thing"})
    assert "give a session_id" in forgotten.value.message


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"session_id": "s"}, "message: Field required"),
        ({"session_id": 7, "message": "hi"}, "session_id: Input should be a valid string"),
        ({"session_id": "s", "message": "hi", "extra": 1}, "extra: Extra inputs"),
        ({"session_id": "s", "message": "x" * 2001}, "message: String should have at most"),
        ({"session_id": "s", "message": "  \n "}, "message must not be empty"),
        ("not an object", "takes a JSON object"),
    ],
)
async def test_bad_input_gets_a_clear_error_and_stores_nothing(
    app_client: AppClient, args: object, problem: str
) -> None:
    app, client = app_client
    agent, _champion_id = await _agent(app, client)

    with pytest.raises(ToolError) as caught:
        await agent.execute_tool("process_response", args)

    assert caught.value.kind == "invalid_input"
    assert problem in caught.value.message


async def test_unknown_tools_and_other_users_sessions_are_refused(app_client: AppClient) -> None:
    app, client = app_client
    owner, champion_id = await _agent(app, client)
    stranger, _ = await _agent(app, client)
    session_id = (await owner.execute_tool("start_session", {"champion_id": champion_id}))[
        "session_id"
    ]

    with pytest.raises(ToolError) as unknown:
        await owner.execute_tool("delete_everything", {})
    assert unknown.value.kind == "unknown_tool"
    assert "start_session" in unknown.value.message  # it says what it has

    for tool, args in (
        ("get_session", {"session_id": session_id}),
        ("process_response", {"session_id": session_id, "message": "hello"}),
        ("start_session", {"champion_id": champion_id}),
    ):
        with pytest.raises(ToolError) as refused:
            await stranger.execute_tool(tool, args)
        assert refused.value.kind == "failed" and "not found" in refused.value.message
    detail = await owner.execute_tool("get_session", {"session_id": session_id})
    assert len(detail["turns"]) == 1  # the stranger's message was not stored


def test_the_committed_definitions_are_what_the_code_generates() -> None:
    committed = {path.name: path.read_text() for path in DEFINITIONS_DIR.glob("*_tools.json")}
    assert committed == definitions_files(), "run `champion-clone tools write` and commit"


def test_schemas_come_from_the_signatures_and_docstrings() -> None:
    specs = {spec.name: spec for spec in TrainingAgent.tool_specs()}
    assert set(specs) == {
        "start_session",
        "process_response",
        "end_session",
        "get_session",
        "generate_tips",
    }
    start = specs["start_session"].input_schema
    assert start["required"] == ["champion_id"]
    assert start["additionalProperties"] is False
    assert start["properties"]["mode"]["enum"] == ["roleplay", "demo"]
    assert start["properties"]["difficulty"]["default"] == "medium"
    assert start["properties"]["champion_id"]["description"] == "the champion to practise against."
    assert specs["process_response"].input_schema["properties"]["message"]["maxLength"] == 2000
    assert specs["start_session"].description.startswith("Start a practice session")


async def test_the_api_lists_tools_and_agents(client: httpx.AsyncClient) -> None:
    assert (await client.get("/tools")).status_code == 401
    auth = await sign_up(client)

    tools = (await client.get("/tools", headers=auth)).json()["tools"]
    listed = {(t["agent"], t["name"]) for t in tools}
    assert ("training", "process_response") in listed
    on_disk = json.loads((DEFINITIONS_DIR / "training_tools.json").read_text())
    assert [t for t in tools if t["agent"] == "training"] == [
        {"agent": "training", **definition} for definition in on_disk
    ]

    status = (await client.get("/agents/status", headers=auth)).json()["agents"]
    training = next(a for a in status if a["name"] == "training")
    assert training["provider"] == "offline"
    assert "end_session" in training["tools"] and training["purpose"]
