"""`TrainingAgent`: practice sessions through the training service the API and calls use."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError

from agents.base import BaseAgent
from agents.tools.spec import ToolError, tool
from agents.training.public import reply_public, session_public, started_public
from agents.training.session import TrainingError, TrainingService, tips_for
from memory.session_store import SessionStore
from memory.training_schemas import MAX_MESSAGE_CHARS, TrainingRespond

MEMORY_TTL_SECONDS = 12 * 3600


class TrainingAgent(BaseAgent):
    """Starts, runs and ends practice sessions for one user.

    Its memory is the session store (Redis when configured): the session it started last for
    the user, so a caller (the orchestrator, Claude over MCP) can go on with "the current
    session" without repeating its id. Every turn is written through to SQL by the training
    service, which stays the truth.

    Args:
        training: the training service.
        user_id: the user the agent acts for (every session it touches must be theirs).
        provider: the provider of the dialogue engine and scorer.
        memory: the session store.
    """

    name: ClassVar[str] = "training"
    purpose: ClassVar[str] = (
        "Runs practice sessions against a champion's scenarios: starts them, answers and "
        "scores the trainee's turns, gives tips and ends them with a scorecard."
    )
    expected_errors = (*BaseAgent.expected_errors, TrainingError)

    def __init__(
        self, *, training: TrainingService, user_id: str, provider: str, memory: SessionStore
    ) -> None:
        super().__init__(provider=provider)
        self._training = training
        self._user_id = user_id
        self._memory = memory
        self._memory_key = f"training-agent:{user_id}"

    async def _session_id(self, session_id: str | None) -> str:
        """The given session, or the one this user's agent started last."""
        if session_id is not None:
            return session_id
        remembered = await self._memory.get(self._memory_key)
        if not remembered or not remembered.get("session_id"):
            raise ToolError(
                "invalid_input", "give a session_id: no session has been started to go on with"
            )
        return str(remembered["session_id"])

    @tool
    async def start_session(
        self,
        champion_id: str,
        scenario_id: str | None = None,
        mode: Literal["roleplay", "demo"] = "roleplay",
        difficulty: Literal["easy", "medium", "hard"] = "medium",
    ) -> dict[str, Any]:
        """Start a practice session on one of the user's ready champions.

        Args:
            champion_id: the champion to practise against.
            scenario_id: one of the champion's scenarios; the first one when omitted.
            mode: roleplay (the AI is the prospect) or demo (the AI is the champion).
            difficulty: how hard the prospect pushes back.
        """
        started = await self._training.start(
            user_id=self._user_id,
            champion_id=champion_id,
            scenario_id=scenario_id,
            mode=mode,
            difficulty=difficulty,
        )
        await self._memory.set(
            self._memory_key,
            {"session_id": started.session.id, "champion_id": champion_id},
            ttl_seconds=MEMORY_TTL_SECONDS,
        )
        return started_public(started, mode=mode, difficulty=difficulty).model_dump(mode="json")

    @tool
    async def process_response(
        self,
        message: Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)],
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """Say something in a session: the AI answers and the turn is scored.

        Args:
            session_id: the session; the one started last when omitted.
            message: what the trainee says (1 to 2000 characters).
        """
        session_id = await self._session_id(session_id)
        try:
            turn = TrainingRespond(session_id=session_id, message=message)
        except ValidationError as exc:
            reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise ToolError("invalid_input", f"bad input for process_response: {reason}") from None
        replied = await self._training.respond(
            user_id=self._user_id, session_id=session_id, message=turn.message
        )
        return reply_public(session_id, replied).model_dump(mode="json")

    @tool
    async def end_session(self, session_id: str | None = None) -> dict[str, Any]:
        """End a session and get its scorecard.

        Args:
            session_id: the session; the one started last when omitted.
        """
        session_id = await self._session_id(session_id)
        await self._training.end(user_id=self._user_id, session_id=session_id)
        remembered = await self._memory.get(self._memory_key)
        if remembered and remembered.get("session_id") == session_id:
            await self._memory.delete(self._memory_key)
        return await self.get_session(session_id)

    @tool
    async def get_session(self, session_id: str | None = None) -> dict[str, Any]:
        """A session with its turns, scores and (once ended) its scorecard.

        Args:
            session_id: the session; the one started last when omitted.
        """
        session_id = await self._session_id(session_id)
        public = await session_public(
            self._training.db, user_id=self._user_id, session_id=session_id
        )
        if public is None:
            raise TrainingError(404, "training session not found")
        return public.model_dump(mode="json")

    @tool
    async def generate_tips(self, session_id: str | None = None) -> dict[str, Any]:
        """Tips for a session: who the prospect is, what pushback to expect, what to aim for.

        Args:
            session_id: the session; the one started last when omitted.
        """
        session_id = await self._session_id(session_id)
        training = await self._training.owned(user_id=self._user_id, session_id=session_id)
        return {"session_id": session_id, "tips": tips_for(await self._training.context(training))}
