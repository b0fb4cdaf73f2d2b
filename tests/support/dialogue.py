"""Two-speaker sales-call recordings in natural voices, for tests and benchmarks.

Nothing is downloaded: `render_call` speaks a scripted discovery call with two clearly different
natural voices (the champion in the packaged Piper voice, a low male voice; the prospect in
flite's ``slt``, a female voice; see `tests.support.speech`), and the writers store it with
PyAV as mono or stereo WAV, or as a small video. espeak-ng voices can still be passed in for
contrast.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import av
import numpy as np

from tests.support.speech import FliteVoice, PiperVoice, SpeechUnavailable, Voice, speak

CHAMPION = "champion"
PROSPECT = "prospect"

_SCRIPT = """
champion: Hi, this is Alex from Brightpath. Thanks so much for making time today. How has your
    week been?
prospect: Pretty busy, honestly. I'm Dana, head of operations at Acme Logistics. We have about
    forty people on the floor.
champion: Great to meet you, Dana. Before I show you anything, walk me through how a new driver
    gets onboarded at Acme today.
prospect: Right now it is mostly paper. A supervisor shadows them for two weeks, and we track
    everything in spreadsheets.
champion: What happens when that supervisor is out sick, or busy with a rush order?
prospect: Things slip. People start late, and the mistakes show up in their first month.
champion: How much is that costing you, roughly, in overtime or lost shipments?
prospect: I would guess ten to fifteen thousand dollars a month, but nobody has really measured
    it.
champion: That is really helpful. Teams like yours at Northwind had the same problem, and we
    helped them cut onboarding time by 40 percent in one quarter.
prospect: Honestly, that sounds expensive. Our budget is tight this year.
champion: I hear you. Most teams your size pay about two thousand dollars a month, so if it
    saves even a third of what you just described, it pays for itself in the first month.
prospect: Maybe, but we're already happy with our current vendor for training.
champion: That makes sense, and you don't have to replace them. We plug into the tools you
    already use, and Northwind kept their vendor too. What would you most want to improve?
prospect: Mostly visibility. I want to know who is ready for a shift without calling three
    people.
champion: That is exactly what our dashboard shows. Supervisors see every new hire's progress in
    one place, and Northwind saw errors drop by 25 percent.
prospect: It does sound useful. But it's not the right time. Maybe next quarter, after our peak
    season.
champion: Peak season is when new hires hurt the most. If we start a two week pilot now, your
    seasonal drivers could be ready three days sooner.
prospect: A pilot could work, as long as it doesn't pull my supervisors off the floor.
champion: It won't. Setup takes about an hour, and we do it for you. Who else would need to be
    in the room to say yes?
prospect: Our director of finance, Sam, would want to see the numbers.
champion: Perfect, let's bring Sam in. Does Thursday at 10 work for a demo?
prospect: Thursday at 10 works. Send me the invite.
champion: Will do. Thanks, Dana, talk to you on Thursday.
"""


def _parse_script(script: str) -> list[tuple[str, str]]:
    """Reads ``speaker: text`` lines; indented lines continue the turn above."""
    turns: list[tuple[str, str]] = []
    for line in script.strip().splitlines():
        if line.startswith(" "):
            speaker, text = turns[-1]
            turns[-1] = (speaker, f"{text} {line.strip()}")
        else:
            speaker, _, text = line.partition(": ")
            turns.append((speaker, text.strip()))
    return turns


SALES_CALL: list[tuple[str, str]] = _parse_script(_SCRIPT)
"""The scripted call: (speaker, text) turns, objections in the order price, incumbent, timing."""

CHAMPION_VOICE: Voice = PiperVoice("joe")
"""The champion: Piper's en_US-joe-medium, a low male voice (median f0 about 100 Hz)."""
PROSPECT_VOICE: Voice = FliteVoice("slt")
"""The prospect: flite's slt, a female voice (median f0 about 165 Hz)."""

VIDEO_FPS = 5
VIDEO_SIZE = (64, 48)
VIDEO_AUDIO_RATE = 44_100
_CHUNK_SECONDS = 1.0  # audio and video are encoded and muxed one second at a time
_FRAME_COLOURS = {CHAMPION: (40, 90, 200), PROSPECT: (220, 130, 40), None: (30, 30, 30)}


@dataclass(frozen=True)
class Turn:
    """One utterance and where it sits in the recording (seconds from the start)."""

    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class RenderedCall:
    """A rendered call: one int16 track per speaker, equally long, silent while the other talks."""

    turns: tuple[Turn, ...]
    champion: np.ndarray
    prospect: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length of the recording in seconds."""
        return len(self.champion) / self.sample_rate

    def mixed(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Both speakers on one int16 track (optionally only samples ``start:stop``)."""
        total = self.champion[start:stop].astype(np.int32) + self.prospect[start:stop]
        return np.clip(total, -32768, 32767).astype(np.int16)

    def speaking(self, seconds: float) -> str | None:
        """The speaker talking at ``seconds``, or None during a gap."""
        index = bisect.bisect_right(self._starts, seconds) - 1
        if index >= 0 and seconds < self.turns[index].end:
            return self.turns[index].speaker
        return None

    @cached_property
    def _starts(self) -> list[float]:
        return [turn.start for turn in self.turns]


def render_call(
    turns: Sequence[tuple[str, str]] = SALES_CALL,
    *,
    champion_voice: Voice = CHAMPION_VOICE,
    prospect_voice: Voice = PROSPECT_VOICE,
    gap_seconds: float = 0.6,
    sample_rate: int = 16_000,
) -> RenderedCall:
    """Speaks a dialogue turn by turn into two per-speaker tracks.

    Each turn's speech is trimmed of the engine's leading and trailing silence, so the turn
    timings are tight. Turns are ``gap_seconds`` apart, with half a gap before the first and
    after the last, so repetitions of the call join with the same gap. Utterances come from
    the on-disk cache of `tests.support.speech.speak` when they were spoken before.

    Args:
        turns: ``(speaker, text)`` pairs; speaker is ``"champion"`` or ``"prospect"``.
        champion_voice: The seller's voice.
        prospect_voice: The prospect's voice.
        gap_seconds: Silence between turns.
        sample_rate: Rate of the returned tracks.

    Returns:
        The tracks and the timing of every turn.

    Raises:
        ValueError: A turn names an unknown speaker.
        tests.support.speech.SpeechUnavailable: A voice's engine or model is not on this machine.
    """
    voices = {CHAMPION: champion_voice, PROSPECT: prospect_voice}
    for speaker, _text in turns:
        if speaker not in voices:
            raise ValueError(f"unknown speaker {speaker!r}; use {CHAMPION!r} or {PROSPECT!r}")
    spoken: dict[tuple[str, str], np.ndarray] = {}
    for speaker, voice in voices.items():
        texts = list(dict.fromkeys(text for who, text in turns if who == speaker))
        if texts:
            audio = speak(texts, voice, sample_rate=sample_rate)
            spoken.update(((speaker, t), a) for t, a in zip(texts, audio, strict=True))
    pieces = [(speaker, text, spoken[speaker, text]) for speaker, text in turns]
    gap = round(gap_seconds * sample_rate)
    total = gap * len(pieces) + sum(len(speech) for _, _, speech in pieces)
    tracks = {CHAMPION: np.zeros(total, np.int16), PROSPECT: np.zeros(total, np.int16)}
    timed: list[Turn] = []
    position = gap // 2
    for speaker, text, speech in pieces:
        tracks[speaker][position : position + len(speech)] = speech
        end = position + len(speech)
        timed.append(Turn(speaker, position / sample_rate, end / sample_rate, text))
        position = end + gap
    return RenderedCall(tuple(timed), tracks[CHAMPION], tracks[PROSPECT], sample_rate)


def render_or_skip(turns: Sequence[tuple[str, str]] | None = None) -> RenderedCall:
    """A scripted call (the sales call unless ``turns``) rendered by `render_call`.

    Fails under CI, skips elsewhere, when flite or the Piper voice is missing.
    """
    from tests.support.services import unavailable  # pytest's side; benchmarks only render

    try:
        return render_call(SALES_CALL if turns is None else turns)
    except SpeechUnavailable as exc:
        unavailable("a natural test voice", exc)


def repeat_call(call: RenderedCall, minutes: float) -> RenderedCall:
    """Repeats a call end to end until it lasts at least ``minutes`` (for long benchmarks).

    Args:
        call: The call to repeat.
        minutes: The minimum length wanted.

    Returns:
        Whole repetitions of the call; each track is allocated once.

    Raises:
        ValueError: The call is empty.
    """
    if not call.duration:
        raise ValueError("cannot repeat an empty call")
    count = max(1, math.ceil(minutes * 60 / call.duration))
    turns = tuple(
        Turn(turn.speaker, turn.start + offset, turn.end + offset, turn.text)
        for offset in (index * call.duration for index in range(count))
        for turn in call.turns
    )
    return RenderedCall(
        turns, np.tile(call.champion, count), np.tile(call.prospect, count), call.sample_rate
    )


def write_mono_wav(call: RenderedCall, path: Path) -> Path:
    """Writes both speakers mixed into a 16-bit mono WAV at the call's rate."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=call.sample_rate)
        stream.layout = "mono"
        for packets in _audio_packets(stream, _mono_chunks(call), call.sample_rate, "mono"):
            container.mux(packets)
    return path


def write_stereo_wav(call: RenderedCall, path: Path) -> Path:
    """Writes a 16-bit stereo WAV: the champion on the left channel, the prospect on the right."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=call.sample_rate)
        stream.layout = "stereo"
        for packets in _audio_packets(stream, _stereo_chunks(call), call.sample_rate, "stereo"):
            container.mux(packets)
    return path


def write_video(call: RenderedCall, path: Path) -> Path:
    """Writes a small video of the call with the mixed audio.

    ``.mp4`` and ``.mov`` get mpeg4 video and AAC audio, ``.avi`` mpeg4 and 16-bit PCM; audio is
    mono at 44.1 kHz. Frames are 64x48 at 5 fps, coloured by who is speaking.

    Raises:
        ValueError: The extension is not one of .mp4, .mov or .avi.
    """
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".mov", ".avi"):
        raise ValueError(f"unsupported video extension {suffix!r}")
    frames = round(call.duration * VIDEO_FPS)
    with av.open(str(path), mode="w") as container:
        video = _add_video_stream(container)
        audio = container.add_stream(
            "pcm_s16le" if suffix == ".avi" else "aac", rate=VIDEO_AUDIO_RATE
        )
        audio.layout = "mono"
        no_packets: list[av.Packet] = []
        for audio_packets, video_packets in itertools.zip_longest(
            _audio_packets(audio, _mono_chunks(call), call.sample_rate, "mono"),
            _video_packets(video, frames, call.speaking),
            fillvalue=no_packets,
        ):
            container.mux(audio_packets + video_packets)
    return path


def write_video_without_audio(path: Path, seconds: float) -> Path:
    """Writes a small mpeg4 video with no audio stream, ``seconds`` long."""
    with av.open(str(path), mode="w") as container:
        video = _add_video_stream(container)
        for packets in _video_packets(video, round(seconds * VIDEO_FPS), lambda _: None):
            container.mux(packets)
    return path


def median_f0(
    samples: np.ndarray, sample_rate: int, *, fmin: float = 60, fmax: float = 400
) -> float:
    """Estimates the median fundamental frequency (Hz) of voiced speech by autocorrelation.

    Frames of 40 ms every 20 ms count as voiced when they are loud (RMS above a third of the
    loudest frame's) and periodic (normalised autocorrelation peak above 0.5 in the pitch range).

    Raises:
        ValueError: No frame is voiced.
    """
    size, hop = round(0.04 * sample_rate), round(0.02 * sample_rate)
    signal = samples.astype(np.float64)
    if len(signal) < size:
        raise ValueError("too little audio to estimate f0")
    frames = np.lib.stride_tricks.sliding_window_view(signal, size)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = np.sqrt(np.mean(frames**2, axis=1))
    frames = frames[energy > energy.max() / 3]
    spectrum = np.fft.rfft(frames, n=2 * size, axis=1)
    autocorr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :size]
    autocorr /= np.maximum(autocorr[:, :1], 1e-9)
    low, high = math.floor(sample_rate / fmax), math.ceil(sample_rate / fmin)
    lags = low + np.argmax(autocorr[:, low:high], axis=1)
    strength = autocorr[np.arange(len(lags)), lags]
    voiced = lags[strength > 0.5]
    if not len(voiced):
        raise ValueError("no voiced frames")
    return float(np.median(sample_rate / voiced))


def _mono_chunks(call: RenderedCall) -> Iterator[np.ndarray]:
    step = round(_CHUNK_SECONDS * call.sample_rate)
    for start in range(0, len(call.champion), step):
        yield call.mixed(start, start + step)[:, None]


def _stereo_chunks(call: RenderedCall) -> Iterator[np.ndarray]:
    step = round(_CHUNK_SECONDS * call.sample_rate)
    for start in range(0, len(call.champion), step):
        stop = start + step
        yield np.stack([call.champion[start:stop], call.prospect[start:stop]], axis=1)


def _audio_packets(
    stream: av.AudioStream, chunks: Iterable[np.ndarray], rate: int, layout: str
) -> Iterator[list[av.Packet]]:
    """Encodes ``(samples, channels)`` int16 chunks; yields each chunk's packets, then the rest."""
    resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=stream.rate)
    position = 0
    for chunk in chunks:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk).reshape(1, -1), format="s16", layout=layout
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, position, Fraction(1, rate)
        position += len(chunk)
        yield [packet for out in resampler.resample(frame) for packet in stream.encode(out)]
    tail = [packet for out in resampler.resample(None) for packet in stream.encode(out)]
    yield tail + stream.encode(None)


def _add_video_stream(container: av.container.OutputContainer) -> av.VideoStream:
    video = container.add_stream("mpeg4", rate=VIDEO_FPS)
    video.width, video.height = VIDEO_SIZE
    video.pix_fmt = "yuv420p"
    return video


def _video_packets(
    stream: av.VideoStream, count: int, speaking: Callable[[float], str | None]
) -> Iterator[list[av.Packet]]:
    """Encodes ``count`` frames, one second per yield, coloured by ``speaking(seconds)``."""
    per_chunk = round(_CHUNK_SECONDS * VIDEO_FPS)
    width, height = VIDEO_SIZE
    for first in range(0, count, per_chunk):
        packets: list[av.Packet] = []
        for index in range(first, min(first + per_chunk, count)):
            colour = _FRAME_COLOURS[speaking(index / VIDEO_FPS)]
            image = np.empty((height, width, 3), np.uint8)
            image[:] = colour
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            packets += stream.encode(frame)
        yield packets
    yield stream.encode(None)
