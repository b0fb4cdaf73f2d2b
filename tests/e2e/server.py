"""The real app as a subprocess (`champion-clone serve`), which tests can kill and start again."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from memory.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE = [str(Path(sys.executable).with_name("champion-clone")), "serve"]
START_TIMEOUT_SECONDS = 90.0


class ServerError(RuntimeError):
    """The server exited or did not become healthy; the message ends with its log's tail."""


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings_variables() -> set[str]:
    """Upper-case names of every environment variable `Settings` reads."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        if isinstance(field.alias, str):
            names.add(field.alias.upper())
    return names


class AppServer:
    """One `champion-clone serve` process on embedded defaults, with its own data folder.

    The server runs on SQLite, embedded Qdrant, in-process jobs and the default local models, in
    ``environment=test`` with a JWT secret fixed for the object's life, so accounts, tokens and
    champions survive `restart`. Any app setting in the caller's environment (``REDIS_URL``,
    API keys, ...) is dropped; ``env`` adds or overrides settings. The working directory is the
    data folder's parent, so a developer's ``.env`` is never read.

    Attributes:
        port: The loopback port, kept across restarts.
        data_dir: The server's ``DATA_DIR``.
        log_path: The server's stdout and stderr, appended to across restarts.
        env: The full environment the server starts with.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        log_path: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.log_path = log_path
        dropped = _settings_variables()
        base = {k: v for k, v in os.environ.items() if k.upper() not in dropped}
        self.env = base | {
            "ENVIRONMENT": "test",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(data_dir),
            "JWT_SECRET": secrets.token_urlsafe(48),
            "BCRYPT_ROUNDS": "4",
            "RATE_LIMIT_UPLOAD": "1000/hour",
            "RATE_LIMIT_ANALYZE": "1000/hour",
            "RATE_LIMIT_TRAINING": "1000/minute",
            "RATE_LIMIT_LOGIN": "1000/minute",
            "RATE_LIMIT_REGISTER": "1000/hour",
            "PYTHONUNBUFFERED": "1",
            "PYTHONFAULTHANDLER": "1",  # a crash in native code leaves a traceback in the log
            "COLUMNS": "200",  # rich wraps the start-up banner at 80 columns without a terminal
        }
        self.env.update(env or {})
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:40123`` (a secure context for getUserMedia)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> AppServer:
        """Starts the server and waits until ``/health`` answers 200.

        Raises:
            ServerError: It is already running, exited, or was not healthy within ``timeout``.
        """
        if self.running:
            raise ServerError(f"the server on port {self.port} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n===== e2e: starting {' '.join(SERVE)} on {self.url} =====\n".encode())
            log.flush()
            # A session of its own, so `kill` takes any child process (call workers) with it.
            self._process = subprocess.Popen(
                SERVE,
                cwd=self.data_dir.parent,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Polls ``/health`` until it answers 200.

        Raises:
            ServerError: The process exited, or ``timeout`` seconds passed.
        """
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            while True:
                if self._process is None or self._process.poll() is not None:
                    code = self._process.returncode if self._process else None
                    raise ServerError(
                        f"the server exited during start-up (exit status {code})\n{self.log_tail()}"
                    )
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"/health did not answer 200 in {timeout} s\n{self.log_tail()}"
                    )
                time.sleep(0.1)

    def kill(self) -> None:
        """Kills the server and its children at once (SIGKILL: no shutdown, like a crash)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def stop(self, timeout: float = 15.0) -> None:
        """Stops the server gracefully (SIGTERM, then SIGKILL after ``timeout``)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout)
        self.kill()

    def restart(self, timeout: float = START_TIMEOUT_SECONDS) -> AppServer:
        """Kills the server with SIGKILL and starts it again on the same port and data."""
        self.kill()
        with self.log_path.open("ab") as log:
            log.write(b"\n===== e2e: killed with SIGKILL =====\n")
        return self.start(timeout)

    def client(self, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """A sync HTTP client for the server's API (as ``token``'s user when given)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def sign_up(self, email: str, password: str) -> str:
        """Registers ``email`` through the API and signs in; returns the access token."""
        with self.client() as api:
            response = api.post("/auth/register", json={"email": email, "password": password})
            if response.status_code != 201:
                raise ServerError(f"register answered {response.status_code}: {response.text}")
            response = api.post("/auth/login", json={"email": email, "password": password})
            if response.status_code != 200:
                raise ServerError(f"login answered {response.status_code}: {response.text}")
            return str(response.json()["access_token"])

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])
