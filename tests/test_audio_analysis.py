"""Extraction, speech regions, diarization and voice measurement on generated calls."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from ingest.diarize import diarize, label_speakers
from ingest.extract import SAMPLE_RATE, ExtractionFailed, extract_audio, read_wav
from ingest.types import Segment
from ingest.vad import regions_from_scores, speech_regions
from ingest.voice import frame_pitches, measure_voice
from tests.support.dialogue import write_mono_wav


def _wav_info(path: Path) -> tuple[int, int, float]:
    with wave.open(str(path), "rb") as reader:
        return reader.getnchannels(), reader.getframerate(), reader.getnframes() / SAMPLE_RATE


def test_a_stereo_call_keeps_a_file_per_speaker(
    call_files: dict[str, Path], short_call: Any, tmp_path: Path
) -> None:
    audio = extract_audio(call_files["short_stereo"], tmp_path)
    assert [p.name for p in audio.channels] == ["channel0.wav", "channel1.wav"]
    assert audio.duration_seconds == pytest.approx(short_call.duration, abs=0.05)
    for path in audio.channels:
        assert _wav_info(path)[:2] == (1, SAMPLE_RATE)
    first = short_call.turns[0]
    champion_turn = read_wav(audio.channels[0], first.start, first.end).astype(float)
    prospect_side = read_wav(audio.channels[1], first.start, first.end).astype(float)
    assert np.sqrt(np.mean(champion_turn**2)) > 50 * (np.sqrt(np.mean(prospect_side**2)) + 1)
    assert not list(tmp_path.glob("*.part"))


def test_a_stereo_file_with_the_same_sound_on_both_sides_is_mixed(
    short_call: Any, tmp_path: Path
) -> None:
    mono = write_mono_wav(short_call, tmp_path / "mono.wav")
    both = tmp_path / "both.wav"
    samples = np.frombuffer(read_wav(mono).tobytes(), np.int16)
    with wave.open(str(both), "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(np.repeat(samples, 2).tobytes())
    audio = extract_audio(both, tmp_path / "out")
    assert len(audio.channels) == 1
    assert np.array_equal(read_wav(audio.channels[0])[:16000], samples[:16000])


@pytest.mark.parametrize("name", ["opening_mp4", "opening_mov", "opening_avi"])
def test_video_containers_extract_to_16k_mono(
    call_files: dict[str, Path], name: str, tmp_path: Path
) -> None:
    audio = extract_audio(call_files[name], tmp_path)
    with av.open(str(call_files[name])) as container:
        assert container.duration is not None
        expected = container.duration / av.time_base
    assert len(audio.channels) == 1
    assert audio.duration_seconds == pytest.approx(expected, abs=0.1)
    assert np.abs(read_wav(audio.channels[0])).max() > 1000


def test_a_video_without_audio_or_a_damaged_file_fails_clearly(
    call_files: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ExtractionFailed, match="no audio track"):
        extract_audio(call_files["silent_video"], tmp_path / "a")
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(call_files["opening_mp4"].read_bytes()[:5000])
    with pytest.raises(ExtractionFailed):
        extract_audio(damaged, tmp_path / "b")
    assert not list((tmp_path / "b").glob("*.wav"))


def test_speech_regions_follow_the_turns(
    call_files: dict[str, Path], short_call: Any, tmp_path: Path
) -> None:
    audio = extract_audio(call_files["short_stereo"], tmp_path)
    regions = speech_regions(audio.channels[0])
    champion_turns = [t for t in short_call.turns if t.speaker == "champion"]
    for turn in champion_turns:
        covered = sum(max(0.0, min(r.end, turn.end) - max(r.start, turn.start)) for r in regions)
        assert covered > 0.8 * (turn.end - turn.start)
    speech = sum(r.duration for r in regions)
    assert speech < 1.2 * sum(t.end - t.start for t in champion_turns)


def test_long_regions_are_split_and_short_blips_dropped() -> None:
    scores = np.array([0.9] * 1000 + [0.0] * 20 + [0.9] * 3 + [0.0] * 20, dtype=np.float32)
    regions = regions_from_scores(scores)
    assert all(r.duration <= 12.0 + 0.4 for r in regions)
    assert len(regions) >= 3  # 32 s of speech, cut into pieces; the 0.1 s blip is gone
    assert regions[-1].end < 1000 * 0.032 + 1


def test_two_voices_on_one_channel_are_told_apart(
    call_files: dict[str, Path], short_call: Any, tmp_path: Path
) -> None:
    audio = extract_audio(call_files["short_mono"], tmp_path)
    regions = speech_regions(audio.channels[0])
    labels = diarize(audio.channels[0], regions)
    truth = [short_call.speaking((r.start + r.end) / 2) for r in regions]
    agree = sum(
        (t == "champion") == (label == "S0") for t, label in zip(truth, labels, strict=True)
    )
    assert agree >= 0.9 * len(regions)
    assert labels[0] == "S0"


def test_one_voice_stays_one_speaker(call_files: dict[str, Path], tmp_path: Path) -> None:
    audio = extract_audio(call_files["short_stereo"], tmp_path)
    regions = speech_regions(audio.channels[0])
    assert set(diarize(audio.channels[0], regions)) == {"S0"}


def test_clusters_that_are_not_apart_stay_one_speaker() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(0, 1, (30, 13))
    assert set(label_speakers(features, np.ones(30))) == {"S0"}


def test_pitch_and_voice_profile_are_measured(
    call_files: dict[str, Path], short_call: Any, tmp_path: Path
) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = (8000 * np.sin(2 * np.pi * 150 * t)).astype(np.int16)
    assert np.median(frame_pitches(tone)) == pytest.approx(150, rel=0.03)

    audio = extract_audio(call_files["short_stereo"], tmp_path)
    segments = [
        Segment(turn.start, turn.end, "S0" if turn.speaker == "champion" else "S1", turn.text)
        for turn in short_call.turns
    ]
    pitch, rate, energy = measure_voice(audio.channels[0], segments, speaker="S0")
    assert pitch is not None and 85 < pitch < 115
    assert rate is not None and 120 < rate < 260
    assert energy is not None and -40 < energy < 0
    assert measure_voice(audio.channels[0], segments, speaker="S9") == (None, None, None)
