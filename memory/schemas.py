"""Pydantic schemas shared by routes, agents and jobs (`XCreate` in, `XPublic` out)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

MIN_PASSWORD_LENGTH = 8
BCRYPT_MAX_BYTES = 72


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive one (SQLite stores no offset) is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UTCDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""A timestamp the API shows in UTC with its offset (``...Z``) on every database."""

MAX_ID_CHARS = 64
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
"""An id sent in a body (the API's own are 36-character UUIDs)."""

ChampionStatus = Literal["uploaded", "queued", "processing", "ready", "failed"]
JobStatus = Literal["queued", "running", "completed", "failed"]


class ORMModel(BaseModel):
    """Base for schemas read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class UserCreate(BaseModel):
    """Sign-up (and sign-in) credentials."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=256)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


class UserRegister(UserCreate):
    """Sign-up credentials, with the password rules applied."""

    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=BCRYPT_MAX_BYTES,
        description=f"{MIN_PASSWORD_LENGTH} characters or more, at most {BCRYPT_MAX_BYTES} "
        "bytes in UTF-8",
    )

    @field_validator("password", mode="before")
    @classmethod
    def _strong_enough(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if len(value) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        if len(value.encode(errors="surrogatepass")) > BCRYPT_MAX_BYTES:
            raise ValueError(f"password must be at most {BCRYPT_MAX_BYTES} bytes")
        return value


class UserPublic(ORMModel):
    """A user as the API shows them."""

    id: str
    email: str
    created_at: UTCDateTime


class TokenPublic(BaseModel):
    """A bearer token and how long it lasts."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int


class JobPublic(ORMModel):
    """An ingest job's state."""

    id: str
    champion_id: str
    kind: str
    status: JobStatus
    step: str | None
    progress: float
    completed_steps: list[str]
    error: str | None
    attempts: int
    created_at: UTCDateTime
    updated_at: UTCDateTime


class UploadAccepted(BaseModel):
    """What `POST /upload` and `POST /analyze/{id}` answer."""

    champion_id: str
    job_id: str
    status: JobStatus


class PatternPublic(ORMModel):
    """A technique the champion used, with its verbatim quote."""

    id: str
    category: str
    quote: str
    start: float
    end: float
    why: str
    provider: str


class ChampionSummary(ORMModel):
    """A champion in a list."""

    id: str
    name: str
    status: ChampionStatus
    error: str | None
    media_kind: str
    media_format: str
    size_bytes: int
    duration_seconds: float | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class ChampionPublic(ChampionSummary):
    """A champion with everything learned about them so far."""

    source_filename: str
    champion_speaker: str | None
    metrics: dict[str, Any] | None
    voice_profile: dict[str, Any] | None
    patterns: list[PatternPublic] = []
    scenario_count: int = 0
    latest_job: JobPublic | None = None


class ScenarioPublic(ORMModel):
    """A practice scenario built from a champion's call."""

    id: str
    champion_id: str
    title: str
    goal: str
    opening_line: str
    persona: dict[str, Any]
    objections: list[Any]
    difficulty_levels: dict[str, Any]
    provider: str
    created_at: UTCDateTime


class WordPublic(BaseModel):
    """A recognised word and its timing in seconds."""

    word: str
    start: float
    end: float


class SegmentPublic(BaseModel):
    """A stretch of speech by one speaker."""

    start: float
    end: float
    speaker: str
    text: str
    words: list[WordPublic] = []


class TranscriptPublic(BaseModel):
    """A champion's transcript."""

    champion_id: str
    provider: str
    language: str | None
    champion_speaker: str | None
    segments: list[SegmentPublic]


class ComponentHealth(BaseModel):
    """One component's state in `GET /health`."""

    status: Literal["ok", "down"]
    backend: str
    detail: str | None = None


class HealthPublic(BaseModel):
    """Overall health and each component's state."""

    status: Literal["ok", "degraded"]
    version: str
    components: dict[str, ComponentHealth]
    providers: dict[str, str]
