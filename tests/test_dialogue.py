"""The generated sales-call recordings: script, rendering, and the files written with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from ingest.espeak import EspeakVoice
from tests.support.dialogue import (
    CHAMPION,
    CHAMPION_VOICE,
    PROSPECT,
    PROSPECT_VOICE,
    SALES_CALL,
    VIDEO_AUDIO_RATE,
    VIDEO_FPS,
    VIDEO_SIZE,
    RenderedCall,
    Turn,
    median_f0,
    render_call,
    render_or_skip,
    repeat_call,
    write_mono_wav,
    write_stereo_wav,
    write_video,
    write_video_without_audio,
)
from tests.support.speech import FliteVoice, PiperVoice


@pytest.fixture(scope="session")
def call(sales_call: RenderedCall) -> RenderedCall:
    """The whole scripted call, as the session renders it once."""
    return sales_call


@pytest.fixture(scope="session")
def short_call() -> RenderedCall:
    """The first four turns, for the slower (AAC) writers."""
    return render_or_skip(SALES_CALL[:4])


@pytest.fixture(scope="session")
def stereo(call: RenderedCall, tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, int]:
    """The call written as a stereo WAV and decoded again."""
    return decode_audio(write_stereo_wav(call, tmp_path_factory.mktemp("stereo") / "call.wav"))


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """All audio of a file as float samples shaped ``(channels, samples)``, and its rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        blocks = []
        for frame in container.decode(stream):
            array = frame.to_ndarray()
            channels = len(frame.layout.channels)
            blocks.append(array if frame.format.is_planar else array.reshape(-1, channels).T)
        return np.concatenate(blocks, axis=1).astype(np.float64), stream.rate


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def window(samples: np.ndarray, turn: Turn, rate: int) -> np.ndarray:
    return samples[..., round(turn.start * rate) : round(turn.end * rate)]


def prospect_turn(keyword: str) -> int:
    return next(
        i for i, (who, text) in enumerate(SALES_CALL) if who == PROSPECT and keyword in text
    )


def test_script_has_the_shape_of_a_discovery_call() -> None:
    speakers = [who for who, _ in SALES_CALL]
    objections = [prospect_turn(k) for k in ("expensive", "current vendor", "next quarter")]

    assert 20 <= len(SALES_CALL) <= 24
    assert speakers[0] == CHAMPION and set(speakers) == {CHAMPION, PROSPECT}
    assert "head of operations at Acme Logistics" in SALES_CALL[prospect_turn("I'm Dana")][1]
    assert objections == sorted(objections)
    assert all(speakers[i + 1] == CHAMPION for i in objections)
    champion_text = " ".join(text for who, text in SALES_CALL if who == CHAMPION)
    for phrase in ("walk me through", "40 percent", "Northwind", "Thursday at 10"):
        assert phrase in champion_text


def test_render_places_turns_in_order_with_gaps(call: RenderedCall) -> None:
    assert [(t.speaker, t.text) for t in call.turns] == SALES_CALL
    assert len(call.champion) == len(call.prospect)
    for before, after in zip(call.turns, call.turns[1:], strict=False):
        assert before.start < before.end
        assert after.start - before.end == pytest.approx(0.6, abs=1 / call.sample_rate)
    assert call.turns[-1].end < call.duration
    assert 1.0 < (call.turns[3].end - call.turns[3].start) < 10.0


def test_each_track_speaks_only_during_its_own_turns(call: RenderedCall) -> None:
    tracks = {CHAMPION: call.champion, PROSPECT: call.prospect}
    for turn in call.turns:
        own = window(tracks[turn.speaker], turn, call.sample_rate)
        other = window(
            tracks[PROSPECT if turn.speaker == CHAMPION else CHAMPION], turn, call.sample_rate
        )
        assert rms(own) > 1000
        assert not other.any()


def test_mono_wav_holds_the_mixed_call(call: RenderedCall, tmp_path: Path) -> None:
    path = write_mono_wav(call, tmp_path / "call.wav")

    audio, rate = decode_audio(path)

    assert rate == call.sample_rate and audio.shape[0] == 1
    assert np.array_equal(audio[0], call.mixed())
    with av.open(str(path)) as container:
        assert (container.duration or 0) / 1e6 == pytest.approx(call.duration, abs=0.2)


def test_stereo_wav_has_one_speaker_per_channel(
    call: RenderedCall, stereo: tuple[np.ndarray, int]
) -> None:
    audio, rate = stereo

    assert rate == call.sample_rate
    assert audio.shape == (2, len(call.champion))
    for turn in call.turns:
        left, right = window(audio, turn, rate)
        loud, quiet = (left, right) if turn.speaker == CHAMPION else (right, left)
        assert rms(loud) > 1000
        assert rms(quiet) < 10


def test_speakers_have_different_voices(stereo: tuple[np.ndarray, int]) -> None:
    audio, rate = stereo

    champion_f0, prospect_f0 = median_f0(audio[0], rate), median_f0(audio[1], rate)

    assert 70 < champion_f0 < 160
    assert prospect_f0 > 1.5 * champion_f0


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".mp4", "aac"), (".mov", "aac"), (".avi", "pcm_s16le")]
)
def test_video_has_both_streams_and_the_call_length(
    short_call: RenderedCall, tmp_path: Path, suffix: str, codec: str
) -> None:
    path = write_video(short_call, tmp_path / f"call{suffix}")

    with av.open(str(path)) as container:
        (video,) = container.streams.video
        (audio_stream,) = container.streams.audio
        assert video.codec_context.name == "mpeg4"
        assert (video.codec_context.width, video.codec_context.height) == VIDEO_SIZE
        assert audio_stream.codec_context.name == codec
        frames = sum(1 for _ in container.decode(video))
    audio, rate = decode_audio(path)

    assert rate == VIDEO_AUDIO_RATE and audio.shape[0] == 1
    assert audio.shape[1] / rate == pytest.approx(short_call.duration, abs=0.2)
    assert frames / VIDEO_FPS == pytest.approx(short_call.duration, abs=0.2)
    first, second = short_call.turns[:2]
    scale = 32768 if codec == "aac" else 1  # AAC decodes to floats in [-1, 1]
    assert rms(window(audio, first, rate)) * scale > 1000
    assert (
        rms(audio[:, round(first.end * rate) + 2000 : round(second.start * rate) - 2000]) * scale
        < 50
    )


def test_the_speakers_have_natural_voices_and_espeak_is_still_at_hand() -> None:
    # The session's call is spoken by Piper (champion) and flite (prospect), not espeak-ng.
    assert (PiperVoice("joe"), FliteVoice("slt")) == (CHAMPION_VOICE, PROSPECT_VOICE)
    robotic = render_call(
        SALES_CALL[:2],
        champion_voice=EspeakVoice(variant="m3", pitch=40),
        prospect_voice=EspeakVoice(variant="f2", pitch=70),
    )
    rate = robotic.sample_rate
    assert median_f0(robotic.prospect, rate) > 1.5 * median_f0(robotic.champion, rate)


def test_video_rejects_other_containers(short_call: RenderedCall, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extension"):
        write_video(short_call, tmp_path / "call.mkv")


def test_video_without_audio(tmp_path: Path) -> None:
    path = write_video_without_audio(tmp_path / "silent.mp4", 3.0)

    with av.open(str(path)) as container:
        assert not container.streams.audio
        (video,) = container.streams.video
        frames = sum(1 for _ in container.decode(video))
        assert (container.duration or 0) / 1e6 == pytest.approx(3.0, abs=0.2)
    assert frames == 3 * VIDEO_FPS


def test_repeat_call_makes_a_long_recording(short_call: RenderedCall) -> None:
    long = repeat_call(short_call, 0.5)

    count = len(long.turns) // len(short_call.turns)
    assert long.duration >= 30 and long.duration - short_call.duration < 30
    assert long.duration == pytest.approx(count * short_call.duration)
    assert np.array_equal(long.champion[-len(short_call.champion) :], short_call.champion)
    last = long.turns[-1]
    assert last.start == pytest.approx(
        short_call.turns[-1].start + (count - 1) * short_call.duration
    )
    assert long.speaking(last.start + 0.01) == last.speaker
    assert long.speaking(last.end + 0.01) is None
