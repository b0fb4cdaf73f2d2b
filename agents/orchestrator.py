"""The orchestrator: a task in plain words → a plan of agent steps → the steps run → a report.

Offline, the deterministic intent router (`agents.intents`) plans; the plan then runs with
independent steps in parallel and results passed along (`agents.workflow`). The report has
the plan, each step's status, time and result, and the answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from agents.base import BaseAgent
from agents.claude_planner import ClaudeOrchestrator
from agents.intents import ChampionRef, route
from agents.workflow import run_plan

if TYPE_CHECKING:
    import httpx2


class Orchestrator:
    """Plans and runs tasks over one user's agents.

    Args:
        agents: the agents acting for the user, by name.
        champions: the user's champions, oldest first (for "champion 2" or a name).
    """

    planner = "offline"

    def __init__(self, *, agents: dict[str, BaseAgent], champions: list[ChampionRef]) -> None:
        self.agents = agents
        self.champions = champions

    async def run(self, task: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
        """Plans ``task`` and runs the plan.

        Raises:
            ToolError: the task could not be planned (the message says what can be).
        """
        started = time.perf_counter()
        plan = route(task, context or {}, self.champions)
        reports = await run_plan(plan.steps, self.agents)
        results = {r.id: r.result for r in reports}
        if isinstance(plan.answer, str):
            result = results.get(plan.answer)
        else:
            result = {step_id: results.get(step_id) for step_id in plan.answer}
        failed = [r for r in reports if r.status != "done"]
        return {
            "task": task,
            "planner": self.planner,
            "intent": plan.intent,
            "plan": [
                {"id": s.id, "agent": s.agent, "tool": s.tool, "needs": sorted(s.needs())}
                for s in plan.steps
            ],
            "steps": [r.to_dict() for r in reports],
            "status": "failed" if failed else "done",
            "result": result,
            "seconds": round(time.perf_counter() - started, 3),
        }


def make_orchestrator(
    *,
    agents: dict[str, BaseAgent],
    champions: list[ChampionRef],
    anthropic_api_key: str,
    model: str,
    http_client: httpx2.AsyncClient | None = None,
) -> Orchestrator | ClaudeOrchestrator:
    """The orchestrator for one user: Claude's when a key is set, else the offline one.

    Args:
        agents: the agents acting for the user, by name.
        champions: the user's champions, oldest first.
        anthropic_api_key: the Anthropic API key ("" for the offline planner).
        model: Claude's model id (``anthropic_analysis_model``, Opus).
        http_client: an ``httpx2.AsyncClient`` for the SDK (tests inject a mock transport).
    """
    if not anthropic_api_key.strip():
        return Orchestrator(agents=agents, champions=champions)
    return ClaudeOrchestrator(
        agents=agents,
        champions=champions,
        api_key=anthropic_api_key.strip(),
        model=model,
        http_client=http_client,
    )
