"""The end of the trainee's turn with the offline STT (`pipelines.turn_stop`), in the bot's
user aggregator under Pipecat's `run_test`: a finished sentence ends the turn as soon as its
final transcript arrives; a pause after "and" does not cut the trainee off."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from pipecat.frames.frames import (
    Frame,
    LLMContextFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.utils.time import time_now_iso8601

from pipelines.roleplay_bot import UNFINISHED_HOLD_SECS, VAD_STOP_SECS, user_aggregator_params
from pipelines.services.sphinx.stt import SphinxSTTService
from pipelines.turn_stop import sounds_unfinished

STEP = SleepFrame(sleep=0.05)


class TurnEnds(BaseObserver):
    """Notes when each context frame (an ended turn) left the aggregator, and when the last
    final transcript went in."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []
        self.transcript_at = 0.0
        self._seen: set[int] = set()

    async def on_push_frame(self, data: FramePushed) -> None:
        # The same frame is seen at each hop; the first one is when it happened.
        if data.frame.id in self._seen:
            return
        self._seen.add(data.frame.id)
        if isinstance(data.frame, LLMContextFrame):
            self.at.append(time.monotonic())
        elif isinstance(data.frame, TranscriptionFrame):
            self.transcript_at = time.monotonic()


def utterance(words: str) -> list[Frame]:
    """One stretch of speech: VAD start, VAD stop, then the finalized transcript (as the
    offline STT sends it, on the VAD's stop)."""
    frames: list[Frame] = [
        VADUserStartedSpeakingFrame(start_secs=0.2),
        VADUserStoppedSpeakingFrame(stop_secs=VAD_STOP_SECS),
        TranscriptionFrame(words, "trainee", time_now_iso8601(), finalized=True),
    ]
    return [step for frame in frames for step in (frame, STEP)]


async def turns(frames: Sequence[Frame]) -> tuple[list[str], TurnEnds]:
    """Runs the aggregator; returns the user messages and when turns ended."""
    context = LLMContext([{"role": "assistant", "content": "Hello, this is Dana."}])
    user_aggregator, _assistant = LLMContextAggregatorPair(
        context, user_params=user_aggregator_params(SphinxSTTService())
    )
    ends = TurnEnds()
    await run_test(user_aggregator, frames_to_send=[*frames, SleepFrame(1.5)], observers=[ends])
    messages = [m for m in context.get_messages() if isinstance(m, dict)]
    said = [str(m["content"]) for m in messages if m.get("role") == "user"]
    return said, ends


async def test_a_finished_sentence_ends_the_turn_at_its_transcript() -> None:
    said, ends = await turns(utterance("what is the biggest problem right now"))

    assert said == ["what is the biggest problem right now"]
    assert len(ends.at) == 1
    # No hold: the turn ends on the transcript, not a hold time later.
    assert ends.at[0] - ends.transcript_at < UNFINISHED_HOLD_SECS / 2


async def test_a_pause_after_an_unfinished_word_does_not_cut_the_trainee_off() -> None:
    pause = SleepFrame(sleep=UNFINISHED_HOLD_SECS / 2)  # longer than the VAD's stop window
    said, ends = await turns(
        [*utterance("we lose drivers every month and"), pause, *utterance("it costs us a lot")]
    )

    assert len(ends.at) == 1  # one turn, not two
    assert said == ["we lose drivers every month and it costs us a lot"]


async def test_an_unfinished_turn_still_ends_after_the_hold() -> None:
    said, ends = await turns(utterance("so the thing is um"))

    assert said == ["so the thing is um"]
    assert len(ends.at) == 1
    assert ends.at[0] - ends.transcript_at >= UNFINISHED_HOLD_SECS


@pytest.mark.parametrize(
    ("text", "unfinished"),
    [
        ("we lose drivers every month and", True),
        ("the problem is the", True),
        ("uh", True),
        ("", True),
        ("who do you work with", False),
        ("yes we can", False),
        ("tell me about it", False),
        ("what is the biggest problem right now?", False),
    ],
)
def test_which_endings_sound_unfinished(text: str, unfinished: bool) -> None:
    assert sounds_unfinished(text) is unfinished
