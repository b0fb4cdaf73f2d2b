"""How late the trainee's audio reaches the pipeline, and a bound on that lateness.

Each input audio frame carries its media timestamp (``pts``, the sender's clock: the RTP
timestamp of a WebRTC call). Media time and arrival time advance together while the server
keeps up, so ``arrival - media time`` is constant up to network jitter; the smallest value
seen in the call is the path's own delay, and anything above it is audio waiting in a queue
(aiortc's track, the transport's input queue, a processor's queue). That excess is the
**inbound lag**: the time the server hears the trainee late, which the VAD's end of speech
(and so the server's latency figure) does not see.

`InboundLagMeter` sits right after the transport's input. It measures the lag of every frame
and notes it at each end of speech (the VAD's stop, which the user aggregator also sends
upstream), so the turn's latency can include the way in. When the lag passes
``max_lag_secs`` it drops the quiet frames it is given (the pauses, never speech) until the
pipeline has caught up: the audio that waits does not pile up, and what the trainee said is
kept. Frames without a timestamp (a phone call's websocket) pass untouched.
"""

from __future__ import annotations

import time

import numpy as np
from pipecat.frames.frames import Frame, InputAudioRawFrame, VADUserStoppedSpeakingFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

WEBRTC_PTS_RATE = 48_000
"""Ticks per second of a WebRTC audio frame's ``pts`` (Opus's RTP clock)."""
MAX_LAG_SECS = 0.5
QUIET_PEAK = 500
"""A frame whose samples all stay below this (int16) is a pause, safe to drop when late."""


class InboundLagMeter(FrameProcessor):
    """Measures the trainee audio's lateness; drops late quiet audio to catch up.

    Args:
        pts_rate: Ticks per second of the frames' ``pts``.
        max_lag_secs: Above this lag, quiet frames are dropped until the lag is back under.
    """

    def __init__(
        self,
        *,
        pts_rate: int = WEBRTC_PTS_RATE,
        max_lag_secs: float = MAX_LAG_SECS,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.pts_rate = pts_rate
        self.max_lag_secs = max_lag_secs
        self.lag_secs = 0.0
        """The lag of the latest frame."""
        self.lag_at_speech_end: float | None = None
        """The lag when the VAD last placed an end of speech; None before the first."""
        self.dropped_secs = 0.0
        """Quiet audio dropped so far to catch up."""
        self._offset: float | None = None  # smallest (arrival - media time) seen

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Measures audio frames (dropping late quiet ones) and notes the lag at speech end.

        Args:
            frame: The frame to process.
            direction: Which way it travels.
        """
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            if self._late_and_quiet(frame):
                self.dropped_secs += self._duration(frame)
                return
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self.lag_at_speech_end = self.lag_secs
        await self.push_frame(frame, direction)

    def _late_and_quiet(self, frame: InputAudioRawFrame) -> bool:
        if frame.pts is None or not frame.audio:
            return False
        media_end = frame.pts / self.pts_rate + self._duration(frame)
        offset = time.monotonic() - media_end
        if self._offset is None or offset < self._offset:
            self._offset = offset
        self.lag_secs = offset - self._offset
        if self.lag_secs <= self.max_lag_secs:
            return False
        samples = np.frombuffer(frame.audio, dtype=np.int16)
        return int(np.abs(samples.astype(np.int32)).max()) < QUIET_PEAK

    @staticmethod
    def _duration(frame: InputAudioRawFrame) -> float:
        return len(frame.audio) / (2 * frame.num_channels * frame.sample_rate)
