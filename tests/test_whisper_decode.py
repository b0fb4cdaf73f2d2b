"""Whisper on a window fitted to the segment (`pipelines.services.whisper.decode`), with the
packaged tiny.en model and the Piper voice: it hears what was said, does not loop on short
answers, and leaves the shared model as it found it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.whisper_models import shared_whisper_models
from pipelines.services.whisper.decode import FULL_WINDOW_FRAMES, decode_segment, window_frames
from tests.support.voices import require_voice, speak

RATE = 16_000


@pytest.fixture(scope="module")
def model(whisper_models: dict[str, Path]) -> object:
    require_voice("piper")
    return shared_whisper_models().get("tiny.en", device="cpu", compute_type="int8")


def segment(text: str, lead_secs: float = 1.0) -> np.ndarray:
    """``text`` as the live service cuts it: silence before, 0.5 s of silence after."""
    audio = speak(text, "piper", rate=RATE).astype(np.float32) / 32768
    audio *= 0.25 / np.abs(audio).max()
    return np.concatenate(
        [np.zeros(int(lead_secs * RATE), np.float32), audio, np.zeros(RATE // 2, np.float32)]
    )


def words(text: str) -> list[str]:
    return [w.strip(".,?!").lower() for w in text.split()]


@pytest.mark.parametrize(
    "text",
    ["How many drivers do you have on the road today?", "That is a fair question."],
)
def test_a_sentence_is_heard(model: object, text: str) -> None:
    decoded = decode_segment(model, segment(text))  # type: ignore[arg-type]
    heard = words(" ".join(d.text for d in decoded))
    assert len(set(heard) & set(words(text))) >= len(words(text)) - 1
    assert all(d.no_speech_prob < 0.4 for d in decoded)


@pytest.mark.parametrize("text", ["Yeah.", "Okay.", "Right."])
@pytest.mark.parametrize("lead_secs", [0.2, 1.0])
def test_a_one_word_answer_is_not_repeated(model: object, text: str, lead_secs: float) -> None:
    decoded = decode_segment(model, segment(text, lead_secs))  # type: ignore[arg-type]
    assert words(" ".join(d.text for d in decoded)) == words(text)


def test_the_shared_model_keeps_its_window(model: object) -> None:
    extractor = model.feature_extractor  # type: ignore[attr-defined]
    before = (extractor.chunk_length, extractor.nb_max_frames)
    decode_segment(model, segment("Tell me more about that."))  # type: ignore[arg-type]
    assert (extractor.chunk_length, extractor.nb_max_frames) == before


def test_windows_fit_the_segment_within_whisper_limits() -> None:
    assert window_frames(50) == window_frames(500) < FULL_WINDOW_FRAMES
    assert window_frames(1450) == 1600
    assert window_frames(2950) == FULL_WINDOW_FRAMES
