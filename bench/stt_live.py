"""Benchmarks SphinxSTTService with N concurrent simulated sessions in one process.

    .venv/bin/python -m bench.stt_live [--sessions 1 5 8] [--utterances 4] [--speed 1.0]

Each session is a real Pipecat pipeline (`SphinxSTTService` and a collector) fed 20 ms
input frames on a real-time schedule (``--speed 2`` feeds twice as fast): a sentence spoken by
espeak-ng at a microphone level, the VAD's start 200 ms into the speech (as Silero with
``start_secs=0.2`` reports it), its stop after 200 ms of trailing silence, then a pause.
Sessions start staggered so their utterances do not line up.

Printed per session count: finalize latency (VAD stop queued -> TranscriptionFrame out)
p50/p95, process CPU as a percentage of one core while the sessions run, the share of that
time the sessions spent speaking, the worst lateness of the 20 ms feed schedule (a sign the
event loop is saturated), and memory: resident-set growth per session with the decoder pool,
and how many decoders the pool built. Transcripts are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

SENTENCES = (
    "what is the biggest problem your team has right now",
    "walk me through how your team handles onboarding today",
    "we already use a different vendor for that",
    "how much does it cost and when can we start",
)
RATE = 16_000
FRAME_SECS = 0.02
VAD_START_SECS, VAD_STOP_SECS, PAUSE_SECS = 0.2, 0.2, 0.8
MIC_LEVEL = 0.25


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _speech() -> list[bytes]:
    import soxr

    from ingest.espeak import SAMPLE_RATE, synthesize

    out = []
    for text in SENTENCES:
        samples = soxr.resample(synthesize(text), SAMPLE_RATE, RATE) * MIC_LEVEL
        out.append(samples.astype(np.int16).tobytes())
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Session:
    """One pipeline: SphinxSTTService -> collector, fed on a real-time schedule."""

    def __init__(self, pool: Any, speech: list[bytes], args: argparse.Namespace) -> None:
        from pipecat.frames.frames import Frame, TranscriptionFrame
        from pipecat.pipeline.pipeline import Pipeline
        from pipecat.pipeline.worker import PipelineParams, PipelineWorker
        from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
        from pipecat.workers.runner import WorkerRunner

        from pipelines.services.sphinx.stt import SphinxSTTService

        session = self

        class Collector(FrameProcessor):
            async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
                await super().process_frame(frame, direction)
                if isinstance(frame, TranscriptionFrame) and session.stop_sent is not None:
                    session.latencies.append(time.perf_counter() - session.stop_sent)
                    session.stop_sent = None
                await self.push_frame(frame, direction)

        interim = None if args.no_interim else 0.3
        stt = SphinxSTTService(pool=pool, interim_interval_secs=interim)
        self.worker = PipelineWorker(
            Pipeline([stt, Collector()]),
            params=PipelineParams(audio_in_sample_rate=RATE),
            cancel_on_idle_timeout=False,
            enable_rtvi=False,
        )
        self.runner = WorkerRunner(handle_sigint=False)
        self.speech, self.args = speech, args
        self.latencies: list[float] = []
        self.missing = 0
        self.stop_sent: float | None = None
        self.max_lateness = 0.0
        self.speaking_secs = 0.0
        self.running: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Starts the pipeline and returns once it is running."""
        await self.runner.add_workers(self.worker)
        started = asyncio.Event()
        self.worker.event_handler("on_pipeline_started")(lambda *_: started.set())
        self.running = asyncio.create_task(self.runner.run())
        await asyncio.wait_for(started.wait(), timeout=30)

    async def feed(self, offset: float) -> None:
        """Speaks the utterances after ``offset`` seconds, then ends the pipeline."""
        from pipecat.frames.frames import (
            EndFrame,
            InputAudioRawFrame,
            VADUserStartedSpeakingFrame,
            VADUserStoppedSpeakingFrame,
        )

        await asyncio.sleep(offset)
        step = int(RATE * FRAME_SECS) * 2
        silence = bytes(step)
        clock, t0 = 0.0, time.perf_counter()

        async def send(frame: Any) -> None:
            await self.worker.queue_frame(frame)

        async def tick() -> None:
            nonlocal clock
            clock += FRAME_SECS / self.args.speed
            delay = t0 + clock - time.perf_counter()
            self.max_lateness = max(self.max_lateness, -delay)
            await asyncio.sleep(max(0.0, delay))

        for n in range(self.args.utterances):
            pcm = self.speech[n % len(self.speech)]
            self.speaking_secs += len(pcm) / 2 / RATE
            for i in range(0, len(pcm), step):
                if i == int(VAD_START_SECS * RATE) * 2:
                    await send(VADUserStartedSpeakingFrame(start_secs=VAD_START_SECS))
                await send(InputAudioRawFrame(pcm[i : i + step].ljust(step, b"\0"), RATE, 1))
                await tick()
            for i in range(int((VAD_STOP_SECS + PAUSE_SECS) / FRAME_SECS)):
                if i == int(VAD_STOP_SECS / FRAME_SECS):
                    if self.stop_sent is not None:
                        self.missing += 1  # the previous utterance gave no transcript
                    self.stop_sent = time.perf_counter()
                    await send(VADUserStoppedSpeakingFrame(stop_secs=VAD_STOP_SECS))
                await send(InputAudioRawFrame(silence, RATE, 1))
                await tick()
        await send(EndFrame())
        if self.running is not None:
            await self.running
        if self.stop_sent is not None:
            self.missing += 1


async def _round(n: int, pool: Any, speech: list[bytes], args: argparse.Namespace) -> None:
    rss_before = _rss_mb()
    created_before = pool.created
    sessions = [_Session(pool, speech, args) for _ in range(n)]
    await asyncio.gather(*(s.start() for s in sessions))
    rng = random.Random(n)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(s.feed(rng.uniform(0, 1.5)) for s in sessions))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    latencies = [x * 1000 for s in sessions for x in s.latencies]
    missing = sum(s.missing for s in sessions)
    speaking = sum(s.speaking_secs for s in sessions) / n / args.speed
    lateness = max(s.max_lateness for s in sessions) * 1000
    rss_after = _rss_mb()
    print(
        f"N={n:<3} finalize p50 {_pct(latencies, 0.5):6.1f} ms  p95 {_pct(latencies, 0.95):6.1f} ms"
        f"  (utterances {len(latencies)}, no transcript {missing})"
    )
    print(
        f"       CPU {100 * cpu / wall:5.1f}% of one core over {wall:.1f} s"
        f" (sessions speaking {100 * speaking / wall:.0f}% of it;"
        f" {100 * cpu / wall / n:.1f}% per session)  feed lateness max {lateness:.0f} ms"
    )
    print(
        f"       RSS {rss_after:.0f} MB (+{rss_after - rss_before:.0f} MB this round),"
        f" peak {_rss_mb('VmHWM'):.0f} MB; decoders built this round"
        f" {pool.created - created_before}, pool total {pool.created}, idle {pool.idle}"
    )
    if latencies:
        print(f"       mean finalize {statistics.fmean(latencies):.1f} ms")


async def _main(args: argparse.Namespace) -> None:
    from loguru import logger

    logger.remove()  # pipecat's DEBUG lines would swamp the figures (and cost CPU)
    from pipelines.services.sphinx.pool import DecoderPool

    speech = _speech()
    largest = max(args.sessions)
    pool = DecoderPool(max_idle=largest)
    baseline = _rss_mb()
    started = time.perf_counter()
    await pool.prewarm(largest)
    warm = _rss_mb()
    print(
        f"prewarm: {largest} decoders in {time.perf_counter() - started:.2f} s;"
        f" RSS {baseline:.0f} -> {warm:.0f} MB ({(warm - baseline) / largest:.0f} MB per decoder)"
    )
    for n in args.sessions:
        await _round(n, pool, speech, args)
    per_session = (_rss_mb("VmHWM") - baseline) / largest
    print(f"peak RSS growth per session (N={largest}, pooled decoders): {per_session:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 8])
    parser.add_argument("--utterances", type=int, default=4, help="per session")
    parser.add_argument("--speed", type=float, default=1.0, help="1.0 = real time")
    parser.add_argument("--no-interim", action="store_true", help="no interim transcripts")
    args = parser.parse_args()
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
