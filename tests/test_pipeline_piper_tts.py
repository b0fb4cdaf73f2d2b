"""PiperTTSService with the real Piper engine and the packaged voice, in Pipecat's `run_test`.

The engine runs as its own process; one shared server serves the whole session (started by
the first test that needs it). Tests that need another server (a broken voice, a server
that cannot come back, process exit) start their own.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soxr
from faster_whisper import WhisperModel
from loguru import logger
from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import run_test

from ingest.espeak import voice_for_profile
from ingest.packaged_models import WHISPER_TINY_EN, installed_model
from pipelines.services.piper.server import PiperServer, shared_piper_server
from pipelines.services.piper.tts import PiperTTSService, first_clause
from pipelines.services.piper.voice import (
    MAX_PITCH_FACTOR,
    MIN_PITCH_FACTOR,
    NATURAL,
    piper_shape_for_profile,
)
from tests.support.piper_voice import median_pitch_hz, packaged_piper_model
from tests.support.services import unavailable

RATE = 24_000
SENTENCE = "Walk me through how your team handles onboarding today."
REPLY = [
    "Sure, that makes sense.",
    "What does your team use for onboarding today?",
    "Tell me more about the people who run it.",
]
PASSAGE = " ".join([SENTENCE, *REPLY])
CLAUSE = "Honestly, it's slow and manual,"
REST = "and new people take far too long to get up to speed."
LONG = f"{CLAUSE} {REST}"


@pytest.fixture(scope="session")
def model() -> Path:
    """The packaged voice file (the test fails under CI if it or the engine is missing)."""
    return packaged_piper_model()


@pytest.fixture(scope="session")
def shared_server(model: Path) -> Iterator[PiperServer]:
    """The process-wide server for the packaged voice, started once for the session."""
    server = shared_piper_server(model)
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def whisper() -> WhisperModel:
    """whisper tiny.en, to check what the shaped voices say."""
    folder = installed_model(WHISPER_TINY_EN.name)
    if folder is None:
        unavailable("whisper tiny.en", FileNotFoundError("run `champion-clone models install`"))
    return WhisperModel(str(folder), device="cpu", compute_type="int8")


@pytest.fixture
def piper_log() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(
        lambda message: lines.append(f"{message.record['level'].name} {message.record['message']}"),
        level="INFO",
        filter="pipelines.services.piper",
    )
    yield lines
    logger.remove(sink)


async def speak(tts: PiperTTSService, frames: Sequence[Frame]) -> list[Frame]:
    # The pipeline's EndFrame waits until the service's audio contexts have played out.
    down, up = await run_test(
        tts, frames_to_send=list(frames), pipeline_params=PipelineParams(audio_out_sample_rate=RATE)
    )
    assert not [f for f in up if isinstance(f, ErrorFrame)]
    return list(down)


def audio_of(frames: Sequence[Frame]) -> list[TTSAudioRawFrame]:
    return [f for f in frames if isinstance(f, TTSAudioRawFrame)]


def samples_of(frames: Sequence[Frame]) -> np.ndarray:
    return np.frombuffer(b"".join(f.audio for f in audio_of(frames)), dtype=np.int16)


def transcript(whisper: WhisperModel, samples: np.ndarray) -> str:
    audio = soxr.resample(samples.astype(np.float32) / 32768, RATE, 16_000)
    segments, _ = whisper.transcribe(audio, language="en", beam_size=1)
    return " ".join(s.text for s in segments).lower()


def words(text: str) -> set[str]:
    return {w.strip(".,?!").lower() for w in text.split()}


async def test_a_sentence_becomes_audio_at_the_pipeline_rate(
    model: Path, shared_server: PiperServer
) -> None:
    tts = PiperTTSService(model=model)
    down = await speak(tts, [TTSSpeakFrame(SENTENCE)])

    audio = audio_of(down)
    assert {(f.sample_rate, f.num_channels) for f in audio} == {(RATE, 1)}
    assert max(f.num_frames for f in audio) == int(RATE * 0.04)  # short chunks for barge-in
    assert 2.0 < sum(f.num_frames for f in audio) / RATE < 6.0
    started = next(f for f in down if isinstance(f, TTSStartedFrame))
    stopped = next(f for f in down if isinstance(f, TTSStoppedFrame))
    assert down.index(started) < down.index(audio[0]) < down.index(audio[-1]) < down.index(stopped)
    assert not tts.speaking_with_espeak
    assert tts.server is shared_server


class RecordingPiper(PiperTTSService):
    """Records when each sentence's synthesis finished and when audio left the service."""

    def __init__(self, events: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events = events

    async def _piper(self, text: str) -> tuple[np.ndarray, int]:
        result = await super()._piper(text)
        self.events.append(f"synthesised: {text}")
        return result

    async def push_frame(
        self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM
    ) -> None:
        if isinstance(frame, TTSAudioRawFrame) and "audio" not in self.events:
            self.events.append("audio")
        await super().push_frame(frame, direction)


async def test_speech_starts_before_a_long_reply_is_synthesised(
    model: Path, shared_server: PiperServer
) -> None:
    events: list[str] = []
    tts = RecordingPiper(events, model=model)
    down = await speak(
        tts, [LLMFullResponseStartFrame(), LLMTextFrame(" ".join(REPLY)), LLMFullResponseEndFrame()]
    )

    # One request per sentence, and the first sentence is heard before the last is ready.
    synthesised = [e.removeprefix("synthesised: ") for e in events if e != "audio"]
    assert synthesised == REPLY
    assert events.index("audio") < events.index(f"synthesised: {REPLY[-1]}")
    assert len(audio_of(down)) > 0


async def test_a_long_first_sentence_is_heard_after_its_first_clause(
    model: Path, shared_server: PiperServer
) -> None:
    later = "Our managers, the busy ones, lose whole days to it every single week."
    events: list[str] = []
    tts = RecordingPiper(events, model=model)
    down = await speak(
        tts,
        [LLMFullResponseStartFrame(), LLMTextFrame(f"{LONG} {later}"), LLMFullResponseEndFrame()],
    )

    # The reply's first sentence is two requests, and its first clause is heard before the
    # rest is synthesised; the next sentence, though it has clauses too, stays whole.
    synthesised = [e.removeprefix("synthesised: ") for e in events if e != "audio"]
    assert synthesised == [CLAUSE, REST, later]
    assert events.index(f"synthesised: {CLAUSE}") < events.index("audio")
    assert events.index("audio") < events.index(f"synthesised: {REST}")
    assert len(audio_of(down)) > 0


async def test_a_split_sentence_sounds_like_the_whole_one(
    model: Path, shared_server: PiperServer, whisper: WhisperModel
) -> None:
    split_events: list[str] = []
    split = samples_of(
        await speak(RecordingPiper(split_events, model=model), [TTSSpeakFrame(LONG)])
    )
    whole_events: list[str] = []
    whole = samples_of(
        await speak(
            RecordingPiper(whole_events, model=model, split_first_clause=False),
            [TTSSpeakFrame(LONG)],
        )
    )
    assert [e for e in split_events if e != "audio"] == [
        f"synthesised: {CLAUSE}",
        f"synthesised: {REST}",
    ]
    assert [e for e in whole_events if e != "audio"] == [f"synthesised: {LONG}"]

    # No gap added between the parts (the clause's pause is Piper's own), and every word
    # is still understood.
    assert abs(split.size - whole.size) / RATE < 0.25
    heard = words(transcript(whisper, split))
    assert len(words(LONG) & heard) >= 0.85 * len(words(LONG)), heard


def test_only_a_long_sentence_with_a_clause_break_is_split() -> None:
    assert first_clause(LONG) == (CLAUSE, REST)
    assert first_clause("We tried three tools last year - none of them stuck at all.") == (
        "We tried three tools last year,",
        "none of them stuck at all.",
    )
    assert first_clause("It costs 1,000 dollars a seat, which is more than we pay.") == (
        "It costs 1,000 dollars a seat,",
        "which is more than we pay.",
    )
    for sentence in (REPLY[0], SENTENCE, "We looked at it twice, but not much."):
        assert first_clause(sentence) == (sentence, "")


async def test_the_profile_moves_the_pitch_and_keeps_the_length(
    model: Path, shared_server: PiperServer, whisper: WhisperModel
) -> None:
    low = piper_shape_for_profile({"median_pitch_hz": 70.0})
    high = piper_shape_for_profile({"median_pitch_hz": 150.0})
    assert low is not None and high is not None
    assert low.pitch_factor == pytest.approx(MIN_PITCH_FACTOR, abs=1e-3)
    assert high.pitch_factor == pytest.approx(MAX_PITCH_FACTOR, abs=1e-3)

    spoken = {}
    for name, shape in (("low", low), ("natural", NATURAL), ("high", high)):
        spoken[name] = samples_of(
            await speak(PiperTTSService(model=model, shape=shape), [TTSSpeakFrame(PASSAGE)])
        )
    pitch = {name: median_pitch_hz(s, RATE) for name, s in spoken.items()}
    length = {name: s.size / RATE for name, s in spoken.items()}

    assert pitch["low"] < pitch["natural"] < pitch["high"]
    # The shift is the factor asked for (Piper's output varies a little between runs).
    assert pitch["low"] / pitch["natural"] == pytest.approx(low.pitch_factor, rel=0.1)
    assert pitch["high"] / pitch["natural"] == pytest.approx(high.pitch_factor, rel=0.1)
    # The compensating length_scale keeps the pace.
    for name in ("low", "high"):
        assert length[name] == pytest.approx(length["natural"], rel=0.15)
    # Both extremes of the allowed shift are still understood.
    for name in ("low", "high"):
        heard = words(transcript(whisper, spoken[name]))
        assert len(words(PASSAGE) & heard) >= 0.85 * len(words(PASSAGE)), (name, heard)


def test_rate_follows_the_profile_and_high_voices_are_left_to_espeak() -> None:
    slow = piper_shape_for_profile({"speaking_rate_wpm": 130.0})
    usual = piper_shape_for_profile({"speaking_rate_wpm": 170.0})
    fast = piper_shape_for_profile({"speaking_rate_wpm": 220.0})
    assert slow is not None and usual is not None and fast is not None
    assert fast.length_scale < usual.length_scale == 1.0 < slow.length_scale
    assert piper_shape_for_profile({}) == NATURAL
    assert piper_shape_for_profile({"median_pitch_hz": "n/a", "speaking_rate_wpm": None}) == NATURAL

    female = {"median_pitch_hz": 205.0, "speaking_rate_wpm": 160.0}
    assert piper_shape_for_profile(female) is None
    with pytest.raises(ValueError, match="espeak-ng"):
        PiperTTSService.from_profile(female, model=Path("unused.onnx"))


def test_the_fallback_voice_is_the_profiles_espeak_voice(model: Path) -> None:
    profile = {"median_pitch_hz": 118.0, "speaking_rate_wpm": 190.0}
    tts = PiperTTSService.from_profile(profile, model=model)
    assert tts.fallback_voice == voice_for_profile(median_pitch_hz=118.0, speaking_rate_wpm=190.0)
    assert tts.shape == piper_shape_for_profile(profile)


async def test_a_missing_voice_falls_back_to_espeak_with_a_clear_log(
    tmp_path: Path, piper_log: list[str]
) -> None:
    missing = tmp_path / "en_US-joe-medium.onnx"
    tts = PiperTTSService(model=missing, server=PiperServer(missing))
    down = await speak(tts, [TTSSpeakFrame(SENTENCE)])

    assert audio_of(down) and {f.sample_rate for f in audio_of(down)} == {RATE}
    assert tts.speaking_with_espeak
    assert "ERROR piper: the voice model or its .onnx.json config is missing" in piper_log
    assert any("this call speaks with espeak-ng" in line for line in piper_log)


async def test_a_corrupt_voice_falls_back_to_espeak_with_a_clear_log(
    tmp_path: Path, model: Path, piper_log: list[str]
) -> None:
    corrupt = tmp_path / model.name
    corrupt.write_bytes(b"not an onnx model" * 1000)
    shutil.copy(model.with_name(model.name + ".json"), tmp_path)
    server = PiperServer(corrupt)
    tts = PiperTTSService(model=corrupt, server=server)
    down = await speak(tts, [TTSSpeakFrame(SENTENCE)])

    assert audio_of(down)
    assert tts.speaking_with_espeak
    assert server.starts == 1 and not server.running()  # the process tried, and exited
    assert (
        "ERROR piper: the voice server could not start; speech falls back to espeak-ng" in piper_log
    )


async def test_a_dead_server_is_restarted_and_one_that_cannot_return_falls_back(
    tmp_path: Path, model: Path, piper_log: list[str]
) -> None:
    # A server of its own, on links to the voice, so the links can go away.
    linked = tmp_path / model.name
    linked.symlink_to(model)
    linked.with_name(linked.name + ".json").symlink_to(model.with_name(model.name + ".json"))
    server = PiperServer(linked)
    try:
        first = PiperTTSService(model=linked, server=server)
        assert audio_of(await speak(first, [TTSSpeakFrame(SENTENCE)]))
        pid = server.pid
        assert pid is not None

        kill(pid)  # the server dies between two calls: the next sentence restarts it
        second = PiperTTSService(model=linked, server=server)
        assert audio_of(await speak(second, [TTSSpeakFrame(SENTENCE)]))
        assert not second.speaking_with_espeak
        assert server.starts == 2 and server.pid not in (None, pid)
        assert "WARNING piper: the voice server exited; starting it again" in piper_log

        # It dies again and cannot come back (its voice is gone): espeak-ng speaks.
        restarted = server.pid
        assert restarted is not None
        kill(restarted)
        linked.unlink()
        third = PiperTTSService(model=linked, server=server)
        down = await speak(third, [TTSSpeakFrame(SENTENCE)])
        assert audio_of(down)
        assert third.speaking_with_espeak
        assert "ERROR piper: the voice model or its .onnx.json config is missing" in piper_log
    finally:
        server.stop()


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


async def test_calls_share_one_server(model: Path, shared_server: PiperServer) -> None:
    starts, pid = shared_server.starts, shared_server.pid
    champion = PiperTTSService.from_profile({"median_pitch_hz": 100.0}, model=model)
    prospect = PiperTTSService.from_profile({"median_pitch_hz": 130.0}, model=model)
    assert champion.server is prospect.server is shared_server

    for tts in (champion, prospect):
        assert audio_of(await speak(tts, [TTSSpeakFrame(SENTENCE)]))
    assert shared_server.starts == starts and shared_server.pid == pid


@pytest.mark.parametrize("ending", ["exit", "killed"])
def test_the_server_stops_when_the_app_process_ends(
    model: Path, tmp_path: Path, ending: str
) -> None:
    # A real app process speaks one sentence through the shared server and prints the
    # server's pid; then it exits normally (the exit handler stops the server) or is killed
    # outright (the watchdog stops it).
    script = tmp_path / "speak_once.py"
    script.write_text(
        "import asyncio, os, signal, sys\n"
        "from pathlib import Path\n"
        "from pipecat.frames.frames import TTSSpeakFrame\n"
        "from pipecat.tests.utils import run_test\n"
        "from pipelines.services.piper.tts import PiperTTSService\n"
        "tts = PiperTTSService(model=Path(sys.argv[1]))\n"
        "asyncio.run(run_test(tts, frames_to_send=[TTSSpeakFrame('Hello there.')]))\n"
        "print(tts.server.pid, flush=True)\n"
        "if sys.argv[2] == 'killed':\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(script), str(model), ending],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == (0 if ending == "exit" else -signal.SIGKILL), done.stderr[-2000:]
    pid = int(done.stdout.strip().splitlines()[-1])
    try:
        exited = os.pidfd_open(pid)
    except ProcessLookupError:
        return  # already gone (the exit handler waits for it)
    try:
        # A pidfd becomes readable when the process exits.
        readable, _, _ = select.select([exited], [], [], 30)
        assert readable, "the piper server outlived the app process"
    finally:
        os.close(exited)
