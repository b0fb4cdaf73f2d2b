"""Live-call voices compared: the packaged Piper voice (its own server process) and espeak-ng.

The machine's load average is printed first: on a shared machine the figures scale with it.

For each engine: the first-audio latency of a one-sentence reply in a Pipecat pipeline (the
service's TTFB metric: sentence handed to the service to its first audio frame), the
real-time factor (synthesis time / audio length) over a paragraph, and memory (Piper: the
server process's resident set; espeak-ng: what loading it adds to this process). Piper's
cold start (process start to voice loaded) is printed too. Needs the voice installed
(``champion-clone models install``)::

    .venv/bin/python -m bench.tts_voices [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from loguru import logger
from pipecat.frames.frames import MetricsFrame, TTSAudioRawFrame, TTSSpeakFrame
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.pipeline.worker import PipelineParams
from pipecat.services.tts_service import TTSService
from pipecat.tests.utils import run_test

from ingest.espeak import synthesize
from ingest.packaged_models import PIPER_JOE, installed_model
from pipelines.services.espeak.tts import EspeakTTSService
from pipelines.services.live import PIPER_VOICE_FILE
from pipelines.services.piper.server import PiperServer
from pipelines.services.piper.tts import PiperTTSService
from pipelines.services.piper.voice import piper_shape_for_profile

RATE = 24_000
SENTENCE = "Walk me through how your team handles onboarding today."
# A long one-sentence reply with a clause break, which Piper speaks as two requests.
LONG_SENTENCE = (
    "Honestly, it's slow and manual, and new people take far too long to get up to speed."
)
PARAGRAPH = (
    "Honestly, the price is the main thing holding us back at the moment. "
    "We looked at two other tools last quarter and both came in cheaper. "
    "If you can show me how this pays for itself within a year, I can take it to my manager. "
    "Otherwise I think we will wait until the budget is set in the spring."
)
SHAPED_PROFILE = {"median_pitch_hz": 120.0, "speaking_rate_wpm": 160.0}


def rss_mb(pid: int | str = "self") -> float:
    """Resident set of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def first_audio_secs(
    build: Callable[[], TTSService], sentence: str = SENTENCE
) -> tuple[float, float]:
    """(TTFB in seconds, audio seconds) of one sentence through a fresh service."""
    down, _ = await run_test(
        build(),
        frames_to_send=[TTSSpeakFrame(sentence)],
        pipeline_params=PipelineParams(audio_out_sample_rate=RATE, enable_metrics=True),
    )
    ttfb = [
        d.value
        for f in down
        if isinstance(f, MetricsFrame)
        for d in f.data
        if isinstance(d, TTFBMetricsData) and d.value > 0
    ]
    audio = sum(f.num_frames for f in down if isinstance(f, TTSAudioRawFrame)) / RATE
    return (ttfb[0] if ttfb else float("nan")), audio


def summary(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"median {statistics.median(values) * 1000:6.0f} ms, p90 {p90 * 1000:6.0f} ms"


async def main(runs: int) -> None:
    logger.remove()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    folder = installed_model(PIPER_JOE.name)
    if folder is None:
        raise SystemExit("the Piper voice is not installed: run `champion-clone models install`")
    model = folder / PIPER_VOICE_FILE
    server = PiperServer(model)
    before = rss_mb()
    synthesize("Warm up.")
    espeak_loaded = rss_mb() - before

    started = time.perf_counter()
    server.ensure_running()
    cold = time.perf_counter() - started
    print(f"piper server cold start (process start to voice loaded): {cold:.2f} s")
    pid = server.pid
    assert pid is not None
    print(f"piper server memory after start: {rss_mb(pid):.0f} MB RSS")

    shape = piper_shape_for_profile(SHAPED_PROFILE)
    assert shape is not None
    engines: dict[str, Callable[[], TTSService]] = {
        "piper (natural)": lambda: PiperTTSService(model=model, server=server),
        "piper (shaped to 120 Hz, 160 wpm)": lambda: PiperTTSService(
            model=model, server=server, shape=shape
        ),
        "espeak-ng": EspeakTTSService,
    }
    for name, build in engines.items():
        await first_audio_secs(build)  # warm-up
        results = [await first_audio_secs(build) for _ in range(runs)]
        ttfbs = [r[0] for r in results]
        print(
            f"first audio, one sentence ({results[0][1]:.2f} s of speech), {name:34s}: "
            f"{summary(ttfbs)}"
        )

    # A long sentence whole and split after its first clause, the runs interleaved so that
    # both see the same load.
    variants: dict[str, Callable[[], TTSService]] = {
        "piper, long sentence whole": lambda: PiperTTSService(
            model=model, server=server, split_first_clause=False
        ),
        "piper, long sentence split": lambda: PiperTTSService(model=model, server=server),
    }
    long_results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for build in variants.values():
        await first_audio_secs(build, LONG_SENTENCE)  # warm-up
    for _ in range(runs):
        for name, build in variants.items():
            long_results[name].append(await first_audio_secs(build, LONG_SENTENCE))
    for name, results in long_results.items():
        print(
            f"first audio, one sentence ({results[0][1]:.2f} s of speech), {name:34s}: "
            f"{summary([r[0] for r in results])}"
        )
    whole, split = (statistics.median(r[0] for r in rs) for rs in long_results.values())
    print(f"first audio of the long sentence, split / whole: {split / whole:.2f}")

    # Real-time factor over a paragraph (the request as the service sends it, one sentence
    # at a time, so this is what a long reply costs).
    sentences = [s.strip() + "." for s in PARAGRAPH.split(".") if s.strip()]
    piper_secs = audio_secs = 0.0
    sentence_secs: list[float] = []
    for _ in range(runs):
        service = PiperTTSService(model=model, server=server)
        async with _session(service):
            begun = time.perf_counter()
            await service._piper(SENTENCE)
            sentence_secs.append(time.perf_counter() - begun)
            for sentence in sentences:
                begun = time.perf_counter()
                samples, rate = await service._piper(sentence)
                piper_secs += time.perf_counter() - begun
                audio_secs += samples.size / rate
    print(f"one sentence, piper request alone: {summary(sentence_secs)}")
    print(
        f"real-time factor, piper:     {piper_secs / audio_secs:.3f} ({audio_secs:.1f} s of audio)"
    )
    espeak_secs = espeak_audio = 0.0
    for _ in range(runs):
        for sentence in sentences:
            begun = time.perf_counter()
            samples16 = synthesize(sentence)
            espeak_secs += time.perf_counter() - begun
            espeak_audio += samples16.size / 22050
    print(f"real-time factor, espeak-ng: {espeak_secs / espeak_audio:.4f}")
    print(f"piper server memory after the runs: {rss_mb(pid):.0f} MB RSS")
    print(f"espeak-ng memory (added to this process when loaded): {espeak_loaded:.1f} MB")
    print(
        f"this process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    server.stop()


class _session:
    """Opens and closes a service's HTTP session outside a pipeline."""

    def __init__(self, service: PiperTTSService) -> None:
        self._service = service

    async def __aenter__(self) -> PiperTTSService:
        return self._service

    async def __aexit__(self, *exc: object) -> None:
        if self._service._session is not None:
            await self._service._session.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
