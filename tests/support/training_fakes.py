"""A realistic practice scenario and an in-memory champion's lines, for the training tests."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from agents.training.types import ChampionLine, DialogueTurn, TrainingContext

PRICE = "Honestly, that sounds expensive."
VENDOR = "We're happy with our current vendor."
TIMING = "It's not the right time, maybe next quarter."

SCENARIO: dict[str, Any] = {
    "title": "Price and current-vendor objections from the Head of Operations at Acme Logistics",
    "goal": "Agree to start a pilot",
    "opening_line": "Hello, this is Dana.",
    "persona": {
        "name": "Dana",
        "role": "Head of Operations",
        "company": "Acme Logistics",
        "personality": "Skeptical, cost-conscious, brief and to the point",
    },
    "objections": [
        {"text": PRICE, "order": 1, "kind": "price"},
        {"text": VENDOR, "order": 2, "kind": "incumbent"},
        {"text": TIMING, "order": 3, "kind": "timing"},
    ],
    "difficulty_levels": {
        "easy": {"pushback": 0.2, "objections_to_raise": [1], "patience_turns": 6},
        "medium": {"pushback": 0.5, "objections_to_raise": [1, 2], "patience_turns": 4},
        "hard": {"pushback": 0.85, "objections_to_raise": 3, "patience_turns": 2},
    },
}
OBJECTION_TEXTS = [PRICE, VENDOR, TIMING]

# Answers to each objection that acknowledge it and back the answer up.
GOOD_ANSWERS = {
    PRICE: "i hear you most teams your size pay two thousand a month and it pays for itself",
    VENDOR: "that makes sense you can keep them we plug into the tools you already use and "
    "northwind kept their vendor too",
    TIMING: "fair enough but peak season is when new hires hurt the most and we save three days "
    "per driver",
}
PITCH = "we help teams like yours cut onboarding time by forty percent"

PRICE_LINE = (
    "I hear you. Most teams your size pay about two thousand dollars a month, so if it saves "
    "even a third of what you just described, it pays for itself in the first month."
)
VENDOR_LINE = (
    "That makes sense, and you don't have to replace them. We plug into the tools you already "
    "use, and Northwind kept their vendor too."
)
DISCOVERY_LINE = "Walk me through how a new driver gets onboarded at Acme today."
COST_LINE = "How much is that costing you, roughly, in overtime or lost shipments?"
VALUE_LINE = (
    "Teams like yours at Northwind had the same problem, and we helped them cut onboarding "
    "time by 40 percent in one quarter."
)
CLOSING_LINE = "Who else would need to be in the room to say yes?"
PILOT_LINE = (
    "If we start a two week pilot now, your seasonal drivers could be ready three days sooner."
)
OPENING_LINE = "Hi, this is Alex from Brightpath. Thanks so much for making time today."

# (line, category, extra words a meaning-based search would match it by, start, end)
LINES = [
    (OPENING_LINE, "opening", "hello hi greeting", 0.0, 4.0),
    (
        DISCOVERY_LINE,
        "discovery_question",
        "process spreadsheets today track supervisor",
        20.0,
        25.0,
    ),
    (COST_LINE, "discovery_question", "cost problem slip mistakes late", 40.0, 44.0),
    (VALUE_LINE, "value_statement", "results outcome", 55.0, 62.0),
    (PRICE_LINE, "objection_handling", "expensive price cost budget pricey", 70.0, 80.0),
    (VENDOR_LINE, "objection_handling", "happy current vendor incumbent already", 85.0, 93.0),
    (PILOT_LINE, "closing", "pilot start trial next quarter timing work", 120.0, 126.0),
    (CLOSING_LINE, "closing", "next step decision finance director sign", 130.0, 133.0),
]
_WORD = re.compile(r"[a-z0-9']+")
_COMMON = frozenset(
    "a an the and or but so of to in on at for with is are it it's this that i you we our your "
    "they them be do does what how if as by just".split()
)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _COMMON}


@dataclass
class FakeChampionLines:
    """`ChampionLines` over an in-memory list, ranked by word overlap; records each request."""

    lines: list[tuple[str, str, str, float, float]] = field(default_factory=lambda: list(LINES))
    calls: list[tuple[str, str | None, int]] = field(default_factory=list)
    fail: bool = False

    async def closest(
        self, text: str, *, category: str | None = None, limit: int = 3
    ) -> list[ChampionLine]:
        """The lines sharing the most words with ``text`` (within ``category``), best first."""
        self.calls.append((text, category, limit))
        if self.fail:
            raise ConnectionError("vector store unavailable")
        query = _words(text)
        ranked = []
        for quote, cat, extra, start, end in self.lines:
            if category and cat != category:
                continue
            overlap = len(query & (_words(quote) | _words(extra)))
            if overlap:
                why = f"{cat.replace('_', ' ').capitalize()}: the champion's real line."
                ranked.append(ChampionLine(quote, cat, why, start, end, float(overlap)))
        ranked.sort(key=lambda line: -line.score)
        return ranked[:limit]


def make_ctx(
    difficulty: str = "medium",
    *,
    mode: str = "roleplay",
    scenario: dict[str, Any] | None = None,
    champion_metrics: dict[str, Any] | None = None,
) -> TrainingContext:
    """A session on the test scenario."""
    return TrainingContext(
        mode=mode,  # type: ignore[arg-type]
        difficulty=difficulty,  # type: ignore[arg-type]
        scenario=copy.deepcopy(scenario or SCENARIO),
        champion_name="Alex Rivera",
        champion_id="champion-1",
        champion_metrics=champion_metrics,
    )


def history(*turns: tuple[str, str]) -> list[DialogueTurn]:
    """A conversation from (role, text) pairs."""
    return [DialogueTurn(role, text) for role, text in turns]  # type: ignore[arg-type]


def sentence_count(text: str) -> int:
    """Sentences in a spoken reply."""
    return len([s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s])
