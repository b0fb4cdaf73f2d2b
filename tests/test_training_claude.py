"""The live Claude engines (dialogue and turn scoring) against a fake Messages API.

The anthropic SDK installed here sends requests with `httpx2`, so the fake is an
`httpx2.MockTransport`. It checks what we send (key, model id, system prompt, alternating
turns, the forced tool and its closed schema) and replays the documented response shapes:
a ``text`` block for a reply, a ``tool_use`` block for a score.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from agents.training.champion import ChampionDemoEngine
from agents.training.claude_client import CallPolicy, ClaudeMessages
from agents.training.claude_dialogue import CALL_CONNECTS, ClaudeDialogueEngine
from agents.training.claude_scoring import TOOL_NAME, ClaudeTurnScorer
from agents.training.engines import dialogue_factory, turn_scorer
from agents.training.prospect import ScenarioProspectEngine
from agents.training.scoring import HeuristicTurnScorer
from agents.training.types import RUBRIC, DialogueTurn
from ingest.provider_errors import ProviderStatusError
from ingest.providers.choices import provider_choices
from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from tests.support.training import seed_ready_champion
from tests.support.training_fakes import (
    GOOD_ANSWERS,
    PRICE,
    PRICE_LINE,
    SCENARIO,
    TIMING,
    VENDOR,
    FakeChampionLines,
    history,
    make_ctx,
)

KEY = "sk-ant-test-key"
MODEL = "claude-sonnet-4-5"
REPLY = "Two thousand a month is still a lot for us. What would we actually save?"
MARKS = {"discovery": 40, "objection_handling": 90, "value": 75, "next_step": 20, "listening": 65}
FEEDBACK = "Good: you acknowledged the price. Missing: a number tied to their cost."
SUGGESTION = "Ask what slow onboarding costs them each month, then compare it to the price."
OPENING = "Hello, this is Dana."
HI = "Hi Dana, thanks for taking my call. How do you onboard drivers today?"
# The prospect raised the price; the trainee acknowledges it and backs the answer up.
ON_PRICE = history(
    ("ai", OPENING), ("trainee", HI), ("ai", PRICE), ("trainee", GOOD_ANSWERS[PRICE])
)
FAST = {"retry_base_delay": 0.001}
DISCOVERY = "Walk me through how a new driver gets onboarded today."  # seeded for the API test


def text_message(text: str, **overrides: Any) -> dict[str, Any]:
    """A Messages API response, as documented, whose answer is one text block."""
    body = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 812, "output_tokens": 24},
    }
    body.update(overrides)
    return body


def tool_message(tool_input: dict[str, Any]) -> dict[str, Any]:
    """A Messages API response, as documented, whose answer is one tool_use block."""
    block = {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": TOOL_NAME}
    return text_message("", content=[{**block, "input": tool_input}], stop_reason="tool_use")


def api_error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


def scored(body: dict[str, Any], **extra: Any) -> httpx2.Response:
    """The answer to a scoring request: `MARKS` for exactly the criteria the schema asks."""
    asked = body["tools"][0]["input_schema"]["properties"]["criteria"]["required"]
    answer = {"criteria": {c: MARKS[c] for c in asked}, "feedback": FEEDBACK}
    return httpx2.Response(200, json=tool_message({**answer, "suggestion": SUGGESTION, **extra}))


Answer = httpx2.Response | Exception | Callable[[dict[str, Any]], httpx2.Response]


def fake_api(
    answers: list[Answer], *, model: str = MODEL
) -> tuple[httpx2.AsyncClient, list[dict[str, Any]]]:
    """A client for the SDK whose requests are checked and kept; the answers are given in
    order (the last one repeats)."""
    bodies: list[dict[str, Any]] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST"
        assert request.url.host == "api.anthropic.com"
        assert request.url.path == "/v1/messages"
        assert request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        body = json.loads(request.content)
        assert body["model"] == model
        bodies.append(body)
        answer = answers[min(len(bodies), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer if isinstance(answer, httpx2.Response) else answer(body)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), bodies


def claude(client: httpx2.AsyncClient) -> ClaudeMessages:
    return ClaudeMessages(api_key=KEY, model=MODEL, http_client=client)


def check_turns(body: dict[str, Any], last_words: str) -> None:
    """The turns alternate, start with the user and end with the trainee's words."""
    roles = [m["role"] for m in body["messages"]]
    assert roles[0] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles))
    assert body["messages"][-1] == {"role": "user", "content": last_words}


# -- the dialogue ------------------------------------------------------------------------


async def test_roleplay_reply_plays_the_scenarios_prospect() -> None:
    client, bodies = fake_api([httpx2.Response(200, json=text_message(REPLY))])
    engine = ClaudeDialogueEngine(client=claude(client), offline=ScenarioProspectEngine())
    ctx = make_ctx("hard")
    turns = [*ON_PRICE, DialogueTurn("trainee", "And we can start small.")]

    reply = await engine.reply(ctx, turns)

    assert reply == REPLY and engine.name == "anthropic"
    (body,) = bodies
    assert 0 < body["max_tokens"] <= 300 and "tools" not in body
    system = body["system"]
    for fact in ("Dana", "head of operations", "Acme Logistics", "Skeptical, cost-conscious"):
        assert fact in system
    assert "Agree to start a pilot" in system
    assert system.index(PRICE) < system.index(VENDOR) < system.index(TIMING)
    assert "one to three" in system and "No markdown" in system
    check_turns(body, f"{GOOD_ANSWERS[PRICE]} And we can start small.")
    assert body["messages"][:3] == [
        {"role": "user", "content": CALL_CONNECTS},
        {"role": "assistant", "content": OPENING},
        {"role": "user", "content": HI},
    ]


@pytest.mark.parametrize(
    ("difficulty", "raised", "left_out"),
    [("easy", [PRICE], [VENDOR, TIMING]), ("medium", [PRICE, VENDOR], [TIMING])],
)
async def test_the_difficulty_decides_the_objections_and_the_pushback(
    difficulty: str, raised: list[str], left_out: list[str]
) -> None:
    client, bodies = fake_api([httpx2.Response(200, json=text_message(REPLY))])
    engine = ClaudeDialogueEngine(client=claude(client), offline=ScenarioProspectEngine())
    await engine.reply(make_ctx(difficulty), ON_PRICE)
    system = bodies[0]["system"]
    assert all(text in system for text in raised)
    assert not any(text in system for text in left_out)
    assert ("Easy-going" in system) == (difficulty == "easy")
    assert f"Difficulty: {difficulty}" in system


async def test_a_scenario_written_by_claude_plays_and_falls_back() -> None:
    scenario = {
        **SCENARIO,
        "difficulty_levels": {
            level: {
                "pushback": pushback,
                "objections_to_raise": raise_count,
                "patience_turns": 3,
                "description": f"{level} prospect",
            }
            for level, pushback, raise_count in (
                ("easy", "low", 1),
                ("medium", "medium", 2),
                ("hard", "high", 3),
            )
        },
    }
    ctx = make_ctx("hard", scenario=scenario)
    client, bodies = fake_api(
        [httpx2.Response(503), httpx2.Response(200, json=text_message(REPLY))]
    )
    engine = ClaudeDialogueEngine(client=claude(client), offline=ScenarioProspectEngine(), **FAST)
    assert await engine.reply(ctx, ON_PRICE) == REPLY
    system = bodies[0]["system"]
    assert "Difficulty: hard (hard prospect). Tough" in system and TIMING in system

    offline = ScenarioProspectEngine()
    failing, _ = fake_api([httpx2.Response(400)])
    engine = ClaudeDialogueEngine(client=claude(failing), offline=offline)
    assert await engine.reply(ctx, ON_PRICE) == await offline.reply(ctx, ON_PRICE)


async def test_demo_reply_is_grounded_in_the_champions_retrieved_lines() -> None:
    client, bodies = fake_api([httpx2.Response(200, json=text_message(PRICE_LINE))])
    lines = FakeChampionLines()
    engine = ClaudeDialogueEngine(
        client=claude(client), offline=ChampionDemoEngine(lines=lines), lines=lines
    )
    ctx = make_ctx(mode="demo")
    opening = engine.first_message(ctx)
    said = "Honestly, that sounds expensive for a team our size."

    reply = await engine.reply(ctx, history(("ai", opening), ("trainee", said)))

    assert reply == PRICE_LINE
    assert lines.calls[0] == (said, "objection_handling", 3)
    (body,) = bodies
    system = body["system"]
    assert "You are Alex Rivera" in system and "Dana" in system
    assert f'(objection_handling) "{PRICE_LINE}"' in system
    check_turns(body, said)
    assert body["messages"][1] == {"role": "assistant", "content": opening}


async def test_the_opening_line_needs_no_request() -> None:
    client, bodies = fake_api([httpx2.Response(500)])
    lines = FakeChampionLines()
    for mode, offline in (
        ("roleplay", ScenarioProspectEngine()),
        ("demo", ChampionDemoEngine(lines=lines)),
    ):
        ctx = make_ctx(mode=mode)
        engine = ClaudeDialogueEngine(client=claude(client), offline=offline, lines=lines)
        assert engine.first_message(ctx) == offline.first_message(ctx)
    assert bodies == []


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit_error"), (529, "overloaded_error")])
async def test_rate_limited_and_overloaded_replies_are_retried(status: int, kind: str) -> None:
    client, bodies = fake_api(
        [
            httpx2.Response(status, json=api_error(kind, "try again")),
            httpx2.Response(200, json=text_message(REPLY)),
        ]
    )
    engine = ClaudeDialogueEngine(client=claude(client), offline=ScenarioProspectEngine(), **FAST)
    assert await engine.reply(make_ctx(), ON_PRICE) == REPLY
    assert len(bodies) == 2 and bodies[0] == bodies[1]


async def test_a_bad_request_is_not_retried() -> None:
    client, bodies = fake_api([httpx2.Response(400, json=api_error("invalid_request_error", "x"))])
    policy = CallPolicy(max_tokens=200, timeout=5.0, attempts=4, retry_base_delay=0.001)
    with pytest.raises(ProviderStatusError) as failed:
        await claude(client).text(
            system="s", messages=[{"role": "user", "content": "hi"}], policy=policy
        )
    assert failed.value.status == 400 and not failed.value.retryable
    assert len(bodies) == 1


@pytest.mark.parametrize(
    ("failure", "requests"),
    [
        (httpx2.Response(400, json=api_error("invalid_request_error", "bad")), 1),
        (httpx2.Response(529, json=api_error("overloaded_error", "busy")), 2),
        (httpx2.ConnectError("refused"), 2),
        (httpx2.ReadTimeout("slow"), 2),
        (httpx2.Response(200, json=text_message("", stop_reason="refusal")), 1),
        (httpx2.Response(200, json=text_message("   ")), 1),
        (httpx2.Response(200, json=text_message("(sighs)")), 1),
    ],
    ids=["400", "529", "connect", "timeout", "refusal", "empty", "nothing-to-say"],
)
async def test_a_failed_reply_is_answered_offline_and_logged_without_the_words(
    failure: Answer, requests: int, caplog: pytest.LogCaptureFixture
) -> None:
    client, bodies = fake_api([failure])
    offline = ScenarioProspectEngine()
    engine = ClaudeDialogueEngine(client=claude(client), offline=offline, **FAST)
    ctx = make_ctx()
    with caplog.at_level(logging.WARNING):
        reply = await engine.reply(ctx, ON_PRICE)
    assert reply == await offline.reply(ctx, ON_PRICE)
    assert reply and len(bodies) == requests  # the default policy tries twice in all
    assert any("offline engine answers" in r.getMessage() for r in caplog.records)
    assert not any("thousand" in r.getMessage() or KEY in r.getMessage() for r in caplog.records)


async def test_a_reply_is_made_speakable() -> None:
    answer = '**Dana:** "Look, (sighs) we pay enough already. Why would I add more? Also I'
    client, _ = fake_api(
        [httpx2.Response(200, json=text_message(answer, stop_reason="max_tokens"))]
    )
    engine = ClaudeDialogueEngine(client=claude(client), offline=ScenarioProspectEngine())
    reply = await engine.reply(make_ctx(), ON_PRICE)
    assert reply == "Look, we pay enough already. Why would I add more?"


# -- the scorer --------------------------------------------------------------------------


def expected_total(criteria: list[str]) -> float:
    weights = sum(RUBRIC[c] for c in criteria)
    return round(sum(RUBRIC[c] * MARKS[c] for c in criteria) / weights, 1)


async def test_the_score_is_our_weighted_total_and_the_way_is_retrieved() -> None:
    client, bodies = fake_api([lambda body: scored(body, overall=3)])
    lines = FakeChampionLines()
    scorer = ClaudeTurnScorer(client=claude(client), offline=HeuristicTurnScorer())

    score = await scorer.score(make_ctx(), ON_PRICE, lines)

    (body,) = bodies
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    (tool,) = body["tools"]
    schema = tool["input_schema"]
    assert schema["additionalProperties"] is False
    assert (
        schema["required"] == list(schema["properties"]) == ["criteria", "feedback", "suggestion"]
    )
    criteria = schema["properties"]["criteria"]
    asked = criteria["required"]
    assert asked == list(criteria["properties"]) == ["objection_handling", "value", "listening"]
    assert criteria["additionalProperties"] is False
    for name in asked:
        assert {k: criteria["properties"][name][k] for k in ("type", "minimum", "maximum")} == {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
        }
    prompt = body["messages"][0]["content"]
    assert f'"{GOOD_ANSWERS[PRICE]}"' in prompt and f"PROSPECT: {PRICE}" in prompt
    assert f'(objection_handling) "{PRICE_LINE}"' in prompt
    assert lines.calls[0][1:] == ("objection_handling", 3)

    assert score.provider == "anthropic"
    assert score.criteria == {c: float(MARKS[c]) for c in asked}
    assert score.score == expected_total(asked) == 78.8
    assert (score.feedback, score.suggestion) == (FEEDBACK, SUGGESTION)
    assert score.champion_way == PRICE_LINE
    assert score.champion_way_source == {
        "category": "objection_handling",
        "start": 70.0,
        "end": 80.0,
        "why": "Objection handling: the champion's real line.",
    }


async def test_marks_out_of_range_are_clamped() -> None:
    def answer(body: dict[str, Any]) -> httpx2.Response:
        marks = {"objection_handling": 140, "value": -20, "listening": 55.5}
        data = {"criteria": marks, "feedback": FEEDBACK, "suggestion": SUGGESTION}
        return httpx2.Response(200, json=tool_message(data))

    client, _ = fake_api([answer])
    scorer = ClaudeTurnScorer(client=claude(client), offline=HeuristicTurnScorer())
    score = await scorer.score(make_ctx(), ON_PRICE, FakeChampionLines())
    assert score.criteria == {"objection_handling": 100.0, "value": 0.0, "listening": 55.5}
    assert score.score == round((0.25 * 100 + 0.15 * 55.5) / 0.6, 1)


@pytest.mark.parametrize(
    "tool_input",
    [
        {"criteria": {"objection_handling": 80, "value": 70}, "feedback": "f", "suggestion": "s"},
        {
            "criteria": {"objection_handling": "high", "value": 70, "listening": 60},
            "feedback": "f",
            "suggestion": "s",
        },
        {
            "criteria": {"objection_handling": 80, "value": True, "listening": 60},
            "feedback": "f",
            "suggestion": "s",
        },
        {
            "criteria": {"objection_handling": 80, "value": 70, "listening": 60},
            "feedback": "  ",
            "suggestion": "s",
        },
        {"criteria": {"objection_handling": 80, "value": 70, "listening": 60}, "feedback": "f"},
        {"criteria": [80, 70, 60], "feedback": "f", "suggestion": "s"},
    ],
    ids=["missing-mark", "word-mark", "bool-mark", "blank-feedback", "no-suggestion", "list"],
)
async def test_a_malformed_score_falls_back_to_the_heuristic_scorer(
    tool_input: dict[str, Any],
) -> None:
    client, bodies = fake_api([httpx2.Response(200, json=tool_message(tool_input))])
    scorer = ClaudeTurnScorer(client=claude(client), offline=HeuristicTurnScorer())
    score = await scorer.score(make_ctx(), ON_PRICE, FakeChampionLines())
    assert len(bodies) == 1
    assert score == await HeuristicTurnScorer().score(make_ctx(), ON_PRICE, FakeChampionLines())
    assert score.provider == "offline"


async def test_scoring_retries_429_and_529_then_scores() -> None:
    client, bodies = fake_api(
        [
            httpx2.Response(429, json=api_error("rate_limit_error", "slow down")),
            httpx2.Response(529, json=api_error("overloaded_error", "busy")),
            scored,
        ]
    )
    scorer = ClaudeTurnScorer(client=claude(client), offline=HeuristicTurnScorer(), **FAST)
    score = await scorer.score(make_ctx(), ON_PRICE, FakeChampionLines())
    assert len(bodies) == 3 and score.provider == "anthropic"


async def test_scoring_a_bad_request_once_then_offline() -> None:
    client, bodies = fake_api([httpx2.Response(400, json=api_error("invalid_request_error", "x"))])
    scorer = ClaudeTurnScorer(client=claude(client), offline=HeuristicTurnScorer(), **FAST)
    score = await scorer.score(make_ctx(), ON_PRICE, FakeChampionLines())
    assert len(bodies) == 1 and score.provider == "offline"
    assert score.champion_way == PRICE_LINE


# -- choosing the engines ----------------------------------------------------------------


async def test_a_key_chooses_claude_and_no_key_the_offline_engines() -> None:
    lines = FakeChampionLines()
    for key in ("", "   "):
        build = dialogue_factory(anthropic_api_key=key, model=MODEL)
        assert isinstance(build("roleplay", lines), ScenarioProspectEngine)
        assert isinstance(build("demo", lines), ChampionDemoEngine)
        assert isinstance(turn_scorer(anthropic_api_key=key, model=MODEL), HeuristicTurnScorer)
    assert isinstance(dialogue_factory()("roleplay", lines), ScenarioProspectEngine)
    assert isinstance(turn_scorer(), HeuristicTurnScorer)
    build = dialogue_factory(anthropic_api_key=KEY, model=MODEL)
    for mode in ("roleplay", "demo"):
        engine = build(mode, lines)
        assert isinstance(engine, ClaudeDialogueEngine) and engine.name == "anthropic"
    assert isinstance(turn_scorer(anthropic_api_key=KEY, model=MODEL), ClaudeTurnScorer)
    settings = Settings(_env_file=None, anthropic_api_key=KEY)  # type: ignore[call-arg]
    assert provider_choices(settings)["llm"] == "anthropic"


async def test_a_text_session_on_claude_through_the_api(
    make_settings: Callable[..., Settings],
) -> None:
    def answer(body: dict[str, Any]) -> httpx2.Response:
        if "tools" in body:
            return scored(body)
        return httpx2.Response(200, json=text_message(REPLY))

    model = "claude-sonnet-4-5-20250929"  # not the default: the setting must reach the request
    client, bodies = fake_api([answer], model=model)
    settings = make_settings(anthropic_api_key=KEY, anthropic_live_model=model)
    async with running_app(settings, anthropic_http_client=client) as (app, api):
        auth = await sign_up(api)
        user_id = (await api.get("/auth/me", headers=auth)).json()["id"]
        champion_id = await seed_ready_champion(app, user_id)
        started = await api.post("/training/start", headers=auth, json={"champion_id": champion_id})
        assert started.status_code == 201, started.text
        assert started.json()["provider"] == "anthropic" and bodies == []
        session_id = started.json()["session_id"]

        said = "Thanks Dana. Walk me through how a new driver gets onboarded at Acme today?"
        turn = await api.post(
            "/training/respond", headers=auth, json={"session_id": session_id, "message": said}
        )

    assert turn.status_code == 200, turn.text
    reply = turn.json()
    assert reply["prospect_response"] == REPLY and reply["provider"] == "anthropic"
    dialogue, scoring = sorted(bodies, key=lambda body: "tools" in body)
    assert "Dana" in dialogue["system"] and "Book a follow-up demo" in dialogue["system"]
    check_turns(dialogue, said)
    asked = scoring["tools"][0]["input_schema"]["properties"]["criteria"]["required"]
    assert reply["criteria"] == {c: float(MARKS[c]) for c in asked}
    assert reply["score"] == expected_total(asked)
    assert reply["feedback"] == FEEDBACK and reply["suggestions"] == [SUGGESTION]
    assert reply["champion_way"] == DISCOVERY  # retrieved from the index, never generated
    assert f'"{DISCOVERY}"' in scoring["messages"][0]["content"]
