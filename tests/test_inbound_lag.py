"""The inbound lag meter (`pipelines.inbound_lag`) under Pipecat's `run_test`: audio that
arrives later than its media time says is measured, late pauses are dropped so the call can
catch up, and speech is never dropped."""

from __future__ import annotations

import numpy as np
from pipecat.frames.frames import InputAudioRawFrame, VADUserStoppedSpeakingFrame
from pipecat.tests.utils import run_test

from pipelines.inbound_lag import MAX_LAG_SECS, WEBRTC_PTS_RATE, InboundLagMeter

RATE = 16_000
FRAME_TICKS = WEBRTC_PTS_RATE // 50  # 20 ms of media time


def audio(loud: bool, pts: int | None) -> InputAudioRawFrame:
    samples = np.full(RATE // 50, 8000 if loud else 20, dtype=np.int16)
    frame = InputAudioRawFrame(audio=samples.tobytes(), sample_rate=RATE, num_channels=1)
    frame.pts = pts
    return frame


async def test_late_pauses_are_dropped_and_speech_is_kept() -> None:
    meter = InboundLagMeter()
    # The first frame sets the pace; the rest carry media times 3 s older than it, as audio
    # that waited in a queue does.
    late = 3 * WEBRTC_PTS_RATE
    sent = [audio(True, late + 10 * FRAME_TICKS)]
    sent += [audio(i % 2 == 0, i * FRAME_TICKS) for i in range(6)]
    down, _ = await run_test(
        meter, frames_to_send=[*sent, VADUserStoppedSpeakingFrame(stop_secs=0.2)]
    )

    passed = [f for f in down if isinstance(f, InputAudioRawFrame)]
    loud = [f for f in passed if np.frombuffer(f.audio, np.int16).max() > 1000]
    assert len(passed) == len(loud) == 4  # the first and the three late loud ones
    assert meter.dropped_secs > 0
    assert meter.lag_at_speech_end is not None and meter.lag_at_speech_end > MAX_LAG_SECS


async def test_audio_on_time_passes_untouched_and_frames_without_a_time_too() -> None:
    meter = InboundLagMeter()
    sent = [audio(i % 2 == 0, i * FRAME_TICKS) for i in range(6)]
    sent += [audio(False, None), audio(False, None)]  # a phone call's frames carry no pts
    down, _ = await run_test(meter, frames_to_send=sent)

    assert len([f for f in down if isinstance(f, InputAudioRawFrame)]) == len(sent)
    assert meter.dropped_secs == 0
