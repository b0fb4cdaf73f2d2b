"""CallRecorder in a real Pipecat pipeline (Pipecat's `run_test`): the trainee's audio and the
AI's audio each end up in their own WAV file, on one timeline, at the recording rate."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from pipecat.frames.frames import Frame, InputAudioRawFrame, TTSAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.tests.utils import run_test

from pipelines.recording import RECORDING_RATE, CallRecorder, track_path
from tests.support.media import tone

TRAINEE_HZ, AI_HZ = 440.0, 880.0
TRAINEE_SECS = 3.0
AI_SECS = 1.0
SLACK = 0.1  # seconds (see below)


def chunks(samples: np.ndarray, rate: int, ms: int) -> list[bytes]:
    step = rate * ms // 1000
    return [samples[i : i + step].tobytes() for i in range(0, len(samples), step)]


def read(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        return reader.getframerate(), np.frombuffer(
            reader.readframes(reader.getnframes()), np.int16
        )


def voiced(samples: np.ndarray) -> tuple[float, float]:
    """Where a track is not silent: (start, end) in seconds."""
    loud = np.flatnonzero(np.abs(samples) > 1000)
    assert len(loud), "the track is silent"
    return loud[0] / RECORDING_RATE, (loud[-1] + 1) / RECORDING_RATE


def pitch(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / RECORDING_RATE)[int(np.argmax(spectrum))])


def middle(samples: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    start, end = (int(t * RECORDING_RATE) for t in span)
    quarter = (end - start) // 4
    return samples[start + quarter : end - quarter]


@pytest.mark.parametrize(
    ("in_rate", "out_rate"), [(16_000, 24_000), (8_000, 8_000)], ids=["browser", "phone"]
)
async def test_each_side_of_the_call_is_recorded_to_its_own_track(
    tmp_path: Path, in_rate: int, out_rate: int
) -> None:
    recorder = CallRecorder(folder=tmp_path / "call")
    await recorder.start()  # the bot starts recording when the trainee connects
    said: Sequence[Frame] = [
        InputAudioRawFrame(audio, in_rate, 1)
        for audio in chunks(tone(TRAINEE_SECS, freq=TRAINEE_HZ, rate=in_rate), in_rate, 20)
    ]
    answered: Sequence[Frame] = [
        TTSAudioRawFrame(audio, out_rate, 1, context_id="reply")
        for audio in chunks(tone(AI_SECS, freq=AI_HZ, rate=out_rate), out_rate, 40)
    ]

    down, _up = await run_test(
        Pipeline([recorder.trainee, recorder.ai]),  # as in the bot, with stages between
        frames_to_send=[*said, *answered],
        pipeline_params=PipelineParams(
            audio_in_sample_rate=in_rate, audio_out_sample_rate=out_rate
        ),
    )
    recorder.close()

    # The trainee's audio ends at its tap; the AI's goes on.
    assert list(down) == list(answered)
    trainee_rate, trainee = read(track_path(tmp_path / "call", "trainee"))
    ai_rate, ai = read(track_path(tmp_path / "call", "ai"))
    assert trainee_rate == ai_rate == RECORDING_RATE
    # One timeline: the trainee spoke, then the AI answered, each track silent while the other
    # side talks. The streaming resamplers keep back the last few milliseconds.
    assert len(trainee) == len(ai)
    assert TRAINEE_SECS + AI_SECS - 2 * SLACK <= len(ai) / RECORDING_RATE <= TRAINEE_SECS + AI_SECS
    trainee_said, ai_said = voiced(trainee), voiced(ai)
    assert trainee_said == pytest.approx((0.0, TRAINEE_SECS), abs=SLACK)
    assert ai_said == pytest.approx((TRAINEE_SECS, TRAINEE_SECS + AI_SECS), abs=2 * SLACK)
    assert ai_said[1] - ai_said[0] == pytest.approx(AI_SECS, abs=SLACK)
    assert ai_said[1] == len(ai) / RECORDING_RATE
    # At the recording rate, both voices keep their pitch.
    assert pitch(middle(trainee, trainee_said)) == pytest.approx(TRAINEE_HZ, abs=5)
    assert pitch(middle(ai, ai_said)) == pytest.approx(AI_HZ, abs=5)


async def test_nothing_is_recorded_before_the_trainee_connects(tmp_path: Path) -> None:
    recorder = CallRecorder(folder=tmp_path / "call")
    audio = tone(1.0, rate=16_000).tobytes()

    down, _up = await run_test(
        Pipeline([recorder.trainee, recorder.ai]),
        frames_to_send=[InputAudioRawFrame(audio, 16_000, 1), TTSAudioRawFrame(audio, 16_000, 1)],
    )
    recorder.close()

    assert len(down) == 1 and isinstance(down[0], TTSAudioRawFrame)
    assert not track_path(tmp_path / "call", "trainee").exists()
    assert not track_path(tmp_path / "call", "ai").exists()


async def test_without_a_folder_nothing_is_written_and_the_trainee_audio_still_stops(
    tmp_path: Path,
) -> None:
    recorder = CallRecorder(folder=None)
    await recorder.start()
    audio = tone(1.0, rate=16_000).tobytes()

    down, _up = await run_test(
        Pipeline([recorder.trainee, recorder.ai]),
        frames_to_send=[InputAudioRawFrame(audio, 16_000, 1), TTSAudioRawFrame(audio, 16_000, 1)],
    )
    recorder.close()

    assert [type(f) for f in down] == [TTSAudioRawFrame]
    assert not any(tmp_path.iterdir())
