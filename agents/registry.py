"""Every agent's tools in one place, and the definitions files generated from them.

`agents/tools/definitions/<agent>_tools.json` are written by `champion-clone tools write`
from the code (never edited by hand); a test fails when the committed files differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.audio import AudioAgent
from agents.base import BaseAgent
from agents.pattern import PatternAgent
from agents.training.agent import TrainingAgent
from agents.training.session import TrainingService
from ingest.providers.choices import provider_choices
from ingest.providers.setup import IngestProviders
from memory.db import Database
from memory.files import MediaStore
from memory.session_store import SessionStore
from memory.settings import Settings
from memory.vectors import VectorStore

AGENT_CLASSES: tuple[type[BaseAgent], ...] = (TrainingAgent, AudioAgent, PatternAgent)
DEFINITIONS_DIR = Path(__file__).parent / "tools" / "definitions"


@dataclass
class AgentDeps:
    """What the agents work on: the same stores and services the API uses."""

    settings: Settings
    db: Database
    vectors: VectorStore
    media: MediaStore
    training: TrainingService
    providers: IngestProviders
    sessions: SessionStore


def agents_for(deps: AgentDeps, user_id: str) -> dict[str, BaseAgent]:
    """Every agent, acting for ``user_id`` (each tool only sees that user's data)."""
    llm = provider_choices(deps.settings).get("llm", "offline")
    agents: list[BaseAgent] = [
        TrainingAgent(training=deps.training, user_id=user_id, provider=llm, memory=deps.sessions),
        AudioAgent(
            db=deps.db,
            media=deps.media,
            providers=deps.providers,
            user_id=user_id,
            provider=deps.providers.transcriber.name,
        ),
        PatternAgent(
            db=deps.db,
            vectors=deps.vectors,
            training=deps.training,
            user_id=user_id,
            provider=llm,
        ),
    ]
    return {agent.name: agent for agent in agents}


def tool_definitions() -> dict[str, list[dict[str, Any]]]:
    """Each agent's tool definitions (name, description, input schema), by agent name."""
    return {cls.name: [spec.to_dict() for spec in cls.tool_specs()] for cls in AGENT_CLASSES}


def definitions_files() -> dict[str, str]:
    """The definitions files' names and contents, as the code generates them."""
    return {
        f"{agent}_tools.json": json.dumps(tools, indent=2, sort_keys=True) + "\n"
        for agent, tools in tool_definitions().items()
    }


def write_definitions(folder: Path = DEFINITIONS_DIR) -> list[Path]:
    """Writes the definitions files (and removes those of agents that no longer exist)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = definitions_files()
    for stale in folder.glob("*_tools.json"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
