"""The live call's STT and TTS providers: which one settings choose, that calls in one process
share one loaded whisper model, and that the cloud ones speak the documented wire protocols
(local websocket fakes that check our requests)."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import faster_whisper
import pytest
from loguru import logger
from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.worker import PipelineParams
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.elevenlabs.tts import ElevenLabsTTSService
from pipecat.tests.utils import SleepFrame, run_test
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from ingest.whisper_models import WhisperModelCache, shared_whisper_models
from pipelines.services import live
from pipelines.services.espeak.tts import EspeakTTSService
from pipelines.services.piper.tts import PiperTTSService
from pipelines.services.piper.voice import piper_shape_for_profile
from pipelines.services.sphinx.stt import SphinxSTTService
from pipelines.services.whisper.stt import FasterWhisperSTTService
from tests.support.piper_voice import packaged_piper_model
from tests.support.voices import require_voice, speak

SECRET = "key-that-must-never-be-logged"
VOICE_ID = "JBFqnCBsd6RMkjVDRZzb"
CLONED = {
    "speaker": "S0",
    "provider": "elevenlabs",
    "median_pitch_hz": 180.0,
    "speaking_rate_wpm": 160.0,
    "energy_db": -20.0,
    "voice_id": VOICE_ID,
}
MEASURED = {**CLONED, "provider": "offline", "voice_id": None}


@pytest.fixture(autouse=True)
def fresh_log() -> Iterator[None]:
    live._log_once.cache_clear()
    yield
    live._log_once.cache_clear()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(
        lambda message: lines.append(f"{message.record['level'].name} {message.record['message']}"),
        level="INFO",
        filter="pipelines.services.live",
    )
    yield lines
    logger.remove(sink)


@pytest.fixture(autouse=True)
def no_loaded_models() -> Iterator[None]:
    shared_whisper_models().clear()
    yield
    shared_whisper_models().clear()


class FakeWhisperModel:
    """Stands in for faster_whisper.WhisperModel: records where it was loaded from, and hears
    every segment as the same sentence."""

    loaded: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    supported_languages = ["en", "de", "fr"]

    def __init__(self, model_size_or_path: str, **kwargs: Any) -> None:
        FakeWhisperModel.loaded.append((model_size_or_path, kwargs))
        self.transcribed: list[int] = []  # samples per transcription

    def transcribe(self, audio: Any, **kwargs: Any) -> tuple[Iterator[Any], Any]:
        self.transcribed.append(len(audio))
        segment = SimpleNamespace(text=" Tell me more.", no_speech_prob=0.01)
        return iter([segment]), SimpleNamespace(language="en")


@pytest.fixture
def fake_whisper(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    FakeWhisperModel.loaded = []
    monkeypatch.setattr(faster_whisper, "WhisperModel", FakeWhisperModel)
    return FakeWhisperModel.loaded


@pytest.fixture
def local_model(tmp_path: Path) -> Path:
    folder = tmp_path / "whisper-small"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0")
    return folder


def stt(provider: str, *, key: str = "", model: str = "", **kwargs: Any) -> tuple[Any, str]:
    return live.make_live_stt(
        deepgram_api_key=key, stt_provider=provider, whisper_model=model, **kwargs
    )


# --- Selection -------------------------------------------------------------------------------


def test_auto_and_forced_deepgram_with_a_key(local_model: Path) -> None:
    for mode in ("auto", "deepgram"):
        service, name = stt(mode, key=SECRET, model=str(local_model))
        assert isinstance(service, DeepgramSTTService)
        assert name == "deepgram"
        assert service._settings.model == "nova-3"
        assert service._settings.interim_results is True


def test_auto_without_a_key_takes_a_local_whisper_model(
    local_model: Path, fake_whisper: list[tuple[str, dict[str, Any]]]
) -> None:
    services = []
    for mode in ("auto", "whisper"):
        service, name = stt(mode, key="  ", model=str(local_model))
        assert isinstance(service, FasterWhisperSTTService)
        assert name == "whisper"
        services.append(service)
    # Loaded once, from the folder itself (faster-whisper only downloads for a bare model
    # name), and the second call got the model the first one loaded.
    assert [path for path, _ in fake_whisper] == [str(local_model)]
    assert isinstance(services[0]._model, FakeWhisperModel)
    assert services[1]._model is services[0]._model


def test_whisper_from_the_hugging_face_cache_loads_the_snapshot_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_whisper: list[tuple[str, dict[str, Any]]]
) -> None:
    cache = tmp_path / "hf-cache"
    repo = cache / "models--Systran--faster-whisper-small"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123456789abcdef0123456789abcdef01234567")
    snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"\0")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))

    service, name = stt("whisper", model="small", language="de")

    assert name == "whisper"
    assert fake_whisper == [
        (str(snapshot), {"device": "auto", "compute_type": "int8", "local_files_only": True})
    ]
    assert service._settings.language == "de"


def test_auto_without_key_or_model_is_offline(tmp_path: Path) -> None:
    service, name = stt("auto", model=str(tmp_path / "never-downloaded"))
    assert isinstance(service, SphinxSTTService)
    assert name == "offline"


def test_offline_mode_ignores_keys_and_models(local_model: Path) -> None:
    service, name = stt("offline", key=SECRET, model=str(local_model))
    assert isinstance(service, SphinxSTTService)
    assert name == "offline"


def test_forced_deepgram_without_a_key_names_the_key() -> None:
    with pytest.raises(ValueError, match="DEEPGRAM_API_KEY"):
        stt("deepgram", key=" ")


def test_forced_whisper_without_the_model_names_the_model_and_never_downloads(
    tmp_path: Path, fake_whisper: list[tuple[str, dict[str, Any]]]
) -> None:
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ValueError, match=r"WHISPER_LIVE_MODEL=.*no-such-model"):
        stt("whisper", key=SECRET, model=missing)
    with pytest.raises(ValueError, match="WHISPER_LIVE_MODEL='large-v3'"):
        stt("whisper", model="large-v3")  # a bare name that is not in the cache
    assert fake_whisper == []  # nothing was even tried


def test_a_whisper_model_that_cannot_load(local_model: Path) -> None:
    # The real faster-whisper on a corrupt local model.bin: it fails at once, offline.
    with pytest.raises(ValueError, match="could not be loaded"):
        stt("whisper", model=str(local_model))
    service, name = stt("auto", model=str(local_model))
    assert isinstance(service, SphinxSTTService)
    assert name == "offline"


# --- One whisper model per process --------------------------------------------------------


def waiting_for_the_load(thread: threading.Thread) -> bool:
    """Whether ``thread`` is blocked in the cache, waiting for another thread's load."""
    lines, first = inspect.getsourcelines(WhisperModelCache.get)
    load_wait_line = first + [line.strip() for line in lines].index("with loading:")
    frame = sys._current_frames().get(thread.ident or -1)
    return (
        frame is not None
        and frame.f_code is WhisperModelCache.get.__code__
        and frame.f_lineno == load_wait_line
    )


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10  # a guard against hanging, not a measurement
    while not condition():
        assert time.monotonic() < deadline, "the threads never got there"
        time.sleep(0.001)


def test_calls_starting_together_load_the_whisper_model_once(
    local_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    built: list[FakeWhisperModel] = []

    class SlowWhisperModel(FakeWhisperModel):
        """Keeps loading until the test lets it finish."""

        def __init__(self, model_size_or_path: str, **kwargs: Any) -> None:
            super().__init__(model_size_or_path, **kwargs)
            built.append(self)
            entered.set()
            release.wait(timeout=10)

    monkeypatch.setattr(faster_whisper, "WhisperModel", SlowWhisperModel)
    services: dict[str, Any] = {}

    def call(name: str) -> None:
        services[name], _ = stt("whisper", model=str(local_model))

    first = threading.Thread(target=call, args=("first",))
    second = threading.Thread(target=call, args=("second",))
    first.start()
    assert entered.wait(timeout=10)
    second.start()  # while the first call is still loading the model
    # Either the second call waits for the first one's load, or it loads its own copy.
    wait_until(lambda: len(built) > 1 or waiting_for_the_load(second))
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)

    assert len(built) == 1
    assert services["first"]._model is built[0]
    assert services["second"]._model is built[0]


def test_another_whisper_model_is_loaded_on_its_own(
    local_model: Path, tmp_path: Path, fake_whisper: list[tuple[str, dict[str, Any]]]
) -> None:
    other = tmp_path / "whisper-medium"
    other.mkdir()
    (other / "model.bin").write_bytes(b"\0")

    small, _ = stt("whisper", model=str(local_model))
    medium, _ = stt("whisper", model=str(other))
    small_again, _ = stt("auto", model=str(local_model))

    assert medium._model is not small._model
    assert small_again._model is small._model
    assert [path for path, _ in fake_whisper] == [str(local_model), str(other)]


def test_the_shared_model_still_checks_the_call_language(
    local_model: Path, fake_whisper: list[tuple[str, dict[str, Any]]]
) -> None:
    with pytest.raises(ValueError, match="could not be loaded") as refused:
        stt("whisper", model=str(local_model), language="es")  # the fake knows en, de, fr
    assert "'es'" in str(refused.value.__cause__)
    service, name = stt("auto", model=str(local_model), language="es")
    assert isinstance(service, SphinxSTTService) and name == "offline"

    german, _ = stt("whisper", model=str(local_model), language="de")
    assert german._settings.language == "de"
    assert len(fake_whisper) == 1  # one model served all three calls


async def test_two_calls_transcribe_at_once_with_one_real_model(
    whisper_models: dict[str, Path],
) -> None:
    # Two calls, two sentences in natural voices, one loaded tiny.en model between them.
    services = [stt("whisper", model="tiny.en")[0] for _ in range(2)]
    assert services[1]._model is services[0]._model
    said = ["Tell me more about your team.", "What does onboarding cost you today?"]
    voices = ["piper", "slt"]
    for voice in voices:
        require_voice(voice)

    results = await asyncio.gather(
        *(
            run_test(
                service,
                frames_to_send=[*spoken_frames(speak(text, voice, rate=RATE)), SleepFrame(4.0)],
                pipeline_params=PipelineParams(audio_in_sample_rate=RATE),
            )
            for service, text, voice in zip(services, said, voices, strict=True)
        )
    )

    for (down, up), text in zip(results, said, strict=True):
        heard = " ".join(f.text for f in of_type(down, TranscriptionFrame)).lower()
        assert [w.strip(".?,") for w in heard.split()] == [
            w.strip(".?,") for w in text.lower().split()
        ], heard
        assert not of_type(up, ErrorFrame)


def test_unknown_stt_provider_is_refused() -> None:
    with pytest.raises(ValueError, match="STT_PROVIDER"):
        stt("sphinx")


def test_elevenlabs_only_with_a_key_and_a_cloned_voice(tmp_path: Path) -> None:
    service, name = live.make_live_tts(elevenlabs_api_key=SECRET, voice_profile=CLONED)
    assert isinstance(service, ElevenLabsTTSService)
    assert name == "elevenlabs"
    assert service._settings.voice == VOICE_ID
    assert service._settings.model == "eleven_flash_v2_5"

    no_piper = tmp_path / "no-models"
    for key, profile in [(SECRET, MEASURED), (SECRET, {}), ("", CLONED), (" ", MEASURED)]:
        service, name = live.make_live_tts(
            elevenlabs_api_key=key, voice_profile=profile, models_dir=no_piper
        )
        assert isinstance(service, EspeakTTSService)
        assert name == "offline"


def test_espeak_keeps_the_measured_voice(tmp_path: Path) -> None:
    low = {**MEASURED, "median_pitch_hz": 95.0}
    service, _ = live.make_live_tts(
        elevenlabs_api_key=SECRET, voice_profile=low, models_dir=tmp_path / "no-models"
    )
    assert isinstance(service, EspeakTTSService)
    assert service.voice == EspeakTTSService.from_profile(low).voice


@pytest.fixture
def piper_model() -> Path:
    """The packaged Piper voice (installed by `make test`; the test fails under CI without it)."""
    return packaged_piper_model()


def test_piper_speaks_measured_male_and_unknown_voices(piper_model: Path) -> None:
    cases = [
        ("", {}),
        (SECRET, {**MEASURED, "median_pitch_hz": 118.0}),
        ("", {**CLONED, "median_pitch_hz": 105.0}),  # cloned, but no key to use it with
    ]
    for key, profile in cases:
        service, name = live.make_live_tts(elevenlabs_api_key=key, voice_profile=profile)
        assert isinstance(service, PiperTTSService)
        assert name == "piper"
        assert service.shape == piper_shape_for_profile(profile)
        assert service.server.model == piper_model.resolve()
        # When Piper cannot serve, the call speaks with the profile's espeak-ng voice.
        assert service.fallback_voice == EspeakTTSService.from_profile(profile).voice


def test_piper_shapes_champion_and_prospect_apart(piper_model: Path) -> None:
    champion = {**MEASURED, "median_pitch_hz": 102.0, "speaking_rate_wpm": 185.0}
    prospect = {**MEASURED, "median_pitch_hz": 125.0, "speaking_rate_wpm": 150.0}
    voices = [
        live.make_live_tts(elevenlabs_api_key="", voice_profile=p)[0] for p in (champion, prospect)
    ]
    assert all(isinstance(v, PiperTTSService) for v in voices)
    shapes = [v.shape for v in voices if isinstance(v, PiperTTSService)]
    assert shapes[0].pitch_factor < shapes[1].pitch_factor
    assert shapes[0].length_scale != shapes[1].length_scale


def test_a_high_voice_is_spoken_by_espeaks_female_variant(piper_model: Path) -> None:
    female = {**MEASURED, "median_pitch_hz": 210.0}
    service, name = live.make_live_tts(elevenlabs_api_key="", voice_profile=female)
    assert isinstance(service, EspeakTTSService) and name == "offline"
    assert service.voice.variant == "f2"


def test_piper_needs_its_engine(piper_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "piper_engine_installed", lambda: False)
    service, name = live.make_live_tts(elevenlabs_api_key="", voice_profile={})
    assert isinstance(service, EspeakTTSService) and name == "offline"


def test_cloned_voice_id_needs_the_elevenlabs_provider() -> None:
    assert live.cloned_voice_id(CLONED) == VOICE_ID
    assert live.cloned_voice_id({**CLONED, "provider": "other"}) is None
    assert live.cloned_voice_id({**CLONED, "voice_id": "  "}) is None
    assert live.cloned_voice_id({"provider": "elevenlabs", "voice_id": 7}) is None


def test_choices_are_logged_once_without_keys(log_lines: list[str], tmp_path: Path) -> None:
    for _ in range(3):
        stt("deepgram", key=SECRET)
        stt("auto", model=str(tmp_path / "missing"))
        live.make_live_tts(elevenlabs_api_key=SECRET, voice_profile=CLONED)
        live.make_live_tts(elevenlabs_api_key=SECRET, voice_profile=MEASURED)
        live.make_live_tts(elevenlabs_api_key="", voice_profile=MEASURED)
        live.make_live_tts(elevenlabs_api_key="", voice_profile={}, models_dir=tmp_path)

    assert log_lines == [
        "INFO live transcription: deepgram",
        "INFO live transcription: offline",
        "INFO live speech: elevenlabs (cloned voice)",
        "INFO live speech: espeak-ng (a high voice the piper voice cannot reach)",
        "INFO live speech: espeak-ng (the piper voice is not installed)",
    ]
    assert all(SECRET not in line for line in log_lines)


# --- Deepgram streaming, against a local fake of wss://api.deepgram.com/v1/listen ------------

RATE = 16_000
FRAME_BYTES = RATE * 2 // 50  # 20 ms of 16-bit mono, as SmallWebRTC delivers it


def deepgram_results(transcript: str, *, is_final: bool, from_finalize: bool = False) -> str:
    """A `Results` message as Deepgram documents it for live streaming."""
    words = [
        {"word": w.lower().strip(".,"), "start": 0.1 * i, "end": 0.1 * i + 0.1, "confidence": 0.98}
        for i, w in enumerate(transcript.split())
    ]
    for word, spoken in zip(words, transcript.split(), strict=True):
        word["punctuated_word"] = spoken
    return json.dumps(
        {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": 0.5,
            "start": 0.0,
            "is_final": is_final,
            "speech_final": is_final,
            "from_finalize": from_finalize,
            "channel": {
                "alternatives": [{"transcript": transcript, "confidence": 0.98, "words": words}]
            },
            "metadata": {
                "request_id": "5d2f6a5e-2c52-4d6b-9a52-7c0c1ab2a7f1",
                "model_info": {
                    "name": "general-nova-3",
                    "version": "2025-01-01.0",
                    "arch": "nova-3",
                },
                "model_uuid": "40bd3654-e622-47c6-b8bd-dd7d5d4f2a19",
            },
        }
    )


@dataclass
class FakeDeepgram:
    """Deepgram's live endpoint: records the request and replays interim, then final results.

    It answers the handshake with 401 unless ``Authorization: Token <key>`` is sent (as
    Deepgram does), sends an interim result once 0.2 s of audio has arrived, and the final
    result when the client sends ``Finalize``.
    """

    key: str
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    audio_bytes: int = 0
    controls: list[str] = field(default_factory=list)

    def check_auth(self, _conn: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Token {self.key}":
            return Response(401, "Unauthorized", Headers(), b"invalid credentials")
        return None

    async def handle(self, ws: ServerConnection) -> None:
        url = urlsplit(ws.request.path if ws.request else "")
        self.path, self.query = url.path, parse_qs(url.query)
        interim_sent = False
        async for message in ws:
            if isinstance(message, bytes):
                self.audio_bytes += len(message)
                if not interim_sent and self.audio_bytes >= RATE * 2 // 5:
                    interim_sent = True
                    await ws.send(deepgram_results("Tell me", is_final=False))
                continue
            kind = json.loads(message)["type"]
            self.controls.append(kind)
            if kind == "Finalize":
                final = deepgram_results("Tell me more about pricing.", is_final=True)
                await ws.send(final.replace('"from_finalize": false', '"from_finalize": true'))
            elif kind == "CloseStream":
                await ws.close()


@asynccontextmanager
async def websocket_server(handler: Any, process_request: Any = None) -> AsyncIterator[str]:
    """A websocket server on a free loopback port; yields its ws:// base URL."""
    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


def speech_frames(seconds: float) -> list[Frame]:
    """The user's turn as the STT sees it: VAD start, 20 ms audio frames, VAD stop."""
    count = int(seconds * 50)
    audio = [
        InputAudioRawFrame(audio=bytes([i % 256]) * FRAME_BYTES, sample_rate=RATE, num_channels=1)
        for i in range(count)
    ]
    return [VADUserStartedSpeakingFrame(), *audio, VADUserStoppedSpeakingFrame()]


def spoken_frames(samples: Any) -> list[Frame]:
    """Speech as the STT sees it: VAD start, the samples in 20 ms frames, VAD stop."""
    data = samples.astype("<i2").tobytes()
    audio = [
        InputAudioRawFrame(audio=data[i : i + FRAME_BYTES], sample_rate=RATE, num_channels=1)
        for i in range(0, len(data) - FRAME_BYTES + 1, FRAME_BYTES)
    ]
    return [VADUserStartedSpeakingFrame(), *audio, VADUserStoppedSpeakingFrame()]


def of_type(frames: Sequence[Frame], kind: type[Frame]) -> list[Any]:
    return [f for f in frames if isinstance(f, kind)]


async def test_deepgram_streams_audio_and_the_finalized_transcript_comes_out() -> None:
    fake = FakeDeepgram(key=SECRET)
    async with websocket_server(fake.handle, fake.check_auth) as url:
        service, _ = stt("auto", key=SECRET, deepgram_base_url=url)
        down, up = await run_test(
            service,
            frames_to_send=[*speech_frames(0.6), SleepFrame(0.5)],
            pipeline_params=PipelineParams(audio_in_sample_rate=RATE),
        )

    assert fake.path == "/v1/listen"
    query = {name: values[0] for name, values in fake.query.items()}
    assert query["model"] == "nova-3"
    assert query["encoding"] == "linear16"
    assert query["sample_rate"] == "16000"
    assert query["channels"] == "1"
    assert query["interim_results"] == "true"
    assert query["punctuate"] == "true"
    assert query["language"] == "en"
    assert fake.audio_bytes == 30 * FRAME_BYTES  # every audio frame reached Deepgram
    assert fake.controls[0] == "Finalize"  # sent at the VAD's stop, for a prompt final
    assert fake.controls[-1] == "CloseStream"

    assert [f.text for f in of_type(down, InterimTranscriptionFrame)] == ["Tell me"]
    [final] = of_type(down, TranscriptionFrame)
    assert final.text == "Tell me more about pricing."
    assert final.finalized is True  # lets the turn end at once
    assert down.index(of_type(down, InterimTranscriptionFrame)[0]) < down.index(final)
    assert not of_type(up, ErrorFrame)


async def test_deepgram_rejecting_the_key_is_an_error_frame_not_a_hang() -> None:
    fake = FakeDeepgram(key="the-right-key")
    async with websocket_server(fake.handle, fake.check_auth) as url:
        service, _ = stt("deepgram", key=SECRET, deepgram_base_url=url)
        down, up = await asyncio.wait_for(
            run_test(
                service,
                frames_to_send=[*speech_frames(0.1), SleepFrame(0.2)],
                pipeline_params=PipelineParams(audio_in_sample_rate=RATE),
            ),
            timeout=10,
        )

    assert fake.audio_bytes == 0
    assert any("401" in f.error for f in of_type(up, ErrorFrame))
    assert not of_type(down, TranscriptionFrame)


# --- ElevenLabs streaming, against a local fake of its multi-stream-input websocket ----------

OUT_RATE = 24_000


def alignment(text: str) -> dict[str, list[Any]]:
    chars = list(text)
    return {
        "chars": chars,
        "charStartTimesMs": [60 * i for i in range(len(chars))],
        "charDurationsMs": [60] * len(chars),
    }


@dataclass
class FakeElevenLabs:
    """ElevenLabs' ``multi-stream-input`` endpoint: records what we send, replays PCM audio.

    The handshake is refused with 401 unless the ``xi-api-key`` header carries the key. Text
    sent to a context is answered with two base64 PCM chunks (with character alignment);
    closing the context is answered with ``isFinal``; ``close_socket`` closes the socket.
    """

    key: str
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    chunk_bytes: int = OUT_RATE * 2 // 10  # 100 ms of 16-bit mono per chunk

    def check_auth(self, _conn: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("xi-api-key") != self.key:
            return Response(401, "Unauthorized", Headers(), b"invalid api key")
        return None

    async def handle(self, ws: ServerConnection) -> None:
        url = urlsplit(ws.request.path if ws.request else "")
        self.path, self.query = url.path, parse_qs(url.query)
        async for raw in ws:
            message = json.loads(raw)
            self.messages.append(message)
            context = message.get("context_id")
            if message.get("close_socket"):
                await ws.close()
            elif message.get("close_context"):
                await ws.send(json.dumps({"isFinal": True, "contextId": context}))
            elif message.get("text", "").strip():
                for part in (message["text"][:10], message["text"][10:]):
                    audio = base64.b64encode(b"\x01\x02" * (self.chunk_bytes // 2)).decode()
                    reply = {
                        "audio": audio,
                        "isFinal": None,
                        "normalizedAlignment": alignment(part),
                        "alignment": alignment(part),
                        "contextId": context,
                    }
                    await ws.send(json.dumps(reply))


async def test_elevenlabs_speaks_with_the_cloned_voice_and_audio_comes_out() -> None:
    fake = FakeElevenLabs(key=SECRET)
    sentence = "Walk me through your onboarding."
    async with websocket_server(fake.handle, fake.check_auth) as url:
        service, _ = live.make_live_tts(
            elevenlabs_api_key=SECRET, voice_profile=CLONED, elevenlabs_base_url=url
        )
        down, up = await run_test(
            service,
            frames_to_send=[TTSSpeakFrame(sentence), SleepFrame(0.8)],
            pipeline_params=PipelineParams(audio_out_sample_rate=OUT_RATE),
        )

    assert fake.path == f"/v1/text-to-speech/{VOICE_ID}/multi-stream-input"
    query = {name: values[0] for name, values in fake.query.items()}
    assert query["model_id"] == "eleven_flash_v2_5"
    assert query["output_format"] == "pcm_24000"
    assert query["auto_mode"] == "true"  # whole sentences go out, so no server buffering
    context = fake.messages[0]["context_id"]
    sent_text = "".join(m.get("text", "") for m in fake.messages if m.get("context_id") == context)
    assert sent_text.strip() == sentence
    assert {"context_id": context, "close_context": True} in fake.messages
    assert fake.messages[-1] == {"close_socket": True}

    audio = of_type(down, TTSAudioRawFrame)
    assert sum(len(f.audio) for f in audio) == 2 * fake.chunk_bytes
    assert {(f.sample_rate, f.num_channels) for f in audio} == {(OUT_RATE, 1)}
    assert audio[0].audio[:4] == b"\x01\x02\x01\x02"
    started, stopped = of_type(down, TTSStartedFrame), of_type(down, TTSStoppedFrame)
    assert len(started) == 1 and len(stopped) == 1
    assert down.index(started[0]) < down.index(audio[0]) < down.index(stopped[0])
    assert not of_type(up, ErrorFrame)
