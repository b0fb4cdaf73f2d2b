"""Running a plan of agent steps: independent steps in parallel, results passed along.

A step names an agent's tool and its arguments. An argument written ``"$step.key"`` (or
``"$step.key.0.name"``) takes its value from an earlier step's result, which makes that step
depend on it; steps with no unmet dependencies run together. A failed step fails only the
steps that needed its result; the report says, for each step, its status, time and result.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from agents.base import BaseAgent
from agents.tools.spec import ToolError

_REF = re.compile(r"^\$([A-Za-z_][\w-]*)((?:\.[\w-]+)*)$")


@dataclass
class Step:
    """One tool call in a plan."""

    id: str
    agent: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)

    def needs(self) -> set[str]:
        """The ids of the steps whose results this step's arguments use."""
        return {m.group(1) for v in _walk(self.args) if (m := _REF.match(v))}


@dataclass
class StepReport:
    """What happened to a step."""

    id: str
    agent: str
    tool: str
    args: dict[str, Any]
    status: str = "pending"  # "done", "failed" or "skipped"
    seconds: float = 0.0
    result: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "agent": self.agent,
            "tool": self.tool,
            "args": self.args,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "result": self.result,
            "error": self.error,
        }


def _walk(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _walk(v)]
    if isinstance(value, list):
        return [s for v in value for s in _walk(v)]
    return []


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str) and (match := _REF.match(value)):
        found = results[match.group(1)]
        for key in filter(None, match.group(2).split(".")):
            if isinstance(found, list) and key.isdigit() and int(key) < len(found):
                found = found[int(key)]
            elif isinstance(found, dict) and key in found:
                found = found[key]
            else:
                raise ToolError("invalid_input", f"{value} is not in that step's result")
        return found
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    return value


def check_plan(steps: list[Step], agents: dict[str, BaseAgent]) -> None:
    """Refuses a plan with unknown agents or tools, duplicate ids, or bad references.

    Raises:
        ToolError: what is wrong with the plan.
    """
    ids = [step.id for step in steps]
    if len(set(ids)) != len(ids):
        raise ToolError("invalid_input", "step ids must be unique")
    seen: set[str] = set()
    for step in steps:
        agent = agents.get(step.agent)
        if agent is None:
            raise ToolError("unknown_tool", f"no agent {step.agent!r} (agents: {sorted(agents)})")
        if step.tool not in {spec.name for spec in agent.tools}:
            raise ToolError("unknown_tool", f"{step.agent} has no tool {step.tool!r}")
        missing = step.needs() - seen
        if missing:
            raise ToolError(
                "invalid_input",
                f"step {step.id} uses results of later or unknown steps {sorted(missing)}",
            )
        seen.add(step.id)


async def run_plan(steps: list[Step], agents: dict[str, BaseAgent]) -> list[StepReport]:
    """Runs the steps, each as soon as the steps it needs are done, in parallel waves."""
    check_plan(steps, agents)
    reports = {s.id: StepReport(s.id, s.agent, s.tool, s.args) for s in steps}
    results: dict[str, Any] = {}
    pending = list(steps)
    while pending:
        blocked = [
            s for s in pending if any(reports[n].status in ("failed", "skipped") for n in s.needs())
        ]
        for step in blocked:
            reports[step.id].status = "skipped"
            reports[step.id].error = "a step it needs did not finish"
        ready = [s for s in pending if s not in blocked and s.needs() <= results.keys()]
        pending = [s for s in pending if s not in blocked and s not in ready]
        if not ready:
            break
        await asyncio.gather(*(_run(step, agents, results, reports[step.id]) for step in ready))
    return [reports[s.id] for s in steps]


async def _run(
    step: Step, agents: dict[str, BaseAgent], results: dict[str, Any], report: StepReport
) -> None:
    started = time.perf_counter()
    try:
        args = _resolve(step.args, results)
        report.args = args
        report.result = await agents[step.agent].execute_tool(step.tool, args)
        results[step.id] = report.result
        report.status = "done"
    except ToolError as exc:
        report.status, report.error = "failed", exc.message
    finally:
        report.seconds = time.perf_counter() - started
