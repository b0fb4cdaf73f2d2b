"""The orchestrator on Claude: Claude plans a task by calling the agents' tools itself.

Claude (Opus) gets the task, its context and every agent's tools (named ``<agent>_<tool>`` by
`agents.mcp_server.catalogue`, with the input schemas made from the code). Each answer with
``tool_use`` blocks is run, the calls of one answer in parallel (they are independent: Claude
asked for them together), and answered with ``tool_result`` blocks; a call that fails is
answered with ``is_error`` and the reason, so Claude can correct it. The loop ends when
Claude answers in text, or at a bound on rounds and tool calls. The report has the shape
of the offline `agents.orchestrator.Orchestrator`'s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import anthropic
from anthropic.types import (
    ContentBlock,
    ContentBlockParam,
    MessageParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlock,
)

from agents.base import BaseAgent
from agents.intents import ChampionRef
from agents.mcp_server import catalogue
from agents.tools.spec import ToolError, ToolSpec
from agents.workflow import StepReport
from ingest.claude import CallPolicy, create_message
from ingest.provider_errors import ProviderError, ProviderStatusError, with_retries

if TYPE_CHECKING:
    import httpx2

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_POLICY = CallPolicy(max_tokens=4096, timeout=90.0, attempts=3, retry_base_delay=1.0)
MAX_ROUNDS = 8
MAX_TOOL_CALLS = 24

SYSTEM_PROMPT = """\
You are the orchestrator of Champion Clone, a sales-training platform. A user uploads a \
recording of one of their best salespeople (a "champion"); the platform transcribes it, \
extracts the champion's patterns (openers, discovery questions, objection handling, value \
statements, closes) and builds practice scenarios. Trainees then practise live sessions \
against an AI prospect (roleplay) or watch the AI play the champion (demo), and each turn \
is scored against the champion's way.

You act for the signed-in user: every tool only sees and changes that user's data. Do the \
task with the tools; never invent ids, take them from the task, the context or earlier \
tool results. Tools are named <agent>_<tool>. A practice session starts on a ready \
champion with training_start_session, goes on with training_process_response and ends \
with training_end_session, which gives its scorecard. When calls do not depend on each other, ask \
for them in the same answer so they run in parallel. When a call fails, read the error and \
correct the call, or tell the user what is missing. When the task is done, answer in a few \
plain sentences: what you did and the ids and results the user needs next.

The agents:
{agents}"""


class ClaudeOrchestrator:
    """Runs tasks over one user's agents with Claude choosing the tool calls.

    Args:
        agents: the agents acting for the user, by name.
        api_key: the Anthropic API key.
        model: the model id (Opus, ``anthropic_analysis_model`` in the settings).
        champions: the user's champions, oldest first, so Claude can resolve a name to an id.
        base_url: the API base URL.
        http_client: an ``httpx2.AsyncClient`` for the SDK (tests inject a mock transport).
        policy: the token limit, time limit and retry budget of each request.
        max_rounds: how many requests one task may make.
        max_tool_calls: how many tool calls one task may make.

    Raises:
        ValueError: two agents' tools would have the same name.
    """

    planner = "anthropic"

    def __init__(
        self,
        *,
        agents: dict[str, BaseAgent],
        api_key: str,
        model: str,
        champions: Sequence[ChampionRef] = (),
        base_url: str = DEFAULT_BASE_URL,
        http_client: httpx2.AsyncClient | None = None,
        policy: CallPolicy = DEFAULT_POLICY,
        max_rounds: int = MAX_ROUNDS,
        max_tool_calls: int = MAX_TOOL_CALLS,
    ) -> None:
        self.agents = agents
        self.champions = list(champions)
        self.model = model
        self._tools = catalogue(agents)
        # Retries are ours (with_retries), so the SDK's own are switched off.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, http_client=http_client, max_retries=0
        )
        self._policy = policy
        self._max_rounds = max_rounds
        self._max_tool_calls = max_tool_calls

    def tool_params(self) -> list[ToolParam]:
        """Every agent's tools as offered to Claude: namespaced name, description, schema."""
        return [
            {"name": name, "description": spec.description, "input_schema": spec.input_schema}
            for name, (_agent, spec) in self._tools.items()
        ]

    def system_prompt(self) -> str:
        """The system prompt: the platform, who Claude acts for, and what each agent does."""
        lines = [f"- {name}: {agent.purpose}" for name, agent in sorted(self.agents.items())]
        return SYSTEM_PROMPT.format(agents="\n".join(lines))

    def first_message(self, task: str, context: dict[str, Any]) -> str:
        """The user message: the task, its context and the user's champions, as JSON."""
        parts = [f"Task: {task}", f"Context (JSON): {json.dumps(context, ensure_ascii=False)}"]
        if self.champions:
            champions = [asdict(c) for c in self.champions]
            parts.append(f"The user's champions, oldest first (JSON): {json.dumps(champions)}")
        return "\n\n".join(parts)

    async def run(self, task: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
        """Lets Claude do ``task`` with the agents' tools.

        Returns:
            The report: the task, the planner, the intent (``tool_use``), the plan (every
            tool call in order, with its id and round), each step's report, the status,
            Claude's final answer and the time taken; a failed run also says why
            (``error``) and keeps the steps it ran.

        Raises:
            ToolError: Claude could not be asked (a provider failure after retries, or an
                answer refused) before any tool ran.
        """
        started = time.perf_counter()
        messages: list[MessageParam] = [
            {"role": "user", "content": self.first_message(task, context or {})}
        ]
        plan: list[dict[str, Any]] = []
        steps: list[StepReport] = []

        def report(status: str, result: str | None, error: str | None) -> dict[str, Any]:
            return {
                "task": task,
                "planner": self.planner,
                "intent": "tool_use",
                "plan": plan,
                "steps": [s.to_dict() for s in steps],
                "status": status,
                "result": result,
                "error": error,
                "seconds": round(time.perf_counter() - started, 3),
            }

        for round_number in range(1, self._max_rounds + 1):
            try:
                content, stop_reason = await self._ask(messages)
            except ToolError as exc:
                if not steps:
                    raise
                return report("failed", None, exc.message)
            calls = [b for b in content if isinstance(b, ToolUseBlock)]
            if stop_reason == "max_tokens":
                return report("failed", None, "Claude's answer was cut off at the token limit")
            if stop_reason != "tool_use" or not calls:
                answer = "\n\n".join(b.text for b in content if b.type == "text").strip()
                if not answer:
                    return report("failed", None, "Claude finished without an answer")
                return report("done", answer, None)
            if round_number == self._max_rounds:
                break
            if len(steps) + len(calls) > self._max_tool_calls:
                error = f"stopped: the task needed more than {self._max_tool_calls} tool calls"
                return report("failed", None, error)
            for call in calls:
                agent, tool = self._names(call.name)
                plan.append({"id": call.id, "agent": agent, "tool": tool, "round": round_number})
            ran = await asyncio.gather(*(self._call(c) for c in calls))
            steps.extend(ran)
            messages.append({"role": "assistant", "content": [_param(b) for b in content]})
            messages.append({"role": "user", "content": [_result(s) for s in ran]})
        return report(
            "failed", None, f"stopped: Claude did not finish within {self._max_rounds} rounds"
        )

    async def _ask(self, messages: list[MessageParam]) -> tuple[list[ContentBlock], str | None]:
        """One request, retried while retryable; a failure becomes a `ToolError`."""

        async def attempt() -> tuple[list[ContentBlock], str | None]:
            message = await create_message(
                self._client,
                model=self.model,
                policy=self._policy,
                system=self.system_prompt(),
                messages=messages,
                tools=self.tool_params(),
            )
            return list(message.content), message.stop_reason

        try:
            return await with_retries(
                attempt, attempts=self._policy.attempts, base_delay=self._policy.retry_base_delay
            )
        except ProviderError as exc:
            logger.warning("the Claude planner's request failed")
            raise ToolError("failed", _failure(exc)) from exc

    def _names(self, name: str) -> tuple[str, str]:
        """The agent and its tool behind a namespaced name (an unknown name has no agent)."""
        entry = self._tools.get(name)
        return (entry[0].name, entry[1].name) if entry is not None else ("", name)

    async def _call(self, call: ToolUseBlock) -> StepReport:
        """Runs one tool call; a failure is kept in the report, never raised."""
        entry: tuple[BaseAgent, ToolSpec] | None = self._tools.get(call.name)
        args = call.input if isinstance(call.input, dict) else {"input": call.input}
        step = StepReport(call.id, *self._names(call.name), args)
        started = time.perf_counter()
        try:
            if entry is None:
                known = ", ".join(self._tools)
                message = f"there is no tool {call.name!r}; the tools are: {known}"
                raise ToolError("unknown_tool", message)
            agent, spec = entry
            step.result = await agent.execute_tool(spec.name, call.input)
            step.status = "done"
        except ToolError as exc:
            step.status, step.error = "failed", exc.message
        except Exception as exc:  # a bug must answer this call, not end the task
            logger.error("unhandled %s in an orchestrator tool call", type(exc).__name__)
            step.status, step.error = "failed", f"{call.name} failed: internal error"
        finally:
            step.seconds = time.perf_counter() - started
        return step


def _failure(exc: ProviderError) -> str:
    """What a user reads when Claude could not be asked (never the key)."""
    if isinstance(exc, ProviderStatusError) and exc.status in (401, 403):
        return f"Claude refused the Anthropic API key (HTTP {exc.status}); check ANTHROPIC_API_KEY"
    return f"Claude could not plan the task: {exc.provider} {exc.message}"


def _param(block: ContentBlock) -> ContentBlockParam:
    """An answer's block as it is sent back in the conversation."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    param: ContentBlockParam = block.model_dump(mode="json", exclude_none=True)  # type: ignore[assignment]
    return param


def _result(step: StepReport) -> ToolResultBlockParam:
    """The ``tool_result`` answering a call: its JSON result, or its error for Claude to act on."""
    if step.status == "done":
        text = json.dumps(step.result, ensure_ascii=False)
        return {"type": "tool_result", "tool_use_id": step.id, "content": text}
    return {
        "type": "tool_result",
        "tool_use_id": step.id,
        "content": step.error or "the call failed",
        "is_error": True,
    }
