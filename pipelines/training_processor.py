"""The training agent as a Pipecat stage: the trainee's turn in, the AI's spoken reply out.

It sits where an LLM service would. For each user turn the context aggregator sends, it asks
the dialogue engine for the reply (from the conversation it keeps in memory) and streams it
on as LLM text for the TTS. Both turns are then written through to SQL and the trainee's
turn scored, by a task beside the audio path, turn after turn in order; the score, and each
turn's latency, reach the client as RTVI server messages.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.processors.frameworks.rtvi.frames import (
    RTVIClientMessageFrame,
    RTVIServerMessageFrame,
)

from agents.training.session import TrainingService
from agents.training.types import DialogueEngine, DialogueTurn, TrainingContext
from memory.models import TrainingSession
from pipelines.latency import with_client_report

STORE_DRAIN_SECS = 15.0  # how long a call that ends waits for its last turns to be stored


def _last_user_text(frame: LLMContextFrame) -> str:
    for message in reversed(frame.context.get_messages()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content.strip()
            if isinstance(content, list):
                return " ".join(
                    str(part.get("text", "")) for part in content if isinstance(part, dict)
                ).strip()
    return ""


class TrainingAgentProcessor(FrameProcessor):
    """Answers each trainee turn with the dialogue engine, storing and scoring as it goes.

    Args:
        service: the training service (storage, engines, scorer).
        training: the session row.
        ctx: what the engines know about the session.
        engine: who the AI plays.
        history: the conversation so far (read from SQL on the first turn when None); the
            processor keeps it up to date, so no reply waits for the database.
    """

    def __init__(
        self,
        *,
        service: TrainingService,
        training: TrainingSession,
        ctx: TrainingContext,
        engine: DialogueEngine,
        history: list[DialogueTurn] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._history = history
        self._store_lock = asyncio.Lock()
        self.service = service
        self.training = training
        self.ctx = ctx
        self.engine = engine
        self.call_started = time.monotonic()
        self.last_ai_turn_id: str | None = None
        # Each reply's stored row, once written: the bot starts speaking (and its latency is
        # measured) before the write finishes, and the latency belongs on that reply's row.
        self._replies = 0
        self._reply_rows: dict[int, asyncio.Future[str | None]] = {}
        # The last reply's row and server breakdown, for the client's report.
        self._latency: tuple[str, dict[str, Any]] | None = None
        self._stores: set[asyncio.Task[None]] = set()
        # A client report that came before the server's figure (the reply's row was still
        # being written): applied as soon as that figure is recorded.
        self._early_report: float | None = None

    def can_generate_metrics(self) -> bool:
        """The time to the reply is reported as TTFB, like an LLM service's."""
        return True

    def seconds(self) -> float:
        """Seconds since the call started (turn timings are stored on this clock)."""
        return round(time.monotonic() - self.call_started, 3)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Consumes context frames (the trainee's turn); passes every other frame on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._answer(frame)
        elif isinstance(frame, RTVIClientMessageFrame) and frame.type == "turn-latency":
            await self._client_latency(frame.data)
        else:
            await self.push_frame(frame, direction)

    async def _answer(self, frame: LLMContextFrame) -> None:
        text = _last_user_text(frame)
        if not text:
            return
        # The response starts now, so the latency observer counts the engine's time as
        # "LLM first token", reported as this stage's TTFB.
        await self.push_frame(LLMFullResponseStartFrame())
        await self.start_ttfb_metrics()
        ended_at = self.seconds()
        if self._history is None:  # not given: read once, on the first turn
            self._history = await self.service.history(self.training)
        history = [*self._history, DialogueTurn("trainee", text, None, ended_at)]
        try:
            reply = await self.engine.reply(self.ctx, history)
        except Exception:
            logger.exception("training agent could not answer a turn")
            reply = "Sorry, could you say that again?"
        await self.stop_ttfb_metrics()
        self._latency, self._early_report = None, None  # reports from here on are this reply's
        self._replies += 1
        reply_no = self._replies
        self._reply_rows[reply_no] = asyncio.get_running_loop().create_future()
        await self.push_frame(LLMTextFrame(reply))
        await self.push_frame(LLMFullResponseEndFrame())
        started_at = self.seconds()
        self._history = [*history, DialogueTurn("ai", reply, started_at, None)]
        # Storing (and then scoring) runs beside the audio path, one turn after another. The
        # write is registered at once, so a session ended right after this reply waits for it.
        write = self.service.writes.begin(self.training.id)
        store = self.create_task(
            self._store(reply_no, text, ended_at, reply, started_at, write), "store-turn"
        )
        self._stores.add(store)
        store.add_done_callback(self._stores.discard)

    async def _store(
        self,
        reply_no: int,
        text: str,
        ended_at: float,
        reply: str,
        started_at: float,
        write: asyncio.Future[None],
    ) -> None:
        try:
            await self._store_and_score(reply_no, text, ended_at, reply, started_at)
        finally:
            self.service.writes.finish(self.training.id, write)

    async def cleanup(self) -> None:
        """Lets the turns still being stored finish (bounded) before the call ends: what was
        said is never dropped at hang-up."""
        if self._stores:
            await asyncio.wait(set(self._stores), timeout=STORE_DRAIN_SECS)
        await super().cleanup()

    async def _store_and_score(
        self, reply_no: int, text: str, ended_at: float, reply: str, started_at: float
    ) -> None:
        row: str | None = None
        async with self._store_lock:
            turn, history = None, list[DialogueTurn]()
            try:
                turn, history = await self.service.record_trainee_turn(
                    self.training, text, ended_at=ended_at
                )
            except Exception:
                logger.exception("training agent could not store the trainee's turn")
            try:
                ai_turn = await self.service.record_ai_turn(
                    self.training, reply, started_at=started_at
                )
                row = self.last_ai_turn_id = ai_turn.id
            except Exception:
                logger.exception("training agent could not store the AI's turn")
            finally:
                self._reply_rows[reply_no].set_result(row)
        if turn is not None and self.ctx.mode == "roleplay":
            await self._score(turn.id, turn.index, history)

    async def _score(self, turn_id: str, index: int, history: list[Any]) -> None:
        try:
            score = await self.service.score_turn(self.ctx, turn_id, history)
        except Exception:
            logger.exception("scoring a turn failed")
            return
        await self.push_frame(
            RTVIServerMessageFrame(
                data={"type": "turn-score", "turn_index": index, **score.to_dict()}
            )
        )

    async def record_latency(
        self, breakdown: dict[str, Any], *, speech_ended_at: float | None = None
    ) -> None:
        """Stores the server-measured latency of the last AI turn and tells the client.

        Args:
            breakdown: The turn's parts (see `pipelines.latency.server_breakdown`).
            speech_ended_at: When the trainee stopped speaking as the VAD placed it (Unix
                time on the server's clock), sent along so a client on the same clock can
                split its own figure into the way in and the way out.
        """
        latency_ms = float(breakdown["server_ms"])
        row = await self._reply_rows[self._replies] if self._replies else None
        if row is not None:
            # The server's figure is written before a client report may be applied: a report
            # arriving during this write waits as an early one instead of racing it.
            self._latency = None
            await self.service.set_latency(row, latency_ms, breakdown)
            self._latency = (row, breakdown)
            if self._early_report is not None:
                early, self._early_report = self._early_report, None
                await self._apply_client_report(early)
        await self.push_frame(
            RTVIServerMessageFrame(
                data={
                    "type": "turn-latency",
                    "latency_ms": latency_ms,
                    "breakdown": breakdown,
                    "speech_ended_at": speech_ended_at,
                }
            )
        )

    async def _client_latency(self, data: Any) -> None:
        """The client's own voice-to-voice figure for the last turn completes its breakdown;
        the turn's latency becomes what the trainee actually heard."""
        value = data.get("latency_ms") if isinstance(data, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return
        if self._latency is None:
            self._early_report = float(value)  # the server's figure is still on its way
            return
        await self._apply_client_report(float(value))

    async def _apply_client_report(self, client_ms: float) -> None:
        if self._latency is None:
            return
        row, server = self._latency
        breakdown = with_client_report(server, client_ms)
        if breakdown is None:
            return
        self._latency = None  # one report per turn
        await self.service.set_latency(row, breakdown["client_ms"], breakdown)
