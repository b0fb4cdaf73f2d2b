"""Batch transcription with a local faster-whisper model, with speakers.

A two-speaker stereo call is "S0" (left) and "S1" (right), one speaker per channel. A mono
recording is diarized as the offline transcriber does it: Silero VAD cuts speech regions,
`ingest.diarize` labels them by voice, and each of whisper's words goes to the speaker whose
region it falls in (a segment is split where the speaker changes; `ingest.speaker_turns`).

Memory stays flat in the recording's length: each channel is read and decoded in blocks of at
most a few minutes, cut in the silences between speech regions, so no word is cut and only one
block's audio and features are in memory at a time. The model runs on a worker thread so the
event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ingest.diarize import diarize
from ingest.extract import read_wav
from ingest.provider_errors import ProviderError
from ingest.speaker_turns import RegionSpeakers, join_unfinished, split_by_speaker
from ingest.types import ExtractedAudio, ProgressCallback, Segment, TranscriptResult, Word
from ingest.vad import SpeechRegion, VadSettings, speech_regions
from ingest.whisper_models import shared_whisper_models

logger = logging.getLogger(__name__)

PROVIDER = "whisper"
BLOCK_SPEECH_SECONDS = 60.0  # speech decoded per block (two of whisper's 30 s windows)
BLOCK_SPAN_SECONDS = 180.0  # and at most this much of the recording read at once
VAD_SHARE = 0.05  # of the progress bar: finding and labelling speech regions
RegionFinder = Callable[[Path], list[SpeechRegion]]


def speech_blocks(
    regions: list[SpeechRegion],
    *,
    speech_seconds: float = BLOCK_SPEECH_SECONDS,
    span_seconds: float = BLOCK_SPAN_SECONDS,
) -> list[SpeechRegion]:
    """Consecutive regions grouped into blocks, each cut in a silence between two regions.

    A block holds at most ``speech_seconds`` of speech and spans at most ``span_seconds``
    (a single region longer than either is a block of its own).
    """
    blocks: list[SpeechRegion] = []
    current: list[SpeechRegion] = []
    speech = 0.0
    for region in regions:
        if current and (
            speech + region.duration > speech_seconds
            or region.end - current[0].start > span_seconds
        ):
            blocks.append(SpeechRegion(current[0].start, current[-1].end))
            current, speech = [], 0.0
        current.append(region)
        speech += region.duration
    if current:
        blocks.append(SpeechRegion(current[0].start, current[-1].end))
    return blocks


class WhisperTranscriber:
    """`Transcriber` backed by faster-whisper with word timestamps and VAD filtering.

    Args:
        model: a model name ("small", "large-v3", a Hugging Face repo id) or a local folder.
        language: an ISO language code; None lets the model detect it.
        beam_size: the decoder's beam size.
        device: where CTranslate2 runs the model ("cpu", "cuda", "auto").
        compute_type: the CTranslate2 compute type ("int8" suits a CPU).
        local_files_only: never download; the model must be a folder or already cached.
        model_factory: builds the model from ``model``; the default takes it from the
            process-wide model cache (one loaded copy shared with live calls), or, when
            downloads are allowed, builds a ``faster_whisper.WhisperModel``. Tests pass a fake.
        model_name: the name to report for the model (``model`` when None), e.g. "base"
            for a packaged model's folder.
        vad: how speech regions are cut (for blocks, and for diarizing a mono recording).
        find_regions: finds the speech regions of a channel file; the default runs Silero
            VAD with ``vad``. Tests pass fixed regions.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        model: str = "small",
        language: str | None = None,
        beam_size: int = 5,
        device: str = "cpu",
        compute_type: str = "int8",
        local_files_only: bool = True,
        model_factory: Callable[[str], Any] | None = None,
        model_name: str | None = None,
        vad: VadSettings = VadSettings(),
        find_regions: RegionFinder | None = None,
    ) -> None:
        self._model_name = model
        self.model_name = model_name or model
        self._language = language
        self._beam_size = beam_size
        self._device = device
        self._compute_type = compute_type
        self._local_files_only = local_files_only
        self._factory = model_factory or self._build_model
        self._model: Any = None
        self._lock = threading.Lock()
        self._find_regions = find_regions or (lambda path: speech_regions(path, vad))

    async def transcribe(
        self, audio: ExtractedAudio, *, on_progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        """Transcribes every channel with speakers, merged in time order.

        A single channel is diarized into one or two voices; with two channels, channel N is
        speaker "SN". ``on_progress`` hears the fraction done (in steps of at least 1%), from
        the worker thread by way of the event loop.

        Raises:
            ProviderError: the model could not be loaded (not retryable).
        """
        loop = asyncio.get_running_loop()
        reported = 0.0

        async def report(fraction: float) -> None:
            if on_progress is not None:
                await on_progress(fraction)

        def progress(fraction: float) -> None:
            nonlocal reported
            fraction = min(fraction, 1.0)
            if on_progress is not None and fraction - reported >= 0.01:
                reported = fraction
                asyncio.run_coroutine_threadsafe(report(fraction), loop).result()

        result = await asyncio.to_thread(self._transcribe_sync, audio.channels, progress)
        if on_progress is not None:
            await on_progress(1.0)
        return result

    def _transcribe_sync(
        self, channels: list[Path], progress: Callable[[float], None]
    ) -> TranscriptResult:
        model = self._load()
        logger.info("whisper transcription started")
        # Speech regions (and, on one channel, who speaks each) before any decoding.
        per_channel: list[list[SpeechRegion]] = []
        for index, path in enumerate(channels):
            per_channel.append(self._find_regions(path))
            progress(VAD_SHARE * (index + 1) / len(channels))
        speakers: RegionSpeakers | None = None
        if len(channels) == 1 and per_channel[0]:
            labels = diarize(channels[0], per_channel[0])
            if len(set(labels)) > 1:
                speakers = RegionSpeakers(per_channel[0], labels)

        blocks = [
            (i, block) for i, regions in enumerate(per_channel) for block in speech_blocks(regions)
        ]
        total = sum(block.duration for _i, block in blocks) or 1.0
        done = 0.0
        segments: list[Segment] = []
        language: str | None = None
        for index, block in blocks:
            samples = read_wav(channels[index], block.start, block.end)
            found, info = model.transcribe(
                samples.astype(np.float32) / 32768.0,
                # The first block's detected language holds for the rest of the recording.
                language=self._language or language,
                beam_size=self._beam_size,
                word_timestamps=True,
                vad_filter=True,
            )
            # faster-whisper decodes lazily: the work happens while the iterator is consumed.
            for item in found:
                segment = _segment(item, speaker=f"S{index}", offset=block.start)
                if segment is not None:
                    segments.extend(split_by_speaker(segment, speakers))
                seconds = done + min(float(item.end), block.duration)
                progress(VAD_SHARE + (1 - VAD_SHARE) * seconds / total)
            done += block.duration
            language = language or getattr(info, "language", None)
        logger.info("whisper transcription finished")
        segments.sort(key=lambda s: (s.start, s.speaker))
        return TranscriptResult(join_unfinished(segments), PROVIDER, self._language or language)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                logger.info("loading the whisper model")
                try:
                    self._model = self._factory(self._model_name)
                except Exception as exc:  # the model library raises many kinds
                    raise ProviderError(
                        PROVIDER, "the speech model could not be loaded", retryable=False
                    ) from exc
            return self._model

    def _build_model(self, model: str) -> Any:
        if self._local_files_only:
            return shared_whisper_models().get(
                model, device=self._device, compute_type=self._compute_type
            )
        from faster_whisper import WhisperModel

        return WhisperModel(
            model,
            device=self._device,
            compute_type=self._compute_type,
            local_files_only=self._local_files_only,
        )


def _segment(item: Any, *, speaker: str, offset: float = 0.0) -> Segment | None:
    """One of whisper's segments, its times moved by ``offset`` seconds (the block's start)."""
    text = str(item.text).strip()
    if not text:
        return None
    words = [
        Word(str(w.word).strip(), round(offset + w.start, 3), round(offset + w.end, 3))
        for w in item.words or []
        if str(w.word).strip()
    ]
    start, end = round(offset + item.start, 3), round(offset + item.end, 3)
    return Segment(start, end, speaker, text, words)
