"""Tools: typed async methods an agent offers, with a JSON schema made from their signature.

A tool is an ``async`` method decorated with `tool`. Its keyword parameters, their type hints
and the ``Args:`` section of its docstring become the tool's input schema (through a pydantic
model), so the schema can never drift from the code; `execute` validates a call's arguments
against that model and answers a bad call with an error a model (or a person) can act on.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

ToolMethod = Callable[..., Awaitable[Any]]
_TOOL_MARK = "__agent_tool__"
_ARG_LINE = re.compile(r"^\s+(\w+)(?: \([^)]*\))?:\s*(.+)$")


class ToolError(Exception):
    """A tool call that cannot run: an unknown tool or input that does not fit its schema.

    ``kind`` is ``"unknown_tool"``, ``"invalid_input"`` or ``"failed"``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class ToolSpec:
    """A tool as a model sees it: name, description and the JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The definition as Anthropic's tool use (and MCP) take it."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }


def tool(method: ToolMethod) -> ToolMethod:
    """Marks an async agent method as a tool (its first docstring paragraph describes it)."""
    if not inspect.iscoroutinefunction(method):
        raise TypeError(f"tool {method.__name__} must be an async method")
    setattr(method, _TOOL_MARK, True)
    return method


def is_tool(member: object) -> bool:
    """Whether ``member`` was marked with `tool`."""
    return bool(getattr(member, _TOOL_MARK, False))


def _describe(doc: str) -> tuple[str, dict[str, str]]:
    """The docstring's summary paragraph and its ``Args:`` descriptions."""
    text = inspect.cleandoc(doc or "")
    summary = text.split("\n\n", 1)[0].replace("\n", " ").strip()
    args: dict[str, str] = {}
    in_args, current = False, ""
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip() == "Args:":
            in_args = True
        elif in_args and line.strip() and indent == 0:
            break  # the next section (Returns:, Raises:)
        elif in_args and (match := _ARG_LINE.match(line)) and indent == 4:
            current = match.group(1)
            args[current] = match.group(2).strip()
        elif in_args and current and line.strip():
            args[current] += " " + line.strip()
    return summary, args


def input_model(method: ToolMethod, name: str) -> type[BaseModel]:
    """A pydantic model of the method's keyword parameters (its tool input).

    Raises:
        TypeError: a parameter has no type hint or is not keyword-usable.
    """
    hints = get_type_hints(method, include_extras=True)
    _summary, described = _describe(method.__doc__ or "")
    fields: dict[str, Any] = {}
    for param in inspect.signature(method).parameters.values():
        if param.name == "self":
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise TypeError(f"tool {name}: parameter {param.name} must be a named parameter")
        if param.name not in hints:
            raise TypeError(f"tool {name}: parameter {param.name} needs a type hint")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (
            hints[param.name],
            Field(default, description=described.get(param.name)),
        )
    model: type[BaseModel] = create_model(
        f"{name}_input", __config__=ConfigDict(extra="forbid"), **fields
    )
    return model


def spec_of(name: str, method: ToolMethod, model: type[BaseModel]) -> ToolSpec:
    """The tool's definition: its name, docstring summary and input schema."""
    summary, _args = _describe(method.__doc__ or "")
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return ToolSpec(name=name, description=summary, input_schema=schema)


def validated(name: str, model: type[BaseModel], args: Any) -> dict[str, Any]:
    """The call's arguments checked against the tool's input model.

    Raises:
        ToolError: the input is not an object, or does not fit the schema (the message
            names each field and what is wrong with it).
    """
    if not isinstance(args, dict):
        raise ToolError("invalid_input", f"{name} takes a JSON object of named arguments")
    try:
        parsed = model.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ToolError("invalid_input", f"bad input for {name}: {problems}") from None
    return {field: getattr(parsed, field) for field in model.model_fields}
