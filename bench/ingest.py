"""Benchmarks the whole ingest job on generated recordings and prints figures.

    .venv/bin/python -m bench.ingest [--minutes 2 10] [--format wav mp4]

For each length, the scripted two-speaker sales call is rendered in two natural voices (Piper's
joe for the champion, flite's slt for the prospect; `tests.support.speech`), repeated to that
length, written as a stereo WAV (one speaker per channel, ``wav``), a mixed mono WAV (``mono``)
or a video with the mixed audio (``mp4``, ``mov``, ``avi``), and ingested in a fresh process on
the default providers (SQLite, embedded Qdrant, whisper base when the packaged models are
installed, else pocketsphinx). Reported: the transcriber used, seconds per step, extraction
speed as a multiple of real time, transcription real-time factor, whole-job time, word error
rate of the whole recording (in time order, and per speaker, which also counts words given to
the wrong speaker), and peak memory of the job process and of the job process plus any decoder
processes. Run two lengths to see whether memory stays flat as the recording grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# The project is imported inside the functions, not here: decoder processes re-import the
# main module, and a heavy one would inflate their memory (and these figures).


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


class _TreeMemory(threading.Thread):
    """Samples the summed RSS of this process and its descendants."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak_kb, self.running = root, 0, True

    def run(self) -> None:
        while self.running:
            total = _rss_kb(self.root) + sum(_rss_kb(p) for p in _descendants(self.root))
            self.peak_kb = max(self.peak_kb, total)
            time.sleep(0.2)


async def _run_one(path: Path, work: Path) -> dict[str, Any]:
    from sqlalchemy import select

    from ingest.intake import store_recording
    from ingest.progress import LocalProgressBus
    from memory.models import Champion, IngestJob, Transcript
    from memory.queries.users import create_user
    from memory.settings import Settings
    from web.cli_ingest import check_file
    from web.services import Storage

    settings = Settings(_env_file=None, data_dir=work / "data")  # type: ignore[call-arg]
    storage = await Storage.open(settings)

    async with storage.db.session() as session:
        # The bench's account never signs in, so it needs no real password hash.
        user = await create_user(session, email="bench@example.com", password_hash="-")  # noqa: S106
    validator = check_file(path, storage, settings.max_upload_bytes)
    info = validator.finish()
    champion, job = await store_recording(
        db=storage.db,
        media=storage.media,
        owner_id=user.id,
        incoming=validator.path,
        info=info,
        name="bench",
        display_name=path.name,
    )
    bus = LocalProgressBus()
    runner = storage.job_runner(bus, settings)
    subscription = await bus.subscribe(champion.id)
    memory = _TreeMemory(os.getpid())
    memory.start()
    started = time.perf_counter()
    task = asyncio.create_task(runner.run_job(job.id))
    step_started: dict[str, float] = {}
    while not task.done():
        event = await subscription.get(wait_seconds=0.05)
        if event and event.get("step") and event["step"] not in step_started:
            step_started[event["step"]] = time.perf_counter()
    await task
    total = time.perf_counter() - started
    memory.running = False
    names = list(step_started)
    steps = {
        name: round(
            (step_started[names[i + 1]] if i + 1 < len(names) else started + total)
            - step_started[name],
            2,
        )
        for i, name in enumerate(names)
    }
    async with storage.db.session() as session:
        row = await session.get(IngestJob, job.id)
        stored = await session.get(Champion, champion.id)
        transcript = await session.scalar(
            select(Transcript).where(Transcript.champion_id == champion.id)
        )
    assert row is not None and stored is not None
    result = {
        "status": row.status,
        "error": row.error,
        "provider": transcript.provider if transcript else None,
        "segments": [
            {"speaker": s["speaker"], "start": s["start"], "text": s["text"]}
            for s in (transcript.segments if transcript else [])
        ],
        "audio_seconds": stored.duration_seconds,
        "steps": steps,
        "total_seconds": round(total, 2),
        "job_process_peak_mb": round(_rss_kb(os.getpid(), "VmHWM") / 1024),
        "process_tree_peak_mb": round(memory.peak_kb / 1024),
        "patterns": await _count_patterns(storage, champion.id),
    }
    await storage.close()
    return result


async def _count_patterns(storage: Any, champion_id: str) -> int:
    from sqlalchemy import func, select

    from memory.models import Pattern

    async with storage.db.session() as session:
        query = select(func.count()).select_from(Pattern).where(Pattern.champion_id == champion_id)
        return int(await session.scalar(query) or 0)


def _make_recording(minutes: float, fmt: str, folder: Path) -> tuple[Path, Any]:
    from tests.support.dialogue import (
        render_call,
        repeat_call,
        write_mono_wav,
        write_stereo_wav,
        write_video,
    )

    call = repeat_call(render_call(), minutes)
    if fmt == "wav":
        return write_stereo_wav(call, folder / f"call-{minutes:g}min-stereo.wav"), call
    if fmt == "mono":
        return write_mono_wav(call, folder / f"call-{minutes:g}min-mono.wav"), call
    return write_video(call, folder / f"call-{minutes:g}min.{fmt}"), call


def _word_error_rates(call: Any, segments: list[dict[str, Any]]) -> tuple[float, float]:
    """WER of the whole transcript in time order, and summed over the two speakers (the
    champion is "S0", who speaks first; a word heard for the wrong speaker counts as wrong)."""
    from tests.support.wer import normalize, word_errors

    said = normalize(" ".join(t.text for t in call.turns))
    heard = normalize(" ".join(s["text"] for s in sorted(segments, key=lambda s: s["start"])))
    in_order = word_errors(said, heard) / len(said)
    errors = 0
    for role, label in (("champion", "S0"), ("prospect", "S1")):
        role_said = normalize(" ".join(t.text for t in call.turns if t.speaker == role))
        role_heard = normalize(" ".join(s["text"] for s in segments if s["speaker"] == label))
        errors += word_errors(role_said, role_heard)
    return in_order, errors / len(said)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 10])
    parser.add_argument(
        "--format", nargs="+", default=["wav", "mp4"], choices=["wav", "mono", "mp4", "mov", "avi"]
    )
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # child process: ingest one file and print the figures as JSON
        with tempfile.TemporaryDirectory(prefix="cc-bench-job-") as work:
            print(json.dumps(asyncio.run(_run_one(args.one, Path(work)))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as folder:
        for minutes in args.minutes:
            for fmt in args.format:
                rows.append(_bench_one(minutes, fmt, Path(folder)))
    print(
        "\n| call | upload | transcriber | job time | transcription RTF | WER (time order) "
        "| WER (per speaker) | peak memory |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _bench_one(minutes: float, fmt: str, folder: Path) -> list[str]:
    made = time.perf_counter()
    path, call = _make_recording(minutes, fmt, folder)
    print(
        f"\n{minutes:g} min {fmt} ({path.stat().st_size / 1e6:.1f} MB, "
        f"generated in {time.perf_counter() - made:.0f} s)"
    )
    child = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--one", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    audio = figures["audio_seconds"]
    steps = figures["steps"]
    rtf = steps.get("transcribe", 0) / audio
    in_order, per_speaker = _word_error_rates(call, figures["segments"])
    print(f"  status {figures['status']} {figures['error'] or ''}".rstrip())
    print(f"  transcriber: {figures['provider']}")
    print("  seconds per step: " + ", ".join(f"{k} {v}" for k, v in steps.items()))
    print(f"  extraction: {audio / max(steps.get('extract', 0), 1e-3):.0f}x real time")
    print(f"  transcription real-time factor: {rtf:.3f}")
    print(f"  word error rate: {in_order:.1%} in time order, {per_speaker:.1%} per speaker")
    print(
        f"  whole job: {figures['total_seconds']} s for {audio / 60:.1f} min of audio "
        f"({figures['patterns']} patterns)"
    )
    print(
        f"  peak memory: job process {figures['job_process_peak_mb']} MB, "
        f"with decoder processes {figures['process_tree_peak_mb']} MB"
    )
    upload = {"wav": "stereo WAV", "mono": "mixed mono WAV"}.get(fmt, f"{fmt} (mixed mono)")
    return [
        f"{audio / 60:.1f} min",
        upload,
        str(figures["provider"]),
        f"{figures['total_seconds']:.0f} s",
        f"{rtf:.2f}",
        f"{in_order:.1%}",
        f"{per_speaker:.1%}",
        f"{figures['process_tree_peak_mb']} MB",
    ]


if __name__ == "__main__":
    main()
