"""SQLAlchemy 2 ORM models. The schema changes only through Alembic migrations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def new_id() -> str:
    """A random, unguessable primary key."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a JSON type that works on SQLite and PostgreSQL alike."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A person who signs in: trainee or manager."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Champion(Base):
    """A top seller learned from one uploaded recording."""

    __tablename__ = "champions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    source_filename: Mapped[str] = mapped_column(String(255))
    media_file: Mapped[str] = mapped_column(String(255))
    media_kind: Mapped[str] = mapped_column(String(10))
    media_format: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    champion_speaker: Mapped[str | None] = mapped_column(String(50), default=None)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    voice_profile: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    transcript: Mapped[Transcript | None] = relationship(
        back_populates="champion", cascade="all, delete-orphan", passive_deletes=True
    )
    patterns: Mapped[list[Pattern]] = relationship(
        back_populates="champion", cascade="all, delete-orphan", passive_deletes=True
    )
    scenarios: Mapped[list[Scenario]] = relationship(
        back_populates="champion", cascade="all, delete-orphan", passive_deletes=True
    )
    jobs: Mapped[list[IngestJob]] = relationship(
        back_populates="champion", cascade="all, delete-orphan", passive_deletes=True
    )


class Transcript(Base):
    """The champion recording's transcript: segments with speakers and word timings."""

    __tablename__ = "transcripts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    champion_id: Mapped[str] = mapped_column(
        ForeignKey("champions.id", ondelete="CASCADE"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(30))
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    segments: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    champion: Mapped[Champion] = relationship(back_populates="transcript")


class Pattern(Base):
    """One technique the champion used, quoted verbatim with its timestamps."""

    __tablename__ = "patterns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    champion_id: Mapped[str] = mapped_column(
        ForeignKey("champions.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(40))
    quote: Mapped[str] = mapped_column(Text)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    why: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str | None] = mapped_column(Text, default=None)
    provider: Mapped[str] = mapped_column(String(30))

    champion: Mapped[Champion] = relationship(back_populates="patterns")


class Scenario(Base):
    """A practice situation built from what the champion faced."""

    __tablename__ = "scenarios"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    champion_id: Mapped[str] = mapped_column(
        ForeignKey("champions.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text)
    opening_line: Mapped[str] = mapped_column(Text)
    persona: Mapped[dict[str, Any]] = mapped_column(default=dict)
    objections: Mapped[list[Any]] = mapped_column(default=list)
    difficulty_levels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provider: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    champion: Mapped[Champion] = relationship(back_populates="scenarios")


class TrainingSession(Base):
    """One practice call or text session by a trainee against a champion's scenario."""

    __tablename__ = "training_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    champion_id: Mapped[str] = mapped_column(
        ForeignKey("champions.id", ondelete="CASCADE"), index=True
    )
    scenario_id: Mapped[str | None] = mapped_column(
        ForeignKey("scenarios.id", ondelete="SET NULL"), default=None
    )
    mode: Mapped[str] = mapped_column(String(20), default="roleplay")
    difficulty: Mapped[str] = mapped_column(String(10), default="medium")
    status: Mapped[str] = mapped_column(String(20), default="active")
    overall_score: Mapped[float | None] = mapped_column(Float, default=None)
    scorecard: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    turns: Mapped[list[Turn]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Turn.index",
    )


class Turn(Base):
    """One utterance in a training session, with its score and latency once known."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("session_id", "index", name="uq_turns_session_index"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    ended_at: Mapped[float | None] = mapped_column(Float, default=None)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    latency_breakdown: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    criteria: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    feedback: Mapped[str | None] = mapped_column(Text, default=None)
    suggestion: Mapped[str | None] = mapped_column(Text, default=None)
    champion_way: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[TrainingSession] = relationship(back_populates="turns")


class IngestJob(Base):
    """The ingest work for one champion: which step it is on, how far, and why it failed."""

    __tablename__ = "ingest_jobs"
    __table_args__ = (Index("ix_ingest_jobs_status", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    champion_id: Mapped[str] = mapped_column(
        ForeignKey("champions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="ingest")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    step: Mapped[str | None] = mapped_column(String(40), default=None)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    completed_steps: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    champion: Mapped[Champion] = relationship(back_populates="jobs")
