"""The browser app in headless Chromium: bundle size, how fast screens open, how long a voice
call takes to connect, and each reply's latency as the browser heard it (its own voice-to-voice
figure, reported to the server and split there into the server's part and the rest).

Runs the app in a subprocess on embedded defaults with a champion ingested from the generated
call, then opens each screen ``--runs`` times in fresh browser contexts (cold caches).
Needs Debian's Chromium (``/usr/bin/chromium``) and a built bundle (``make ui``)::

    .venv/bin/python -m bench.browser_app --runs 5
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.accounts import Trainee
from tests.e2e.browser import launch_chromium, new_context
from tests.e2e.recordings import speech_samples, write_champion_video, write_wav
from tests.e2e.server import AppServer
from web.routers.ui import UI_DIST


def _bundle() -> None:
    print("bundle (web/ui/dist):")
    for name in ("app.js", "app.css"):
        raw = (UI_DIST / name).read_bytes()
        print(
            f"  {name:8} {len(raw) / 1024:7.1f} KiB, gzip {len(gzip.compress(raw)) / 1024:6.1f} KiB"
        )


class Stopwatch:
    """Adds the time a block takes, in ms, to ``figures[name]``."""

    def __init__(self, figures: dict[str, list[float]], name: str) -> None:
        self.values = figures.setdefault(name, [])

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self.values.append((time.perf_counter() - self.start) * 1000)


def _page(browser: Browser, server: AppServer, trainee: Trainee | None) -> Page:
    context = new_context(browser, base_url=server.url, microphone="granted")
    if trainee is None:
        return context.new_page()
    return trainee.signed_in(context)


def _one_run(
    browser: Browser, server: AppServer, trainee: Trainee, figures: dict[str, list[float]]
) -> None:
    page = _page(browser, server, None)
    with Stopwatch(figures, "sign-in page, cold"):
        page.goto("/")
        page.get_by_role("heading", name="Sign in").wait_for()
    page.context.close()

    page = _page(browser, server, trainee)
    with Stopwatch(figures, "champion page with transcript"):
        page.goto(f"/#/champions/{trainee.champion_id}")
        page.locator("ol.transcript li").first.wait_for()
    page.goto(f"/#/sessions/{trainee.start_session(server)}/call")
    connect = page.get_by_role("button", name="Connect")
    connect.wait_for()
    with Stopwatch(figures, "voice call: Connect → live"):
        connect.click()
        page.get_by_role("button", name="Hang up").wait_for(timeout=30_000)
    heard = page.get_by_title(re.compile("as this browser heard it")).first
    expect(heard).to_be_visible(timeout=60_000)
    session_id = page.url.split("/sessions/")[1].split("/")[0]
    with Stopwatch(figures, "hang up → scorecard"):
        page.get_by_role("button", name="Hang up").click()
        page.get_by_role("heading", name="Scorecard").wait_for(timeout=30_000)
    page.context.close()
    with server.client(trainee.token) as api:
        turns = api.get(f"/training/sessions/{session_id}").json()["turns"]
    parts = next(t["latency_breakdown"] for t in turns if t["role"] == "ai" and t["latency_ms"])
    for name, key in (
        ("reply as heard in the browser (v2v)", "client_ms"),
        ("  of which at the server", "server_ms"),
        ("  of which in transport and playout", "transport_ms"),
    ):
        if parts.get(key) is not None:
            figures.setdefault(name, []).append(float(parts[key]))


def _summary(name: str, values: list[float]) -> None:
    print(
        f"  {name:38} p50 {statistics.median(values):7.0f} ms   "
        f"min {min(values):7.0f}   max {max(values):7.0f}   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="times each screen is opened")
    args = parser.parse_args()
    _bundle()
    folder = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    server = AppServer(data_dir=folder / "data", log_path=folder / "server.log").start()
    figures: dict[str, list[float]] = {}
    try:
        video = write_champion_video(folder / "call.mp4")
        trainee = Trainee(server, video)
        wav = write_wav(speech_samples(), folder / "trainee.wav")
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright, wav)
            for _ in range(args.runs):
                _one_run(browser, server, trainee, figures)
            browser.close()
    finally:
        server.stop()
    print(f"screens (headless Chromium, fresh context each run, {args.runs} runs):")
    for name, values in figures.items():
        _summary(name, values)


if __name__ == "__main__":
    main()
