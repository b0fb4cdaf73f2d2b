"""`BaseAgent`: a named agent with a purpose, the provider it uses, and typed tools.

An agent wraps code that ingest, memory and the training domain (`agents.training`) already
it. Its tools are its methods marked with `agents.tools.spec.tool`; `execute_tool` checks a
call's input against the tool's schema before running it, and turns the errors a caller can
act on into a `ToolError` with a readable message.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from agents.tools.spec import ToolError, ToolMethod, ToolSpec, input_model, is_tool, spec_of
from ingest.provider_errors import ProviderError


@dataclass(frozen=True)
class _Tool:
    method: ToolMethod
    model: type[BaseModel]
    spec: ToolSpec


class BaseAgent:
    """An agent and its tools.

    Subclasses set ``name`` and ``purpose`` and mark async methods with ``@tool``.

    Args:
        provider: the model provider behind the agent's tools ("anthropic", "offline", ...).
    """

    name: ClassVar[str] = "base"
    purpose: ClassVar[str] = ""
    expected_errors: ClassVar[tuple[type[Exception], ...]] = (ProviderError, LookupError)
    """Errors a tool may raise that mean "this call cannot be served" (answered as a
    `ToolError` of kind ``failed``), as opposed to bugs."""

    def __init__(self, *, provider: str = "offline") -> None:
        self.provider = provider
        self._tools: dict[str, _Tool] = {}
        for attr, member in inspect.getmembers(type(self)):
            if is_tool(member):
                model = input_model(member, attr)
                self._tools[attr] = _Tool(getattr(self, attr), model, spec_of(attr, member, model))

    @classmethod
    def tool_specs(cls) -> list[ToolSpec]:
        """The agent's tool definitions, without an instance (for the registry's files)."""
        specs = []
        for attr, member in sorted(inspect.getmembers(cls)):
            if is_tool(member):
                specs.append(spec_of(attr, member, input_model(member, attr)))
        return specs

    @property
    def tools(self) -> list[ToolSpec]:
        """The agent's tools, by name."""
        return [self._tools[name].spec for name in sorted(self._tools)]

    def status(self) -> dict[str, Any]:
        """What the agent is, what it runs on and what it can do."""
        return {
            "name": self.name,
            "purpose": self.purpose,
            "provider": self.provider,
            "tools": [spec.name for spec in self.tools],
        }

    async def execute_tool(self, name: str, args: Any) -> Any:
        """Runs a tool with validated input.

        Args:
            name: the tool's name.
            args: its input, a JSON object.

        Returns:
            The tool's result (JSON-ready).

        Raises:
            ToolError: an unknown tool, input that does not fit the schema, or a call the
                tool could not serve (with the reason).
        """
        entry = self._tools.get(name)
        if entry is None:
            known = ", ".join(sorted(self._tools))
            raise ToolError("unknown_tool", f"{self.name} has no tool {name!r} (it has: {known})")
        from agents.tools.spec import validated

        kwargs = validated(name, entry.model, args)
        try:
            return await entry.method(**kwargs)
        except ToolError:
            raise
        except self.expected_errors as exc:
            raise ToolError("failed", f"{name} failed: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)
