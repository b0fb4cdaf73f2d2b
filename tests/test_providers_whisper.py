"""WhisperTranscriber with a fake faster-whisper model that checks how it is called, and where
models are found and loaded (`ingest.whisper_models`). The real model on natural speech,
stereo and mixed mono (diarized), is tested through the whole job in tests/test_ingest.py."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from ingest.provider_errors import ProviderError
from ingest.providers.whisper import WhisperTranscriber, speech_blocks
from ingest.types import ExtractedAudio
from ingest.vad import SpeechRegion
from ingest.whisper_models import WhisperModelCache, local_whisper_model, whisper_available

RATE = 16_000


def write_wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(b"\0\0" * int(seconds * RATE))
    return path


def segment(start: float, end: float, words: list[tuple[str, float, float]]) -> SimpleNamespace:
    """Shaped like faster_whisper.transcribe.Segment (words have a leading space)."""
    return SimpleNamespace(
        id=1,
        seek=0,
        start=start,
        end=end,
        text="".join(w for w, _, _ in words),
        tokens=[50364],
        avg_logprob=-0.2,
        compression_ratio=1.3,
        no_speech_prob=0.01,
        temperature=0.0,
        words=[SimpleNamespace(start=s, end=e, word=w, probability=0.9) for w, s, e in words],
    )


class FakeWhisperModel:
    """Replays segments, one list per call (a block of audio), and asserts the options we pass."""

    def __init__(self, replies: list[list[SimpleNamespace]], language: str = "en") -> None:
        self.replies = list(replies)
        self.language = language
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def transcribe(self, audio: Any, **kwargs: Any) -> tuple[Iterator[Any], Any]:
        self.calls.append((audio, kwargs))
        assert isinstance(audio, np.ndarray) and audio.dtype == np.float32
        assert kwargs["word_timestamps"] is True
        assert kwargs["vad_filter"] is True
        assert kwargs["beam_size"] == 5
        info = SimpleNamespace(language=self.language, language_probability=0.97, duration=4.0)
        return iter(self.replies.pop(0)), info


def regions(*spans: tuple[float, float]) -> Any:
    """A region finder that reports ``spans`` for every channel."""
    return lambda _path: [SpeechRegion(a, b) for a, b in spans]


LEFT = [
    segment(
        0.0, 1.6, [(" Hi,", 0.0, 0.4), (" this", 0.4, 0.7), (" is", 0.7, 0.9), (" Dana.", 0.9, 1.6)]
    ),
    segment(3.0, 4.0, [(" Great", 3.0, 3.4), (" question.", 3.4, 4.0)]),
]
RIGHT = [
    segment(1.8, 2.7, [(" Too", 1.8, 2.0), (" expensive.", 2.0, 2.7)]),
    segment(2.8, 2.9, []),  # VAD kept a breath: no text
]


async def test_each_channel_is_one_speaker_in_time_order(tmp_path: Path) -> None:
    audio = ExtractedAudio(
        RATE,
        4.0,
        [write_wav(tmp_path / "channel0.wav", 4.0), write_wav(tmp_path / "channel1.wav", 4.0)],
    )
    model = FakeWhisperModel([LEFT, RIGHT, LEFT, RIGHT])
    built: list[str] = []

    def factory(name: str) -> FakeWhisperModel:
        built.append(name)
        return model

    transcriber = WhisperTranscriber(
        model="small.en", model_factory=factory, find_regions=regions((0.0, 4.0))
    )
    progress: list[float] = []

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    result = await transcriber.transcribe(audio, on_progress=on_progress)

    assert result.provider == "whisper"
    assert result.language == "en"
    assert [(s.speaker, s.text) for s in result.segments] == [
        ("S0", "Hi, this is Dana."),
        ("S1", "Too expensive."),
        ("S0", "Great question."),
    ]
    assert [(w.word, w.start, w.end) for w in result.segments[1].words] == [
        ("Too", 1.8, 2.0),
        ("expensive.", 2.0, 2.7),
    ]
    # One block per channel: the whole 4 s of each, as 16 kHz float samples.
    assert [len(call[0]) for call in model.calls] == [4 * RATE, 4 * RATE]
    # The first block detects the language; the later blocks are told it.
    assert [call[1]["language"] for call in model.calls] == [None, "en"]
    # Finding speech is the first 5%; then seconds decoded over 2 channels x 4 s, as each
    # segment comes out of the model.
    decoded = [1.6, 4.0, 6.7, 6.9]
    assert progress == pytest.approx([0.025, 0.05, *(0.05 + 0.95 * d / 8 for d in decoded), 1.0])

    await transcriber.transcribe(audio)
    assert built == ["small.en"]  # the model is loaded once and kept


async def test_mono_recording_of_one_voice_is_one_speaker_and_language_is_passed(
    tmp_path: Path,
) -> None:
    audio = ExtractedAudio(RATE, 4.0, [write_wav(tmp_path / "channel0.wav")])
    model = FakeWhisperModel([LEFT], language="de")
    transcriber = WhisperTranscriber(
        model_factory=lambda _: model, language="fr", find_regions=regions((0.0, 4.0))
    )

    result = await transcriber.transcribe(audio)

    assert {s.speaker for s in result.segments} == {"S0"}
    assert model.calls[0][1]["language"] == "fr"
    assert result.language == "fr"


async def test_long_recordings_are_decoded_block_by_block_at_their_own_times(
    tmp_path: Path,
) -> None:
    # A minute and a half of speech in regions of 10 s: two blocks, cut in a silence.
    spans = [(12.0 * n, 12.0 * n + 10.0) for n in range(9)]
    audio = ExtractedAudio(RATE, 108.0, [write_wav(tmp_path / "channel0.wav", 108.0)])
    later = [segment(0.5, 1.5, [(" Thursday", 0.5, 1.0), (" works.", 1.0, 1.5)])]
    model = FakeWhisperModel([LEFT, later])
    transcriber = WhisperTranscriber(model_factory=lambda _: model, find_regions=regions(*spans))

    result = await transcriber.transcribe(audio)

    first, second = speech_blocks([SpeechRegion(a, b) for a, b in spans])
    assert (first.start, second.end) == (0.0, 106.0)
    assert first.end < second.start  # the cut is in a silence, never in a region
    assert [len(call[0]) for call in model.calls] == [
        round(block.duration * RATE) for block in (first, second)
    ]
    assert result.segments[-1].text == "Thursday works."
    assert (result.segments[-1].start, result.segments[-1].end) == (
        pytest.approx(second.start + 0.5),
        pytest.approx(second.start + 1.5),
    )
    assert result.segments[-1].words[0].start == pytest.approx(second.start + 0.5)


def test_blocks_hold_a_bounded_amount_of_speech_and_of_recording() -> None:
    many = [SpeechRegion(3.0 * n, 3.0 * n + 2.0) for n in range(400)]
    blocks = speech_blocks(many, speech_seconds=120.0, span_seconds=300.0)
    assert blocks[0] == SpeechRegion(0.0, 179.0)  # 60 regions of 2 s: 120 s of speech
    assert all(b.duration <= 300 for b in blocks)
    assert blocks[-1].end == many[-1].end and len(blocks) == 7
    sparse = [SpeechRegion(100.0 * n, 100.0 * n + 1.0) for n in range(7)]
    # Little speech, spread out: the span limit cuts.
    assert [b.start for b in speech_blocks(sparse, span_seconds=300.0)] == [0.0, 300.0, 600.0]
    assert speech_blocks([]) == []


async def test_a_model_that_cannot_load_is_a_provider_error(tmp_path: Path) -> None:
    audio = ExtractedAudio(RATE, 1.0, [write_wav(tmp_path / "channel0.wav")])

    def broken(name: str) -> Any:
        raise RuntimeError("CUDA driver missing")

    with pytest.raises(ProviderError) as caught:
        await WhisperTranscriber(model_factory=broken).transcribe(audio)

    assert caught.value.retryable is False


async def test_default_factory_never_downloads(tmp_path: Path) -> None:
    # No network here: a model that is not cached fails at once instead of fetching.
    audio = ExtractedAudio(RATE, 1.0, [write_wav(tmp_path / "channel0.wav")])

    with pytest.raises(ProviderError):
        await WhisperTranscriber(model=str(tmp_path / "no-such-model")).transcribe(audio)


def test_whisper_available_checks_folders_and_the_local_cache(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert whisper_available(str(folder)) is False  # a folder without model.bin
    (folder / "model.bin").write_bytes(b"\0")
    assert whisper_available(str(folder)) is True
    assert local_whisper_model(str(folder)) == folder

    cache = tmp_path / "hf-cache"
    assert whisper_available("small", cache_dir=cache) is False
    assert whisper_available("Systran/faster-whisper-small", cache_dir=cache) is False
    assert whisper_available("not-a-whisper-size", cache_dir=cache) is False
    assert whisper_available("", cache_dir=cache) is False

    # The Hugging Face cache layout: refs/main names the snapshot holding the files.
    repo = cache / "models--Systran--faster-whisper-small"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123456789abcdef0123456789abcdef01234567")
    snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"\0")

    assert whisper_available("small", cache_dir=cache) is True
    assert whisper_available("Systran/faster-whisper-small", cache_dir=cache) is True
    assert whisper_available("medium", cache_dir=cache) is False
    # The cached name resolves to the snapshot folder, which loads without the network.
    assert local_whisper_model("small", cache_dir=cache) == snapshot


# --- The loaded-model cache -----------------------------------------------------------------


class Loads:
    """A model factory that records each load and returns a fresh object for it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, folder: str, **kwargs: Any) -> object:
        self.calls.append((folder, kwargs))
        return object()


def model_folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0")
    return folder


def test_the_cache_loads_each_model_once_and_hands_out_the_same_object(tmp_path: Path) -> None:
    small, medium = model_folder(tmp_path, "small"), model_folder(tmp_path, "medium")
    loads = Loads()
    cache = WhisperModelCache(factory=loads)

    first = cache.get(str(small), device="cpu", compute_type="int8")
    again = cache.get(str(small), device="cpu", compute_type="int8")
    # Another spelling of the same folder is the same model.
    spelled = cache.get(str(small / ".." / "small"), device="cpu", compute_type="int8")
    other = cache.get(str(medium), device="cpu", compute_type="int8")
    on_float = cache.get(str(small), device="cpu", compute_type="float32")

    assert again is first and spelled is first
    assert other is not first and on_float is not first
    assert loads.calls == [
        (str(small), {"device": "cpu", "compute_type": "int8"}),
        (str(medium), {"device": "cpu", "compute_type": "int8"}),
        (str(small), {"device": "cpu", "compute_type": "float32"}),
    ]
    assert cache.loaded() == [
        (str(small.resolve()), "cpu", "int8"),
        (str(medium.resolve()), "cpu", "int8"),
        (str(small.resolve()), "cpu", "float32"),
    ]

    cache.clear()
    assert cache.get(str(small), device="cpu", compute_type="int8") is not first
    assert len(loads.calls) == 4


def test_the_cache_never_loads_a_model_that_is_not_on_this_machine(tmp_path: Path) -> None:
    loads = Loads()
    cache = WhisperModelCache(factory=loads)

    with pytest.raises(FileNotFoundError, match="no-such-model"):
        cache.get(str(tmp_path / "no-such-model"), device="cpu", compute_type="int8")
    (tmp_path / "no-weights").mkdir()  # a folder without model.bin
    with pytest.raises(FileNotFoundError, match="no-weights"):
        cache.get(str(tmp_path / "no-weights"), device="cpu", compute_type="int8")
    with pytest.raises(FileNotFoundError, match="large-v3"):
        cache.get("large-v3", device="cpu", compute_type="int8")  # a name not in the HF cache

    assert loads.calls == []


def test_a_failed_load_is_not_remembered(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, "small")
    outcomes: list[Any] = [RuntimeError("out of memory"), "model"]

    def flaky(path: str, **kwargs: Any) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache = WhisperModelCache(factory=flaky)
    with pytest.raises(RuntimeError, match="out of memory"):
        cache.get(str(folder), device="cpu", compute_type="int8")
    assert cache.loaded() == []

    assert cache.get(str(folder), device="cpu", compute_type="int8") == "model"
    assert outcomes == []


def test_the_real_loader_refuses_a_model_folder_it_cannot_read(tmp_path: Path) -> None:
    # faster-whisper itself on a corrupt model.bin: it fails at once, offline, and the cache
    # keeps nothing.
    folder = model_folder(tmp_path, "broken")
    cache = WhisperModelCache()

    with pytest.raises(RuntimeError, match=r"model\.bin"):
        cache.get(str(folder), device="cpu", compute_type="int8")

    assert cache.loaded() == []
