"""The docker-compose stack end to end: up, an upload ingested, a relayed call, down.

Usage (from the repository root, with Docker and `docker compose` or `docker-compose`):

    JWT_SECRET=... TURN_SECRET=... TURN_HOST=<this machine's IP> \\
        python -m bench.compose_stack [--override FILE] [--keep]

It starts the stack as `docker-compose.yml` describes it (project ``ccbench``, the app on
``APP_PORT``, default 18000), waits for every service to be healthy, then as a user of the
app: registers, uploads a two-voice sales call (rendered like the tests'), waits for the
worker to ingest it, starts a practice session, takes the ICE servers the app hands its
trainee and calls with **relay-only** ICE (every packet through the TURN service) until the
greeting is heard. It prints what happened and how long each stage took, then takes the stack
down with its volumes unless ``--keep``.

On a machine that cannot pull from Docker Hub, `bench/compose_standins/` builds local
stand-ins for the base images (see its build script); pass its ``compose.override.yml``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.rtcconfiguration import RTCIceTransportPolicy

import tests.support.webrtc_client as webrtc_client
from tests.support.dialogue import SALES_CALL, render_call, write_stereo_wav

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "ccbench"
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway account on a test stack


DOCKER = shutil.which("docker") or "docker"


def compose_command(override: Path | None) -> list[str]:
    """`docker compose` (v2) when present, else `docker-compose` (v1), on our files."""
    v2 = subprocess.run([DOCKER, "compose", "version"], capture_output=True, check=False)
    base = [DOCKER, "compose"] if v2.returncode == 0 else [shutil.which("docker-compose") or ""]
    files = ["-f", str(ROOT / "docker-compose.yml")]
    if override is not None:
        files += ["-f", str(override)]
    return [*base, "-p", PROJECT, *files]


def wait_healthy(compose: list[str], seconds: float) -> None:
    """Waits until every container of the project reports healthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ids = subprocess.run([*compose, "ps", "-q"], capture_output=True, text=True, check=True)
        states = [
            subprocess.run(
                [DOCKER, "inspect", "--format", "{{.State.Health.Status}}", cid],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            for cid in ids.stdout.split()
        ]
        if states and all(state == "healthy" for state in states):
            return
        time.sleep(2)
    raise SystemExit(f"the stack did not become healthy: {states}")


def candidate_types(sdp: str) -> list[str]:
    """The ICE candidate types an SDP offers."""
    lines = [line for line in sdp.splitlines() if " typ " in line]
    return sorted({line.split(" typ ")[1].split()[0] for line in lines})


async def use_the_app(base_url: str, recording: bytes) -> dict[str, Any]:
    """Uploads, waits for the ingest, and calls through the relay; returns what it saw."""
    seen: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        account = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        await client.post("/auth/register", json=account)
        token = (await client.post("/auth/login", json=account)).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        started = time.monotonic()
        upload = await client.post("/upload", headers=auth, files={"file": ("call.wav", recording)})
        upload.raise_for_status()
        champion_id = upload.json()["champion_id"]
        while True:
            detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
            if detail["latest_job"]["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(1)
        seen["ingest"] = detail["latest_job"]["status"]
        seen["ingest_seconds"] = round(time.monotonic() - started, 1)
        if detail["status"] != "ready":
            return seen
        start = await client.post(
            "/training/start", headers=auth, json={"champion_id": champion_id}
        )
        session_id = start.json()["session_id"]
        ice = await client.get(f"/training/sessions/{session_id}/ice-servers", headers=auth)
        servers = [RTCIceServer(**server) for server in ice.json()["ice_servers"]]
        seen["ice_servers"] = [server.urls for server in servers]
        config = RTCConfiguration(
            iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy.RELAY
        )
        webrtc_client.RTCPeerConnection = lambda: RTCPeerConnection(config)  # type: ignore[assignment,misc]
        call = webrtc_client.CallClient()
        try:
            started = time.monotonic()
            offer = await call.offer()
            seen["browser_candidates"] = candidate_types(offer["sdp"])
            answer = await client.post(
                f"/training/sessions/{session_id}/offer", headers=auth, json=offer
            )
            answer.raise_for_status()
            seen["answer_seconds"] = round(time.monotonic() - started, 2)
            seen["app_candidates"] = candidate_types(answer.json()["sdp"])
            await call.answer(answer.json())
            await webrtc_client.wait_for(lambda: call.loud_at, 60, "the greeting over TURN")
            seen["greeting_seconds"] = round(call.loud_at[0] - started, 2)
        finally:
            await call.close()
    return seen


def main() -> None:
    """Runs the stack, uses it, prints the outcome, takes it down."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--override", type=Path, help="an extra compose file")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    for name in ("JWT_SECRET", "TURN_SECRET", "TURN_HOST"):
        if not os.environ.get(name):
            raise SystemExit(f"set {name} (see the module docstring)")
    port = os.environ.setdefault("APP_PORT", "18000")
    compose = compose_command(args.override)
    recording = ROOT / "test-artifacts" / "compose-call.wav"
    if not recording.exists():
        recording.parent.mkdir(parents=True, exist_ok=True)
        write_stereo_wav(render_call(SALES_CALL[:12]), recording)
    started = time.monotonic()
    subprocess.run([*compose, "up", "-d"], check=True)
    try:
        wait_healthy(compose, 300)
        print(f"stack healthy after {time.monotonic() - started:.0f} s")
        seen = asyncio.run(use_the_app(f"http://127.0.0.1:{port}", recording.read_bytes()))
        for key, value in seen.items():
            print(f"{key}: {value}")
        if seen.get("greeting_seconds") is None:
            sys.exit(1)
    finally:
        if not args.keep:
            subprocess.run([*compose, "down", "-v"], check=False)


if __name__ == "__main__":
    main()
