"""Schemas of the training API (`/training/*`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memory.schemas import Id, ScenarioPublic, UTCDateTime

MAX_MESSAGE_CHARS = 2000
# Holds a character that is neither white space nor a control character (the schema's
# wording of "not blank"; the validator also folds the rarer invisible characters).
NOT_BLANK = r"[^\s\x00-\x1f\x7f-\x9f]"


class TrainingStart(BaseModel):
    """Start a session on a ready champion."""

    model_config = ConfigDict(extra="forbid")

    champion_id: Id
    scenario_id: Id | None = None
    mode: Literal["roleplay", "demo"] = "roleplay"
    difficulty: Literal["easy", "medium", "hard"] = "medium"


class TrainingStarted(BaseModel):
    """A new session and the AI's first line."""

    session_id: str
    mode: str
    difficulty: str
    first_message: str
    tips: list[str]
    scenario: ScenarioPublic
    provider: str


class TrainingRespond(BaseModel):
    """A trainee's text turn."""

    model_config = ConfigDict(extra="forbid")

    session_id: Id
    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        pattern=NOT_BLANK,
        description="what the trainee says; white space and control characters are folded",
    )

    @field_validator("message", mode="before")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not _printable(value):
            raise ValueError("message must not be empty")
        return value

    @field_validator("message")
    @classmethod
    def _folded(cls, value: str) -> str:
        return _printable(value)


def _printable(text: str) -> str:
    """``text`` without control characters, its white space folded to single spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


class TrainingReply(BaseModel):
    """The AI's reply and the score of the trainee's turn."""

    session_id: str
    turn_index: int
    prospect_response: str
    score: float | None
    criteria: dict[str, float]
    feedback: str
    suggestions: list[str]
    champion_way: str | None
    provider: str


class TrainingEnd(BaseModel):
    """End a session."""

    model_config = ConfigDict(extra="forbid")

    session_id: Id


class TurnPublic(BaseModel):
    """One turn of a session."""

    model_config = ConfigDict(from_attributes=True)

    index: int
    role: str
    text: str
    started_at: float | None
    ended_at: float | None
    latency_ms: float | None
    latency_breakdown: dict[str, Any] | None
    score: float | None
    criteria: dict[str, Any] | None
    feedback: str | None
    suggestion: str | None
    champion_way: str | None
    created_at: UTCDateTime

    @field_validator("criteria")
    @classmethod
    def _public_criteria(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return {k: v for k, v in value.items() if not k.startswith("_")} if value else value


class SessionSummary(BaseModel):
    """A session in a list."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    champion_id: str
    scenario_id: str | None
    mode: str
    difficulty: str
    status: str
    overall_score: float | None
    started_at: UTCDateTime
    ended_at: UTCDateTime | None


class SessionPublic(SessionSummary):
    """A session with its turns and, once ended, its scorecard."""

    turns: list[TurnPublic] = []
    scorecard: dict[str, Any] | None = None


class CriterionPublic(BaseModel):
    """One criterion of the scoring rubric."""

    weight: float = Field(description="its share of the overall score (the weights sum to 1)")
    description: str


class RubricPublic(BaseModel):
    """How every trainee turn is scored, and the overall score that passes."""

    criteria: dict[str, CriterionPublic]
    pass_threshold: float
