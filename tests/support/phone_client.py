"""The phone provider's side of a media stream, for tests: Twilio's and Telnyx's protocols.

`PhoneCall` connects to the app's stream websocket like the provider does: ``connected``,
``start``, then 20 ms of base64 G.711 mu-law every 20 ms (silence, or queued speech), ``dtmf``
events for keys and ``stop`` at the end. What the app sends back is played out like a
provider's buffer would: each ``media`` chunk after the one before, ``clear`` dropping what is
queued, so the times of loud audio are when a caller would hear it. The mu-law codec here is
written from G.711, independently of the server's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import numpy as np
import soxr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ingest.espeak import SAMPLE_RATE, EspeakVoice, synthesize

PHONE_RATE = 8_000
FRAME = 160  # 20 ms at 8 kHz
LOUD = 500  # |sample| above this counts as audible speech
_BIAS = 0x84
_CLIP = 32635


def ulaw_encode(samples: np.ndarray) -> bytes:
    """G.711 mu-law encoding of int16 samples."""
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law decoding to int16 samples."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = (((u & 0x0F) << 3) + _BIAS) << exponent
    return np.where(u & 0x80, _BIAS - magnitude, magnitude - _BIAS).astype(np.int16)


MALFORMED: list[str | bytes] = [
    "not json at all",
    b"\xff\xfe\x00 binary junk",
    "[1, 2, 3]",
    '"a string"',
    "{}",
    '{"event": 5}',
    '{"event": "who-knows", "data": {}}',
    '{"event": "media", "media": "not an object"}',
    '{"event": "media", "media": {"payload": "%%% not base64 %%%"}}',
    '{"event": "media", "media": {"payload": "abc"}}',
    '{"event": "media", "media": {"payload": 42}}',
    '{"event": "dtmf", "dtmf": {"digit": "x"}}',
    '{"event": "dtmf", "dtmf": "7"}',
    '{"event": "mark", "mark": {"name": "whatever"}}',
]
"""Frames no provider should send: not JSON, not an object, unknown events, broken fields."""

SILENCE = ulaw_encode(np.zeros(FRAME, dtype=np.int16))


def phone_speech(text: str, voice: EspeakVoice | None = None) -> np.ndarray:
    """``text`` spoken by espeak-ng, at the phone network's 8 kHz (int16)."""
    speech = synthesize(text, voice or EspeakVoice(variant="m3", pitch=40))
    return np.asarray(soxr.resample(speech, SAMPLE_RATE, PHONE_RATE), dtype=np.int16)


class PhoneCall:
    """One call's media stream, as the provider sends it and as a handset hears it."""

    provider = ""

    def __init__(self) -> None:
        self.stream_id = f"MZ{uuid.uuid4().hex}"
        self.call_id = f"CA{uuid.uuid4().hex}"
        self.ws: ClientConnection | None = None
        self.pending = np.zeros(0, dtype=np.int16)
        self.speech_ended_at: float | None = None
        self.loud_at: list[float] = []  # when loud received audio plays, on the monotonic clock
        self.playing_until = 0.0
        self.clears = 0
        self.received: list[dict[str, Any]] = []
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sequence = 0

    # What the provider sends ----------------------------------------------------------

    def connected_message(self) -> dict[str, Any]:
        """The first message of a stream."""
        raise NotImplementedError

    def start_message(self) -> dict[str, Any]:
        """The message that names the stream and the call."""
        raise NotImplementedError

    def media_message(self, payload: str) -> dict[str, Any]:
        """20 ms of the caller's audio."""
        raise NotImplementedError

    def dtmf_message(self, digit: str) -> dict[str, Any]:
        """A key the caller pressed."""
        raise NotImplementedError

    def stop_message(self) -> dict[str, Any]:
        """The call is over."""
        raise NotImplementedError

    def is_ours(self, message: dict[str, Any]) -> bool:
        """Whether a message from the app is addressed to this stream."""
        return True

    # Driving the call -----------------------------------------------------------------

    async def connect(self, url: str, *, before_start: Iterable[str | bytes] = ()) -> None:
        """Opens the stream and starts sending audio in real time.

        Args:
            url: the stream's websocket URL.
            before_start: anything to send between ``connected`` and ``start``.
        """
        self.ws = await connect(url, open_timeout=10)
        await self.send(self.connected_message())
        for data in before_start:
            await self.send_raw(data)
        await self.send(self.start_message())
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._stream())]

    async def send(self, message: dict[str, Any]) -> None:
        """Sends one protocol message."""
        await self.send_raw(json.dumps(message))

    async def send_raw(self, data: str | bytes) -> None:
        """Sends anything at all (for malformed frames); a closed stream is ignored."""
        assert self.ws is not None
        with contextlib.suppress(Exception):
            await self.ws.send(data)

    def say(self, speech: np.ndarray) -> None:
        """Queues 8 kHz int16 speech to send next."""
        self.speech_ended_at = None
        self.pending = speech.astype(np.int16)

    async def press(self, keys: str, gap: float = 0.12) -> None:
        """Presses keys on the keypad, one DTMF event each."""
        for key in keys:
            await self.send(self.dtmf_message(key))
            await asyncio.sleep(gap)

    async def hang_up(self) -> None:
        """Sends ``stop`` (the provider then closes the stream, after the app at the latest)."""
        await self.send(self.stop_message())

    async def close(self) -> None:
        """Stops sending and closes the socket."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()

    def heard_since(self, moment: float) -> bool:
        """Whether loud audio played after ``moment`` (and up to now)."""
        now = time.monotonic()
        return any(moment < t <= now for t in self.loud_at)

    def quiet_for(self, seconds: float) -> bool:
        """Whether nothing has played, or is queued to play, for ``seconds``."""
        now = time.monotonic()
        last = max((t for t in self.loud_at if t <= now), default=0.0)
        return self.playing_until <= now and now - last >= seconds

    def events(self, name: str) -> list[dict[str, Any]]:
        """The messages of one event type the app sent."""
        return [m for m in self.received if m.get("event") == name]

    # Background work ----------------------------------------------------------------------

    async def _stream(self) -> None:
        started = time.monotonic()
        sent = 0
        while True:
            await asyncio.sleep(max(0.0, started + sent * FRAME / PHONE_RATE - time.monotonic()))
            chunk = np.zeros(FRAME, dtype=np.int16)
            if self.pending.size:
                part, self.pending = self.pending[:FRAME], self.pending[FRAME:]
                chunk[: part.size] = part
                if not self.pending.size:
                    self.speech_ended_at = time.monotonic()
            payload = base64.b64encode(ulaw_encode(chunk)).decode()
            await self.send(self.media_message(payload))
            sent += 1

    async def _listen(self) -> None:
        assert self.ws is not None
        try:
            with contextlib.suppress(ConnectionClosed):
                async for raw in self.ws:
                    self._receive(json.loads(raw))
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()

    def _receive(self, message: dict[str, Any]) -> None:
        self.received.append(message)
        if message.get("event") == "media" and self.is_ours(message):
            self._play(base64.b64decode(message["media"]["payload"]))
        elif message.get("event") == "clear":
            self.clears += 1
            self.playing_until = time.monotonic()
            self.loud_at = [t for t in self.loud_at if t <= self.playing_until]

    def _play(self, payload: bytes) -> None:
        samples = ulaw_decode(payload)
        start = max(time.monotonic(), self.playing_until)
        for offset in range(0, samples.size, FRAME):
            if np.abs(samples[offset : offset + FRAME].astype(np.int32)).max() > LOUD:
                self.loud_at.append(start + offset / PHONE_RATE)
        self.playing_until = start + samples.size / PHONE_RATE

    def _next(self) -> str:
        self._sequence += 1
        return str(self._sequence)


class TwilioCall(PhoneCall):
    """A Twilio Media Stream (``<Connect><Stream>``)."""

    provider = "twilio"
    account_sid = "AC" + "0" * 32

    def connected_message(self) -> dict[str, Any]:
        return {"event": "connected", "protocol": "Call", "version": "1.0.0"}

    def start_message(self) -> dict[str, Any]:
        return {
            "event": "start",
            "sequenceNumber": self._next(),
            "streamSid": self.stream_id,
            "start": {
                "accountSid": self.account_sid,
                "streamSid": self.stream_id,
                "callSid": self.call_id,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {},
            },
        }

    def media_message(self, payload: str) -> dict[str, Any]:
        sequence = self._next()
        return {
            "event": "media",
            "sequenceNumber": sequence,
            "streamSid": self.stream_id,
            "media": {"track": "inbound", "chunk": sequence, "timestamp": "0", "payload": payload},
        }

    def dtmf_message(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "sequenceNumber": self._next(),
            "streamSid": self.stream_id,
            "dtmf": {"track": "inbound_track", "digit": digit},
        }

    def stop_message(self) -> dict[str, Any]:
        return {
            "event": "stop",
            "sequenceNumber": self._next(),
            "streamSid": self.stream_id,
            "stop": {"accountSid": self.account_sid, "callSid": self.call_id},
        }

    def is_ours(self, message: dict[str, Any]) -> bool:
        return message.get("streamSid") == self.stream_id


class TelnyxCall(PhoneCall):
    """A Telnyx media stream (TeXML ``<Connect><Stream bidirectionalMode="rtp">``)."""

    provider = "telnyx"

    def connected_message(self) -> dict[str, Any]:
        return {"event": "connected", "version": "1.0.0"}

    def start_message(self) -> dict[str, Any]:
        return {
            "event": "start",
            "sequence_number": self._next(),
            "stream_id": self.stream_id,
            "start": {
                "user_id": str(uuid.uuid4()),
                "call_control_id": f"v3:{self.call_id}",
                "call_session_id": str(uuid.uuid4()),
                "from": "+15550100",
                "to": "+15550199",
                "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
            },
        }

    def media_message(self, payload: str) -> dict[str, Any]:
        sequence = self._next()
        return {
            "event": "media",
            "sequence_number": sequence,
            "stream_id": self.stream_id,
            "media": {"track": "inbound", "chunk": sequence, "timestamp": "0", "payload": payload},
        }

    def dtmf_message(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "sequence_number": self._next(),
            "stream_id": self.stream_id,
            "occurred_at": "2026-01-01T00:00:00.000000Z",
            "dtmf": {"digit": digit},
        }

    def stop_message(self) -> dict[str, Any]:
        return {
            "event": "stop",
            "sequence_number": self._next(),
            "stream_id": self.stream_id,
            "stop": {"user_id": str(uuid.uuid4()), "call_control_id": f"v3:{self.call_id}"},
        }
