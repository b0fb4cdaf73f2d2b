"""WhisperTranscriber with a fake faster-whisper model that checks how it is called, and where
models are found and loaded (`memory.whisper_models`)."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ingest.providers.whisper import WhisperTranscriber
from ingest.types import ExtractedAudio
from memory.provider_errors import ProviderError
from memory.whisper_models import WhisperModelCache, local_whisper_model, whisper_available

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
    """Replays segments per audio file and asserts the options we pass."""

    def __init__(self, by_file: dict[str, list[SimpleNamespace]], language: str = "en") -> None:
        self.by_file = by_file
        self.language = language
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def transcribe(self, audio: Any, **kwargs: Any) -> tuple[Iterator[Any], Any]:
        self.calls.append((audio, kwargs))
        assert isinstance(audio, str) and Path(audio).is_file()
        assert kwargs["word_timestamps"] is True
        assert kwargs["vad_filter"] is True
        assert kwargs["beam_size"] == 5
        info = SimpleNamespace(language=self.language, language_probability=0.97, duration=4.0)
        return iter(self.by_file[Path(audio).name]), info


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
        [write_wav(tmp_path / "channel0.wav"), write_wav(tmp_path / "channel1.wav")],
    )
    model = FakeWhisperModel({"channel0.wav": LEFT, "channel1.wav": RIGHT})
    built: list[str] = []

    def factory(name: str) -> FakeWhisperModel:
        built.append(name)
        return model

    transcriber = WhisperTranscriber(model="small.en", model_factory=factory)
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
    assert [Path(call[0]).name for call in model.calls] == ["channel0.wav", "channel1.wav"]
    assert all(call[1]["language"] is None for call in model.calls)
    # Seconds decoded over 2 channels x 4 s, as each segment comes out of the model.
    assert progress == pytest.approx([1.6 / 8, 4 / 8, 6.7 / 8, 6.9 / 8, 1.0])

    await transcriber.transcribe(audio)
    assert built == ["small.en"]  # the model is loaded once and kept


async def test_mono_recording_is_one_speaker_and_language_is_passed(tmp_path: Path) -> None:
    audio = ExtractedAudio(RATE, 4.0, [write_wav(tmp_path / "channel0.wav")])
    model = FakeWhisperModel({"channel0.wav": LEFT}, language="de")

    result = await WhisperTranscriber(model_factory=lambda _: model, language="fr").transcribe(
        audio
    )

    assert {s.speaker for s in result.segments} == {"S0"}
    assert model.calls[0][1]["language"] == "fr"
    assert result.language == "fr"


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
