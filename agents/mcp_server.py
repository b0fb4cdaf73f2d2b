"""One MCP server for every agent's tools (the official `mcp` SDK's low-level server).

The agents' tools already carry JSON schemas made from their code, so the low-level
`Server` fits: ``tools/list`` answers with those schemas as they are and ``tools/call`` hands
the arguments to `BaseAgent.execute_tool`, which validates them the same way for every
caller (the API, the orchestrator, MCP).

Why one server and not one per agent:

* one place to authenticate: the transport decides who the caller is once (the ``--user``
  of the stdio command, the bearer token on HTTP), and every agent acts for that user;
* one connection for a client: Claude Desktop and other clients configure a single server
  and see every tool, including those of agents added later;
* tool names stay unique by being namespaced by agent.

Tool names are ``<agent>_<tool>`` (``training_start_session``). The separator is an
underscore, not a dot, because Claude's tool use (which Claude Desktop and other Claude-based
clients forward MCP tools to) accepts only ``[A-Za-z0-9_-]`` in names. A name is never split
to find its agent: calls are looked up in the table `catalogue` builds from `agents_for`, which
also refuses two tools that would get the same name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from agents.base import BaseAgent
from agents.registry import AgentDeps, agents_for
from agents.tools.spec import ToolError, ToolSpec

logger = logging.getLogger(__name__)

SERVER_NAME = "champion-clone"
SERVER_VERSION = "0.1.0"
SEPARATOR = "_"
INSTRUCTIONS = (
    "Champion Clone's agents: each tool is named <agent>_<tool> and acts for the signed-in "
    "user. Start a practice session on a ready champion with training_start_session, talk "
    "with training_process_response and end it with training_end_session for a scorecard."
)


@dataclass(frozen=True)
class Caller:
    """Who a call acts for and what the agents work on.

    Args:
        deps: the stores and services the agents use.
        user_id: the acting user; every tool only sees that user's data.
    """

    deps: AgentDeps
    user_id: str


ResolveCaller = Callable[[Any], Caller]
"""Finds the caller from the transport's request (the HTTP request; None over stdio)."""


def mcp_name(agent: str, tool: str) -> str:
    """The tool's name over MCP: ``<agent>_<tool>``."""
    return f"{agent}{SEPARATOR}{tool}"


def catalogue(agents: Mapping[str, BaseAgent]) -> dict[str, tuple[BaseAgent, ToolSpec]]:
    """Every agent's tools by their MCP name.

    Raises:
        ValueError: two tools would have the same MCP name.
    """
    tools: dict[str, tuple[BaseAgent, ToolSpec]] = {}
    for agent_name, agent in sorted(agents.items()):
        for spec in agent.tools:
            name = mcp_name(agent_name, spec.name)
            if name in tools:
                raise ValueError(f"two agents' tools are both named {name!r} over MCP")
            tools[name] = (agent, spec)
    return tools


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], isError=True
    )


def create_server(resolve_caller: ResolveCaller) -> Server[Any, Any]:
    """The MCP server of every agent's tools.

    Args:
        resolve_caller: given the transport's request (the HTTP request, or None over
            stdio), the user the call acts for and the agents' dependencies.
    """
    server: Server[Any, Any] = Server(
        SERVER_NAME, version=SERVER_VERSION, instructions=INSTRUCTIONS
    )

    def current_tools() -> dict[str, tuple[BaseAgent, ToolSpec]]:
        caller = resolve_caller(server.request_context.request)
        return catalogue(agents_for(caller.deps, caller.user_id))

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [
            types.Tool(
                name=name,
                title=f"{agent.name}: {spec.name.replace('_', ' ')}",
                description=spec.description,
                inputSchema=spec.input_schema,
            )
            for name, (agent, spec) in current_tools().items()
        ]

    # The SDK's own jsonschema check is off: `execute_tool` validates with the tool's pydantic
    # model and names each wrong field the way the API does.
    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        tools = current_tools()
        entry = tools.get(name)
        if entry is None:
            known = ", ".join(tools)
            return _error(f"there is no tool {name!r}; the tools are: {known}")
        agent, spec = entry
        try:
            result = await agent.execute_tool(spec.name, arguments)
        except ToolError as exc:
            return _error(exc.message)
        except Exception as exc:  # a bug must answer this call, not end the session
            logger.error("unhandled %s in an MCP tool call", type(exc).__name__)
            return _error(f"{name} failed: internal error; the call was not completed")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result, ensure_ascii=False))],
            structuredContent=result if isinstance(result, dict) else None,
        )

    return server


async def serve_stdio(server: Server[Any, Any]) -> None:
    """Serves ``server`` on this process's stdin and stdout until the client disconnects."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
