"""The offline transcriber: pocketsphinx over Silero-VAD-cut regions, in worker processes.

Each channel is cut into speech regions, and the regions are decoded in parallel by a pool
of processes that each hold one decoder (pocketsphinx holds the GIL while it decodes).
The pool lives as long as the transcriber, so decoders load once, not once per job.
Output is lower-case and unpunctuated, as pocketsphinx gives it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from ingest import sphinx_worker
from ingest.diarize import diarize
from ingest.types import ExtractedAudio, ProgressCallback, Segment, TranscriptResult, Word
from ingest.vad import SpeechRegion, VadSettings, speech_regions

BLOCK_REGIONS = 4  # consecutive regions decoded together (see sphinx_worker.decode_block)


def _by_channel(
    block: list[tuple[int, SpeechRegion, str]],
) -> list[list[tuple[int, SpeechRegion, str]]]:
    parts: list[list[tuple[int, SpeechRegion, str]]] = []
    for item in block:
        if parts and parts[-1][0][0] == item[0]:
            parts[-1].append(item)
        else:
            parts.append([item])
    return parts


class SphinxBatchTranscriber:
    """Transcribes recordings with pocketsphinx, offline.

    Args:
        workers: decoder processes (default: one per CPU core).
        vad: how speech regions are cut.
        fwdflat: pocketsphinx's second search pass (slower, a little more accurate).
    """

    name = "offline"

    def __init__(
        self, *, workers: int | None = None, vad: VadSettings = VadSettings(), fwdflat: bool = True
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.vad = vad
        self.fwdflat = fwdflat
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # The forkserver, and each decoder process it forks, ends with this process
            # even when it is killed outright (`ingest.lifeline`).
            context.set_forkserver_preload(["ingest.forkserver_preload", "ingest.sphinx_worker"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=sphinx_worker.init_worker,
                initargs=(self.fwdflat, os.getpid()),
            )
        return self._pool

    async def transcribe(
        self, audio: ExtractedAudio, *, on_progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        """Transcribes every channel. With two channels, channel N is speaker "SN"; a single
        channel is diarized into one or two voices."""
        per_channel = [
            await asyncio.to_thread(speech_regions, path, self.vad) for path in audio.channels
        ]
        jobs = [(index, region) for index, regions in enumerate(per_channel) for region in regions]
        if len(audio.channels) == 1:
            labels = await asyncio.to_thread(diarize, audio.channels[0], per_channel[0])
        else:
            labels = [f"S{index}" for index, _region in jobs]
        total = sum(region.duration for _i, region in jobs) or 1.0
        loop = asyncio.get_running_loop()
        executor = self._executor()
        done_seconds = 0.0

        async def decode(block: list[tuple[int, SpeechRegion, str]]) -> list[Segment]:
            nonlocal done_seconds
            channel = str(audio.channels[block[0][0]])
            spans = [(region.start, region.end) for _i, region, _s in block]
            call = partial(sphinx_worker.decode_block, channel, spans)
            decoded = await loop.run_in_executor(executor, call)
            done_seconds += sum(region.duration for _i, region, _s in block)
            if on_progress is not None:
                await on_progress(min(done_seconds / total, 1.0))
            return [
                Segment(
                    start=words[0][1],
                    end=words[-1][2],
                    speaker=speaker,
                    text=text,
                    words=[Word(w, s, e) for w, s, e in words],
                )
                for (_i, _region, speaker), (text, words) in zip(block, decoded, strict=True)
                if words
            ]

        labelled = [(i, r, label) for (i, r), label in zip(jobs, labels, strict=True)]
        blocks = [labelled[n : n + BLOCK_REGIONS] for n in range(0, len(labelled), BLOCK_REGIONS)]
        # A block never spans two channels: split where the channel changes.
        blocks = [part for block in blocks for part in _by_channel(block)]
        results = [s for found in await asyncio.gather(*map(decode, blocks)) for s in found]
        segments = sorted(results, key=lambda s: (s.start, s.speaker))
        return TranscriptResult(segments=segments, provider=self.name, language="en")

    def close(self) -> None:
        """Stops the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
