"""Benchmarks the whole offline ingest job on generated recordings and prints figures.

    .venv/bin/python -m bench.ingest [--minutes 2 10] [--format mp4]

For each length, a two-speaker sales call is rendered with the offline TTS, repeated to
that length, muxed into the container, and ingested in a fresh process (SQLite, embedded
Qdrant, offline providers). Reported: seconds per step, extraction speed as a multiple of
real time, transcription real-time factor, whole-job time, and peak memory of the job
process and of the job process plus its decoder processes. Run two lengths to see
whether memory stays flat as the recording grows.
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
    from ingest.intake import store_recording
    from ingest.progress import LocalProgressBus
    from memory.models import Champion, IngestJob
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
    assert row is not None and stored is not None
    result = {
        "status": row.status,
        "error": row.error,
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


def _make_recording(minutes: float, fmt: str, folder: Path) -> Path:
    from tests.dialogue import render_call, repeat_call, write_stereo_wav, write_video

    call = repeat_call(render_call(), minutes)
    path = folder / f"call-{minutes:g}min.{fmt}"
    if fmt == "wav":
        return write_stereo_wav(call, path)
    return write_video(call, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 10])
    parser.add_argument("--format", default="mp4", choices=["mp4", "mov", "avi", "wav"])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # child process: ingest one file and print the figures as JSON
        with tempfile.TemporaryDirectory(prefix="cc-bench-job-") as work:
            print(json.dumps(asyncio.run(_run_one(args.one, Path(work)))))
        return
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as folder:
        for minutes in args.minutes:
            made = time.perf_counter()
            path = _make_recording(minutes, args.format, Path(folder))
            print(
                f"\n{minutes:g} min {args.format} ({path.stat().st_size / 1e6:.1f} MB, "
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
            print(f"  status {figures['status']} {figures['error'] or ''}".rstrip())
            print("  seconds per step: " + ", ".join(f"{k} {v}" for k, v in steps.items()))
            print(f"  extraction: {audio / max(steps.get('extract', 0), 1e-3):.0f}x real time")
            print(
                f"  transcription real-time factor: {steps.get('transcribe', 0) / audio:.3f} "
                "(2 decoder processes)"
            )
            print(
                f"  whole job: {figures['total_seconds']} s for {audio / 60:.1f} min of audio "
                f"({figures['patterns']} patterns)"
            )
            print(
                f"  peak memory: job process {figures['job_process_peak_mb']} MB, "
                f"with decoder processes {figures['process_tree_peak_mb']} MB"
            )


if __name__ == "__main__":
    main()
