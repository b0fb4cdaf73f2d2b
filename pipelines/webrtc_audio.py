"""Audio tuning of SmallWebRTC calls: a tighter receive buffer and a bot track that is quiet
between replies.

Neither has a setting in aiortc or pipecat 1.14, so both reach into their internals; the
tests drive real calls through both.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from pipecat.transports.smallwebrtc import transport as smallwebrtc

INPUT_JITTER_PREFETCH = 1
"""Audio frames the server's receive buffer holds back. aiortc's default of 4 delays every
trainee word by 60 ms more, to smooth a playout the server never does: it only listens."""


def tighten_input_buffer(pc: RTCPeerConnection) -> None:
    """Lets the trainee's audio through aiortc's jitter buffer after one frame, not four."""
    for receiver in pc.getReceivers():
        if receiver.track is not None and receiver.track.kind == "audio":
            # aiortc has no setting for it; the buffer is private to the receiver.
            receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(  # type: ignore[attr-defined]
                capacity=16, prefetch=INPUT_JITTER_PREFETCH
            )


class QuietAudioTrack(smallwebrtc.RawAudioTrack):
    """The bot's outgoing track, silent the way Opus DTX is: no packets between replies.

    Pipecat's track sends 10 ms of encoded silence a hundred times a second while the bot is
    quiet (about a third of an idle call's server CPU, and as much again for the client to
    receive). This one waits for audio instead; when a reply starts, its timestamps jump
    ahead by the silence, so the receiver sees a gap in time (as with DTX), not a late
    burst, and the reply is paced in real time from that moment on.
    """

    def __init__(self, sample_rate: int, auto_silence: bool = True) -> None:
        super().__init__(sample_rate, auto_silence=False)
        self._audio_waiting = asyncio.Event()

    def add_audio_bytes(self, audio_bytes: bytes) -> Any:
        """Queues the bot's audio and wakes the sender."""
        future = super().add_audio_bytes(audio_bytes)
        self._audio_waiting.set()
        return future

    async def recv(self) -> Any:
        """The next 10 ms of the bot's audio, waiting (sending nothing) while it is quiet."""
        if not self._chunk_queue:
            while not self._chunk_queue:
                self._audio_waiting.clear()
                await self._audio_waiting.wait()
            now = int((time.time() - self._start) * self._sample_rate)
            self._timestamp = max(self._timestamp, now - now % self._samples_per_10ms)
        return await super().recv()


def use_quiet_output_tracks() -> None:
    """Makes every SmallWebRTC transport of this process send the bot with `QuietAudioTrack`."""
    smallwebrtc.RawAudioTrack = QuietAudioTrack  # type: ignore[misc]
