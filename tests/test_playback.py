"""The champion's call for playback: stereo joined safely, also under concurrent requests."""

from __future__ import annotations

import os
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ingest.playback import BLOCK_FRAMES, playback_audio


def _mono(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes(samples.astype(np.int16).tobytes())


def test_two_channels_join_into_one_stereo_file_even_when_asked_at_once(tmp_path: Path) -> None:
    left = np.arange(BLOCK_FRAMES * 2 + 123) % 1000
    right = -(np.arange(BLOCK_FRAMES + 7) % 500)
    _mono(tmp_path / "channel0.wav", left)
    _mono(tmp_path / "channel1.wav", right)

    with ThreadPoolExecutor(max_workers=6) as pool:
        paths = list(pool.map(lambda _: playback_audio(tmp_path), range(12)))
    assert set(paths) == {tmp_path / "playback.wav"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "channel0.wav",
        "channel1.wav",
        "playback.wav",
    ]  # no temporary file left behind
    with wave.open(str(paths[0]), "rb") as reader:
        assert reader.getnchannels() == 2
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    stereo = frames.reshape(-1, 2)
    assert len(stereo) == len(left)
    assert (stereo[:, 0] == left).all()
    assert (stereo[: len(right), 1] == right).all() and not stereo[len(right) :, 1].any()


def test_a_newer_analysis_remakes_the_file_and_mono_is_served_as_is(tmp_path: Path) -> None:
    assert playback_audio(tmp_path) is None  # nothing extracted yet
    _mono(tmp_path / "channel0.wav", np.ones(1600))
    assert playback_audio(tmp_path) == tmp_path / "channel0.wav"

    _mono(tmp_path / "channel1.wav", np.ones(1600))
    joined = playback_audio(tmp_path)
    assert joined is not None
    old = joined.stat().st_mtime - 10
    os.utime(joined, (old, old))
    _mono(tmp_path / "channel1.wav", np.full(3200, 7))  # re-analysed: a longer channel
    with wave.open(str(playback_audio(tmp_path)), "rb") as reader:
        assert reader.getnframes() == 3200
