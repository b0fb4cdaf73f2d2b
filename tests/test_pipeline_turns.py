"""The trainee's turns in a real Pipecat pipeline (Pipecat's `run_test`), with the user
aggregator the roleplay bot builds: a short backchannel ("yeah", "ok") while the bot speaks
does not interrupt it; a few words do; when the bot is quiet, one word starts a turn."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    LLMContextFrame,
    TranscriptionFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    UserStartedSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.stt_service import STTService
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.utils.time import time_now_iso8601

from pipelines.frames import SegmentTranscribedFrame
from pipelines.roleplay_bot import (
    INTERRUPT_MIN_WORDS,
    UNFINISHED_WAIT_SECS,
    VAD_STOP_SECS,
    user_aggregator_params,
)
from pipelines.services.sphinx.stt import SphinxSTTService
from pipelines.services.whisper.stt import FasterWhisperSTTService

GREETING = "Hello, this is Dana."
# System frames (VAD, bot speaking) overtake queued data frames (transcripts) inside a
# processor, so each frame is given time to be handled before the next is sent, as in a call.
STEP = SleepFrame(sleep=0.05)
# Long enough for every end-of-turn strategy to end any turn.
TURN_END = SleepFrame(sleep=UNFINISHED_WAIT_SECS + 0.5)


class CloudSTTService(STTService):
    """Any STT other than the offline one (the bot ends turns by speech timeout for those)."""

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        yield None


class SegmentedWhisperSTTService(FasterWhisperSTTService):
    """The whisper service without its model: only its kind matters to the user aggregator
    (the bot picks the end-of-turn strategy by it); `trainee_says` sends what it would."""

    def _load(self) -> None:
        self._model = None


class BotOutput(FrameProcessor):
    """Stands in for ``transport.output()`` after the user aggregator: when the TTS starts or
    stops, it says the bot started or stopped speaking, upstream and downstream, as Pipecat's
    output transport does when audio starts and ends."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, TTSStartedFrame):
            await self.broadcast_frame(BotStartedSpeakingFrame)
        elif isinstance(frame, TTSStoppedFrame):
            await self.broadcast_frame(BotStoppedSpeakingFrame)


@dataclass
class Heard:
    """What came out of the user aggregator."""

    down: Sequence[Frame]
    up: Sequence[Frame]
    context: LLMContext

    def has(self, kind: type[Frame]) -> tuple[bool, bool]:
        """Whether a frame of ``kind`` went (downstream, upstream)."""
        return any(isinstance(f, kind) for f in self.down), any(
            isinstance(f, kind) for f in self.up
        )

    def user_messages(self) -> list[str]:
        messages = [m for m in self.context.get_messages() if isinstance(m, dict)]
        return [str(m.get("content")) for m in messages if m.get("role") == "user"]


def trainee_says(words: str, *, segmented: bool = False) -> list[Frame]:
    """The trainee speaking, as the VAD and the STT send it, one step apart: a streaming STT
    sends an interim then a final transcript before the VAD stop; whisper (``segmented``)
    sends the final transcript and the end of its segment after the VAD stop."""
    interim = " ".join(words.split()[: max(1, len(words.split()) // 2)])
    final = TranscriptionFrame(words, "trainee", time_now_iso8601(), finalized=True)
    frames: list[Frame] = [VADUserStartedSpeakingFrame(start_secs=0.2)]
    if segmented:
        frames += [VADUserStoppedSpeakingFrame(stop_secs=VAD_STOP_SECS), final]
        frames += [SegmentTranscribedFrame()]
    else:
        frames += [InterimTranscriptionFrame(interim, "trainee", time_now_iso8601()), final]
        frames += [VADUserStoppedSpeakingFrame(stop_secs=VAD_STOP_SECS)]
    return [step for frame in frames for step in (frame, STEP)]


async def hear(stt: type[STTService], bot: str, words: str) -> Heard:
    """Runs the bot's user aggregator (for a call with an ``stt``) while the bot is ``bot``
    ("speaking", "quiet" or "stopped": it spoke, then finished) and the trainee says ``words``."""
    context = LLMContext([{"role": "assistant", "content": GREETING}])
    user_aggregator, _assistant = LLMContextAggregatorPair(
        context, user_params=user_aggregator_params(stt())
    )
    bot_frames: list[Frame] = {
        "quiet": [],
        "speaking": [TTSStartedFrame(), STEP],
        "stopped": [TTSStartedFrame(), STEP, TTSStoppedFrame(), STEP],
    }[bot]
    segmented = issubclass(stt, FasterWhisperSTTService)
    down, up = await run_test(
        Pipeline([user_aggregator, BotOutput()]),
        frames_to_send=[*bot_frames, *trainee_says(words, segmented=segmented), TURN_END],
    )
    heard = Heard(down, up, context)
    if bot != "quiet":  # the aggregator did see the bot speaking, from downstream
        assert heard.has(BotStartedSpeakingFrame) == (True, True)
    return heard


# The bot's end-of-turn strategy depends on its STT; the backchannel rule must hold for all.
STTS = pytest.mark.parametrize(
    "stt",
    [SphinxSTTService, CloudSTTService, SegmentedWhisperSTTService],
    ids=["offline-stt", "cloud-stt", "whisper"],
)


@STTS
@pytest.mark.parametrize(
    "words",
    ["yeah", "Okay.", "uh huh", " ".join(["right"] * (INTERRUPT_MIN_WORDS - 1))],
)
async def test_a_backchannel_while_the_bot_speaks_does_not_interrupt_it(
    stt: type[STTService], words: str
) -> None:
    heard = await hear(stt, "speaking", words)

    assert heard.has(InterruptionFrame) == (False, False)
    assert heard.has(UserStartedSpeakingFrame) == (False, False)
    assert not any(isinstance(f, LLMContextFrame) for f in heard.down)
    assert heard.user_messages() == []  # nor is it kept for the next turn


@STTS
@pytest.mark.parametrize(
    "words",
    ["wait, that is not what I asked?", " ".join(["no"] * INTERRUPT_MIN_WORDS)],
    ids=["sentence", "exactly-min-words"],
)
async def test_three_words_while_the_bot_speaks_interrupt_it(
    stt: type[STTService], words: str
) -> None:
    heard = await hear(stt, "speaking", words)
    assert_turn_started(heard, words)


@STTS
@pytest.mark.parametrize(("bot", "words"), [("quiet", "Hello."), ("stopped", "yeah")])
async def test_when_the_bot_is_quiet_one_word_starts_a_turn(
    stt: type[STTService], bot: str, words: str
) -> None:
    heard = await hear(stt, bot, words)
    assert_turn_started(heard, words)


def assert_turn_started(heard: Heard, words: str) -> None:
    """The trainee's turn started (cutting off the bot, both ways) and was answered."""
    assert heard.has(InterruptionFrame) == (True, True)
    assert heard.has(UserStartedSpeakingFrame) == (True, True)
    kinds = [type(f) for f in heard.down]
    contexts = [f for f in heard.down if isinstance(f, LLMContextFrame)]
    assert len(contexts) == 1
    assert kinds.index(InterruptionFrame) < kinds.index(LLMContextFrame)
    assert kinds.index(UserStartedSpeakingFrame) < kinds.index(LLMContextFrame)
    assert contexts[0].context.get_messages()[-1] == {"role": "user", "content": words}
    assert heard.user_messages() == [words]
