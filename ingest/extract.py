"""Step 2 of ingest: the recording's audio as 16 kHz 16-bit PCM WAV files, with PyAV.

Decoding streams chunk by chunk, so memory stays flat whatever the recording's length.
A stereo call recording with one speaker per channel keeps both channels (each becomes a
speaker); a stereo recording whose channels carry the same sound is mixed to mono.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soxr

from ingest.types import ExtractedAudio

SAMPLE_RATE = 16_000
# Channels whose difference holds less than this share of their energy carry the same sound.
SAME_SOUND_RATIO = 0.1
# A channel this much quieter than the other is treated as empty (a mono call in stereo).
EMPTY_CHANNEL_RATIO = 0.001
MIX_CHUNK_FRAMES = SAMPLE_RATE * 30
RESAMPLE_BLOCK = 48_000  # input frames per resampling call (about a second)


class ExtractionFailed(Exception):
    """The recording's audio cannot be extracted; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _ChannelStats:
    left: float = 0.0
    right: float = 0.0
    difference: float = 0.0

    def add(self, block: np.ndarray) -> None:
        samples = block.astype(np.float64)
        self.left += float(np.dot(samples[0], samples[0]))
        self.right += float(np.dot(samples[1], samples[1]))
        diff = samples[0] - samples[1]
        self.difference += float(np.dot(diff, diff))

    def one_speaker_per_channel(self) -> bool:
        total = self.left + self.right
        if total == 0.0 or min(self.left, self.right) < EMPTY_CHANNEL_RATIO * total:
            return False
        return self.difference > SAME_SOUND_RATIO * total


def extract_audio(source: Path, out_dir: Path) -> ExtractedAudio:
    """Decodes ``source`` into ``out_dir/channel0.wav`` (and ``channel1.wav`` for a two-speaker
    stereo call). Files are written under temporary names and renamed when complete.

    Raises:
        ExtractionFailed: no audio track, or the file cannot be decoded.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        container = av.open(str(source))
    except (av.FFmpegError, OSError) as exc:
        raise ExtractionFailed("the recording cannot be opened; it may be damaged") from exc
    with container:
        if not container.streams.audio:
            raise ExtractionFailed("the recording has no audio track")
        stream = container.streams.audio[0]
        stereo = (stream.channels or 1) == 2
        partial = [out_dir / f".channel{i}.wav.part" for i in range(2 if stereo else 1)]
        writers = [_open_wav(path) for path in partial]
        output = _BufferedChannels(writers, stereo)
        resampler: soxr.ResampleStream | None = None
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if resampler is None:
                        resampler = soxr.ResampleStream(
                            frame.sample_rate, SAMPLE_RATE, len(partial), dtype="float32"
                        )
                    output.add(resampler, _as_float(frame, stereo))
            if resampler is not None:
                output.add(resampler, np.zeros((0, len(partial)), np.float32), last=True)
        except av.FFmpegError as exc:
            raise ExtractionFailed(
                "the recording's audio could not be decoded; it may be damaged or truncated"
            ) from exc
        finally:
            for writer in writers:
                writer.close()
    frames, stats = output.frames, output.stats
    if frames == 0:
        _remove(partial)
        raise ExtractionFailed("the recording's audio track is empty")
    if stereo and not stats.one_speaker_per_channel():
        _mix_to_mono(partial[0], partial[1])
        partial[1].unlink()
        partial = partial[:1]
    channels = []
    for index, path in enumerate(partial):
        final = out_dir / f"channel{index}.wav"
        path.replace(final)
        channels.append(final)
    for stale in (out_dir / f"channel{i}.wav" for i in range(len(channels), 2)):
        stale.unlink(missing_ok=True)
    return ExtractedAudio(SAMPLE_RATE, frames / SAMPLE_RATE, channels)


def _open_wav(path: Path) -> wave.Wave_write:
    writer = wave.open(str(path), "wb")  # noqa: SIM115 (closed by the caller)
    writer.setnchannels(1)
    writer.setsampwidth(2)
    writer.setframerate(SAMPLE_RATE)
    return writer


def _as_float(frame: av.AudioFrame, stereo: bool) -> np.ndarray:
    """A decoded frame as float32 samples shaped (n, channels kept)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    if data.dtype == np.uint8:
        data = (data.astype(np.float32) - 128) / 128
    elif data.dtype.kind == "i":
        data = data.astype(np.float32) / float(2 ** (8 * data.dtype.itemsize - 1))
    else:
        data = data.astype(np.float32, copy=False)
    if not stereo and channels > 1:
        data = data.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(data.T)


class _BufferedChannels:
    """Resamples decoded audio about a second at a time and writes each channel's WAV."""

    def __init__(self, writers: list[wave.Wave_write], stereo: bool) -> None:
        self.writers = writers
        self.stereo = stereo
        self.stats = _ChannelStats()
        self.pending: list[np.ndarray] = []
        self.pending_frames = 0
        self.frames = 0

    def add(self, resampler: soxr.ResampleStream, block: np.ndarray, *, last: bool = False) -> None:
        self.pending.append(block)
        self.pending_frames += block.shape[0]
        if self.pending_frames >= RESAMPLE_BLOCK or last:
            joined = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
            self.pending, self.pending_frames = [], 0
            out = resampler.resample_chunk(joined, last=last)
            if out.size:
                self.write(np.clip(out * 32768, -32768, 32767).astype(np.int16).T)

    def write(self, block: np.ndarray) -> None:
        if self.stereo:
            self.stats.add(block)
        for index, writer in enumerate(self.writers):
            writer.writeframesraw(np.ascontiguousarray(block[index]).tobytes())
        self.frames += int(block.shape[1])


def _mix_to_mono(left_path: Path, right_path: Path) -> None:
    mixed_path = left_path.with_suffix(".mix")
    with (
        wave.open(str(left_path), "rb") as left,
        wave.open(str(right_path), "rb") as right,
    ):
        writer = _open_wav(mixed_path)
        try:
            while True:
                a = np.frombuffer(left.readframes(MIX_CHUNK_FRAMES), np.int16)
                b = np.frombuffer(right.readframes(MIX_CHUNK_FRAMES), np.int16)
                if a.size == 0:
                    break
                mixed = (a.astype(np.int32) + b[: a.size].astype(np.int32)) // 2
                writer.writeframes(mixed.astype(np.int16).tobytes())
        finally:
            writer.close()
    mixed_path.replace(left_path)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def read_wav(path: Path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    """Samples of a 16 kHz mono WAV between ``start`` and ``end`` seconds, as int16."""
    with wave.open(str(path), "rb") as reader:
        rate = reader.getframerate()
        first = int(start * rate)
        reader.setpos(min(first, reader.getnframes()))
        count = reader.getnframes() - first if end is None else int((end - start) * rate)
        return np.frombuffer(reader.readframes(max(count, 0)), np.int16)
