"""What the training engines exchange, and their interfaces.

The same engines serve a browser call, a phone call and a text session: the pipeline's
LLM stage calls a `DialogueEngine`, and a `TurnScorer` scores each trainee turn beside the
audio path. Each has an Anthropic (Sonnet) implementation and an offline one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Mode = Literal["roleplay", "demo"]
Difficulty = Literal["easy", "medium", "hard"]
Role = Literal["trainee", "ai"]

# The transparent rubric: criterion -> weight (weights sum to 1). Shown to the trainee.
RUBRIC: dict[str, float] = {
    "discovery": 0.25,
    "objection_handling": 0.25,
    "value": 0.20,
    "next_step": 0.15,
    "listening": 0.15,
}
RUBRIC_DESCRIPTIONS: dict[str, str] = {
    "discovery": "asks open questions that uncover the prospect's situation, pain and impact",
    "objection_handling": "acknowledges an objection, then answers it with value or evidence",
    "value": "ties the offer to the prospect's own problem, with concrete numbers or proof",
    "next_step": "proposes a concrete next step with a time and the right people",
    "listening": "lets the prospect talk (talk ratio), builds on what they said, no monologues",
}
DEFAULT_PASS_THRESHOLD = 70.0


@dataclass
class TrainingContext:
    """What the engines know about a session.

    ``scenario`` has the stored scenario's fields: title, goal, opening_line, persona
    (name, role, company, personality), objections (list of dicts with text, order,
    champion_response?, kind?), difficulty_levels (easy/medium/hard dicts with pushback
    0..1, objections_to_raise, patience_turns, description).
    """

    mode: Mode
    difficulty: Difficulty
    scenario: dict[str, Any]
    champion_name: str
    champion_id: str
    champion_metrics: dict[str, Any] | None = None


@dataclass
class DialogueTurn:
    """One utterance so far; ``role`` "ai" is the prospect (roleplay) or champion (demo)."""

    role: Role
    text: str
    start: float | None = None
    end: float | None = None


@dataclass
class ChampionLine:
    """One of the champion's real lines, found by similarity to what the trainee faced."""

    quote: str
    category: str
    why: str
    start: float
    end: float
    score: float


class ChampionLines(Protocol):
    """Finds the champion's closest real lines (Qdrant, scoped to the session's champion)."""

    async def closest(
        self, text: str, *, category: str | None = None, limit: int = 3
    ) -> list[ChampionLine]:
        """The champion's lines most like ``text``, best first."""
        ...


@dataclass
class TurnScore:
    """A trainee turn's score against the rubric (0-100), with coaching."""

    score: float
    criteria: dict[str, float]
    feedback: str
    suggestion: str
    champion_way: str | None = None
    champion_way_source: dict[str, Any] | None = None
    provider: str = "offline"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored on the turn and sent to the client."""
        return asdict(self)


class DialogueEngine(Protocol):
    """Plays the other side of the conversation."""

    name: str

    def first_message(self, ctx: TrainingContext) -> str:
        """What the AI says when the session starts."""
        ...

    async def reply(self, ctx: TrainingContext, history: list[DialogueTurn]) -> str:
        """The AI's next line; ``history`` ends with the trainee's latest turn. Short,
        spoken-style (one to three sentences)."""
        ...


class TurnScorer(Protocol):
    """Scores one trainee turn in the context of the conversation so far."""

    name: str

    async def score(
        self, ctx: TrainingContext, history: list[DialogueTurn], lines: ChampionLines
    ) -> TurnScore:
        """Scores the last turn of ``history`` (a trainee turn)."""
        ...


@dataclass
class ScoredTurn:
    """A finished trainee turn with its score, as the scorecard reads it."""

    index: int
    text: str
    score: TurnScore
    start: float | None = None
    end: float | None = None
    latency_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
