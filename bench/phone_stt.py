"""Offline STT on phone audio: how many words pocketsphinx gets back from speech that went
through an 8 kHz mu-law phone line, upsampled to 16 kHz (what phone calls do) or decoded by a
decoder set to 8 kHz, against the same speech at full bandwidth.

The speech is the scripted sales call's lines in three espeak voices (`tests/support/dialogue.py`)::

    .venv/bin/python -m bench.phone_stt
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import soxr
from pocketsphinx import Decoder

from ingest.espeak import SAMPLE_RATE, EspeakVoice, synthesize
from pipelines.services.sphinx.pool import LIVE_DECODER_CONFIG
from pipelines.services.sphinx.stt import clean_words
from tests.support.dialogue import SALES_CALL

VOICES = [EspeakVoice(variant="m3", pitch=40), EspeakVoice(variant="f2", pitch=70), EspeakVoice()]
FEATURE_KEYS = ("samprate", "nfft", "upperf", "nfilt", "lowerf")
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "full bandwidth, no phone (reference)": ("wide", {}),
    "phone, upsampled to 16 kHz (used)": ("up", {}),
    "phone, decoder at 8 kHz, upperf 3500": ("8k", {"samprate": 8000, "nfft": 256, "upperf": 3500}),
    "phone, decoder at 8 kHz, upperf 4000": ("8k", {"samprate": 8000, "nfft": 256, "upperf": 4000}),
}


def mulaw_line(samples: np.ndarray) -> np.ndarray:
    """Speech as an 8 kHz G.711 mu-law phone line gives it back (8-bit companding)."""
    narrow = soxr.resample(samples, SAMPLE_RATE, 8000).astype(np.float64) / 32768
    mu = 255.0
    companded = np.sign(narrow) * np.log1p(mu * np.abs(np.clip(narrow, -1, 1))) / np.log1p(mu)
    quantised = np.round((companded + 1) / 2 * 255) / 255 * 2 - 1
    expanded = np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu
    return (expanded * 32767).astype(np.int16)


def decoder(features: dict[str, Any]) -> Decoder:
    """The live decoder; feature settings go through its config (the model's own feature
    file would override them as constructor arguments)."""
    built = Decoder(**LIVE_DECODER_CONFIG)
    for key in FEATURE_KEYS:
        if key in features:
            built.config[key] = features[key]
    built.reinit_feat()
    return built


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def transcribe(decoding: Decoder, pcm: np.ndarray) -> list[str]:
    decoding.start_utt()
    for start in range(0, len(pcm), 320):
        decoding.process_raw(pcm[start : start + 320].tobytes(), False, False)
    decoding.end_utt()
    return words(clean_words(s.word for s in (decoding.seg() or [])))


def main() -> None:
    lines = [text for _speaker, text in SALES_CALL]
    speech = [(text, synthesize(text, voice)) for voice in VOICES for text in lines]
    total = sum(len(words(text)) for text, _ in speech)
    print(f"{len(speech)} utterances, {total} words (espeak, 3 voices)")
    for name, (mode, features) in CONFIGS.items():
        decoding = decoder(features)
        hits, cpu = 0, time.process_time()
        for text, samples in speech:
            if mode == "wide":
                pcm = soxr.resample(samples, SAMPLE_RATE, 16_000)
            elif mode == "up":
                pcm = soxr.resample(mulaw_line(samples), 8000, 16_000)
            else:
                pcm = mulaw_line(samples)
            heard = transcribe(decoding, np.asarray(pcm, dtype=np.int16))
            hits += sum(1 for word in words(text) if word in heard)
        cpu = time.process_time() - cpu
        print(f"  {name:40} words recognised {hits / total:6.1%}   CPU {cpu:5.1f} s")


if __name__ == "__main__":
    main()
