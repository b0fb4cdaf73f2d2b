"""End of the trainee's turn: at once when the words sound finished, later when they do not.

A fixed wait after every pause is a tax on each turn (pipecat's speech timeout added 200 ms
to every reply), and the smart-turn model judged most synthetic sentences unfinished (3 s
waits; PIPECAT_NOTES section 3). The offline STT finalizes its transcript right at the
VAD's stop, so the words themselves can decide: a turn that ends on a word that cannot end
a sentence ("and", "because", "the", "um") is held open for ``hold_secs`` in case the
trainee goes on; any other turn ends as soon as its final transcript arrives.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pipecat.frames.frames import (
    Frame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_stop.base_user_turn_stop_strategy import BaseUserTurnStopStrategy

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
