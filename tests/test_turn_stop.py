"""The end of the trainee's turn (`pipelines.turn_stop`), in the bot's user aggregator under
Pipecat's `run_test`. With the offline STT a finished sentence ends the turn as soon as its
final transcript arrives and a pause after "and" does not cut the trainee off. With whisper
a pause between two sentences does not split the turn, the turn waits for words still being
decoded, and a stretch of speech that gave no words does not hold it open for ever."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
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

from pipelines.frames import SegmentTranscribedFrame
from pipelines.roleplay_bot import (
    STATEMENT_WAIT_SECS,
    UNFINISHED_HOLD_SECS,
    UNFINISHED_WAIT_SECS,
    VAD_STOP_SECS,
    user_aggregator_params,
)
from pipelines.services.sphinx.stt import SphinxSTTService
from pipelines.services.whisper.stt import FasterWhisperSTTService
from pipelines.turn_stop import PunctuationUserTurnStopStrategy, sounds_finished, sounds_unfinished

STEP = SleepFrame(sleep=0.05)
# Long enough for the whisper strategy to end any turn, one whose words never came included.
WHISPER_SETTLE_SECS = (
    max(UNFINISHED_WAIT_SECS, PunctuationUserTurnStopStrategy().transcript_wait_secs) + 0.5
)


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


class ModelFreeWhisperSTTService(FasterWhisperSTTService):
    """The whisper service without its model: the bot picks its turn strategy by its kind."""

    def _load(self) -> None:
        self._model = None


def vad(started: bool) -> Frame:
    if started:
        return VADUserStartedSpeakingFrame(start_secs=0.2)
    return VADUserStoppedSpeakingFrame(stop_secs=VAD_STOP_SECS)


def words(text: str) -> list[Frame]:
    """What whisper sends once it decoded a stretch of speech: its words, then the end."""
    final = TranscriptionFrame(text, "trainee", time_now_iso8601(), finalized=True)
    return [final, STEP, SegmentTranscribedFrame(), STEP]


async def turns(frames: Sequence[Frame], *, whisper: bool = False) -> tuple[list[str], TurnEnds]:
    """Runs the aggregator; returns the user messages and when turns ended."""
    context = LLMContext([{"role": "assistant", "content": "Hello, this is Dana."}])
    stt = ModelFreeWhisperSTTService() if whisper else SphinxSTTService()
    user_aggregator, _assistant = LLMContextAggregatorPair(
        context, user_params=user_aggregator_params(stt)
    )
    ends = TurnEnds()
    last = SleepFrame(WHISPER_SETTLE_SECS if whisper else 1.5)
    await run_test(user_aggregator, frames_to_send=[*frames, last], observers=[ends])
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


def test_whisper_calls_get_the_punctuation_strategy() -> None:
    params = user_aggregator_params(ModelFreeWhisperSTTService())
    assert params.user_turn_strategies is not None
    assert [type(s) for s in params.user_turn_strategies.stop or []] == [
        PunctuationUserTurnStopStrategy
    ]


async def test_a_pause_between_two_sentences_keeps_one_turn() -> None:
    pause = SleepFrame(sleep=STATEMENT_WAIT_SECS / 2)  # a pause people make between sentences
    said, ends = await turns(
        [
            vad(True), STEP, vad(False), STEP, *words("We work with forty fleets like yours."),
            pause,
            vad(True), STEP, vad(False), STEP, *words("How do you plan your routes today?"),
        ],
        whisper=True,
    )  # fmt: skip

    assert len(ends.at) == 1
    assert said == ["We work with forty fleets like yours. How do you plan your routes today?"]


async def test_the_turn_waits_for_words_still_being_decoded() -> None:
    # The trainee asks, pauses briefly, adds a question; the first words arrive after both
    # stretches ended, the second's a while later. A question alone would end the turn.
    decoding = SleepFrame(sleep=STATEMENT_WAIT_SECS / 2)
    said, ends = await turns(
        [
            vad(True), STEP, vad(False), STEP, vad(True), STEP, vad(False), STEP,
            *words("What is the biggest problem right now?"),
            decoding,
            *words("Is it scheduling?"),
        ],
        whisper=True,
    )  # fmt: skip

    assert len(ends.at) == 1
    assert said == ["What is the biggest problem right now? Is it scheduling?"]


async def test_a_pause_that_reaches_the_server_late_is_not_taken_for_a_long_one() -> None:
    # The server runs behind: 0.2 s of the trainee's pause trickles in over 1.5 s of clock,
    # longer than a statement's wait; then they go on. Silence counts in their audio.
    quiet = InputAudioRawFrame(audio=bytes(640), sample_rate=16_000, num_channels=1)
    trickle = [step for _ in range(10) for step in (quiet, SleepFrame(sleep=0.15))]
    said, ends = await turns(
        [
            vad(True), STEP, vad(False), STEP, *words("We help teams like yours."),
            *trickle,
            vad(True), STEP, vad(False), STEP, *words("How many drivers do you have?"),
        ],
        whisper=True,
    )  # fmt: skip

    assert len(ends.at) == 1
    assert said == ["We help teams like yours. How many drivers do you have?"]


async def test_speech_that_gave_no_words_does_not_hold_the_turn_open() -> None:
    noise = [vad(True), STEP, vad(False), STEP]  # a cough: whisper sends nothing at all
    said, ends = await turns(
        [vad(True), STEP, vad(False), STEP, *words("That makes sense."), *noise], whisper=True
    )

    assert said == ["That makes sense."]
    assert len(ends.at) == 1


@pytest.mark.parametrize(
    ("text", "finished"),
    [
        ("How do you plan your routes today?", True),
        ("That makes sense.", True),
        ("The reason I ask is because.", False),
        ("we could start with", False),
        ("Set up takes about two weeks", False),
        ("", False),
    ],
)
def test_which_punctuated_words_end_a_sentence(text: str, finished: bool) -> None:
    assert sounds_finished(text) is finished
