"""Training sessions: start, a trainee turn and the AI's reply with its score, end.

Shared by text sessions, browser calls and phone calls. Every turn is written through to
SQL as soon as it exists and the conversation is always rebuilt from SQL, so a restarted
server loses at most the turn in progress, and a session it no longer holds still ends
with a scorecard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.training.pending import PendingWrites
from agents.training.retrieval import QdrantChampionLines
from agents.training.scorecard import build_scorecard
from agents.training.types import (
    DEFAULT_PASS_THRESHOLD,
    ChampionLines,
    DialogueEngine,
    DialogueTurn,
    ScoredTurn,
    TrainingContext,
    TurnScore,
    TurnScorer,
)
from memory.db import Database
from memory.models import Champion, Scenario, TrainingSession, Turn
from memory.pattern_index import ensure_indexed
from memory.queries import training as queries
from memory.vectors import VectorStore

DialogueFactory = Callable[[str, ChampionLines], DialogueEngine]
logger = logging.getLogger(__name__)
WRITE_WAIT_SECS = 15.0  # how long ending a session waits for a call's last turn to be stored


class TrainingError(Exception):
    """A request the session cannot serve; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Started:
    """A new session and what the AI says first."""

    session: TrainingSession
    first_message: str
    tips: list[str]
    scenario: Scenario
    provider: str


@dataclass
class Replied:
    """The AI's reply to a trainee turn, and that turn's score (None in demo mode, where the
    trainee plays the prospect and the champion is the one selling)."""

    reply: str
    score: TurnScore | None
    trainee_turn_index: int
    provider: str


def _scenario_dict(scenario: Scenario) -> dict[str, Any]:
    return {
        "title": scenario.title,
        "goal": scenario.goal,
        "opening_line": scenario.opening_line,
        "persona": scenario.persona,
        "objections": scenario.objections,
        "difficulty_levels": scenario.difficulty_levels,
    }


def context_for(
    champion: Champion, scenario: Scenario | None, *, mode: str, difficulty: str
) -> TrainingContext:
    """What the engines know about a conversation with ``champion`` in ``scenario`` (an
    empty scenario when the champion has none)."""
    return TrainingContext(
        mode="demo" if mode == "demo" else "roleplay",
        difficulty=difficulty,  # type: ignore[arg-type]
        scenario=_scenario_dict(scenario) if scenario else {},
        champion_name=champion.name,
        champion_id=champion.id,
        champion_metrics=champion.metrics,
    )


def history_of(turns: list[Turn]) -> list[DialogueTurn]:
    """Stored turns as the engines read them."""
    return [
        DialogueTurn("trainee" if t.role == "trainee" else "ai", t.text, t.started_at, t.ended_at)
        for t in turns
    ]


def score_of(turn: Turn) -> TurnScore | None:
    """A stored trainee turn's score, if it has been scored."""
    if turn.score is None:
        return None
    source = (turn.criteria or {}).get("_champion_way_source")
    criteria = {k: v for k, v in (turn.criteria or {}).items() if not k.startswith("_")}
    return TurnScore(
        turn.score,
        criteria,
        turn.feedback or "",
        turn.suggestion or "",
        turn.champion_way,
        source,
        (turn.criteria or {}).get("_provider", "offline"),
    )


class TrainingService:
    """Runs training sessions over the stores and the configured engines.

    Args:
        db: the SQL database.
        vectors: the pattern index (for the champion's way).
        dialogue: builds the engine for a mode ("roleplay" or "demo") and a champion's lines.
        scorer: scores trainee turns.
        pass_threshold: the overall score that passes.
    """

    def __init__(
        self,
        *,
        db: Database,
        vectors: VectorStore,
        dialogue: DialogueFactory,
        scorer: TurnScorer,
        pass_threshold: float = DEFAULT_PASS_THRESHOLD,
    ) -> None:
        self.db = db
        self.vectors = vectors
        self.dialogue = dialogue
        self.scorer = scorer
        self.pass_threshold = pass_threshold
        # Turns live calls in this process are still storing: ending a session waits for them.
        self.writes = PendingWrites()

    def lines(self, champion_id: str) -> ChampionLines:
        """The champion's real lines, for the champion's way."""
        return QdrantChampionLines(vectors=self.vectors, champion_id=champion_id)

    async def context(self, training: TrainingSession) -> TrainingContext:
        """What the engines know about a session, rebuilt from SQL."""
        async with self.db.session() as session:
            champion = await session.get(Champion, training.champion_id)
            scenario = await queries.get_scenario(
                session, champion_id=training.champion_id, scenario_id=training.scenario_id
            )
        if champion is None:
            raise TrainingError(404, "champion not found")
        return context_for(champion, scenario, mode=training.mode, difficulty=training.difficulty)

    async def start(
        self, *, user_id: str, champion_id: str, scenario_id: str | None, mode: str, difficulty: str
    ) -> Started:
        """Opens a session on one of the user's ready champions."""
        async with self.db.session() as session:
            champion = await session.get(Champion, champion_id)
            if champion is None or champion.owner_id != user_id:
                raise TrainingError(404, "champion not found")
            if champion.status != "ready":
                raise TrainingError(409, f"champion is {champion.status}, not ready to practise")
            scenario = await queries.get_scenario(
                session, champion_id=champion_id, scenario_id=scenario_id
            )
        if scenario is None:
            raise TrainingError(404, "scenario not found for this champion")
        await ensure_indexed(db=self.db, vectors=self.vectors, champion_id=champion_id)
        ctx = context_for(champion, scenario, mode=mode, difficulty=difficulty)
        engine = self.dialogue(mode, self.lines(champion_id))
        first = engine.first_message(ctx)
        async with self.db.session() as session:
            training = await queries.create_session(
                session,
                user_id=user_id,
                champion_id=champion_id,
                scenario_id=scenario.id,
                mode=mode,
                difficulty=difficulty,
                first_message=first,
            )
        return Started(training, first, tips_for(ctx), scenario, engine.name)

    async def owned(self, *, user_id: str, session_id: str) -> TrainingSession:
        """The user's session; 404 for anyone else's."""
        async with self.db.session() as session:
            training = await queries.get_owned_session(
                session, user_id=user_id, session_id=session_id
            )
        if training is None:
            raise TrainingError(404, "training session not found")
        return training

    async def active(self, *, user_id: str, session_id: str) -> TrainingSession:
        """The user's session, if it can still be practised (a call may join it).

        Raises:
            TrainingError: 404 when it is not the user's session, 409 when it has ended.
        """
        training = await self.owned(user_id=user_id, session_id=session_id)
        if training.status != "active":
            raise TrainingError(409, "this session has ended; start a new one")
        return training

    async def history(self, training: TrainingSession) -> list[DialogueTurn]:
        """The session's conversation so far, from SQL."""
        async with self.db.session() as session:
            turns = list(await queries.turns_of(session, session_id=training.id))
        return history_of(turns)

    async def record_trainee_turn(
        self, training: TrainingSession, text: str, **timing: Any
    ) -> tuple[Turn, list[DialogueTurn]]:
        """Stores a trainee turn at once; returns it with the conversation up to it."""
        async with self.db.session() as session:
            turn = await queries.add_turn(
                session, session_id=training.id, role="trainee", text=text, **timing
            )
            turns = list(await queries.turns_of(session, session_id=training.id))
        return turn, history_of(turns)

    async def record_ai_turn(self, training: TrainingSession, text: str, **timing: Any) -> Turn:
        """Stores what the AI said."""
        async with self.db.session() as session:
            return await queries.add_turn(
                session, session_id=training.id, role="ai", text=text, **timing
            )

    async def score_turn(
        self, ctx: TrainingContext, turn_id: str, history: list[DialogueTurn]
    ) -> TurnScore:
        """Scores a stored trainee turn and writes the score onto it."""
        score = await self.scorer.score(ctx, history, self.lines(ctx.champion_id))
        async with self.db.session() as session:
            row = await session.get(Turn, turn_id)
            if row is not None:
                row.score = score.score
                row.criteria = {
                    **score.criteria,
                    "_provider": score.provider,
                    "_champion_way_source": score.champion_way_source,
                }
                row.feedback, row.suggestion = score.feedback, score.suggestion
                row.champion_way = score.champion_way
                await session.commit()
        return score

    async def set_latency(
        self, turn_id: str, latency_ms: float, breakdown: dict[str, Any] | None
    ) -> None:
        """Stores the voice-to-voice latency measured for an AI turn."""
        async with self.db.session() as session:
            row = await session.get(Turn, turn_id)
            if row is not None:
                row.latency_ms, row.latency_breakdown = latency_ms, breakdown
                await session.commit()

    async def respond(self, *, user_id: str, session_id: str, message: str) -> Replied:
        """A text turn: stores it, answers it, scores it."""
        training = await self.owned(user_id=user_id, session_id=session_id)
        if training.status != "active":
            raise TrainingError(409, "this session has ended; start a new one to practise")
        ctx = await self.context(training)
        turn, history = await self.record_trainee_turn(training, message)
        engine = self.dialogue(training.mode, self.lines(training.champion_id))
        reply = await engine.reply(ctx, history)
        await self.record_ai_turn(training, reply)
        score = await self.score_turn(ctx, turn.id, history) if ctx.mode == "roleplay" else None
        return Replied(reply, score, turn.index, engine.name)

    async def end(self, *, user_id: str, session_id: str) -> TrainingSession:
        """Ends the session with its scorecard, built from SQL (ending twice is harmless).
        Turns a call in this process is still storing are waited for first."""
        training = await self.owned(user_id=user_id, session_id=session_id)
        if not await self.writes.settled(training.id, within_secs=WRITE_WAIT_SECS):
            logger.warning("ended a session while a call was still storing a turn")
        if training.status == "ended" and training.scorecard is not None:
            return training
        ctx = await self.context(training)
        async with self.db.session() as session:
            turns = list(await queries.turns_of(session, session_id=training.id))
        history = history_of(turns)
        for turn in turns:  # a turn left unscored by a crash is scored now
            if ctx.mode == "roleplay" and turn.role == "trainee" and turn.score is None:
                upto = history[: turn.index + 1]
                await self.score_turn(ctx, turn.id, upto)
        async with self.db.session() as session:
            turns = list(await queries.turns_of(session, session_id=training.id))
            scored = [
                ScoredTurn(t.index, t.text, s, t.started_at, t.ended_at, t.latency_ms)
                for t in turns
                if t.role == "trainee" and (s := score_of(t)) is not None
            ]
            card = build_scorecard(
                ctx=ctx,
                turns=scored,
                transcript=history_of(turns),
                pass_threshold=self.pass_threshold,
            )
            row = await session.get(TrainingSession, training.id)
            assert row is not None
            await queries.end_session(session, training=row, scorecard=card)
        return row


def tips_for(ctx: TrainingContext) -> list[str]:
    """What to keep in mind before the first word."""
    persona = ctx.scenario.get("persona") or {}
    who = ", ".join(str(persona[k]) for k in ("name", "role", "company") if persona.get(k))
    tips = [f"You are talking to {who}." if who else "Find out who you are talking to."]
    if ctx.mode == "roleplay":
        objections = [o.get("text", "") for o in ctx.scenario.get("objections") or [] if o]
        if objections:
            tips.append(f"Expect pushback such as: \u201c{objections[0]}\u201d")
        tips.append("Open with questions about their situation before you pitch.")
        if ctx.scenario.get("goal"):
            tips.append(f"Aim for: {ctx.scenario['goal']}.")
    else:
        tips.append(f"You play the prospect; {ctx.champion_name} shows how it is done.")
    return tips
