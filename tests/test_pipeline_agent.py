"""TrainingAgentProcessor in a real Pipecat pipeline (Pipecat's `run_test`): a trainee's turn in,
the AI's reply out, both stored in SQL, the live score and latency sent as server messages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TextFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.processors.frameworks.rtvi.frames import (
    RTVIClientMessageFrame,
    RTVIServerMessageFrame,
)
from pipecat.tests.utils import SleepFrame, run_test

from agents.training.engines import dialogue_factory, turn_scorer
from agents.training.session import TrainingService
from agents.training.types import DialogueEngine, DialogueTurn, TrainingContext
from memory.db import Database
from memory.models import Turn, User
from memory.queries import training as training_queries
from memory.vectors import VectorStore
from pipelines.training_processor import TrainingAgentProcessor
from tests.support.training import seed_ready_champion

# The agent stores through the real TrainingService, on the test PostgreSQL database.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

GREETING_INDEX = 0  # starting a session stores the AI's first message as turn 0
TRAINEE_LINE = "What does onboarding a new driver look like for your team today?"
APOLOGY = "Sorry, could you say that again?"
# Scoring runs as a task beside the reply (retrieval in Qdrant, then a SQL write); the
# pause lets it finish before run_test's EndFrame stops the pipeline (it takes ~10 ms here).
SCORING_PAUSE = SleepFrame(sleep=1.0)


@dataclass
class Call:
    """A started session and the agent answering in it."""

    service: TrainingService
    agent: TrainingAgentProcessor
    first_message: str


@pytest.fixture
async def call_factory(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Starts sessions on a ready champion and builds the agent for each, as a call does."""
    db = Database(url=database_url)
    await db.migrate()
    vectors = VectorStore(path=tmp_path / "qdrant")
    await vectors.ensure_collection()
    service = TrainingService(
        db=db, vectors=vectors, dialogue=dialogue_factory(), scorer=turn_scorer()
    )
    async with db.session() as session:
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.com", password_hash="-")
        session.add(user)
        await session.commit()
    # The API tests' seeding only needs the app's database.
    app = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(db=db)))
    champion_id = await seed_ready_champion(app, user.id)  # type: ignore[arg-type]

    async def start(mode: str = "roleplay", engine: DialogueEngine | None = None) -> Call:
        started = await service.start(
            user_id=user.id,
            champion_id=champion_id,
            scenario_id=None,
            mode=mode,
            difficulty="medium",
        )
        ctx = await service.context(started.session)
        engine = engine or service.dialogue(mode, service.lines(champion_id))
        agent = TrainingAgentProcessor(
            service=service, training=started.session, ctx=ctx, engine=engine
        )
        return Call(service, agent, started.first_message)

    try:
        yield start
    finally:
        await vectors.close()
        await db.close()


def user_turn(call: Call, content: Any) -> LLMContextFrame:
    """The context the user aggregator sends at the end of a trainee's turn."""
    return LLMContextFrame(
        context=LLMContext(
            [
                {"role": "assistant", "content": call.first_message},
                {"role": "user", "content": content},
            ]
        )
    )


async def stored_turns(call: Call) -> list[Turn]:
    async with call.service.db.session() as session:
        return list(await training_queries.turns_of(session, session_id=call.agent.training.id))


def server_messages(frames: Sequence[Frame], kind: str) -> list[dict[str, Any]]:
    return [
        f.data
        for f in frames
        if isinstance(f, RTVIServerMessageFrame) and f.data.get("type") == kind
    ]


def reply_of(frames: Sequence[Frame]) -> str:
    """The one reply the agent streamed (start, text, end), besides any server messages."""
    reply = [f for f in frames if not isinstance(f, RTVIServerMessageFrame)]
    assert [type(f) for f in reply] == [
        LLMFullResponseStartFrame,
        LLMTextFrame,
        LLMFullResponseEndFrame,
    ]
    assert isinstance(reply[1], LLMTextFrame)
    return reply[1].text


@pytest.mark.parametrize(
    "content",
    [TRAINEE_LINE, [{"type": "text", "text": TRAINEE_LINE}]],
    ids=["text", "content-parts"],
)
async def test_a_trainee_turn_is_answered_stored_and_scored(
    call_factory: Callable[..., Any], content: Any
) -> None:
    call = await call_factory()

    down, up = await run_test(call.agent, frames_to_send=[user_turn(call, content), SCORING_PAUSE])

    # The reply streams on as one LLM response, for the TTS to speak; the score follows.
    spoken = reply_of(down)
    assert spoken.strip()
    assert isinstance(down[-1], RTVIServerMessageFrame)
    assert up == []

    # Both turns are written through to SQL, in order, on the call's clock.
    greeting, trainee, ai = await stored_turns(call)
    assert (greeting.index, greeting.role) == (GREETING_INDEX, "ai")
    assert (trainee.index, trainee.role, trainee.text) == (1, "trainee", TRAINEE_LINE)
    assert (ai.index, ai.role, ai.text) == (2, "ai", spoken)
    assert trainee.ended_at is not None and ai.started_at is not None
    assert 0 <= trainee.ended_at <= ai.started_at
    assert call.agent.last_ai_turn_id == ai.id

    # The live score comes after the reply and is the one stored on the trainee's turn.
    (score,) = server_messages(down, "turn-score")
    assert trainee.score is not None
    assert score["turn_index"] == trainee.index
    assert score["score"] == pytest.approx(trainee.score)
    assert score["feedback"] == trainee.feedback
    assert set(score["criteria"]) == {k for k in trainee.criteria or {} if not k.startswith("_")}
    assert ai.score is None


@pytest.mark.parametrize("content", ["", "   \n\t "], ids=["empty", "whitespace"])
async def test_an_empty_turn_gets_no_reply_and_stores_nothing(
    call_factory: Callable[..., Any], content: str
) -> None:
    call = await call_factory()

    down, up = await run_test(call.agent, frames_to_send=[user_turn(call, content), SCORING_PAUSE])

    assert down == [] and up == []
    assert [t.index for t in await stored_turns(call)] == [GREETING_INDEX]
    assert call.agent.last_ai_turn_id is None


async def test_in_demo_mode_the_champion_answers_and_nothing_is_scored(
    call_factory: Callable[..., Any],
) -> None:
    call = await call_factory(mode="demo")
    assert call.agent.ctx.mode == "demo"

    down, _up = await run_test(
        call.agent,
        frames_to_send=[user_turn(call, "We're happy with our current vendor."), SCORING_PAUSE],
    )

    spoken = reply_of(down)
    assert spoken.strip()
    assert server_messages(down, "turn-score") == []
    _greeting, trainee, ai = await stored_turns(call)
    assert trainee.role == "trainee" and trainee.score is None
    assert (ai.role, ai.text) == ("ai", spoken)


class BrokenEngine:
    """A dialogue engine whose provider is down."""

    name = "broken"

    def first_message(self, ctx: TrainingContext) -> str:
        return "Hello."

    async def reply(self, ctx: TrainingContext, history: list[DialogueTurn]) -> str:
        raise ConnectionError("dialogue provider unreachable")


async def test_when_the_engine_fails_the_trainee_hears_an_apology(
    call_factory: Callable[..., Any],
) -> None:
    call = await call_factory(engine=BrokenEngine())

    down, up = await run_test(
        call.agent, frames_to_send=[user_turn(call, TRAINEE_LINE), SCORING_PAUSE]
    )

    assert reply_of(down) == APOLOGY
    assert up == []  # nothing was raised into the pipeline
    turns = await stored_turns(call)
    assert [(t.role, t.text) for t in turns[1:]] == [("trainee", TRAINEE_LINE), ("ai", APOLOGY)]
    assert call.agent.last_ai_turn_id == turns[-1].id


SPEECH_ENDED_AT = 1_790_000_000.25


class LatencyReporter(BaseObserver):
    """Does what the bot's latency observer does when the bot starts speaking (here: each
    time a ``when`` frame leaves the agent): hands the next turn's breakdown to the agent."""

    def __init__(
        self, agent: TrainingAgentProcessor, parts: list[dict[str, Any]], when: type[Frame]
    ):
        super().__init__()
        self.agent, self.parts, self.when = agent, list(parts), when

    async def on_push_frame(self, data: FramePushed) -> None:
        if data.source is self.agent and isinstance(data.frame, self.when) and self.parts:
            await self.agent.record_latency(self.parts.pop(0), speech_ended_at=SPEECH_ENDED_AT)


SERVER_PARTS = {"end_of_turn_ms": 200.0, "stt_ms": 20.0, "pipeline_ms": 511.4, "server_ms": 731.4}


async def test_latency_is_stored_on_the_reply_and_completed_by_the_client(
    call_factory: Callable[..., Any],
) -> None:
    call = await call_factory()
    client_report = RTVIClientMessageFrame(
        msg_id="1", type="turn-latency", data={"latency_ms": 950.0}
    )

    down, _up = await run_test(
        call.agent,
        frames_to_send=[
            user_turn(call, TRAINEE_LINE),
            SCORING_PAUSE,
            BotStartedSpeakingFrame(),
            SleepFrame(sleep=0.5),
            client_report,
            SleepFrame(sleep=0.5),
        ],
        observers=[LatencyReporter(call.agent, [SERVER_PARTS], BotStartedSpeakingFrame)],
    )

    (latency,) = server_messages(down, "turn-latency")
    assert latency == {
        "type": "turn-latency",
        "latency_ms": 731.4,
        "breakdown": SERVER_PARTS,
        "speech_ended_at": SPEECH_ENDED_AT,  # for a client on the same clock
    }
    assert client_report not in down  # the agent consumes the client's report
    greeting, trainee, ai = await stored_turns(call)
    # What the trainee heard is the turn's latency; the server's share stays in the breakdown.
    assert ai.latency_ms == 950.0
    assert ai.latency_breakdown == {**SERVER_PARTS, "client_ms": 950.0, "transport_ms": 218.6}
    assert greeting.latency_ms is None and trainee.latency_ms is None


async def test_a_client_report_before_the_server_figure_is_kept_for_it(
    call_factory: Callable[..., Any],
) -> None:
    call = await call_factory()
    call.agent.service = SlowStore(call.agent.service, delay=0.5)
    client_report = RTVIClientMessageFrame(
        msg_id="1", type="turn-latency", data={"latency_ms": 950.0}
    )

    await run_test(
        call.agent,
        frames_to_send=[
            user_turn(call, TRAINEE_LINE),
            SleepFrame(sleep=0.1),  # the reply goes to the TTS; its row is still being written
            # The browser hears the reply while the server is still writing the reply's row,
            # so its report comes before the server's figure is recorded.
            BotStartedSpeakingFrame(),
            client_report,
            SleepFrame(sleep=1.5),
        ],
        observers=[LatencyReporter(call.agent, [SERVER_PARTS], BotStartedSpeakingFrame)],
    )

    _greeting, _trainee, ai = await stored_turns(call)
    assert ai.latency_ms == 950.0
    assert ai.latency_breakdown == {**SERVER_PARTS, "client_ms": 950.0, "transport_ms": 218.6}


class SlowStore:
    """The training service on a database slower than the TTS: storing the AI's turn takes
    longer than the reply takes to start playing."""

    def __init__(self, service: Any, delay: float) -> None:
        self._service, self._delay = service, delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    async def record_ai_turn(self, training: Any, text: str, **timing: Any) -> Turn:
        await asyncio.sleep(self._delay)
        turn: Turn = await self._service.record_ai_turn(training, text, **timing)
        return turn


async def test_latency_measured_before_a_reply_is_stored_lands_on_that_reply(
    call_factory: Callable[..., Any],
) -> None:
    call = await call_factory()
    call.agent.service = SlowStore(call.agent.service, delay=0.3)
    first = {**SERVER_PARTS, "server_ms": 700.0}
    second = {**SERVER_PARTS, "server_ms": 800.0}
    follow_up = LLMContextFrame(
        context=LLMContext(
            [
                {"role": "user", "content": TRAINEE_LINE},
                {"role": "assistant", "content": "We use spreadsheets."},
                {"role": "user", "content": "How much does that cost you in overtime?"},
            ]
        )
    )

    down, _up = await run_test(
        call.agent,
        # The bot starts speaking as soon as a reply has gone to the TTS (and the trainee
        # needs a moment to say the next line): both latencies come while the slow writes
        # of the replies are still going on.
        frames_to_send=[user_turn(call, TRAINEE_LINE), SleepFrame(0.05), follow_up, SCORING_PAUSE],
        observers=[LatencyReporter(call.agent, [first, second], LLMFullResponseEndFrame)],
    )

    assert [m["latency_ms"] for m in server_messages(down, "turn-latency")] == [700.0, 800.0]
    turns = await stored_turns(call)
    assert [(t.role, t.latency_ms) for t in turns] == [
        ("ai", None),  # the greeting
        ("trainee", None),
        ("ai", 700.0),
        ("trainee", None),
        ("ai", 800.0),
    ]


async def test_other_frames_pass_through_in_their_direction(
    call_factory: Callable[..., Any],
) -> None:
    call = await call_factory()
    text = TextFrame("not a turn")

    down, up = await run_test(call.agent, frames_to_send=[text])
    assert down == [text] and up == []

    speaking = BotStartedSpeakingFrame()
    down, up = await run_test(
        call.agent, frames_to_send=[speaking], frames_to_send_direction=FrameDirection.UPSTREAM
    )
    assert up == [speaking] and down == []
    assert [t.index for t in await stored_turns(call)] == [GREETING_INDEX]


class SlowerStore(SlowStore):
    """Storing the trainee's turn is slow too."""

    async def record_trainee_turn(self, training: Any, text: str, **timing: Any) -> Any:
        await asyncio.sleep(self._delay)
        return await self._service.record_trainee_turn(training, text, **timing)


async def test_a_session_ended_right_after_a_reply_waits_for_its_turns(
    call_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    call = await call_factory()
    call.agent.service = SlowerStore(call.agent.service, delay=0.5)
    training = call.agent.training
    writes = call.service.writes
    began = asyncio.Event()
    begin = writes.begin

    def begin_and_tell(session_id: str) -> asyncio.Future[None]:
        began.set()
        return begin(session_id)

    monkeypatch.setattr(writes, "begin", begin_and_tell)
    # The trainee hangs up as soon as the reply has gone out, and the app ends the session at
    # once, while the turns are still being written (the pipeline ends right after the turn).
    turn = [user_turn(call, TRAINEE_LINE)]
    running = asyncio.create_task(run_test(call.agent, frames_to_send=turn))
    await asyncio.wait_for(began.wait(), timeout=30)
    ended = await call.service.end(user_id=training.user_id, session_id=training.id)
    await running

    assert ended.scorecard is not None and ended.scorecard["turn_count"] == 1
    assert [t.role for t in await stored_turns(call)] == ["ai", "trainee", "ai"]
    assert await writes.settled(training.id, within_secs=0)  # nothing left open
