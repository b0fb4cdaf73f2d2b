"""The dial-in lobby on a scripted media stream: the shared code budget and the prompt cache."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import numpy as np
import pytest

import ingest.espeak as espeak
import web.telephony.lobby as lobby_module
from memory.dial_in import DialInCodes
from memory.session_store import InProcessSessionStore
from memory.settings import Settings
from web.telephony.lobby import RETRY, TOO_MANY, WELCOME, DialInLobby
from web.telephony.streams import StreamStart, serializer_for

STREAM = "MZ" + "0" * 32


class ScriptedStream:
    """A Twilio media stream that delivers ``messages`` and then hangs up; keeps what the
    lobby sends."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.incoming = [json.dumps(m) for m in messages]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        await asyncio.sleep(0)
        if not self.incoming:
            return {"type": "websocket.disconnect", "code": 1000}
        return {"type": "websocket.receive", "text": self.incoming.pop(0)}

    async def send_text(self, data: str) -> None:
        self.sent.append(json.loads(data))

    async def send_bytes(self, data: bytes) -> None:
        raise AssertionError("Twilio streams are text")

    def audio(self) -> list[str]:
        return [m["media"]["payload"] for m in self.sent if m.get("event") == "media"]


def keys(digits: str) -> list[dict[str, Any]]:
    return [
        {"event": "dtmf", "streamSid": STREAM, "dtmf": {"track": "inbound_track", "digit": d}}
        for d in digits
    ]


def lobby_on(stream: ScriptedStream, codes: DialInCodes, budget: Any) -> DialInLobby:
    start = StreamStart("twilio", STREAM, None)
    serializer = serializer_for(start, Settings(_env_file=None))  # type: ignore[call-arg]
    return DialInLobby(
        websocket=stream,  # type: ignore[arg-type]
        serializer=serializer,
        codes=codes,
        budget=budget,
    )


async def test_past_the_shared_budget_a_code_is_refused_without_being_redeemed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lobby_module, "MAX_GOODBYE_WAIT_SECS", 0.0)
    codes = DialInCodes(store=InProcessSessionStore())
    real = (await codes.issue(session_id="s-1", user_id="u-1")).code
    wrong = "1" * 6 if real != "1" * 6 else "2" * 6
    left = [1]  # one attempt left for every caller together

    async def budget() -> bool:
        left[0] -= 1
        return left[0] >= 0

    stream = ScriptedStream(keys(wrong + real + real))
    lobby = lobby_on(stream, codes, budget)
    said: list[str] = []
    speak = lobby.say

    async def say(text: str) -> None:
        said.append(text)
        await speak(text)

    monkeypatch.setattr(lobby, "say", say)

    assert await lobby.admit() is None
    assert said == [WELCOME, RETRY, TOO_MANY]
    assert left[0] == -1  # asked twice: the lobby hung up before the third code
    assert (await codes.redeem(real)).status == "accepted"


async def test_a_prompt_is_synthesised_once_for_every_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    synthesised: list[str] = []
    real = espeak.synthesize

    def counting(text: str, voice: espeak.EspeakVoice = espeak.DEFAULT_VOICE) -> np.ndarray:
        synthesised.append(text)
        return real(text, voice)

    monkeypatch.setattr(espeak, "synthesize", counting)
    monkeypatch.setattr(lobby_module, "synthesize", counting, raising=False)
    text = f"Please hold, caller {uuid.uuid4().int % 10_000}."  # not cached by another test
    codes = DialInCodes(store=InProcessSessionStore())

    async def budget() -> bool:
        return True

    streams = [ScriptedStream([]) for _ in range(5)]
    lobbies = [lobby_on(stream, codes, budget) for stream in streams]
    await asyncio.gather(*(lobby.say(text) for lobby in lobbies[:4]))  # calls at once
    await lobbies[4].say(text)  # a later call

    assert synthesised == [text]
    first = streams[0].audio()
    assert first
    assert all(stream.audio() == first for stream in streams[1:])
