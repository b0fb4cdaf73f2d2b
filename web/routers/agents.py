"""The agents and their tools: what they are, what runs them, what they can do."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agents.registry import AGENT_CLASSES, tool_definitions
from web.deps import CurrentUser, ServicesDep

router = APIRouter(tags=["agents"])


@router.get("/tools")
async def tools(user: CurrentUser) -> dict[str, Any]:
    """Every agent's tools with the JSON schema of their input (as Claude's tool use and
    MCP take them)."""
    return {
        "tools": [
            {"agent": agent, **definition}
            for agent, definitions in tool_definitions().items()
            for definition in definitions
        ]
    }


@router.get("/agents/status")
async def agents_status(user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Each agent: its purpose, the provider behind it and its tools."""
    llm = services.provider_choices().get("llm", "offline")
    return {
        "agents": [
            {
                "name": cls.name,
                "purpose": cls.purpose,
                "provider": llm,
                "tools": [spec.name for spec in cls.tool_specs()],
            }
            for cls in AGENT_CLASSES
        ]
    }
