"""Generates small real recordings for tests with PyAV (nothing is downloaded)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000


def tone(seconds: float, *, freq: float = 220.0, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A sine tone as int16 samples."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def write_audio(
    path: Path,
    *,
    seconds: float = 2.0,
    codec: str = "pcm_s16le",
    options: dict[str, str] | None = None,
) -> Path:
    """Writes an audio-only file; the container comes from the extension."""
    samples = tone(seconds)
    with av.open(str(path), mode="w", options=options or {}) as container:
        rate = 44_100 if codec in ("mp3", "libmp3lame", "aac") else SAMPLE_RATE
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        for start in range(0, len(samples), 1600):
            frame = av.AudioFrame.from_ndarray(
                samples[start : start + 1600].reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return path


def write_video(
    path: Path,
    *,
    seconds: float = 2.0,
    with_audio: bool = True,
    options: dict[str, str] | None = None,
) -> Path:
    """Writes a small video (mpeg4 frames, optional tone) in the extension's container."""
    fps = 10
    audio_codec = "pcm_s16le" if path.suffix == ".avi" else "aac"
    with av.open(str(path), mode="w", options=options or {}) as container:
        video = container.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream(audio_codec, rate=44_100) if with_audio else None
        if audio is not None:
            audio.layout = "mono"
        for index in range(int(seconds * fps)):
            image = np.full((48, 64, 3), (index * 9) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            resampler = av.AudioResampler(format=audio.format.name, layout="mono", rate=44_100)
            samples = tone(seconds)
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            for converted in resampler.resample(frame) + resampler.resample(None):
                container.mux(audio.encode(converted))
            container.mux(audio.encode(None))
    return path
