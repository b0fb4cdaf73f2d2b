"""The orchestrator on Claude (Opus) against a fake Messages API, on the real agents.

The fake is an `httpx2.MockTransport` (the SDK sends with `httpx2`). It checks what we send:
the key, the Opus model id from the settings, every agent's tools with the schemas made from
the code, the task and context in the first message, and on later requests the
``tool_result`` blocks answering the right ``tool_use`` ids with the real results. It replays
the documented ``tool_use`` and ``text`` response shapes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import httpx2
import pytest
from fastapi import FastAPI

from agents.base import BaseAgent
from agents.claude_planner import ClaudeOrchestrator
from agents.intents import ChampionRef
from agents.orchestrator import Orchestrator, make_orchestrator
from agents.registry import agents_for
from agents.tools.spec import ToolError, tool
from ingest.claude import CallPolicy
from memory.settings import Settings
from tests.support.apps import current_user_id, sign_up
from tests.support.training import seed_ready_champion

AppClient = tuple[FastAPI, httpx.AsyncClient]
KEY = "sk-ant-test-key"
OPUS = Settings(_env_file=None).anthropic_analysis_model  # type: ignore[call-arg]
FAST = CallPolicy(max_tokens=1024, timeout=5.0, attempts=3, retry_base_delay=0.001)
DONE = "I started a hard roleplay session with Alex; its id is in the report."

Answer = httpx2.Response | Callable[[dict[str, Any]], httpx2.Response]
_ids = itertools.count(1)


def message(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    """A Messages API response, as documented."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-1-20250805",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 2095, "output_tokens": 503},
    }


def use(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    """A ``tool_use`` block with a fresh id."""
    return {"type": "tool_use", "id": f"toolu_{next(_ids):024d}", "name": name, "input": tool_input}


def calls(*blocks: dict[str, Any], say: str = "") -> httpx2.Response:
    """An answer asking for tool calls (with a short text first, as Claude writes it)."""
    text = [{"type": "text", "text": say}] if say else []
    return httpx2.Response(200, json=message([*text, *blocks], "tool_use"))


def text(words: str) -> httpx2.Response:
    """A final answer in text."""
    return httpx2.Response(200, json=message([{"type": "text", "text": words}], "end_turn"))


def api_error(status: int, kind: str) -> httpx2.Response:
    return httpx2.Response(status, json={"type": "error", "error": {"type": kind, "message": "x"}})


def fake_api(
    answers: list[Answer], agents: dict[str, BaseAgent]
) -> tuple[httpx2.AsyncClient, list[dict[str, Any]]]:
    """A client whose requests are checked and kept; answers in order (the last repeats)."""
    bodies: list[dict[str, Any]] = []
    offered = {
        f"{agent.name}_{spec.name}": spec.to_dict()
        for agent in agents.values()
        for spec in agent.tools
    }

    async def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST"
        assert request.url.host == "api.anthropic.com" and request.url.path == "/v1/messages"
        assert request.headers["x-api-key"] == KEY
        body = json.loads(request.content)
        assert body["model"] == OPUS
        assert "tool_choice" not in body  # Claude decides whether to call a tool
        assert {t["name"]: t["input_schema"] for t in body["tools"]} == {
            name: spec["input_schema"] for name, spec in offered.items()
        }
        assert all(t["description"] == offered[t["name"]]["description"] for t in body["tools"])
        assert "You act for the signed-in user" in body["system"]
        roles = [m["role"] for m in body["messages"]]
        assert roles[0] == "user" and all(a != b for a, b in itertools.pairwise(roles))
        bodies.append(body)
        answer = answers[min(len(bodies), len(answers)) - 1]
        return answer if isinstance(answer, httpx2.Response) else answer(body)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), bodies


def results_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``tool_result`` blocks of the request's last message."""
    last = body["messages"][-1]
    assert last["role"] == "user"
    return [block for block in last["content"] if block["type"] == "tool_result"]


async def real_agents(app_client: AppClient) -> tuple[dict[str, BaseAgent], str, dict[str, str]]:
    """The real agents of a new user with a ready champion; and the champion id and auth."""
    app, client = app_client
    auth = await sign_up(client)
    user_id = await current_user_id(client, auth)
    champion_id = await seed_ready_champion(app, user_id)
    return agents_for(app.state.services.agent_deps(), user_id), champion_id, auth


class CountingAgent(BaseAgent):
    """An agent whose tools only finish when ``together`` calls run at once."""

    name: ClassVar[str] = "count"
    purpose: ClassVar[str] = "Counts, to show calls of one answer running in parallel."

    def __init__(self, *, together: int) -> None:
        super().__init__()
        self.together = asyncio.Barrier(together)

    @tool
    async def first(self, n: int) -> dict[str, Any]:
        """The first count.

        Args:
            n: a number.
        """
        await self.together.wait()
        return {"first": n}

    @tool
    async def second(self, n: int) -> dict[str, Any]:
        """The second count.

        Args:
            n: a number.
        """
        await self.together.wait()
        return {"second": n}


def counting(together: int = 1) -> dict[str, BaseAgent]:
    """The counting agent; its tools wait until ``together`` calls run at once."""
    return {"count": CountingAgent(together=together)}


async def test_claude_starts_a_training_session_and_answers(app_client: AppClient) -> None:
    app, client = app_client
    agents, champion_id, auth = await real_agents(app_client)
    settings = app.state.services.agent_deps().settings
    assert settings.anthropic_analysis_model == OPUS and "opus" in OPUS
    start = use("training_start_session", {"champion_id": champion_id, "difficulty": "hard"})

    def answer(body: dict[str, Any]) -> httpx2.Response:
        started = json.loads(results_of(body)[0]["content"])
        return text(f"{DONE} Session {started['session_id']}.")

    http, bodies = fake_api([calls(start, say="I'll start the session."), answer], agents)
    orchestrator = make_orchestrator(
        agents=agents,
        champions=[ChampionRef(champion_id, "Alex")],
        anthropic_api_key=KEY,
        model=settings.anthropic_analysis_model,
        http_client=http,
    )
    assert isinstance(orchestrator, ClaudeOrchestrator)
    context = {"page": "champion", "champion_id": champion_id}

    report = await orchestrator.run("Start training with Alex on hard", context)

    first, second = bodies
    (asked,) = first["messages"]
    assert "Start training with Alex on hard" in asked["content"]
    assert json.dumps(context) in asked["content"]
    assert json.dumps([{"id": champion_id, "name": "Alex"}]) in asked["content"]
    assert "training_start_session" in first["system"]  # it names the platform's flow
    assert second["messages"][:2] == [
        asked,
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "I'll start the session."}, start],
        },
    ]
    assert report["planner"] == "anthropic" and report["intent"] == "tool_use"
    assert report["status"] == "done" and report["error"] is None
    assert report["plan"] == [
        {"id": start["id"], "agent": "training", "tool": "start_session", "round": 1}
    ]
    (step,) = report["steps"]
    assert (step["agent"], step["tool"], step["status"]) == ("training", "start_session", "done")
    assert step["args"] == start["input"]
    session_id = step["result"]["session_id"]
    assert report["result"] == f"{DONE} Session {session_id}."
    (result,) = results_of(second)
    assert result["tool_use_id"] == start["id"] and "is_error" not in result
    assert json.loads(result["content"]) == step["result"]
    assert step["result"]["difficulty"] == "hard"
    assert step["result"]["scenario"]["champion_id"] == champion_id
    # The session is real and the signed-in user's.
    stored = await client.get(f"/training/sessions/{session_id}", headers=auth)
    assert stored.status_code == 200 and stored.json()["difficulty"] == "hard"


async def test_two_calls_in_one_answer_both_run(app_client: AppClient) -> None:
    agents, champion_id, _auth = await real_agents(app_client)
    start = use("training_start_session", {"champion_id": champion_id})
    find = use(
        "pattern_find_patterns",
        {"champion_id": champion_id, "query": "price objections", "category": "objection_handling"},
    )
    http, bodies = fake_api([calls(start, find), text("Done.")], agents)
    orchestrator = ClaudeOrchestrator(agents=agents, api_key=KEY, model=OPUS, http_client=http)

    report = await orchestrator.run("Start a session and show how Alex handles price")

    assert report["status"] == "done" and report["result"] == "Done."
    assert [(s["agent"], s["tool"], s["status"]) for s in report["steps"]] == [
        ("training", "start_session", "done"),
        ("pattern", "find_patterns", "done"),
    ]
    assert [p["round"] for p in report["plan"]] == [1, 1]
    answered = results_of(bodies[1])
    assert [r["tool_use_id"] for r in answered] == [start["id"], find["id"]]
    assert [json.loads(r["content"]) for r in answered] == [s["result"] for s in report["steps"]]
    assert report["steps"][1]["result"]["lines"]


async def test_calls_of_one_answer_run_in_parallel() -> None:
    agents = counting(together=2)
    first, second = use("count_first", {"n": 1}), use("count_second", {"n": 2})
    http, _bodies = fake_api([calls(first, second), text("Counted.")], agents)
    orchestrator = ClaudeOrchestrator(agents=agents, api_key=KEY, model=OPUS, http_client=http)

    # Each tool waits for the other: one after the other, they would never finish.
    report = await asyncio.wait_for(orchestrator.run("Count"), timeout=5)

    assert [s["result"] for s in report["steps"]] == [{"first": 1}, {"second": 2}]


async def test_a_bad_call_is_answered_as_an_error_and_the_corrected_call_runs(
    app_client: AppClient,
) -> None:
    agents, champion_id, _auth = await real_agents(app_client)
    bad = use("training_start_session", {"champion_id": champion_id, "difficulty": "brutal"})
    good = use("training_start_session", {"champion_id": champion_id, "difficulty": "hard"})

    http, bodies = fake_api([calls(bad), calls(good), text("Started.")], agents)
    orchestrator = ClaudeOrchestrator(agents=agents, api_key=KEY, model=OPUS, http_client=http)

    report = await orchestrator.run("Start training with Alex on brutal")

    assert report["status"] == "done" and report["result"] == "Started."
    failed, started = report["steps"]
    assert failed["status"] == "failed" and "difficulty" in failed["error"]
    assert started["status"] == "done" and started["result"]["session_id"]
    (refused,) = results_of(bodies[1])
    assert refused["tool_use_id"] == bad["id"] and refused["is_error"] is True
    assert refused["content"] == failed["error"] and "'easy', 'medium' or 'hard'" in failed["error"]
    (result,) = results_of(bodies[2])
    assert result["tool_use_id"] == good["id"] and "is_error" not in result
    assert json.loads(result["content"]) == started["result"]
    assert [p["id"] for p in report["plan"]] == [bad["id"], good["id"]]


async def test_an_unknown_tool_is_answered_as_an_error(app_client: AppClient) -> None:
    agents, _champion_id, _auth = await real_agents(app_client)
    made_up = use("training_delete_everything", {})
    http, bodies = fake_api([calls(made_up), text("I cannot do that.")], agents)
    orchestrator = ClaudeOrchestrator(agents=agents, api_key=KEY, model=OPUS, http_client=http)

    report = await orchestrator.run("Delete all my sessions")

    (result,) = results_of(bodies[1])
    assert result["tool_use_id"] == made_up["id"] and result["is_error"] is True
    assert "no tool 'training_delete_everything'" in result["content"]
    assert "training_start_session" in result["content"]  # what there is instead
    (step,) = report["steps"]
    assert (step["agent"], step["tool"], step["status"]) == ("", made_up["name"], "failed")
    assert report["status"] == "done" and report["result"] == "I cannot do that."


async def test_a_model_that_never_stops_is_stopped_at_the_round_bound() -> None:
    agents = counting()
    http, bodies = fake_api([lambda body: calls(use("count_first", {"n": 1}))], agents)
    orchestrator = ClaudeOrchestrator(
        agents=agents, api_key=KEY, model=OPUS, http_client=http, max_rounds=3
    )

    report = await orchestrator.run("Count forever")

    assert len(bodies) == 3
    assert report["status"] == "failed" and report["result"] is None
    assert "did not finish within 3 rounds" in report["error"]
    assert [s["status"] for s in report["steps"]] == ["done", "done"]  # the work so far


async def test_the_tool_call_bound_stops_a_runaway_plan() -> None:
    agents = counting()
    many = [use("count_first", {"n": n}) for n in range(3)]
    http, bodies = fake_api([calls(*many)], agents)
    orchestrator = ClaudeOrchestrator(
        agents=agents, api_key=KEY, model=OPUS, http_client=http, max_tool_calls=2
    )

    report = await orchestrator.run("Count a lot")

    assert len(bodies) == 1 and report["steps"] == []
    assert report["status"] == "failed" and "more than 2 tool calls" in report["error"]


async def test_an_overloaded_api_is_retried_then_answers() -> None:
    agents = counting()
    http, bodies = fake_api([api_error(529, "overloaded_error"), text("Nothing to do.")], agents)
    orchestrator = ClaudeOrchestrator(
        agents=agents, api_key=KEY, model=OPUS, http_client=http, policy=FAST
    )

    report = await orchestrator.run("Say hello")

    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert report["status"] == "done" and report["result"] == "Nothing to do."


async def test_a_refused_key_is_a_clear_failure_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    agents = counting()
    http, bodies = fake_api([api_error(401, "authentication_error")], agents)
    orchestrator = ClaudeOrchestrator(
        agents=agents, api_key=KEY, model=OPUS, http_client=http, policy=FAST
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(ToolError) as failed:
        await orchestrator.run("Say hello")

    assert len(bodies) == 1  # not retried
    assert failed.value.kind == "failed"
    assert "refused the Anthropic API key (HTTP 401)" in failed.value.message
    assert KEY not in failed.value.message
    assert not any(KEY in record.getMessage() for record in caplog.records)


async def test_a_failure_after_steps_ran_keeps_them() -> None:
    agents = counting()
    http, bodies = fake_api(
        [calls(use("count_first", {"n": 7})), api_error(500, "api_error")], agents
    )
    orchestrator = ClaudeOrchestrator(
        agents=agents, api_key=KEY, model=OPUS, http_client=http, policy=FAST
    )

    report = await orchestrator.run("Count once")

    assert len(bodies) == 1 + FAST.attempts
    assert report["status"] == "failed" and "HTTP 500" in report["error"]
    assert [s["result"] for s in report["steps"]] == [{"first": 7}]


def test_without_a_key_the_offline_orchestrator_plans() -> None:
    for key in ("", "  "):
        orchestrator = make_orchestrator(
            agents=counting(), champions=[], anthropic_api_key=key, model=OPUS
        )
        assert isinstance(orchestrator, Orchestrator)
