"""Piper's own HTTP server, run as a separate process: one per voice file per app process.

The Piper engine (``piper-tts``) is GPL-3.0, so this code never imports it: it starts
``python -m piper.http_server`` as a child process on a free loopback port and talks HTTP to
it. Whether the package is installed is checked without running it
(`ingest.packaged_models.piper_engine_installed`).

A server starts on first use, in the calling thread (callers on an event loop use
`PiperServer.ensure_running_async`), and is ready when ``GET /info`` names its voice. If the
process dies it is started again on the next request. If it cannot start (model missing or
corrupt, engine missing, no answer in time) `PiperServerError` is raised and further
attempts wait ``retry_after_secs``, so a broken voice does not cost every sentence a start-up
timeout. Every server is stopped when the app process exits: by an exit handler, and, if
the app is killed outright, by a small watchdog process that notices the app's end.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from loguru import logger

HOST = "127.0.0.1"
_STDERR_LINES = 20  # the tail of the server's output kept for a failed start
_PORT_ATTEMPTS = 3  # another process can take the free port between choosing and binding


class PiperServerError(RuntimeError):
    """The Piper server could not be started or is not answering."""


def voice_files_present(model: Path) -> bool:
    """Whether ``model`` (a ``.onnx`` file) and its ``.onnx.json`` config both exist."""
    return model.is_file() and config_path(model).is_file()


def config_path(model: Path) -> Path:
    """The config Piper reads beside a voice model: ``<model>.json``."""
    return model.with_name(model.name + ".json")


class PiperServer:
    """One ``piper.http_server`` child process speaking one voice file.

    Thread-safe: concurrent callers of `ensure_running` wait for the same start.
    """

    def __init__(
        self,
        model: Path,
        *,
        python: str = sys.executable,
        start_timeout_secs: float = 60.0,
        retry_after_secs: float = 30.0,
    ) -> None:
        """Prepares the server; nothing starts until `ensure_running`.

        Args:
            model: The voice's ``.onnx`` file; its ``.onnx.json`` must sit beside it.
            python: The interpreter that has ``piper-tts[http]`` installed.
            start_timeout_secs: How long the voice may take to load and answer.
            retry_after_secs: After a failed start, how long further starts are refused.
        """
        self.model = model
        self._python = python
        self._start_timeout = start_timeout_secs
        self._retry_after = retry_after_secs
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._url: str | None = None
        self._refuse_until = 0.0
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self.starts = 0
        """How many server processes were started (a restart counts)."""

    @property
    def pid(self) -> int | None:
        """The process id of the running server, or None."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.pid is not None

    def ensure_running(self) -> str:
        """Starts the server if it is not running (blocking) and returns its base URL.

        Returns:
            ``http://127.0.0.1:<port>``.

        Raises:
            PiperServerError: The server could not start, or a recent start failed.
        """
        with self._lock:
            if self._process is not None and self._process.poll() is None and self._url:
                return self._url
            if self._process is not None:
                logger.warning("piper: the voice server exited; starting it again")
                self._discard()
            if time.monotonic() < self._refuse_until:
                raise PiperServerError("the piper server failed to start recently")
            try:
                return self._start()
            except PiperServerError:
                self._refuse_until = time.monotonic() + self._retry_after
                raise

    async def ensure_running_async(self) -> str:
        """`ensure_running` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.ensure_running)

    def restart_if_dead(self, *, grace_secs: float = 1.0) -> bool:
        """Forgets a server process that has exited; True if it had (blocking).

        A request that could not connect calls this, so the next `ensure_running` starts a
        new process instead of trusting a stale URL.

        Args:
            grace_secs: How long to wait for a process that is closing its socket to exit.
        """
        with self._lock:
            process = self._process
            if process is None:
                return True
            try:
                process.wait(timeout=grace_secs)
            except subprocess.TimeoutExpired:
                return False  # alive: the request failed for another reason
            logger.warning("piper: the voice server exited; starting it again")
            self._discard()
            return True

    def stop(self) -> None:
        """Stops the server process (if any) and waits for it to exit."""
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        """Terminates the process if it still runs; the caller holds ``_lock``."""
        process, self._process, self._url = self._process, None, None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            if process is None or process.returncode is not None:
                # The server was reaped, so its pid may belong to someone else by now.
                watchdog.kill()
                watchdog.wait(timeout=5)
                if watchdog.stdin is not None:
                    watchdog.stdin.close()
            else:
                # Closing its stdin makes it signal the server, which is not reaped until
                # the wait below, so the pid is still the server's.
                _release(watchdog)
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def _start(self) -> str:
        """Starts a process and waits until it answers; the caller holds ``_lock``."""
        if not voice_files_present(self.model):
            logger.error("piper: the voice model or its .onnx.json config is missing")
            raise PiperServerError("the piper voice model or its config is missing")
        for _ in range(_PORT_ATTEMPTS):
            port = _free_port()
            self._stderr.clear()
            process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
                [
                    self._python,
                    "-m",
                    "piper.http_server",
                    "--model",
                    str(self.model),
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C in the app's terminal is the app's to handle
            )
            self._process = process
            self._watchdog = _watch(process.pid, self._python)
            self.starts += 1
            if process.stderr is not None:
                _drain(process.stderr, self._stderr)
            url = f"http://{HOST}:{port}"
            if self._wait_until_ready(process, url):
                self._url = url
                logger.info("piper: voice server ready")
                return url
            address_taken = any("Address already in use" in line for line in self._stderr)
            self._discard()
            if not address_taken:
                break
        logger.error("piper: the voice server could not start; speech falls back to espeak-ng")
        logger.debug("piper server output: {}", " | ".join(self._stderr))
        raise PiperServerError("the piper server could not start")

    def _wait_until_ready(self, process: subprocess.Popen[bytes], url: str) -> bool:
        """Polls ``GET /info`` until it names this voice, the process exits, or time is up."""
        deadline = time.monotonic() + self._start_timeout
        expected = self.model.name.removesuffix(".onnx")
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{url}/info", timeout=1.0) as response:  # noqa: S310
                    info = json.loads(response.read())
                voice = info.get("voice") if isinstance(info, dict) else None
                # Anything else answering on this port is not our server.
                return isinstance(voice, dict) and voice.get("name") == expected
            except (OSError, ValueError):  # not listening yet, or a half-started reply
                time.sleep(0.05)
        return False


# Waits until its stdin closes (`_release`) or its parent, the app, has gone (however it
# ended: it is then no longer the watchdog's parent), then stops the server's process group.
# Both are watched because a process the app forks keeps a copy of the pipe, so the pipe
# alone may outlive the app. Our own code, in a process of its own: an app killed with
# SIGKILL leaves no server behind, and a worker thread's exit does not stop one (as
# PR_SET_PDEATHSIG would).
_WATCHDOG = """
import os, select, signal, sys
app = os.getppid()
while os.getppid() == app:
    ready, _, _ = select.select([sys.stdin], [], [], 1.0)
    if ready and not os.read(sys.stdin.fileno(), 4096):
        break
try:
    os.killpg(int(sys.argv[1]), signal.SIGTERM)
except ProcessLookupError:
    pass
"""


def _watch(pid: int, python: str) -> subprocess.Popen[bytes] | None:
    """Starts the watchdog of the server process ``pid`` (its own process group)."""
    try:
        return subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [python, "-I", "-c", _WATCHDOG, str(pid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        logger.warning("piper: no watchdog for the voice server; it stops only at a clean exit")
        return None


def _release(watchdog: subprocess.Popen[bytes]) -> None:
    """Lets a watchdog stop its server and exit."""
    if watchdog.stdin is not None:
        watchdog.stdin.close()
    try:
        watchdog.wait(timeout=5)
    except subprocess.TimeoutExpired:
        watchdog.kill()
        watchdog.wait(timeout=5)


def _free_port() -> int:
    """A loopback port that is free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _drain(stream: IO[bytes], tail: collections.deque[str]) -> None:
    """Reads the server's output in a daemon thread, keeping its last lines.

    The server logs a line per request; a pipe nobody reads would fill and block it.
    """

    def read() -> None:
        with stream:
            for line in iter(stream.readline, b""):
                tail.append(line.decode("utf-8", "replace").rstrip())

    threading.Thread(target=read, name="piper-server-output", daemon=True).start()


_servers: dict[Path, PiperServer] = {}
_servers_lock = threading.Lock()


def shared_piper_server(model: Path) -> PiperServer:
    """The process-wide server for ``model`` (created on first request, not yet started).

    Args:
        model: The voice's ``.onnx`` file.
    """
    key = model.expanduser().resolve()
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = _servers[key] = PiperServer(key)
        return server


def stop_piper_servers() -> None:
    """Stops every shared server (registered to run at process exit)."""
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop()


def _forget_after_fork() -> None:
    # A forked child does not own its parent's servers: it starts its own when it needs one.
    global _servers_lock
    _servers_lock = threading.Lock()
    _servers.clear()


atexit.register(stop_piper_servers)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
