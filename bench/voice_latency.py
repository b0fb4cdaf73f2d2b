"""Benchmarks voice-to-voice latency of live training calls over WebRTC on loopback.

    .venv/bin/python -m bench.voice_latency [--calls 1 4] [--turns 6] [--processes 0]
        [--stagger 6] [--postgres postgresql://postgres@127.0.0.1:5432] [--voice piper]
        [--cpu-hog N] [--server-pythonpath DIR]

For each call count N a fresh server subprocess (`champion-clone serve` on its defaults,
temporary DATA_DIR) is started; with `--processes P` (P > 0) it gets `CALL_PROCESSES=P`, so it
starts P call processes (`web.call_server`) as children and the calls run there. This process
signs up N users over HTTP, seeds a ready champion per user in the server's SQLite file (or,
with `--postgres`, in a fresh PostgreSQL database dropped afterwards: call processes writing
to one SQLite file wait for its lock),
starts N sessions and runs N concurrent aiortc calls. Their starts are spread evenly over
`--stagger` seconds (call i starts after i * stagger / N s; default 6, 0 = all at once), so
the calls are not in lockstep. Each call waits for the greeting to end (1 s without loud
audio), then per turn says a line, alternating discovery questions and statements, in a
natural voice (`tests.support.voices`: Piper by default, or a flite voice), and measures v2v
at the client: from the frame holding the last speech sample to the first received frame
with |x| > 500, then waits until the bot has been quiet for 1 s. The server's own
"turn-latency" messages are collected too. The server uses its defaults: with the models
installed (`champion-clone models install`) that is whisper tiny.en for the trainee.

The way in (inbound lag) is the client's end of speech to the end of speech the server's VAD
placed (one machine, one clock): it grows when the server cannot keep up with the audio.
``--cpu-hog N`` runs N busy processes beside the server for the whole run (each stops by
itself after ``--hog-secs``), as other work on the machine would.
``--server-pythonpath DIR`` runs the server from another checkout of the code (e.g. a
``git worktree`` of an older commit) to compare before and after.

Server CPU and memory are over the server's whole process tree: its pid and every
descendant (found through /proc/<pid>/task/*/children). The measured window runs from the
first call's start to the last call's end. CPU is utime + stime summed over the processes
that exist both at the start and at the end of the window. RSS is the tree's total VmRSS:
"idle" just before the calls start (sessions prepared), "peak" the highest total of samples
taken every 0.5 s during the calls; each process's own peak is printed too.

Printed per N: client v2v p50/p95, server-observed latency p50/p95 and the p50 of each part
of its breakdown, server CPU (% of one core over the window, and that divided by N), server
CPU per call while in a call (CPU seconds / the sum of the calls' durations, which does not
depend on how much the calls overlap), server peak RSS and its growth per call over idle,
the server's processes and their peak RSS, this process's CPU, and turns measured / missed.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np

SENTENCES = (
    "What is the biggest problem your team has right now?",
    "We help fleets like yours cut their fuel costs.",
    "How do you measure success for your drivers?",
    "I understand your concern about the price.",
    "Who else is involved when you choose a new vendor?",
    "Our customers usually see results within a month.",
)
MIC_PEAK = 8000  # int16 peak of the spoken lines as the microphone sends them
QUIET_SECS = 1.0
REPLY_TIMEOUT = 20.0
STAGGER_SECS = 6.0
SAMPLE_SECS = 0.5
WALL_OFFSET = time.time() - time.monotonic()  # client monotonic -> Unix time
PARTS = (
    "inbound_ms",
    "end_of_turn_ms",
    "stt_ms",
    "llm_first_token_ms",
    "tts_first_audio_ms",
    "server_output_ms",
    "pipeline_ms",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


Proc = tuple[int, int]  # (pid, start time in clock ticks): a pid alone can be reused


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (the state is [0])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, parents first (processes that vanish are skipped)."""
    found = [pid]
    index = 0
    while index < len(found):
        for children in Path(f"/proc/{found[index]}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found.extend(int(child) for child in children.read_text().split())
        index += 1
    return list(dict.fromkeys(found))


def _tree_cpu(pid: int) -> dict[Proc, float]:
    """utime + stime in seconds of each process of the tree under ``pid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu: dict[Proc, float] = {}
    for member in _tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:
            continue
        cpu[(member, int(fields[19]))] = (int(fields[11]) + int(fields[12])) / ticks
    return cpu


def _tree_rss(pid: int) -> dict[int, float]:
    """VmRSS in MB of each process of the tree under ``pid`` (zombies left out)."""
    rss: dict[int, float] = {}
    for member in _tree(pid):
        try:
            mb = _status_mb(member, "VmRSS")
        except OSError:
            continue
        if not math.isnan(mb):
            rss[member] = mb
    return rss


class RssSampler:
    """Samples the tree's RSS; keeps the peak total and each process's own peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_total = 0.0
        self.peak: dict[int, float] = {}
        self.samples = 0

    def sample(self) -> float:
        """Takes one sample; returns the tree's total RSS in MB."""
        rss = _tree_rss(self.pid)
        total = sum(rss.values())
        self.peak_total = max(self.peak_total, total)
        for member, mb in rss.items():
            self.peak[member] = max(self.peak.get(member, 0.0), mb)
        self.samples += 1
        return total

    async def run(self) -> None:
        """Samples every SAMPLE_SECS until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECS)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(samples: list[float]) -> str:
    if not samples:
        return "n/a"
    return f"p50 {statistics.median(samples):.0f} ms, p95 {_pct(samples, 0.95):.0f} ms"


def _kind(text: str) -> str:
    return "question" if text.rstrip().endswith("?") else "statement"


async def _wait_for(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return False


async def _quiet(call: Any, seconds: float) -> bool:
    """Waits until no loud audio arrived for QUIET_SECS."""
    return await _wait_for(
        lambda: not call.loud_at or time.monotonic() - call.loud_at[-1] > QUIET_SECS, seconds
    )


async def _prepare(client: httpx.AsyncClient, db_url: str) -> tuple[dict[str, str], str]:
    """Signs up a user, seeds a ready champion for them and starts a session."""
    from memory.db import Database
    from tests.support.training import seed_ready_champion

    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    creds = {"email": email, "password": secrets.token_urlsafe(12)}
    (await client.post("/auth/register", json=creds)).raise_for_status()
    login = await client.post("/auth/login", json=creds)
    login.raise_for_status()
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    user_id = str((await client.get("/auth/me", headers=auth)).json()["id"])
    db = Database(url=db_url)
    try:
        fake_app = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(db=db)))
        champion_id = await seed_ready_champion(fake_app, user_id)  # type: ignore[arg-type]
    finally:
        await db.engine.dispose()
    started = await client.post("/training/start", headers=auth, json={"champion_id": champion_id})
    started.raise_for_status()
    return auth, str(started.json()["session_id"])


async def _call(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    session_id: str,
    turns: int,
    speech: list[np.ndarray],
    rate: int,
    offset: int,
) -> dict[str, Any]:
    from tests.support.webrtc_client import CallClient

    result: dict[str, Any] = {
        "v2v": [],
        "kind": [],
        "ended_wall": [],
        "server": [],
        "way_in": [],
        "way_out": [],
        "missed": 0,
        "error": None,
    }
    call = CallClient()
    try:
        answer = await client.post(
            f"/training/sessions/{session_id}/offer", headers=auth, json=await call.offer()
        )
        answer.raise_for_status()
        await call.answer(answer.json())
        if not await _wait_for(lambda: call.loud_at, 30):
            result["error"] = "no greeting"
            result["missed"] = turns
            return result
        await _quiet(call, 30)
        for turn in range(turns):
            await _quiet(call, 30)
            previous_end = call.mic.speech_ended_at
            call.mic.say(speech[(offset + turn) % len(speech)], rate)
            await _wait_for(lambda p=previous_end: call.mic.speech_ended_at != p, 30)
            ended = call.mic.speech_ended_at
            assert ended is not None
            if await _wait_for(lambda e=ended: call.heard_since(e), REPLY_TIMEOUT):
                first = next(t for t in call.loud_at if t > ended)
                result["v2v"].append((first - ended) * 1000)
                result["kind"].append(_kind(SENTENCES[(offset + turn) % len(SENTENCES)]))
                result["ended_wall"].append(ended + WALL_OFFSET)
                call.report_latency((first - ended) * 1000)
            else:
                result["missed"] += 1
            await _quiet(call, 30)
        await asyncio.sleep(0.5)  # let the last turn-latency message arrive
        latency = [
            m["data"]
            for m in call.messages
            if m.get("type") == "server-message" and m["data"].get("type") == "turn-latency"
        ]
        result["server"] = [float(m["latency_ms"]) for m in latency]
        result["parts"] = [m.get("breakdown") or {} for m in latency]
        # The way in: the client's end of speech to the end the server's VAD placed (one
        # clock, one machine); the way out: the rest of what the client heard.
        if len(latency) == len(result["v2v"]):
            for heard, ended, message in zip(
                result["v2v"], result["ended_wall"], latency, strict=True
            ):
                if message.get("speech_ended_at"):
                    way_in = (float(message["speech_ended_at"]) - ended) * 1000
                    result["way_in"].append(way_in)
                    result["way_out"].append(heard - way_in - float(message["latency_ms"]))
        return result
    except Exception as exc:  # a bench reports, it does not stop
        result["error"] = f"{type(exc).__name__}: {exc}"
        return result
    finally:
        await call.close()
        await client.post("/training/end", headers=auth, json={"session_id": session_id})


async def _staggered(
    delay: float,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    session_id: str,
    turns: int,
    speech: list[np.ndarray],
    rate: int,
    offset: int,
) -> dict[str, Any]:
    """Runs one call after ``delay`` seconds; its result gets the call's (start, end)."""
    await asyncio.sleep(delay)
    start = time.monotonic()
    result = await _call(client, auth, session_id, turns, speech, rate, offset)
    result["span"] = (start, time.monotonic())
    return result


def _client_group(
    base: str,
    calls: list[tuple[int, float, dict[str, str], str]],
    turns: int,
    speech: list[np.ndarray],
    rate: int,
    start_at: float,
) -> tuple[list[dict[str, Any]], float]:
    """Runs some of the calls in this (client) process; returns their results and its CPU."""

    async def run() -> list[dict[str, Any]]:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            return list(
                await asyncio.gather(
                    *(
                        _staggered(delay, client, auth, sid, turns, speech, rate, i)
                        for i, delay, auth, sid in calls
                    )
                )
            )

    before = os.times()
    results = asyncio.run(run())
    after = os.times()
    return results, (after.user + after.system) - (before.user + before.system)


def _start_server(
    work: Path, port: int, processes: int, database_url: str, pythonpath: str
) -> subprocess.Popen[bytes]:
    env = {
        **({"PYTHONPATH": pythonpath} if pythonpath else {}),
        **({"DATABASE_URL": database_url} if database_url else {}),
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(work)),
        "DATA_DIR": str(work / "data"),
        "RATE_LIMIT_TRAINING": "10000/minute",
        "RATE_LIMIT_LOGIN": "1000/minute",
        "RATE_LIMIT_REGISTER": "1000/hour",
        "BCRYPT_ROUNDS": "4",
        "CALL_PROCESSES": str(processes),
    }
    cli = Path(sys.executable).with_name("champion-clone")
    with (work / "server.log").open("wb") as log:
        return subprocess.Popen(
            [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _run(
    server: subprocess.Popen[bytes],
    work: Path,
    port: int,
    n: int,
    turns: int,
    speech: list[np.ndarray],
    rate: int,
    processes: int,
    stagger: float,
    database_url: str,
    client_processes: int,
) -> None:
    data_dir = work / "data"
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(300):
            try:
                if (await client.get("/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start; see {work / 'server.log'}")
        from memory.settings import normalise_database_url

        db_url = (
            normalise_database_url(database_url)
            if database_url
            else f"sqlite+aiosqlite:///{(data_dir / 'champion_clone.db').resolve()}"
        )
        prepared = [await _prepare(client, db_url) for _ in range(n)]
        rss = RssSampler(server.pid)
        idle_rss = rss.sample()

        server_cpu0, client0 = _tree_cpu(server.pid), os.times()
        sampler = asyncio.create_task(rss.run())
        calls = [(i, i * stagger / n, auth, sid) for i, (auth, sid) in enumerate(prepared)]
        children_cpu = 0.0
        try:
            if client_processes <= 1:
                results = await asyncio.gather(
                    *(
                        _staggered(delay, client, auth, sid, turns, speech, rate, i)
                        for i, delay, auth, sid in calls
                    )
                )
            else:
                groups = [calls[k::client_processes] for k in range(client_processes)]
                start_at = time.time() + 1.0
                loop = asyncio.get_running_loop()
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(client_processes, mp_context=context) as pool:
                    done = await asyncio.gather(
                        *(
                            loop.run_in_executor(
                                pool, _client_group, base, group, turns, speech, rate, start_at
                            )
                            for group in groups
                        )
                    )
                results = [r for group_results, _cpu in done for r in group_results]
                children_cpu = sum(cpu for _results, cpu in done)
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        server_cpu1, client1 = _tree_cpu(server.pid), os.times()
        rss.sample()

    spans = [r["span"] for r in results]
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    in_calls = sum(end - start for start, end in spans)
    both = server_cpu0.keys() & server_cpu1.keys()
    server_cpu = sum(server_cpu1[proc] - server_cpu0[proc] for proc in both)
    changed = len(server_cpu0.keys() ^ server_cpu1.keys())
    client_cpu = (client1.user + client1.system) - (client0.user + client0.system)
    client_cpu += children_cpu
    peak_rss = rss.peak_total

    v2v = [x for r in results for x in r["v2v"]]
    observed = [x for r in results for x in r["server"]]
    missed = sum(r["missed"] for r in results)
    errors = [r["error"] for r in results if r["error"]]
    cpu_pct = server_cpu / wall * 100
    where = f"{processes} call processes" if processes else "calls in the API process"
    print(
        f"N={n} calls, {turns} turns each, {where}, starts spread over "
        f"{stagger * (n - 1) / n:.1f} s, {wall:.1f} s"
    )
    print(f"  client v2v:            {_summary(v2v)}")
    for kind in ("question", "statement"):
        of_kind = [
            x for r in results for x, k in zip(r["v2v"], r["kind"], strict=True) if k == kind
        ]
        if of_kind:
            print(f"    after a {kind + ':':<14} {_summary(of_kind)}")
    if len(v2v) >= 10:
        slowest = ", ".join(f"{x:.0f}" for x in sorted(v2v)[-5:])
        print(f"    slowest five:         {slowest} ms")
    print(f"  server turn-latency:   {_summary(observed)} ({len(observed)} messages)")
    for leg in ("way_in", "way_out"):
        values = [x for r in results for x in r.get(leg, [])]
        if values:
            label = "client speech end -> server VAD" if leg == "way_in" else "server -> client ear"
            print(f"    {label:<34} {_summary(values)}")
    parts = [p for r in results for p in r.get("parts", [])]
    for key in PARTS:
        values = [float(p[key]) for p in parts if key in p]
        if values:
            print(f"    {key:<22} p50 {statistics.median(values):.0f} ms")
    print(f"  server CPU:            {cpu_pct:.0f}% of one core, {cpu_pct / n:.0f}% per call")
    print(
        f"  server CPU per call while in a call: {server_cpu / in_calls * 100:.0f}% of one core "
        f"({server_cpu:.1f} CPU s over {in_calls:.1f} call s)"
    )
    if changed:
        print(f"    ({changed} server processes started or ended in the window; not counted)")
    print(
        f"  server RSS:            idle {idle_rss:.0f} MB, peak {peak_rss:.0f} MB, "
        f"+{(peak_rss - idle_rss) / n:.0f} MB per call"
    )
    children = [f"{pid} {mb:.0f} MB" for pid, mb in sorted(rss.peak.items()) if pid != server.pid]
    print(
        f"  server processes:      {len(rss.peak)}; peak RSS parent "
        f"{rss.peak.get(server.pid, float('nan')):.0f} MB"
        + (f", children {', '.join(children)}" if children else "")
        + f" ({rss.samples} samples)"
    )
    print(f"  client CPU:            {client_cpu / wall * 100:.0f}% of one core")
    print(f"  turns:                 {len(v2v)} measured, {missed} missed")
    for error in errors:
        print(f"  error: {error}")


def _alive(pid: int, started: int) -> bool:
    """Whether process ``pid`` started at ``started`` still runs (not a zombie)."""
    try:
        fields = _stat_fields(pid)
        return int(fields[19]) == started and fields[0] != "Z"
    except (OSError, IndexError, ValueError):
        return False


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stops the server; then any of its children that outlived it (matched by start time)."""
    children = [proc for proc in _tree_cpu(server.pid) if proc[0] != server.pid]
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    # A child the server stops on its way out (the voice server, by its watchdog) may take a
    # moment after the server itself: only one still there after that was left running.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid, started) for pid, started in children):
        time.sleep(0.1)
    for pid, started in children:
        try:
            if not _alive(pid, started):  # gone, or a zombie waiting for init to reap it
                continue
            os.kill(pid, signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue
        print(f"  (killed call process {pid}, left running by the server)")


async def _create_database(server_url: str) -> str:
    """A fresh database on the server; returns its URL."""
    import asyncpg

    name = f"cc_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{server_url.rstrip('/')}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{server_url.rstrip('/')}/{name}"


async def _drop_database(server_url: str, database_url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(f"{server_url.rstrip('/')}/postgres")
    try:
        name = database_url.rsplit("/", 1)[1]
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _start_hog(seconds: float) -> subprocess.Popen[bytes]:
    """A busy process that keeps one core's worth of work queued, and stops by itself."""
    code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument(
        "--voice",
        default="piper",
        help="a voice of tests.support.voices (piper, slt, awb, rms, kal)",
    )
    parser.add_argument(
        "--cpu-hog", type=int, default=0, metavar="N", help="N busy processes beside the server"
    )
    parser.add_argument(
        "--hog-secs",
        type=float,
        default=300,
        metavar="SECS",
        help="each busy process stops by itself after this long (default: %(default)s)",
    )
    parser.add_argument(
        "--server-pythonpath",
        default="",
        metavar="DIR",
        help="run the server with this PYTHONPATH (another checkout, to compare)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="run the calls in this many call processes (CALL_PROCESSES); 0 = in the API process",
    )
    parser.add_argument(
        "--stagger",
        type=float,
        default=STAGGER_SECS,
        metavar="SECS",
        help="call i of N starts after i * SECS / N s; 0 = all at once (default: %(default)s)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        metavar="K",
        help="run the aiortc clients in K processes (one Python process of clients is a "
        "bottleneck of its own beyond a few calls; a browser is not)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default="",
        help="a PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432) to hold a fresh "
        "database per run instead of SQLite; call processes contend for one SQLite file",
    )
    parser.add_argument("--keep", action="store_true", help="keep the server's folder and log")
    args = parser.parse_args()
    if args.processes < 0 or args.stagger < 0:
        parser.error("--processes and --stagger must not be negative")

    from tests.support.voices import speak

    SAMPLE_RATE = 16_000
    spoken = [speak(text, args.voice, rate=SAMPLE_RATE) for text in SENTENCES]
    speech = [(a * (MIC_PEAK / max(1, int(np.abs(a).max())))).astype(np.int16) for a in spoken]
    for n in args.calls:
        work = Path(tempfile.mkdtemp(prefix="cc-voice-bench-"))
        port = _free_port()
        database_url = asyncio.run(_create_database(args.postgres)) if args.postgres else ""
        server = _start_server(work, port, args.processes, database_url, args.server_pythonpath)
        hogs = [_start_hog(args.hog_secs) for _ in range(args.cpu_hog)]
        try:
            asyncio.run(
                _run(
                    server,
                    work,
                    port,
                    n,
                    args.turns,
                    speech,
                    SAMPLE_RATE,
                    args.processes,
                    args.stagger,
                    database_url,
                    args.client_processes,
                )
            )
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
            _stop_server(server)
            if database_url:
                asyncio.run(_drop_database(args.postgres, database_url))
        if args.keep:
            print(f"  server log: {work / 'server.log'}")
        else:
            shutil.rmtree(work, ignore_errors=True)  # kept (with server.log) after a failure


if __name__ == "__main__":
    main()
