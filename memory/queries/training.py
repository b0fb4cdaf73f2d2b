"""Training session and turn queries. Every read is scoped to the session's owner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from memory.models import Scenario, TrainingSession, Turn


async def create_session(
    session: AsyncSession,
    *,
    user_id: str,
    champion_id: str,
    scenario_id: str | None,
    mode: str,
    difficulty: str,
    first_message: str,
) -> TrainingSession:
    """Inserts an active session with the AI's first message as turn 0."""
    row = TrainingSession(
        user_id=user_id,
        champion_id=champion_id,
        scenario_id=scenario_id,
        mode=mode,
        difficulty=difficulty,
        status="active",
    )
    session.add(row)
    await session.flush()
    session.add(Turn(session_id=row.id, index=0, role="ai", text=first_message))
    await session.commit()
    return row


async def get_owned_session(
    session: AsyncSession, *, user_id: str, session_id: str, with_turns: bool = False
) -> TrainingSession | None:
    """The user's training session, or None (also for another user's session)."""
    query = select(TrainingSession).where(
        TrainingSession.id == session_id, TrainingSession.user_id == user_id
    )
    if with_turns:
        query = query.options(selectinload(TrainingSession.turns))
    return await session.scalar(query)


async def list_sessions(
    session: AsyncSession, *, user_id: str, champion_id: str | None = None, limit: int = 100
) -> Sequence[TrainingSession]:
    """The user's sessions, newest first."""
    query = select(TrainingSession).where(TrainingSession.user_id == user_id)
    if champion_id is not None:
        query = query.where(TrainingSession.champion_id == champion_id)
    result = await session.scalars(query.order_by(TrainingSession.started_at.desc()).limit(limit))
    return result.all()


async def turns_of(session: AsyncSession, *, session_id: str) -> Sequence[Turn]:
    """A session's turns in order."""
    result = await session.scalars(
        select(Turn).where(Turn.session_id == session_id).order_by(Turn.index)
    )
    return result.all()


async def next_turn_index(session: AsyncSession, *, session_id: str) -> int:
    """The index the next turn of a session gets."""
    highest = await session.scalar(
        select(func.max(Turn.index)).where(Turn.session_id == session_id)
    )
    return 0 if highest is None else int(highest) + 1


async def add_turn(
    session: AsyncSession, *, session_id: str, role: str, text: str, **values: Any
) -> Turn:
    """Appends a turn (index assigned here) and commits."""
    index = await next_turn_index(session, session_id=session_id)
    turn = Turn(session_id=session_id, index=index, role=role, text=text, **values)
    session.add(turn)
    await session.commit()
    return turn


async def end_session(
    session: AsyncSession, *, training: TrainingSession, scorecard: dict[str, Any]
) -> None:
    """Marks a session ended with its scorecard."""
    training.status = "ended"
    training.ended_at = datetime.now(UTC)
    training.scorecard = scorecard
    training.overall_score = scorecard.get("overall")
    await session.commit()


async def get_scenario(
    session: AsyncSession, *, champion_id: str, scenario_id: str | None
) -> Scenario | None:
    """The champion's scenario by id, or its first scenario when no id is given."""
    query = select(Scenario).where(Scenario.champion_id == champion_id)
    if scenario_id is not None:
        query = query.where(Scenario.id == scenario_id)
    return await session.scalar(query.order_by(Scenario.created_at).limit(1))
