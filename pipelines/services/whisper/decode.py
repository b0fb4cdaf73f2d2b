"""Whisper on a short encoder window: one utterance decoded in a fraction of the usual time.

faster-whisper pads every segment to Whisper's 30 s window (3000 mel frames) before the
encoder, so a 2 s answer costs as much encoding as 30 s of speech: on this machine's cores
tiny.en spent about 0.5 s of CPU per live turn, ~85% of it in the encoder. CTranslate2's
encoder also accepts a shorter input (whisper.cpp calls it ``audio_ctx``); encoding only the
utterance plus a margin (at least 10 s, in 2 s steps) cuts the encoder's work by about the
ratio of the lengths (a typical answer: 3x less), and greedy decoding (beam 1) cuts the
decoder's share. The word error rate on natural voices stays within about a point
(`bench/turn_taking.py`, and with ``--full-window --beam 5`` for Pipecat's way: 5.7% vs
4.4% on 72 utterances, 115 vs 393 ms per segment on two idle cores).

A short window can make greedy decoding loop ("yeah sure yeah sure ..."): the text may not
outrun `TOKENS_PER_SECOND`, and text that still looks repetitive (faster-whisper's
compression-ratio test) is decoded again the usual way, with its temperature fallback.

Nothing here touches the model's shared state: the features come from the model's feature
extractor at its own window (no ``chunk_length``), so calls and ingest sharing one loaded
model are unaffected. Segments longer than Whisper's window go through
``WhisperModel.transcribe`` as usual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

FULL_WINDOW_FRAMES = 3000
"""Whisper's encoder window: 30 s of 10 ms mel frames."""
WINDOW_MARGIN_FRAMES = 100
"""Silence the encoder sees after the utterance (1 s); Whisper ends words better with it."""
WINDOW_STEP_FRAMES = 200
"""Windows come in steps of 2 s, so the encoder sees a handful of distinct shapes."""
MIN_WINDOW_FRAMES = 1000
"""10 s at least: on a window of 4-6 s greedy decoding repeated one-word answers ("Yeah.
Yeah. Yeah.") for Piper's "yeah", "okay" and "right"; from 10 s on it did not."""
TOKENS_PER_SECOND = 8
"""Fast speech is about 4 words (5-6 tokens) a second; a decode may not run past this rate,
which stops the repetition loops greedy decoding falls into on short, quiet segments."""
COMPRESSION_RATIO_LIMIT = 2.4
"""faster-whisper's own threshold: text that compresses better than this is a loop."""


@dataclass(frozen=True)
class Decoded:
    """One segment's text and Whisper's probability that it held no speech."""

    text: str
    no_speech_prob: float


def window_frames(content_frames: int) -> int:
    """The encoder window for ``content_frames`` mel frames of audio.

    Args:
        content_frames: The segment's length in 10 ms frames.

    Returns:
        The content plus `WINDOW_MARGIN_FRAMES`, at least `MIN_WINDOW_FRAMES`, rounded up to
        `WINDOW_STEP_FRAMES`, at most Whisper's full window.
    """
    needed = max(MIN_WINDOW_FRAMES, content_frames + WINDOW_MARGIN_FRAMES)
    return min(FULL_WINDOW_FRAMES, math.ceil(needed / WINDOW_STEP_FRAMES) * WINDOW_STEP_FRAMES)


def decode_segment(
    model: WhisperModel, audio: np.ndarray, *, language: str | None = "en", beam_size: int = 1
) -> list[Decoded]:
    """Transcribes one short segment with an encoder window fitted to it (blocking).

    Args:
        model: A loaded faster-whisper model (shared; left unchanged).
        audio: Float32 mono samples in [-1, 1] at 16 kHz.
        language: The spoken language's code; None lets a multilingual model detect it.
        beam_size: 1 for greedy decoding, more for beam search.

    Returns:
        The segment's text (one entry; several for a segment longer than Whisper's window,
        which is transcribed the usual way).
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import (
        get_compression_ratio,
        get_ctranslate2_storage,
        get_suppressed_tokens,
    )

    def usual() -> list[Decoded]:
        segments, _ = model.transcribe(audio, language=language, beam_size=beam_size)
        return [Decoded(s.text, s.no_speech_prob) for s in segments]

    features = model.feature_extractor(audio)
    content = features.shape[-1]
    if content + WINDOW_MARGIN_FRAMES > FULL_WINDOW_FRAMES or (
        language is None and model.model.is_multilingual
    ):
        return usual()
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
    )
    window = pad_or_trim(features, window_frames(content))
    encoded = model.model.encode(get_ctranslate2_storage(np.expand_dims(window, 0)))
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=beam_size,
        max_length=len(prompt) + 4 + int(TOKENS_PER_SECOND * len(audio) / 16_000),
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,)) or ()),
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    text = tokenizer.decode(tokens)
    if len(text) > 20 and get_compression_ratio(text.strip()) > COMPRESSION_RATIO_LIMIT:
        return usual()
    return [Decoded(text, float(result.no_speech_prob))]
