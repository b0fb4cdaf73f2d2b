"""Helper processes end with the process they work for, even when it is killed outright."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

DEADLINE_SECONDS = 60.0
ROOT = Path(__file__).resolve().parents[1]

# An ingest worker's offline transcriber, reduced to its process pool: two decoder processes
# (forked by the forkserver) each decode a clip; then it waits to be killed.
TRANSCRIBER = """
import asyncio, sys
from functools import partial
from ingest import sphinx_worker
from ingest.offline_stt import SphinxBatchTranscriber

async def main(path):
    executor = SphinxBatchTranscriber(workers=2)._executor()
    loop = asyncio.get_running_loop()
    decode = partial(sphinx_worker.decode_block, path, [(0.0, 0.5)])
    await asyncio.gather(*(loop.run_in_executor(executor, decode) for _ in range(4)))
    print("ready", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1]))
"""

# A process that ties itself to its parent with the fallback (no prctl), then waits.
WATCHED_CHILD = """
import time
from ingest import lifeline
lifeline._set_parent_death_signal = lambda: False
lifeline.POLL_SECONDS = 0.05
lifeline.die_with_parent()
print("ready", flush=True)
time.sleep(3600)
"""

# A parent that starts ``WATCHED_CHILD``, tells its pid, and waits.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "ready"
print(child.pid, flush=True)
time.sleep(3600)
"""


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a failed test can still stop all of it
    )


def _line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], DEADLINE_SECONDS)
    assert ready, "the process did not get ready"
    return process.stdout.readline().strip()


@contextlib.contextmanager
def _stopped_at_end(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def _identity(pid: int) -> str | None:
    """A process's start time (so a reused pid is not mistaken for it); None once it is
    gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _descendants(pid: int) -> dict[int, str]:
    found: dict[int, str] = {}
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in map(int, children.read_text().split()):
            identity = _identity(child)
            if identity is not None:
                found[child] = identity
                found.update(_descendants(child))
    return found


def _wait_until_gone(processes: dict[int, str]) -> dict[int, str]:
    """Polls until every process has ended; returns those still running at the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    left = dict(processes)
    while left and time.monotonic() < deadline:
        left = {pid: ident for pid, ident in left.items() if _identity(pid) == ident}
        time.sleep(0.05)
    return left


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.wav"
    samples = (np.sin(np.arange(16_000) / 10) * 3000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.tobytes())
    return path


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="lists processes via /proc")
def test_a_killed_worker_leaves_no_decoder_processes(clip: Path) -> None:
    with _stopped_at_end(_start("-c", TRANSCRIBER, str(clip))) as worker:
        assert _line(worker) == "ready"
        helpers = _descendants(worker.pid)
        forked = [pid for pid in helpers if "multiprocessing.forkserver" in _cmdline(pid)]
        assert len(forked) >= 2, "expected the forkserver and a decoder process"

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

        left = _wait_until_gone(helpers)
        assert not left, [_cmdline(pid)[:120] for pid in left]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="lists processes via /proc")
def test_without_prctl_a_watching_thread_ends_the_orphan() -> None:
    with _stopped_at_end(_start("-c", PARENT, WATCHED_CHILD)) as parent:
        child = int(_line(parent))
        identity = _identity(child)
        assert identity is not None

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)

        assert not _wait_until_gone({child: identity})


def test_a_helper_whose_owner_has_gone_ends_at_once() -> None:
    # Neither the parent (this test) nor its parent: as if the owner had ended already.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    code = f"from ingest.lifeline import die_with_parent; die_with_parent(owner={gone.pid})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL

    # Its owner's child (the forkserver's place): it lives on.
    code = f"from ingest.lifeline import die_with_parent; die_with_parent(owner={os.getppid()})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0
