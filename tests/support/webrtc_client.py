"""A WebRTC test client (aiortc) that speaks prepared audio and listens to the bot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import soxr
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from av import AudioFrame

RATE = 48_000
FRAME = 960  # 20 ms


async def wait_for(check: Callable[[], Any], seconds: float, what: str) -> Any:
    """Polls ``check`` (a value or a coroutine) until it is truthy; fails after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class ScriptedMicrophone(MediaStreamTrack):
    """A microphone that sends silence until told to say something, in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.pending = np.zeros(0, dtype=np.int16)
        self.sent = 0
        self.started: float | None = None
        self.speech_ended_at: float | None = None

    def say(self, samples: np.ndarray, rate: int) -> None:
        """Queues speech (int16 at ``rate``) to send next."""
        audio = soxr.resample(samples.astype(np.float32) / 32768, rate, RATE)
        self.pending = np.clip(audio * 32768, -32768, 32767).astype(np.int16)

    async def recv(self) -> AudioFrame:
        if self.started is None:
            self.started = time.monotonic()
        due = self.started + self.sent * FRAME / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if self.pending.size:
            chunk, self.pending = self.pending[:FRAME], self.pending[FRAME:]
            chunk = np.pad(chunk, (0, FRAME - chunk.size))
            if not self.pending.size:
                self.speech_ended_at = time.monotonic()
        else:
            chunk = np.zeros(FRAME, dtype=np.int16)
        frame = AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.sent * FRAME
        frame.time_base = Fraction(1, RATE)
        self.sent += 1
        return frame


class CallClient:
    """One call: a peer connection with the scripted microphone and a data channel."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.mic = ScriptedMicrophone()
        self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel("chat")
        self.messages: list[dict[str, Any]] = []
        self.loud_at: list[float] = []  # when received bot audio was not silent
        self._tasks: list[asyncio.Task[None]] = []

        @self.channel.on("message")
        def on_message(message: Any) -> None:
            with contextlib.suppress(TypeError, ValueError):
                self.messages.append(json.loads(message))

        @self.channel.on("open")
        def on_open() -> None:
            self._tasks.append(asyncio.ensure_future(self._ping()))

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.ensure_future(self._listen(track)))

    async def _ping(self) -> None:
        while True:
            self.channel.send(
                json.dumps(
                    {
                        "label": "rtvi-ai",
                        "type": "client-ready",
                        "id": "1",
                        "data": {"version": "1.0.0", "about": {}},
                    }
                )
                if not self.messages
                else "ping"
            )
            await asyncio.sleep(1.0)

    async def _listen(self, track: MediaStreamTrack) -> None:
        while True:
            frame = await track.recv()
            samples = frame.to_ndarray()
            if np.abs(samples).max() > 500:
                self.loud_at.append(time.monotonic())

    async def offer(self) -> dict[str, Any]:
        """The local offer, with its ICE candidates gathered."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return {"sdp": self.pc.localDescription.sdp, "type": "offer"}

    async def answer(self, answer: dict[str, Any]) -> None:
        """Applies the server's answer."""
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))

    def report_latency(self, latency_ms: float) -> None:
        """Tells the server the voice-to-voice latency this client heard (RTVI client message)."""
        message = {"t": "turn-latency", "d": {"latency_ms": latency_ms}}
        self.channel.send(
            json.dumps({"label": "rtvi-ai", "type": "client-message", "id": "2", "data": message})
        )

    def heard_since(self, moment: float) -> bool:
        """Whether bot audio arrived after ``moment``."""
        return any(t > moment for t in self.loud_at)

    async def close(self) -> None:
        """Hangs up."""
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
