"""The orchestrator: a task in plain words → a plan of agent steps → the steps run → a report.

Offline, the deterministic intent router (`agents.intents`) plans; the plan then runs with
independent steps in parallel and results passed along (`agents.workflow`). The report has
the plan, each step's status, time and result, and the answer.
"""

from __future__ import annotations

import time
from typing import Any

from agents.base import BaseAgent
from agents.intents import ChampionRef, route
from agents.workflow import run_plan


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
        answer = next((r for r in reports if r.id == plan.answer), None)
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
            "result": answer.result if answer is not None else None,
            "seconds": round(time.perf_counter() - started, 3),
        }
