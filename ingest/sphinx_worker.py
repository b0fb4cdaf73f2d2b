"""Runs in the offline transcriber's worker processes: one pocketsphinx decoder each.

Kept free of heavy imports, since every worker process imports it. pocketsphinx holds the
GIL while decoding, so parallelism comes from processes, not threads.
"""

from __future__ import annotations

import re
import wave
from typing import Any

from ingest.lifeline import die_with_parent

_decoder: Any = None
_initial_cmn: Any = None
_ALTERNATE = re.compile(r"\(\d+\)$")
_NOT_WORDS = {"<s>", "</s>", "<sil>", "[noise]", "[laugh]", "[breath]", "[cough]", "[um]", "[uh]"}
FRAMES_PER_SECOND = 100


def init_worker(fwdflat: bool, owner: int) -> None:
    """A decoder process's start: it ends with ``owner`` (the process whose pool it is
    in), then loads its decoder."""
    die_with_parent(owner=owner)
    init_decoder(fwdflat)


def init_decoder(fwdflat: bool = True) -> None:
    """Creates this process's decoder (the en-us model ships in the wheel)."""
    global _decoder, _initial_cmn
    from pocketsphinx import Decoder

    # Capping active HMMs and word exits per frame cut decode time by ~40% with the same
    # output on the test calls (bench/ingest.py measures it).
    _decoder = Decoder(
        samprate=16000, fwdflat=fwdflat, bestpath=True, maxhmmpf=2000, maxwpf=5, loglevel="FATAL"
    )
    _initial_cmn = _decoder.get_cmn()


Words = list[tuple[str, float, float]]


def decode_block(path: str, regions: list[tuple[float, float]]) -> list[tuple[str, Words]]:
    """Decodes consecutive regions of one channel, in order, from the decoder's initial
    acoustic state: the decoder adapts within a block, and a block's text does not depend
    on which process decoded what before it (so the same file always reads the same)."""
    if _decoder is None:
        init_decoder()
    # Both resets are needed: the feature front end keeps state between utterances (word
    # timings moved by a frame, words changed), and CMN adapts.
    _decoder.reinit_feat()
    _decoder.set_cmn(_initial_cmn)
    return [decode_region(path, start, end) for start, end in regions]


def decode_region(
    path: str, start: float, end: float
) -> tuple[str, list[tuple[str, float, float]]]:
    """Decodes the region [start, end] of a 16 kHz mono WAV file.

    Returns:
        The text, and each word with its start and end in seconds from the recording start.
    """
    if _decoder is None:
        init_decoder()
    with wave.open(path, "rb") as reader:
        rate = reader.getframerate()
        reader.setpos(min(int(start * rate), reader.getnframes()))
        audio = reader.readframes(max(0, int((end - start) * rate)))
    _decoder.start_utt()
    _decoder.process_raw(audio, False, True)
    _decoder.end_utt()
    words: list[tuple[str, float, float]] = []
    for item in _decoder.seg():
        word = _ALTERNATE.sub("", item.word).lower()
        if word in _NOT_WORDS or word.startswith(("<", "[", "++")):
            continue
        words.append(
            (
                word,
                round(start + item.start_frame / FRAMES_PER_SECOND, 3),
                round(start + (item.end_frame + 1) / FRAMES_PER_SECOND, 3),
            )
        )
    return " ".join(w for w, _s, _e in words), words
