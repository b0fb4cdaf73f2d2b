"""A trainee account with a ready champion, made through the API for tests of single screens
(the journey test makes one through the UI)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

from tests.e2e.browser import watch_console
from tests.e2e.server import AppServer

PASSWORD = "practice-makes-perfect"
READY_SECONDS = 180.0


class Trainee:
    """A user with a ready champion, made through the API (the journey test covers the UI)."""

    def __init__(self, server: AppServer, video: Path) -> None:
        self.email = f"trainee-{uuid.uuid4().hex[:8]}@example.com"
        self.token = server.sign_up(self.email, PASSWORD)
        with server.client(self.token) as api:
            files = {"file": (video.name, video.read_bytes(), "video/mp4")}
            accepted = api.post("/upload", files=files, data={"name": "Alex"})
            assert accepted.status_code == 202, accepted.text
            self.champion_id = accepted.json()["champion_id"]
            deadline = time.monotonic() + READY_SECONDS
            while (status := api.get(f"/champions/{self.champion_id}").json()["status"]) not in (
                "ready",
                "failed",
            ):
                assert time.monotonic() < deadline, "the champion did not become ready"
                time.sleep(0.5)
            assert status == "ready"

    def start_session(self, server: AppServer) -> str:
        with server.client(self.token) as api:
            started = api.post("/training/start", json={"champion_id": self.champion_id})
            assert started.status_code == 201, started.text
            return str(started.json()["session_id"])

    def signed_in(self, context: BrowserContext) -> Page:
        """A page of ``context`` already signed in as this trainee."""
        context.add_init_script(
            f"sessionStorage.setItem('championclone.token', '{self.token}');"
            f"sessionStorage.setItem('championclone.email', '{self.email}');"
        )
        page = context.new_page()
        watch_console(page)
        return page
