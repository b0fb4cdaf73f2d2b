"""Plans of agent steps: parallel waves, results passed along, failures contained; and the
offline intent router's plans."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import pytest

from agents.base import BaseAgent
from agents.intents import ChampionRef, route
from agents.tools.spec import ToolError, tool
from agents.workflow import Step, run_plan


class ClockAgent(BaseAgent):
    """A test agent whose tools wait, echo and fail."""

    name: ClassVar[str] = "clock"
    purpose: ClassVar[str] = "waits and echoes"

    @tool
    async def wait(self, seconds: float, label: str) -> dict[str, Any]:
        """Wait, then say when.

        Args:
            seconds: how long to wait.
            label: what to echo.
        """
        await asyncio.sleep(seconds)
        return {"label": label, "at": time.perf_counter()}

    @tool
    async def fail(self, reason: str) -> dict[str, Any]:
        """Fail with a reason.

        Args:
            reason: why.
        """
        raise LookupError(reason)


AGENTS: dict[str, BaseAgent] = {"clock": ClockAgent()}


async def test_independent_steps_run_together_and_results_pass_along() -> None:
    steps = [
        Step("a", "clock", "wait", {"seconds": 0.5, "label": "first"}),
        Step("b", "clock", "wait", {"seconds": 0.5, "label": "second"}),
        Step("c", "clock", "wait", {"seconds": 0.0, "label": "$a.label"}),
    ]
    started = time.perf_counter()
    reports = await run_plan(steps, AGENTS)
    elapsed = time.perf_counter() - started

    assert [r.status for r in reports] == ["done", "done", "done"]
    assert reports[2].args["label"] == "first"  # a's result, passed along
    assert reports[2].result["at"] >= max(reports[0].result["at"], reports[1].result["at"])
    assert elapsed < 1.0  # a and b overlapped: one after the other takes 1 s at least


async def test_a_failed_step_skips_only_what_needs_it() -> None:
    steps = [
        Step("bad", "clock", "fail", {"reason": "champion not found"}),
        Step("after", "clock", "wait", {"seconds": 0, "label": "$bad.label"}),
        Step("other", "clock", "wait", {"seconds": 0, "label": "independent"}),
    ]
    reports = {r.id: r for r in await run_plan(steps, AGENTS)}

    assert reports["bad"].status == "failed" and "champion not found" in str(reports["bad"].error)
    assert reports["after"].status == "skipped"
    assert reports["other"].status == "done"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([Step("a", "nobody", "wait")], "no agent 'nobody'"),
        ([Step("a", "clock", "explode")], "has no tool 'explode'"),
        ([Step("a", "clock", "wait", {"seconds": 0, "label": "$later.x"})], "later or unknown"),
        ([Step("a", "clock", "fail", {"reason": "x"})] * 2, "unique"),
    ],
)
async def test_bad_plans_are_refused_before_anything_runs(steps: list[Step], message: str) -> None:
    with pytest.raises(ToolError) as caught:
        await run_plan(steps, AGENTS)
    assert message in caught.value.message


CHAMPIONS = [ChampionRef("c-1", "Marie"), ChampionRef("c-2", "Alex")]


@pytest.mark.parametrize(
    ("task", "context", "champion"),
    [
        ("Start training with champion 1", {}, "c-1"),
        ("Start training with Alex", {}, "c-2"),
        ("Let's practise", {"champion_id": "c-2"}, "c-2"),
    ],
)
def test_training_tasks_start_a_session_then_give_tips(
    task: str, context: dict[str, object], champion: str
) -> None:
    plan = route(task, context, CHAMPIONS)

    assert plan.intent == "start_training"
    assert [(s.agent, s.tool) for s in plan.steps] == [
        ("training", "start_session"),
        ("training", "generate_tips"),
    ]
    assert plan.steps[0].args["champion_id"] == champion
    assert plan.steps[1].needs() == {"start"}


def test_a_question_searches_the_champions_patterns_in_its_category() -> None:
    plan = route("How does Marie handle price objections?", {}, CHAMPIONS)

    assert plan.intent == "ask_about_champion"
    (step,) = plan.steps
    assert (step.agent, step.tool) == ("pattern", "find_patterns")
    assert step.args["champion_id"] == "c-1"
    assert step.args["category"] == "objection_handling"


@pytest.mark.parametrize(
    ("task", "context"),
    [
        ("Upload and analyze video champion.mp4", {"champion_id": "c-2"}),
        ("Process the recording of Alex's call", {}),
        ("Here it is", {"champion_id": "c-2", "upload": {"filename": "call.wav"}}),
    ],
)
def test_a_recording_is_ingested_then_read_in_parallel(
    task: str, context: dict[str, object]
) -> None:
    plan = route(task, context, CHAMPIONS)

    assert plan.intent == "process_recording"
    ingest, *after = plan.steps
    assert (ingest.id, ingest.agent, ingest.tool) == ("ingest", "audio", "process_recording")
    assert ingest.args == {"champion_id": "c-2"} and ingest.needs() == set()
    assert {(s.agent, s.tool) for s in after} == {
        ("pattern", "extract_patterns"),
        ("pattern", "generate_scenarios"),
        ("audio", "clone_voice"),
        ("audio", "analyze_audio"),
    }
    assert all(s.needs() == {"ingest"} for s in after)  # all wait for it, none for another
    assert plan.answer == tuple(s.id for s in plan.steps)


@pytest.mark.parametrize(
    ("task", "champions", "message"),
    [
        ("Start training with champion 3", CHAMPIONS, "no champion 3"),
        ("Start training", CHAMPIONS, "say which champion"),
        ("Make me a sandwich", CHAMPIONS, "I can start a training session"),
        ("Start training", [], "no champions yet"),
    ],
)
def test_tasks_it_cannot_place_get_a_clear_answer(
    task: str, champions: list[ChampionRef], message: str
) -> None:
    with pytest.raises(ToolError) as caught:
        route(task, {}, champions)
    assert message in caught.value.message
