"""A champion ready for practice, as ingest would leave it, and starting a training session."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from memory.models import Champion, Pattern, Scenario

PRICE_REPLY = "I hear you on price; most teams your size pay two thousand dollars a month."
SCENARIO = {
    "title": "Discovery call with Dana at Acme Logistics",
    "goal": "Book a follow-up demo",
    "opening_line": "Hi, this is Dana. I only have a few minutes, what is this about?",
    "persona": {
        "name": "Dana",
        "role": "head of operations",
        "company": "Acme Logistics",
        "personality": "busy and direct",
    },
    "objections": [
        {
            "text": "Honestly, that sounds expensive.",
            "order": 1,
            "kind": "price",
            "champion_response": PRICE_REPLY,
        },
        {"text": "We're already happy with our current vendor.", "order": 2, "kind": "incumbent"},
        {"text": "It's not the right time, maybe next quarter.", "order": 3, "kind": "timing"},
    ],
    "difficulty_levels": {
        "easy": {
            "pushback": 0.2,
            "objections_to_raise": [1],
            "patience_turns": 8,
            "description": "friendly",
        },
        "medium": {
            "pushback": 0.5,
            "objections_to_raise": [1, 2],
            "patience_turns": 6,
            "description": "sceptical",
        },
        "hard": {
            "pushback": 0.9,
            "objections_to_raise": [1, 2, 3],
            "patience_turns": 4,
            "description": "tough",
            "repeat_objections": True,
        },
    },
}


async def seed_ready_champion(app: FastAPI, owner_id: str, *, status: str = "ready") -> str:
    """A ready champion with patterns and a scenario, as ingest would leave it (no vectors:
    starting a session indexes them from SQL)."""
    async with app.state.services.db.session() as session:
        champion = Champion(
            owner_id=owner_id,
            name="Alex",
            status=status,
            source_filename="call.mp4",
            media_file="source.mp4",
            media_kind="video",
            media_format="mp4",
            size_bytes=1,
            champion_speaker="S0",
            metrics={"talk_ratio": 0.55, "questions_total": 6},
        )
        session.add(champion)
        await session.flush()
        for category, quote in (
            ("objection_handling", PRICE_REPLY),
            ("discovery_question", "Walk me through how a new driver gets onboarded today."),
            ("closing", "Does Thursday at 10 work for a demo with your finance director?"),
            ("value_statement", "We helped Northwind cut onboarding time by 40 percent."),
        ):
            session.add(
                Pattern(
                    champion_id=champion.id,
                    category=category,
                    quote=quote,
                    start=10.0,
                    end=14.0,
                    why="it works",
                    provider="offline",
                )
            )
        session.add(Scenario(champion_id=champion.id, provider="offline", **SCENARIO))
        await session.commit()
        return champion.id


async def start_training(
    client: httpx.AsyncClient, auth: dict[str, str], champion_id: str, **extra: Any
) -> httpx.Response:
    """Asks the API to start a training session with ``champion_id`` (``extra`` in the body)."""
    return await client.post(
        "/training/start", headers=auth, json={"champion_id": champion_id, **extra}
    )
