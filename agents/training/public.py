"""The training API's answers, built once for the REST routes and the agents' tools."""

from __future__ import annotations

from agents.training.session import Replied, Started
from memory.db import Database
from memory.queries import training as queries
from memory.schemas import ScenarioPublic
from memory.training_schemas import SessionPublic, TrainingReply, TrainingStarted

DEMO_FEEDBACK = "Demo mode: listen to how the champion answers you."


def started_public(started: Started, *, mode: str, difficulty: str) -> TrainingStarted:
    """A new session as the API shows it."""
    return TrainingStarted(
        session_id=started.session.id,
        mode=mode,
        difficulty=difficulty,
        first_message=started.first_message,
        tips=started.tips,
        scenario=ScenarioPublic.model_validate(started.scenario),
        provider=started.provider,
    )


def reply_public(session_id: str, replied: Replied) -> TrainingReply:
    """A text turn's answer and score (demo mode has no score: the champion sells)."""
    score = replied.score
    return TrainingReply(
        session_id=session_id,
        turn_index=replied.trainee_turn_index,
        prospect_response=replied.reply,
        score=score.score if score else None,
        criteria=score.criteria if score else {},
        feedback=score.feedback if score else DEMO_FEEDBACK,
        suggestions=[score.suggestion] if score and score.suggestion else [],
        champion_way=score.champion_way if score else None,
        provider=replied.provider,
    )


async def session_public(db: Database, *, user_id: str, session_id: str) -> SessionPublic | None:
    """One of the user's sessions with its turns and scorecard; None for anyone else's."""
    async with db.session() as session:
        training = await queries.get_owned_session(
            session, user_id=user_id, session_id=session_id, with_turns=True
        )
        if training is None:
            return None
        return SessionPublic.model_validate(training, from_attributes=True)
