"""Live calls in several processes: start them, place each new call, route its follow-ups.

One Python process is about one core for live audio (the event loop, and pocketsphinx
holding the GIL), so with ``CALL_PROCESSES=N`` the API process starts N call processes (the
module it is given: the app's is `web.call_server`) and forwards each call's requests to one
of them over loopback HTTP. A new call goes to the process with the fewest calls; its
``pc_id`` is remembered, so trickled ICE candidates and renegotiations reach the process that
holds the peer connection. A call process that dies is restarted; its calls are lost, but
their turns are already in SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sys
from dataclasses import dataclass
from typing import Any

import httpx
from pipecat.transports.smallwebrtc.request_handler import IceCandidate

from memory.models import TrainingSession
from memory.settings import Settings
from pipelines.call_host import CALL_TOKEN_HEADER, CallError, CallOffer

logger = logging.getLogger(__name__)

START_SECS = 90.0
REQUEST_SECS = 30.0


@dataclass
class CallProcess:
    """One running call process."""

    index: int
    process: asyncio.subprocess.Process
    url: str

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid


class CallProcesses:
    """Starts N call processes and routes every call request to the right one.

    Args:
        settings: the configuration, handed to each call process.
        count: how many call processes to run.
        server_module: the module each call process runs (``python -m``): it reads the
            settings and token on standard input and prints ``READY <port>``.
    """

    def __init__(self, *, settings: Settings, count: int, server_module: str) -> None:
        self.settings = settings
        self.count = count
        self.server_module = server_module
        self.processes: dict[int, CallProcess] = {}
        self.placement: dict[str, tuple[int, str]] = {}  # pc_id -> (process index, session)
        self._token = secrets.token_urlsafe(32)
        self._http = httpx.AsyncClient(
            timeout=REQUEST_SECS, headers={CALL_TOKEN_HEADER: self._token}
        )
        self._watchers: dict[int, asyncio.Task[None]] = {}
        self._closing = False

    @classmethod
    async def start(cls, *, settings: Settings, count: int, server_module: str) -> CallProcesses:
        """Starts the call processes and waits until each one takes requests."""
        calls = cls(settings=settings, count=count, server_module=server_module)
        try:
            await asyncio.gather(*(calls._spawn(index) for index in range(count)))
        except BaseException:
            await calls.close()
            raise
        logger.info("%d call processes are running", count)
        return calls

    async def offer(self, training: TrainingSession, offer: CallOffer) -> dict[str, str]:
        """Answers a new call in the least busy process, or a renegotiation in its own."""
        if offer.pc_id is not None:
            process = self._owner(offer.pc_id, training.id)
        else:
            process = await self._least_busy()
        body = {
            "session_id": training.id,
            "sdp": offer.sdp,
            "type": offer.type,
            "pc_id": offer.pc_id,
            "restart_pc": offer.restart_pc,
        }
        answer = (await self._send(process, "POST", "/calls/offer", body)).json()
        self.placement[answer["pc_id"]] = (process.index, training.id)
        return {"sdp": answer["sdp"], "type": answer["type"], "pc_id": answer["pc_id"]}

    async def ice(self, session_id: str, pc_id: str, candidates: list[IceCandidate]) -> None:
        """Forwards trickled candidates to the process that holds the call."""
        process = self._owner(pc_id, session_id)
        body = {
            "session_id": session_id,
            "pc_id": pc_id,
            "candidates": [
                {
                    "candidate": c.candidate,
                    "sdp_mid": c.sdp_mid,
                    "sdp_mline_index": c.sdp_mline_index,
                }
                for c in candidates
            ],
        }
        await self._send(process, "PATCH", "/calls/ice", body)

    async def loads(self) -> list[dict[str, Any]]:
        """Each running process's pid and number of calls (unreachable ones left out)."""
        found = await asyncio.gather(
            *(self._load(p) for p in list(self.processes.values())), return_exceptions=True
        )
        return [load for load in found if isinstance(load, dict)]

    async def close(self) -> None:
        """Stops every call process (their calls end) and the routing client."""
        self._closing = True
        for watcher in self._watchers.values():
            watcher.cancel()
        await asyncio.gather(*(self._stop(p) for p in self.processes.values()))
        await self._http.aclose()

    async def _spawn(self, index: int) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.server_module,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        handoff = {"settings": self.settings.model_dump(mode="json"), "token": self._token}
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(handoff).encode() + b"\n")
        await process.stdin.drain()
        process.stdin.close()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_SECS)
            if not line.startswith(b"READY "):
                raise RuntimeError("a call process failed to start; its log is above")
            call_process = CallProcess(index, process, f"http://127.0.0.1:{int(line.split()[1])}")
            await self._until_serving(call_process)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        self.processes[index] = call_process
        self._watchers[index] = asyncio.create_task(self._watch(call_process))

    async def _until_serving(self, process: CallProcess) -> None:
        deadline = asyncio.get_running_loop().time() + START_SECS
        while True:
            try:
                await self._load(process)
                return
            except httpx.HTTPError:
                if process.process.returncode is not None:
                    raise RuntimeError("a call process exited while starting") from None
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def _watch(self, process: CallProcess) -> None:
        code = await process.process.wait()
        if self._closing:
            return
        logger.warning("call process %d exited with %s; restarting it", process.index, code)
        for pc_id, (index, _session) in list(self.placement.items()):
            if index == process.index:
                del self.placement[pc_id]
        self.processes.pop(process.index, None)
        try:
            await self._spawn(process.index)
        except Exception:
            logger.exception("call process %d could not be restarted", process.index)

    async def _load(self, process: CallProcess) -> dict[str, Any]:
        response = await self._http.get(f"{process.url}/calls/load", timeout=5.0)
        response.raise_for_status()
        return {**response.json(), "index": process.index}

    async def _least_busy(self) -> CallProcess:
        loads = await self.loads()
        if not loads:
            raise CallError(503, "no call process is available; try again in a moment")
        best = min(loads, key=lambda load: (load["calls"], load["index"]))
        return self.processes[best["index"]]

    def holds(self, pc_id: str, session_id: str) -> bool:
        """Whether ``pc_id`` is a call of the session in one of the running processes."""
        index, owner_session = self.placement.get(pc_id, (-1, ""))
        return owner_session == session_id and index in self.processes

    def _owner(self, pc_id: str, session_id: str) -> CallProcess:
        index, owner_session = self.placement.get(pc_id, (-1, ""))
        process = self.processes.get(index)
        if owner_session != session_id or process is None:
            raise CallError(404, "call not found for this session")
        return process

    async def _send(
        self, process: CallProcess, method: str, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        try:
            response = await self._http.request(method, f"{process.url}{path}", json=body)
        except httpx.HTTPError as exc:
            raise CallError(503, "the call's process is unavailable; try again") from exc
        if response.status_code >= 400:
            if response.status_code == 404 and body.get("pc_id"):
                self.placement.pop(str(body["pc_id"]), None)  # the call has ended there
            try:
                detail = str(response.json().get("detail", ""))
            except ValueError:
                detail = ""
            raise CallError(response.status_code, detail or "the call request failed")
        return response

    async def _stop(self, process: CallProcess) -> None:
        if process.process.returncode is not None:
            return
        process.process.terminate()
        try:
            await asyncio.wait_for(process.process.wait(), 15)
        except TimeoutError:
            process.process.kill()
            await process.process.wait()
