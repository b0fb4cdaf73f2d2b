"""Claude pattern analysis and scenario generation against a fake Messages API.

The anthropic SDK installed here sends requests with `httpx2`, so the fake is an
`httpx2.MockTransport`; it checks the model id, the forced tool and its schema, and the
transcript we send, and replays the documented `tool_use` response shape.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest

import ingest.provider_errors as provider_errors
from ingest.provider_errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeout,
)
from ingest.providers.anthropic_analysis import ClaudePatternAnalyzer, ClaudeScenarioGenerator
from ingest.types import DIFFICULTIES, PATTERN_CATEGORIES, PatternDraft, Segment, Word

KEY = "sk-ant-test-key"

OPENING_WORDS = [
    ("Hi", 0.0, 0.3), ("Dana,", 0.3, 0.7), ("thanks", 0.8, 1.1), ("for", 1.1, 1.2),
    ("making", 1.2, 1.5), ("time", 1.5, 1.7), ("today.", 1.7, 2.1), ("I'd", 2.3, 2.5),
    ("like", 2.5, 2.7), ("to", 2.7, 2.8), ("cover", 2.8, 3.1), ("your", 3.1, 3.3),
    ("goals", 3.3, 3.6), ("first.", 3.6, 4.0),
]  # fmt: skip
SEGMENTS = [
    Segment(
        0.0,
        4.0,
        "S0",
        "Hi Dana, thanks for making time today. I'd like to cover your goals first.",
        [Word(w, s, e) for w, s, e in OPENING_WORDS],
    ),
    Segment(4.2, 6.0, "S1", "Sure. Honestly the price worries me."),
    Segment(6.1, 11.0, "S0", "That makes sense. What would it cost you if nothing changed?"),
    Segment(11.2, 15.0, "S0", "Teams like Acme cut onboarding time in half with us."),
    Segment(15.1, 16.0, "S1", "Interesting."),
    Segment(16.2, 19.0, "S0", "Shall we book a pilot for next Tuesday?"),
]


def message(tool: str, tool_input: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A Messages API response, as documented, whose answer is one tool_use block."""
    body = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-1-20250805",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_01A09q90qw90lq917835lq9",
                "name": tool,
                "input": tool_input,
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 2095,
            "output_tokens": 503,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    body.update(overrides)
    return body


def api_error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


def recording(
    answers: list[httpx2.Response | Exception]
    | Callable[[dict[str, Any]], Awaitable[httpx2.Response]],
) -> tuple[httpx2.AsyncClient, list[dict[str, Any]]]:
    """A client for the SDK; every request is checked and its JSON body kept."""
    bodies: list[dict[str, Any]] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST"
        assert request.url.host == "anthropic.test"
        assert request.url.path == "/v1/messages"
        assert request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.content)
        bodies.append(body)
        if callable(answers):
            return await answers(body)
        answer = answers[min(len(bodies), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), bodies


def options(client: httpx2.AsyncClient) -> dict[str, Any]:
    return {
        "api_key": KEY,
        "base_url": "https://anthropic.test",
        "http_client": client,
        "retry_base_delay": 0.001,
    }


def check_forced_tool(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert body["tool_choice"] == {"type": "tool", "name": name}
    assert [tool["name"] for tool in body["tools"]] == [name]
    return body["tools"][0]


PATTERNS = {
    "patterns": [
        {
            "category": "opening",
            "quote": "Hi Dana, thanks for making time today.",
            "start": 0.0,
            "end": 4.0,
            "why": "Warm, uses the prospect's name.",
        },
        {
            "category": "discovery_question",
            "quote": "what would it  cost you if NOTHING changed?",
            "start": 6.1,
            "end": 11.0,
            "why": "Makes the cost of inaction concrete.",
        },
        {
            "category": "objection_handling",
            "quote": "That makes sense, I hear you.",  # not said: a paraphrase
            "start": 6.1,
            "end": 11.0,
            "why": "Acknowledges the concern.",
        },
        {
            "category": "value_statement",
            "quote": "Honestly the price worries me.",  # the prospect's line
            "start": 4.2,
            "end": 6.0,
            "why": "n/a",
        },
        {
            "category": "social_proof",
            "quote": "Teams like Acme cut onboarding time in half with us.",
            "start": 99.0,
            "end": 120.0,
            "why": "A named customer with a number.",
        },
        {
            "category": "pricing_trick",
            "quote": "Shall we book a pilot for next Tuesday?",
            "start": 16.2,
            "end": 19.0,
            "why": "not a known category",
        },
        {
            "category": "closing",
            "quote": "Shall we book a pilot for next Tuesday?",
            "start": 16.2,
            "end": 19.0,
            "why": "Asks for a concrete next step.",
        },
    ]
}


async def test_patterns_request_and_verified_quotes() -> None:
    client, bodies = recording([httpx2.Response(200, json=message("record_patterns", PATTERNS))])

    result = await ClaudePatternAnalyzer(**options(client)).analyze(SEGMENTS, champion="S0")

    (body,) = bodies
    assert body["model"] == "claude-opus-4-1"
    assert body["max_tokens"] > 0
    tool = check_forced_tool(body, "record_patterns")
    assert "strict" not in tool
    assert_strict_ready(tool["input_schema"])  # so strict_tools=True can be switched on
    item = tool["input_schema"]["properties"]["patterns"]["items"]
    assert item["properties"]["category"]["enum"] == list(PATTERN_CATEGORIES)
    assert set(item["required"]) == {"category", "quote", "start", "end", "why"}
    assert "verbatim" in body["system"] or "character for character" in body["system"]
    (prompt,) = body["messages"]
    assert prompt["role"] == "user"
    assert "The champion is speaker S0" in prompt["content"]
    assert "[6.1-11.0] S0: That makes sense. What would it cost you" in prompt["content"]
    assert "[4.2-6.0] S1: Sure. Honestly the price worries me." in prompt["content"]

    assert result.provider == "anthropic"
    found = {p.category: p for p in result.patterns}
    assert set(found) == {"opening", "discovery_question", "social_proof", "closing"}
    assert (found["opening"].start, found["opening"].end) == (0.0, 2.1)  # from word timings
    snapped = found["discovery_question"]
    assert snapped.quote == "What would it cost you if nothing changed?"
    assert snapped.context == "Sure. Honestly the price worries me."
    assert 6.1 <= snapped.start < snapped.end <= 11.0
    proof = found["social_proof"]
    assert (proof.start, proof.end) == (11.2, 15.0)  # kept inside its segment
    assert proof.why == "A named customer with a number."
    for pattern in result.patterns:
        assert any(pattern.quote in s.text for s in SEGMENTS if s.speaker == "S0")


async def test_long_transcript_is_chunked_with_overlap_and_merged() -> None:
    segments = [
        Segment(
            i * 5.0,
            i * 5.0 + 4.5,
            "S0" if i % 2 == 0 else "S1",
            f"Line {i:03d}: " + "we talk about the rollout plan and the budget " * 3,
        )
        for i in range(80)
    ]
    in_flight, peak = 0, 0
    returned: list[str] = []

    async def answer(body: dict[str, Any]) -> httpx2.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        text = body["messages"][0]["content"]
        transcript = text.split("<transcript>\n", 1)[1].split("\n</transcript>", 1)[0]
        assert len(transcript) <= 2_000
        champion_lines = [line for line in transcript.splitlines() if "] S0: " in line]
        # The first and the last champion line: the overlap makes the last line of one
        # chunk the first of the next, so the same pattern comes back twice.
        ends = (champion_lines[0], champion_lines[-1])
        quotes = [line.split("] S0: ", 1)[1][:9] for line in ends]  # "Line 004:"
        returned.extend(quotes)
        patterns = {
            "patterns": [
                {"category": "value_statement", "quote": q, "start": 0.0, "end": 1.0, "why": "w"}
                for q in quotes
            ]
        }
        return httpx2.Response(200, json=message("record_patterns", patterns))

    client, bodies = recording(answer)
    analyzer = ClaudePatternAnalyzer(
        chunk_chars=2_000, overlap_chars=400, max_concurrency=2, **options(client)
    )
    result = await analyzer.analyze(segments, champion="S0")

    chunks = [
        b["messages"][0]["content"].split("<transcript>\n", 1)[1].split("\n</transcript>")[0]
        for b in bodies
    ]
    assert len(chunks) >= 5
    assert all(f"of {len(chunks)} of the call" in b["messages"][0]["content"] for b in bodies)
    sent = {line for chunk in chunks for line in chunk.splitlines()}
    assert all(f"Line {i:03d}:" in "\n".join(sent) for i in range(80))
    for before, after in itertools.pairwise(chunks):
        assert after.splitlines()[0] in before.splitlines()  # overlap with the previous chunk
    quotes = [p.quote for p in result.patterns]
    assert len(set(returned)) < len(returned)
    assert sorted(quotes) == sorted(set(returned))  # a pattern seen by two chunks is kept once
    assert peak <= 2


async def test_rate_limit_and_unavailable_are_retried() -> None:
    client, bodies = recording(
        [
            httpx2.Response(429, json=api_error("rate_limit_error", "Number of requests...")),
            httpx2.Response(503, json=api_error("api_error", "Service unavailable")),
            httpx2.Response(200, json=message("record_patterns", PATTERNS)),
        ]
    )

    result = await ClaudePatternAnalyzer(**options(client)).analyze(SEGMENTS, champion="S0")

    assert len(bodies) == 3
    assert len(result.patterns) == 4


async def test_the_retry_waits_as_long_as_the_api_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(provider_errors.asyncio, "sleep", record)
    client, bodies = recording(
        [
            httpx2.Response(
                429,
                json=api_error("rate_limit_error", "Number of requests..."),
                headers={"retry-after": "3"},
            ),
            httpx2.Response(200, json=message("record_patterns", PATTERNS)),
        ]
    )

    await ClaudePatternAnalyzer(**options(client)).analyze(SEGMENTS, champion="S0")

    assert len(bodies) == 2
    assert len(waits) == 1 and waits[0] >= 3.0


@pytest.mark.parametrize(
    ("status", "kind"), [(400, "invalid_request_error"), (401, "authentication_error")]
)
async def test_client_errors_are_not_retried(status: int, kind: str) -> None:
    client, bodies = recording([httpx2.Response(status, json=api_error(kind, "invalid x-api-key"))])

    with pytest.raises(ProviderStatusError) as caught:
        await ClaudePatternAnalyzer(**options(client)).analyze(SEGMENTS, champion="S0")

    assert caught.value.status == status
    assert caught.value.retryable is False
    assert KEY not in str(caught.value)
    assert len(bodies) == 1


async def test_timeout_and_connection_failures_are_translated() -> None:
    client, bodies = recording([httpx2.ReadTimeout("slow")])
    with pytest.raises(ProviderTimeout):
        await ClaudePatternAnalyzer(attempts=2, **options(client)).analyze(SEGMENTS, champion="S0")
    assert len(bodies) == 2

    client, _ = recording([httpx2.ConnectError("refused")])
    with pytest.raises(ProviderConnectionError):
        await ClaudePatternAnalyzer(attempts=1, **options(client)).analyze(SEGMENTS, champion="S0")


async def test_a_failed_chunk_fails_the_analysis_with_the_provider_error() -> None:
    segments = [Segment(i * 2.0, i * 2.0 + 1.5, "S0", f"Point {i}. " * 30) for i in range(20)]
    client, bodies = recording([httpx2.Response(401, json=api_error("authentication_error", "x"))])

    with pytest.raises(ProviderStatusError) as caught:
        await ClaudePatternAnalyzer(chunk_chars=1_000, **options(client)).analyze(
            segments, champion="S0"
        )

    assert caught.value.status == 401
    # 18 chunks, 3 at a time: the rest are cancelled instead of sent (or retried).
    assert "of 18 of the call" in bodies[0]["messages"][0]["content"]
    assert len(bodies) <= 6


@pytest.mark.parametrize(
    "answer",
    [
        message("record_patterns", {}, content=[{"type": "text", "text": "Sorry."}]),
        message("record_patterns", {"patterns": []}, stop_reason="max_tokens"),
    ],
    ids=["text-only", "cut-off"],
)
async def test_an_answer_without_a_complete_tool_call_is_an_error(answer: dict[str, Any]) -> None:
    client, bodies = recording([httpx2.Response(200, json=answer)])

    with pytest.raises(ProviderError) as caught:
        await ClaudePatternAnalyzer(**options(client)).analyze(SEGMENTS, champion="S0")

    assert caught.value.retryable is False
    assert len(bodies) == 1


async def test_no_champion_lines_means_no_request() -> None:
    client, bodies = recording([httpx2.Response(500)])

    result = await ClaudePatternAnalyzer(**options(client)).analyze(SEGMENTS, champion="S7")

    assert result.patterns == []
    assert bodies == []


def assert_strict_ready(schema: dict[str, Any]) -> None:
    """Every object closed, with all its properties required (strict tool use's rules)."""
    if schema.get("type") == "object":
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])
        for child in schema["properties"].values():
            assert_strict_ready(child)
    if schema.get("type") == "array":
        assert_strict_ready(schema["items"])


LEVEL = {"pushback": "medium", "objections_to_raise": 1, "patience_turns": 4, "description": "d"}
SCENARIO = {
    "title": "Pricing pushback from an operations lead",
    "goal": "Book a pilot for next week",
    "opening_line": "Hi, I only have fifteen minutes.",
    "persona": {
        "name": "Dana",
        "role": "Head of Operations",
        "company": "Northwind",
        "personality": "direct, cost-conscious",
    },
    "objections": [
        {
            "text": "We have no budget left this quarter.",
            "order": 1,
            "champion_response": "",
            "start": 30.0,
        },
        {
            "text": "Honestly the price worries me.",
            "order": 2,
            "champion_response": "That makes sense. What would it cost you if nothing changed?",
            "start": 4.2,
        },
    ],
    "difficulty_levels": {level: LEVEL for level in DIFFICULTIES},
}


async def test_scenarios_request_validation_and_objection_order() -> None:
    broken = dict(SCENARIO, title="No hard level")
    broken["difficulty_levels"] = {"easy": LEVEL, "medium": LEVEL}
    answer = message("record_scenarios", {"scenarios": [broken, SCENARIO]})
    client, bodies = recording([httpx2.Response(200, json=answer)])
    handled = PatternDraft(
        "objection_handling", "What would it cost you if nothing changed?", 6.5, 9.0, "w"
    )

    generator = ClaudeScenarioGenerator(
        model="claude-opus-4-5", strict_tools=True, **options(client)
    )
    drafts = await generator.generate(SEGMENTS, champion="S0", patterns=[handled])

    (body,) = bodies
    assert body["model"] == "claude-opus-4-5"
    tool = check_forced_tool(body, "record_scenarios")
    assert tool["strict"] is True
    assert_strict_ready(tool["input_schema"])
    item = tool["input_schema"]["properties"]["scenarios"]["items"]
    assert item["properties"]["difficulty_levels"]["required"] == list(DIFFICULTIES)
    content = body["messages"][0]["content"]
    assert "speaker S0" in content
    assert "What would it cost you if nothing changed?" in content
    assert "[15.1-16.0] S1: Interesting." in content

    (draft,) = drafts
    assert draft.provider == "anthropic"
    assert draft.title == SCENARIO["title"]
    assert draft.persona["company"] == "Northwind"
    assert [(o["order"], o["text"]) for o in draft.objections] == [
        (1, "Honestly the price worries me."),
        (2, "We have no budget left this quarter."),
    ]
    assert draft.objections[0]["champion_response"].startswith("That makes sense")
    assert "champion_response" not in draft.objections[1]
    assert set(draft.difficulty_levels) == set(DIFFICULTIES)


async def test_no_usable_scenario_is_an_error() -> None:
    bad = dict(SCENARIO, difficulty_levels={"easy": LEVEL, "medium": LEVEL, "brutal": LEVEL})
    client, _ = recording(
        [httpx2.Response(200, json=message("record_scenarios", {"scenarios": [bad]}))]
    )

    with pytest.raises(ProviderError) as caught:
        await ClaudeScenarioGenerator(**options(client)).generate(
            SEGMENTS, champion="S0", patterns=[]
        )

    assert caught.value.retryable is False


async def test_an_overlong_call_keeps_the_prospect_lines_whole() -> None:
    long_pitch = "Our platform " + "does many wonderful things " * 40
    segments = [
        Segment(
            float(i),
            i + 0.9,
            "S0" if i % 2 else "S1",
            f"Objection {i}." if i % 2 == 0 else long_pitch,
        )
        for i in range(40)
    ]
    answer = message("record_scenarios", {"scenarios": [SCENARIO]})
    client, bodies = recording([httpx2.Response(200, json=answer)])

    await ClaudeScenarioGenerator(max_transcript_chars=6_000, **options(client)).generate(
        segments, champion="S0", patterns=[]
    )

    transcript = bodies[0]["messages"][0]["content"].split("<transcript>\n", 1)[1]
    assert len(transcript) < 6_100
    assert "[0.0-0.9] S1: Objection 0." in transcript
    assert "[38.0-38.9] S1: Objection 38." in transcript
    champion_lines = [line for line in transcript.splitlines() if "] S0: " in line]
    assert champion_lines and all(len(line) < 230 for line in champion_lines)
