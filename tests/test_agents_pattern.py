"""The PatternAgent's tools through `execute_tool`, on the offline scorer and real storage
(PostgreSQL and Qdrant): reading, storing and finding patterns, scenarios, scoring a response;
other users' champions and bad input refused without storing anything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from agents.base import BaseAgent
from agents.pattern import PatternAgent
from agents.registry import agents_for
from agents.tools.spec import ToolError
from ingest.types import PATTERN_CATEGORIES
from tests.support.apps import current_user_id, sign_up
from tests.support.training import PRICE_REPLY, SCENARIO, seed_ready_champion

AppClient = tuple[FastAPI, httpx.AsyncClient]
SOCIAL_PROOF = "Riverside Freight cut driver onboarding from six weeks to two after switching."


async def _agent(app: FastAPI, client: httpx.AsyncClient) -> tuple[BaseAgent, str]:
    """The pattern agent of a new user (as the registry builds it), and their champion."""
    user_id = await current_user_id(client, await sign_up(client))
    agent = agents_for(app.state.services.agent_deps(), user_id)["pattern"]
    assert isinstance(agent, PatternAgent)
    return agent, await seed_ready_champion(app, user_id)


def _pattern(**overrides: Any) -> dict[str, Any]:
    return {
        "category": "social_proof",
        "quote": SOCIAL_PROOF,
        "why": "a named customer like them, with a number",
        "start": 61.5,
        "end": 66.0,
        **overrides,
    }


async def _count(agent: BaseAgent, champion_id: str) -> int:
    found = await agent.execute_tool("extract_patterns", {"champion_id": champion_id})
    return int(found["pattern_count"])


async def test_patterns_by_category_and_scenarios(app_client: AppClient) -> None:
    app, client = app_client
    agent, champion_id = await _agent(app, client)

    found = await agent.execute_tool("extract_patterns", {"champion_id": champion_id})
    assert found["champion_id"] == champion_id and found["status"] == "ready"
    assert found["pattern_count"] == 4
    assert list(found["patterns"]) == list(PATTERN_CATEGORIES)
    [price] = found["patterns"]["objection_handling"]
    assert price["quote"] == PRICE_REPLY
    assert (price["start"], price["end"], price["why"]) == (10.0, 14.0, "it works")
    assert found["patterns"]["social_proof"] == []

    scenarios = await agent.execute_tool("generate_scenarios", {"champion_id": champion_id})
    [scenario] = scenarios["scenarios"]
    assert scenario["title"] == SCENARIO["title"]
    assert scenario["opening_line"] == SCENARIO["opening_line"]
    assert [o["order"] for o in scenario["objections"]] == [1, 2, 3]


async def test_stored_patterns_are_listed_and_found(app_client: AppClient) -> None:
    app, client = app_client
    agent, champion_id = await _agent(app, client)

    stored = await agent.execute_tool(
        "store_patterns",
        {
            "champion_id": champion_id,
            "patterns": [_pattern(quote=f"  {SOCIAL_PROOF}\n", context="Who else uses it?")],
        },
    )
    [added] = stored["stored"]
    assert added["id"] and added["quote"] == SOCIAL_PROOF  # trimmed

    listed = await agent.execute_tool("extract_patterns", {"champion_id": champion_id})
    assert listed["pattern_count"] == 5
    [proof] = listed["patterns"]["social_proof"]
    assert (proof["id"], proof["quote"], proof["provider"]) == (added["id"], SOCIAL_PROOF, "agent")

    found = await agent.execute_tool(
        "find_patterns",
        {"champion_id": champion_id, "query": "who else in freight onboarding uses this"},
    )
    assert found["lines"][0]["quote"] == SOCIAL_PROOF
    assert found["lines"][0]["category"] == "social_proof"
    assert found["lines"][0]["start"] == 61.5

    # The lines stored before (in SQL only) were indexed too, and a category narrows it.
    price = await agent.execute_tool(
        "find_patterns",
        {
            "champion_id": champion_id,
            "query": "that sounds expensive, what does it cost a month",
            "category": "objection_handling",
            "limit": 3,
        },
    )
    assert [line["quote"] for line in price["lines"]] == [PRICE_REPLY]


async def test_a_response_is_scored_against_the_rubric(app_client: AppClient) -> None:
    app, client = app_client
    agent, champion_id = await _agent(app, client)

    scored = await agent.execute_tool(
        "analyze_response",
        {
            "champion_id": champion_id,
            "objection": "Honestly, that sounds expensive.",
            "response": "I hear you on price. What does slow onboarding cost your team today?",
        },
    )
    assert 0 <= scored["score"] <= 100
    assert "objection_handling" in scored["criteria"] and "listening" in scored["criteria"]
    assert scored["feedback"] and scored["suggestion"]
    assert scored["champion_way"] == PRICE_REPLY
    assert scored["provider"] == "offline"
    assert scored["answering"] == "Honestly, that sounds expensive."

    opening = await agent.execute_tool(
        "analyze_response",
        {"champion_id": champion_id, "response": "Walk me through how onboarding works today?"},
    )
    assert opening["answering"] == SCENARIO["opening_line"]
    assert opening["scenario_id"] and "discovery" in opening["criteria"]
    assert opening["criteria"]["discovery"] > 50


async def test_other_users_champions_are_not_found(app_client: AppClient) -> None:
    app, client = app_client
    owner, champion_id = await _agent(app, client)
    stranger, _ = await _agent(app, client)

    calls: list[tuple[str, dict[str, Any]]] = [
        ("extract_patterns", {"champion_id": champion_id}),
        ("generate_scenarios", {"champion_id": champion_id}),
        ("store_patterns", {"champion_id": champion_id, "patterns": [_pattern()]}),
        ("find_patterns", {"champion_id": champion_id, "query": "price"}),
        ("analyze_response", {"champion_id": champion_id, "response": "hello"}),
        ("extract_patterns", {"champion_id": "not-a-uuid"}),
    ]
    for tool, args in calls:
        with pytest.raises(ToolError) as refused:
            await stranger.execute_tool(tool, args)
        assert refused.value.kind == "failed"
        assert refused.value.message == f"{tool} failed: champion not found"
    assert await _count(owner, champion_id) == 4  # the stranger stored nothing


@pytest.mark.parametrize(
    ("tool", "args", "problem"),
    [
        (
            "store_patterns",
            {"patterns": [_pattern(category="small_talk")]},
            "patterns.0.category: Input should be 'opening', 'discovery_question'",
        ),
        ("store_patterns", {"patterns": [_pattern(quote="")]}, "patterns.0.quote: String should"),
        ("store_patterns", {"patterns": [_pattern(quote=" \n\t ")]}, "quote: must not be empty"),
        (
            "store_patterns",
            {"patterns": [_pattern(quote="x" * 1001)]},
            "patterns.0.quote: String should have at most 1000 characters",
        ),
        (
            "store_patterns",
            {"patterns": [_pattern(), _pattern(start=9.0, end=3.0)]},
            "patterns.1: end must not be before start",
        ),
        ("store_patterns", {"patterns": []}, "patterns: List should have at least 1 item"),
        ("store_patterns", {"patterns": [_pattern(speaker="S0")]}, "speaker: Extra inputs"),
        ("find_patterns", {"query": "price", "limit": 0}, "limit: Input should be greater than"),
        ("find_patterns", {"query": "price", "limit": 21}, "limit: Input should be less than"),
        ("find_patterns", {"query": "   "}, "query: must not be empty"),
        ("find_patterns", {"query": "price", "category": "x"}, "category: Input should be"),
        ("analyze_response", {"response": "x" * 2001}, "response: String should have at most"),
    ],
)
async def test_bad_input_gets_a_clear_error_and_stores_nothing(
    app_client: AppClient, tool: str, args: dict[str, Any], problem: str
) -> None:
    app, client = app_client
    agent, champion_id = await _agent(app, client)

    with pytest.raises(ToolError) as caught:
        await agent.execute_tool(tool, {"champion_id": champion_id, **args})

    assert caught.value.kind == "invalid_input"
    assert caught.value.message.startswith(f"bad input for {tool}: ")
    assert problem in caught.value.message
    assert await _count(agent, champion_id) == 4


def test_schemas_come_from_the_signatures_and_docstrings() -> None:
    specs = {spec.name: spec for spec in PatternAgent.tool_specs()}
    assert set(specs) == {
        "extract_patterns",
        "generate_scenarios",
        "store_patterns",
        "find_patterns",
        "analyze_response",
    }
    store = specs["store_patterns"].input_schema
    assert store["required"] == ["champion_id", "patterns"]
    assert store["properties"]["patterns"]["maxItems"] == 50
    pattern = store["$defs"]["PatternIn"]
    assert pattern["properties"]["category"]["enum"] == list(PATTERN_CATEGORIES)
    assert pattern["properties"]["quote"]["maxLength"] == 1000
    assert set(pattern["required"]) == {"category", "quote", "why", "start", "end"}
    find = specs["find_patterns"].input_schema["properties"]
    assert (find["limit"]["minimum"], find["limit"]["maximum"], find["limit"]["default"]) == (
        1,
        20,
        5,
    )
