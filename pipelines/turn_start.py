"""Start of the trainee's turn: at once when the bot is quiet, on words when it speaks.

Pipecat's `MinWordsUserTurnStartStrategy` starts a turn on the trainee's words, so a "yeah"
while the bot talks does not interrupt it. Alone it also starts every turn on a transcript,
and a segmented STT (whisper) sends none before the trainee pauses: the turn would start
after the VAD already placed the end of speech. Pipecat's latency observer then drops that
end of speech (a turn start interrupts, and an interruption resets what it measured), so no
turn got a server latency, and the turn's start came late for everything that follows it.
`QuietBotVADUserTurnStartStrategy` goes before it: while the bot is quiet, the VAD's start of
speech starts the turn, as Pipecat's `VADUserTurnStartStrategy` does; while the bot speaks it
leaves the decision to the words.
"""

from __future__ import annotations

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    VADUserStartedSpeakingFrame,
)
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start.base_user_turn_start_strategy import BaseUserTurnStartStrategy


class QuietBotVADUserTurnStartStrategy(BaseUserTurnStartStrategy):
    """Starts the user turn on the VAD's start of speech, unless the bot is speaking."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._bot_speaking = False

    async def handle_user_turn_started(self) -> None:
        """A started turn interrupts the bot, so it is quiet from here on."""
        self._bot_speaking = False

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        """Follows the bot's speech; starts the turn on speech while the bot is quiet.

        Args:
            frame: A frame the user aggregator saw.

        Returns:
            Always CONTINUE, so the word-count strategy keeps following the bot too.
        """
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
        elif isinstance(frame, VADUserStartedSpeakingFrame) and not self._bot_speaking:
            await self.trigger_user_turn_started()
        return ProcessFrameResult.CONTINUE
