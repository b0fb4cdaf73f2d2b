"""The dial-in lobby: before the bot joins, the caller keys the session's code.

Design: a short phase on the media stream itself, before any pipeline runs, rather than a
gate processor inside the roleplay bot. The bot needs the session (its scenario, voice,
history) to be built at all, and the session is only known once the code is accepted; the
lobby therefore owns the socket until then and hands it, untouched, to the bot's websocket
transport. It speaks the provider's protocol through the same serializer the bot then uses:
incoming messages become frames (`InputDTMFFrame` for keys, a cancel frame for ``stop``),
and prompts go out as audio frames, serialized into the provider's ``media`` messages.

Prompts are espeak-ng speech sent in one go: the provider buffers and plays it, and a key
pressed while it plays sends ``clear`` so the caller is not talked over. Keys: six digits
submit a code by themselves; ``#`` submits early; ``*`` starts again. A code that is not
recognised gets a spoken retry, and the third one a spoken goodbye; a used or expired code
gets its own spoken goodbye at once, as nothing typed again can help. Each code submitted
spends one attempt from a budget all callers share (``RATE_LIMIT_DIAL_IN``), so many calls in
parallel guess no faster than the budget allows; once it is spent the caller is told to try
again in a minute and hung up, and the code is not redeemed. A goodbye is allowed to finish
playing before the socket closes.

The prompts are a handful of fixed sentences, so their phone-rate audio is synthesised once
per process and kept (`prompt_audio`), rather than running espeak-ng on every call.

No receive is ever cancelled (a cancelled websocket read can lose a message the bot needs);
the lobby's deadline is checked as messages arrive, and providers stream audio every 20 ms.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

import numpy as np
import soxr
from fastapi import WebSocket
from loguru import logger
from pipecat.frames.frames import (
    CancelWorkerFrame,
    Frame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
)
from pipecat.serializers.base_serializer import FrameSerializer

from ingest.espeak import SAMPLE_RATE, EspeakVoice, synthesize
from memory.dial_in import CODE_DIGITS, DialInCode, DialInCodes
from pipelines.phone_serializer import event_of
from web.telephony.streams import PHONE_SAMPLE_RATE

LOBBY_VOICE = EspeakVoice(rate_wpm=155)
CHUNK_SAMPLES = PHONE_SAMPLE_RATE * 40 // 1000  # 40 ms per media message, as the bot sends
MAX_GOODBYE_WAIT_SECS = 15.0
MAX_CACHED_PROMPTS = 32
"""Prompt audio kept per process; texts beyond it (none today) are synthesised each time."""

WELCOME = (
    "Welcome to Champion Clone. Please key in the six digit dial-in code from the app. "
    "Your practice call starts as soon as the code is accepted."
)
RETRY = "Sorry, that code was not recognised. Please key in the six digits again."
STRUCK_OUT = "That code was not recognised. Get a new code in the app and call again. Goodbye."
USED = "That code has already been used. Get a new code in the app and call again. Goodbye."
EXPIRED = "That code has expired. Get a new code in the app and call again. Goodbye."
ENDED = "That practice session has ended. Start a new one in the app and call again. Goodbye."
TIMED_OUT = "No code was keyed in. Goodbye."
TOO_MANY = "There have been too many attempts. Please try again in a minute. Goodbye."
FAREWELLS = {"used": USED, "expired": EXPIRED}

CodeBudget = Callable[[], Awaitable[bool]]
"""Spends one code attempt from the budget all callers share; False once it is spent."""

_prompts: dict[str, np.ndarray] = {}
_prompts_lock = threading.Lock()


def prompt_audio(text: str) -> np.ndarray:
    """``text`` in the lobby's voice at the phone's rate (int16, read-only), synthesised once
    per process. Blocks while espeak-ng works: call it in a worker thread. Thread-safe: a text
    asked for by several calls at once is synthesised by the first, the others wait for it.
    """
    with _prompts_lock:
        audio = _prompts.get(text)
        if audio is None:
            speech = synthesize(text, LOBBY_VOICE)
            audio = soxr.resample(speech, SAMPLE_RATE, PHONE_SAMPLE_RATE).astype(np.int16)
            audio.flags.writeable = False  # shared by every call
            if len(_prompts) < MAX_CACHED_PROMPTS:
                _prompts[text] = audio
        return audio


class DialInLobby:
    """Asks a caller for their dial-in code and redeems it.

    Args:
        websocket: the accepted media stream, its handshake read.
        serializer: the provider's serializer for this stream (the bot's, afterwards).
        codes: where codes are redeemed.
        budget: spends one code attempt from the budget all callers share.
        attempts: codes a caller may get wrong before the lobby hangs up.
        deadline_secs: how long a caller has to key a valid code.
    """

    def __init__(
        self,
        *,
        websocket: WebSocket,
        serializer: FrameSerializer,
        codes: DialInCodes,
        budget: CodeBudget,
        attempts: int = 3,
        deadline_secs: float = 120.0,
    ) -> None:
        self.websocket = websocket
        self.serializer = serializer
        self.codes = codes
        self.budget = budget
        self.attempts = attempts
        self.deadline_secs = deadline_secs
        self.hung_up = False
        self._playing_until = 0.0

    async def admit(self) -> DialInCode | None:
        """Welcomes the caller and reads keys until a code is accepted.

        Returns:
            The accepted code; None when the caller hung up, or was told goodbye (unknown
            code three times, a used or expired code, no code in time, too many attempts
            by all callers).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_secs
        await self.say(WELCOME)
        keyed, strikes = "", 0
        async with aclosing(self._keys()) as keys:
            async for key in keys:
                if loop.time() > deadline:
                    await self.hang_up(TIMED_OUT)
                    return None
                if key is None:  # not a key: only the deadline matters
                    continue
                await self._stop_speaking()
                keyed, code = typed(keyed, key)
                if code is None:
                    continue
                if not await self.budget():
                    logger.warning("a dial-in code was refused: the code attempt budget is spent")
                    await self.hang_up(TOO_MANY)
                    return None
                redemption = await self.codes.redeem(code)
                if redemption.code is not None:
                    return redemption.code
                strikes += 1
                farewell = FAREWELLS.get(redemption.status)
                if farewell is None and strikes >= self.attempts:
                    farewell = STRUCK_OUT
                if farewell is not None:
                    await self.hang_up(farewell)
                    return None
                await self.say(RETRY)
        return None

    async def say(self, text: str) -> None:
        """Speaks ``text`` to the caller (queued after anything still playing)."""
        audio = _prompts.get(text)
        if audio is None:
            audio = await asyncio.to_thread(prompt_audio, text)
        for start in range(0, audio.size, CHUNK_SAMPLES):
            chunk = audio[start : start + CHUNK_SAMPLES].tobytes()
            await self._send(OutputAudioRawFrame(chunk, PHONE_SAMPLE_RATE, 1))
        now = asyncio.get_running_loop().time()
        self._playing_until = max(now, self._playing_until) + audio.size / PHONE_SAMPLE_RATE

    async def hang_up(self, text: str) -> None:
        """Says goodbye and waits (at most `MAX_GOODBYE_WAIT_SECS`) until it has played;
        the caller of the lobby then closes the stream, which ends the call."""
        if self.hung_up:
            return
        await self.say(text)
        left = self._playing_until - asyncio.get_running_loop().time()
        await asyncio.sleep(min(max(0.0, left), MAX_GOODBYE_WAIT_SECS))

    async def _keys(self) -> AsyncGenerator[str | None, None]:
        """Each key the caller presses, and None for every other message (the caller's audio
        is not decoded: it waits for the bot), until the caller hangs up."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.hung_up = True
                return
            data = message.get("text") or message.get("bytes")
            if not data or event_of(data) == "media":
                yield None
                continue
            frame = await self.serializer.deserialize(data)
            if isinstance(frame, CancelWorkerFrame):  # the provider's "stop"
                self.hung_up = True
                return
            yield frame.button.value if isinstance(frame, InputDTMFFrame) else None

    async def _stop_speaking(self) -> None:
        """Cuts a prompt short when the caller starts keying."""
        if self._playing_until > asyncio.get_running_loop().time():
            await self._send(InterruptionFrame())
            self._playing_until = 0.0

    async def _send(self, frame: Frame) -> None:
        payload = await self.serializer.serialize(frame)
        if payload is None:
            return
        try:
            if isinstance(payload, bytes):
                await self.websocket.send_bytes(payload)
            else:
                await self.websocket.send_text(payload)
        except Exception:  # the caller has gone; the next read says so
            logger.debug("a lobby prompt could not be sent")


def typed(keyed: str, key: str) -> tuple[str, str | None]:
    """The keys kept after pressing ``key``, and the code it submits, if any: the sixth digit
    and ``#`` submit, ``*`` starts again."""
    if key == "*":
        return "", None
    if key == "#":
        return "", keyed or None
    keyed += key
    return ("", keyed) if len(keyed) >= CODE_DIGITS else (keyed, None)
