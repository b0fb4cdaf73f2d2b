"""End of the trainee's turn, decided by the words heard so far.

`PunctuationUserTurnStopStrategy` (whisper, which punctuates) waits after the VAD's stop
for as long as the words call for: a question yields the floor, so the turn ends almost at
once; after a finished statement the trainee often goes on with another sentence, so the
turn stays open for a second; after "and", "because", "the" or an unpunctuated fragment,
longer. Measured by `bench/turn_taking.py` on 72 trainee utterances in four natural voices
(Piper joe, flite slt/rms/awb), 40 of them with 44 pauses of 0.3-0.8 s between sentences:

| strategy | pauses cut | added wait after the last word, p50 (question / statement) |
|---|---|---|
| speech timeout 0.4 s (whisper calls before) | 30/44 | 641 / 635 ms |
| speech timeout 0.8 s | 15/44 | 1038 / 1038 ms |
| speech timeout 1.0 s | 0/44 | 1238 / 1238 ms |
| smart-turn v3 (Pipecat's default, 3 s fallback) | 28/44 | 392 / 377 ms, p95 3257 ms |
| sentence end, hold 0.7 s (pocketsphinx's) | 41/44 | 361 / 345 ms |
| words + smart-turn (0.3 s if both say done, else 1.0 s) | 21/44 | 575 / 557 ms |
| **this: ? 0.2 s, . 1.0 s, unfinished 1.5 s** | **4/44** | **440 / 1238 ms** |

Smart-turn's probabilities on these voices did not tell a pause from an end (0.8-0.97
inside two-sentence answers, 0.01-0.1 after finished questions), and whisper ends nearly
every stretch with a full stop, so neither tells a statement that ends a turn from one that
opens it; only a long enough silence does. The four cuts left are a question followed by
another question ("... right now? Is it scheduling or fuel?"): the prospect starts to
answer the first, as a person might.

`SentenceEndUserTurnStopStrategy` (pocketsphinx, no punctuation, transcript at the VAD's
stop) ends at once unless the last word cannot end a sentence.

A fixed wait after every pause is a tax on each turn (pipecat's speech timeout added 200 ms
to every reply), and the smart-turn model judged most synthetic sentences unfinished (3 s
waits; PIPECAT_NOTES section 3). The offline STT finalizes its transcript right at the
VAD's stop, so the words themselves can decide: a turn that ends on a word that cannot end
a sentence ("and", "because", "the", "um") is held open for ``hold_secs`` in case the
trainee goes on; any other turn ends as soon as its final transcript arrives.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy

from pipelines.frames import SegmentTranscribedFrame

# Words after which a speaker is almost never done: conjunctions, articles, possessives,
# subject pronouns and fillers. Prepositions, auxiliaries and object pronouns are left out:
# questions end on them ("who do you work with", "yes we can", "tell me about it").
UNFINISHED_ENDINGS = frozenset(
    """
    and but or nor so because cause since if unless although though while whereas than
    the a an my our your their its his of i we they he she i'm we're you're they're it's
    um uh er ah hmm very
    """.split()
)


def sounds_unfinished(text: str) -> bool:
    """Whether a transcript ends on a word that rarely ends a sentence.

    Args:
        text: The turn's words so far.

    Returns:
        True when the last word is in `UNFINISHED_ENDINGS` (or there are no words).
    """
    words = text.lower().replace(",", " ").split()
    return not words or words[-1].strip(".?!") in UNFINISHED_ENDINGS


class SentenceEndUserTurnStopStrategy(BaseUserTurnStopStrategy):
    """Ends the user turn on the final transcript, holding it open after an unfinished word.

    Needs an STT that marks its end-of-utterance transcript ``finalized`` (the offline
    pocketsphinx service does, at the VAD's stop).

    Args:
        hold_secs: How long a turn that sounds unfinished stays open for more speech.
    """

    def __init__(self, *, hold_secs: float = 0.7, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hold_secs = hold_secs
        self._text = ""
        self._speaking = False
        self._finalized = False
        self._hold: asyncio.Task[None] | None = None

    async def handle_user_turn_started(self) -> None:
        """Forgets the last turn's words when a new turn starts."""
        await self._reset()

    async def handle_user_turn_stopped(self) -> None:
        """Clears the turn's state once it ended."""
        await self._reset()

    async def cleanup(self) -> None:
        """Stops a pending hold."""
        await super().cleanup()
        await self._cancel_hold()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        """Follows VAD and transcripts; ends the turn when the words allow.

        Args:
            frame: A frame the user aggregator saw.

        Returns:
            Always CONTINUE, so other strategies see the frame too.
        """
        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._speaking = True
            self._finalized = False
            await self._cancel_hold()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._speaking = False
            await self._decide()
        elif isinstance(frame, TranscriptionFrame):
            self._text = f"{self._text} {frame.text}".strip()
            self._finalized = self._finalized or frame.finalized
            await self._decide()
        return ProcessFrameResult.CONTINUE

    async def _decide(self) -> None:
        if self._speaking or not self._finalized or not self._text or self._hold is not None:
            return
        if sounds_unfinished(self._text):
            self._hold = self.task_manager.create_task(self._stop_after_hold(), f"{self}::hold")
        else:
            await self.trigger_user_turn_stopped()

    async def _stop_after_hold(self) -> None:
        try:
            await asyncio.sleep(self.hold_secs)
        except asyncio.CancelledError:
            return
        self._hold = None
        if not self._speaking:
            await self.trigger_user_turn_stopped()

    async def _cancel_hold(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None and hold is not asyncio.current_task():
            await self.task_manager.cancel_task(hold)

    async def _reset(self) -> None:
        self._text = ""
        self._finalized = False
        await self._cancel_hold()


def ends_with_question(text: str) -> bool:
    """Whether punctuated ``text`` ends on a question mark."""
    return text.rstrip().endswith("?")


def sounds_finished(text: str) -> bool:
    """Whether punctuated ``text`` ends a sentence (., ? or !) on a word that can end one."""
    stripped = text.rstrip()
    return stripped[-1:] in (".", "?", "!") and not sounds_unfinished(stripped)


class PunctuationUserTurnStopStrategy(BaseUserTurnStopStrategy):
    """Ends the user turn a while after the VAD's stop; how long, the punctuated words say.

    For a segmented STT that sends a `SegmentTranscribedFrame` after each stretch of speech
    (`FasterWhisperSTTService`). The decision waits for the latest stretch's words (at most
    ``transcript_wait_secs`` after the stop), and the waits run from the VAD's stop, so the
    decode hides inside them. The silence is counted in the trainee's audio, not on the
    clock: when the server runs behind, a 0.6 s pause that reaches it late is still 0.6 s
    and does not end the turn. Only when their audio stops arriving altogether (for
    ``stall_secs``) does the clock decide.

    Args:
        question_secs: Silence after the VAD stop that ends a turn ending on a question.
        statement_secs: Silence that ends a turn ending on a finished statement.
        unfinished_secs: Silence that ends a turn whose words do not end a sentence.
        transcript_wait_secs: Longest wait (clock) for the latest stretch's words.
        stall_secs: Audio missing this long (clock) counts as silence.
    """

    def __init__(
        self,
        *,
        question_secs: float = 0.2,
        statement_secs: float = 1.0,
        unfinished_secs: float = 1.5,
        transcript_wait_secs: float = 2.0,
        stall_secs: float = 0.3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.question_secs = question_secs
        self.statement_secs = statement_secs
        self.unfinished_secs = unfinished_secs
        self.transcript_wait_secs = transcript_wait_secs
        self.stall_secs = stall_secs
        self._text = ""
        self._speaking = False
        self._pending = 0  # stretches of speech whose words have not arrived
        self._stopped_at = 0.0  # clock time of the last VAD stop
        self._silence = 0.0  # seconds of the trainee's audio since the last VAD stop
        self._audio_at = 0.0  # clock time the last audio frame arrived
        self._watch: asyncio.Task[None] | None = None

    def wait_for(self, text: str) -> float:
        """Seconds of silence after the VAD stop before a turn with these words ends."""
        if not sounds_finished(text):
            return self.unfinished_secs
        return self.question_secs if ends_with_question(text) else self.statement_secs

    async def handle_user_turn_started(self) -> None:
        """Starts the new turn's words afresh (the speech and pending state carry over)."""
        self._text = ""

    async def handle_user_turn_stopped(self) -> None:
        """Forgets the ended turn's words."""
        self._text = ""
        await self._stop_watching()

    async def cleanup(self) -> None:
        """Stops watching the clock."""
        await super().cleanup()
        await self._stop_watching()

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        """Follows VAD, audio, transcripts and finished segments; ends the turn when due.

        Args:
            frame: A frame the user aggregator saw.

        Returns:
            Always CONTINUE, so other strategies see the frame too.
        """
        if isinstance(frame, InputAudioRawFrame):
            self._audio_at = time.monotonic()
            if not self._speaking and frame.sample_rate:
                self._silence += len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
                await self._decide()
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            self._speaking = True
            await self._stop_watching()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._speaking = False
            self._pending += 1
            self._stopped_at = time.monotonic()
            self._silence = 0.0
            await self._stop_watching()
            self._watch = self.task_manager.create_task(self._watch_clock(), f"{self}::watch")
        elif isinstance(frame, TranscriptionFrame):
            self._text = f"{self._text} {frame.text.strip()}".strip()
        elif isinstance(frame, SegmentTranscribedFrame):
            self._pending = max(0, self._pending - 1)
            await self._decide()
        return ProcessFrameResult.CONTINUE

    async def _decide(self, *, stalled: bool = False) -> bool:
        """Ends the turn if it is due; returns whether it did."""
        if self._speaking or self._pending or not self._text or self._watch is None:
            return False
        wait = self.wait_for(self._text)
        waited = time.monotonic() - self._stopped_at
        if self._silence >= wait or (stalled and waited >= wait):
            await self._stop_watching()
            await self.trigger_user_turn_stopped()
            return True
        return False

    async def _watch_clock(self) -> None:
        """After a VAD stop: gives up on words that never come, and lets the clock decide
        when the trainee's audio stopped arriving."""
        try:
            while True:
                await asyncio.sleep(0.05)
                now = time.monotonic()
                if self._pending and now - self._stopped_at >= self.transcript_wait_secs:
                    self._pending = 0  # a stretch that gave no words (noise): go by the rest
                if not self._pending and not self._text:
                    self._watch = None
                    return  # nothing was said: nothing to end
                stalled = now - self._audio_at >= self.stall_secs
                if await self._decide(stalled=stalled):
                    return
        except asyncio.CancelledError:
            return

    async def _stop_watching(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None and watch is not asyncio.current_task():
            await self.task_manager.cancel_task(watch)
