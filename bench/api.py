"""Benchmarks the foundation over real HTTP on loopback and prints figures.

    .venv/bin/python -m bench.api [--minutes 10 30 60] [--requests 300]

- upload: a generated WAV of each length streamed to POST /upload (validation while
  streaming, PyAV probe of every packet, storage): seconds, MB/s, and the server's peak RSS,
  which should stay flat as files grow;
- reads: p50/p95 of GET /champions and GET /champions/{id};
- login: p50 of POST /auth/login at the production bcrypt cost (12 rounds).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

RATE = 16_000


def _write_wav(path: Path, minutes: float) -> None:
    rng = np.random.default_rng(7)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for _ in range(int(minutes)):
            noise = rng.normal(0, 2000, RATE * 60).clip(-32767, 32767).astype(np.int16)
            out.writeframes(noise.tobytes())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _multipart(path: Path, boundary: str) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"'
        "\r\nContent-Type: audio/wav\r\n\r\n"
    ).encode()
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 30, 60])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(work / "data"),
        "MAX_UPLOAD_MB": "500",
        "RATE_LIMIT_UPLOAD": "1000/hour",
        "RATE_LIMIT_LOGIN": "1000/minute",
        "RATE_LIMIT_REGISTER": "1000/hour",
    }
    cli = Path(sys.executable).with_name("champion-clone")
    server = subprocess.Popen(
        [str(cli), "serve", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=300) as client:
            for _ in range(200):
                try:
                    client.get("/health")
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            print(f"server idle peak RSS: {_peak_rss_mb(server.pid):.0f} MB")
            credentials = {"email": "bench@example.com", "password": "bench password"}
            client.post("/auth/register", json=credentials)
            logins = []
            for _ in range(10):
                started = time.perf_counter()
                token = client.post("/auth/login", json=credentials).json()["access_token"]
                logins.append(time.perf_counter() - started)
            print(f"login (bcrypt 12 rounds): {_percentiles(logins)}")
            auth = {"Authorization": f"Bearer {token}"}

            champion_id = ""
            for minutes in args.minutes:
                path = work / f"call-{minutes:g}min.wav"
                _write_wav(path, minutes)
                size_mb = path.stat().st_size / 1e6
                boundary = "bench-boundary"
                started = time.perf_counter()
                response = client.post(
                    "/upload",
                    content=_multipart(path, boundary),
                    headers={**auth, "content-type": f"multipart/form-data; boundary={boundary}"},
                )
                elapsed = time.perf_counter() - started
                assert response.status_code == 202, response.text
                champion_id = response.json()["champion_id"]
                print(
                    f"upload {minutes:g} min WAV ({size_mb:.0f} MB): {elapsed:.2f} s, "
                    f"{size_mb / elapsed:.0f} MB/s, {minutes * 60 / elapsed:.0f}x real time, "
                    f"server peak RSS {_peak_rss_mb(server.pid):.0f} MB"
                )
                path.unlink()

            for label, url in (
                ("GET /champions", "/champions"),
                ("GET /champions/{id}", f"/champions/{champion_id}"),
            ):
                samples = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    client.get(url, headers=auth).raise_for_status()
                    samples.append(time.perf_counter() - started)
                print(f"{label}: {_percentiles(samples)} over {args.requests} requests")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
