"""Debian's Chromium under Playwright: launch flags, microphone permissions, screenshots, logs."""

from __future__ import annotations

import re
import weakref
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Playwright

from tests.e2e.server import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"

CLOSED_NETWORK_FLAGS = (
    "--no-sandbox",  # root in CI, and no user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""What Chromium needs to start quietly on a machine that reaches only package registries."""

Microphone = Literal["granted", "denied", "prompt"]


def media_flags(speech_wav: Path) -> tuple[str, ...]:
    """Flags for a fake microphone that plays ``speech_wav``.

    The file plays from its start each time a page opens the microphone, and loops (append
    ``%noloop`` to the path to play it once). A missing or unreadable file gives no error,
    only silence. Never add ``--use-fake-ui-for-media-stream``: it grants the microphone to
    every page whatever the context's permissions say, so the denied context would get audio.
    """
    return (
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav.resolve()}",
        "--autoplay-policy=no-user-gesture-required",
    )


def launch_chromium(playwright: Playwright, speech_wav: Path) -> Browser:
    """Starts headless Debian Chromium with the fake microphone playing ``speech_wav``.

    Playwright's `launch` gives Chromium a new empty ``--user-data-dir`` in the temporary
    folder itself, and deletes it when the browser closes (it refuses that flag in ``args``).
    """
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CLOSED_NETWORK_FLAGS, *media_flags(speech_wav)],
    )


def new_context(
    browser: Browser, *, base_url: str, microphone: Microphone = "granted", **options: object
) -> BrowserContext:
    """A fresh context (its own cookies and storage) with the microphone as asked.

    Args:
        browser: From `launch_chromium`.
        base_url: Origin that relative ``page.goto`` URLs resolve against.
        microphone: ``"granted"``: getUserMedia gets the fake microphone.
            ``"denied"``: ``permissions=[]``; the Permissions API says ``denied`` and
            getUserMedia rejects with ``NotAllowedError`` (as after a user clicks Block).
            ``"prompt"``: no decision; the Permissions API says ``prompt`` and, with no one to
            answer, getUserMedia rejects with ``NotAllowedError`` too.
        **options: Passed to `Browser.new_context` (e.g. ``viewport`` for a narrow screen).
    """
    if microphone == "granted":
        options["permissions"] = ["microphone"]
    elif microphone == "denied":
        options["permissions"] = []
    context = browser.new_context(base_url=base_url, **options)  # type: ignore[arg-type]
    context.on("page", watch_console)
    return context


_console: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


def watch_console(page: Page) -> None:
    """Starts keeping ``page``'s console messages, uncaught errors and failed requests."""
    if page in _console:
        return
    lines: list[str] = []
    _console[page] = lines

    def on_console(message: ConsoleMessage) -> None:
        where = message.location
        place = f" ({where['url']}:{where['lineNumber']})" if where.get("url") else ""
        lines.append(f"[{message.type}] {message.text}{place}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: lines.append(f"[pageerror] {error}"))
    page.on(
        "requestfailed",
        lambda request: lines.append(
            f"[requestfailed] {request.method} {request.url}: {request.failure}"
        ),
    )


def console_log(page: Page) -> list[str]:
    """What ``page`` logged so far, one line per message (see `watch_console`)."""
    return list(_console.get(page, []))


def artifact_name(name: str) -> str:
    """``name`` made safe as a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "unnamed"


def shot(page: Page, name: str) -> Path:
    """Saves a full-page screenshot as ``test-artifacts/e2e/<name>.png`` and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{artifact_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def save_failure(page: Page, name: str) -> None:
    """Keeps a failed test's screen and console log (``<name>.failed.png`` / ``.console.log``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = artifact_name(name)
    (ARTIFACTS / f"{stem}.console.log").write_text(
        f"url: {page.url}\n" + "\n".join(console_log(page)) + "\n"
    )
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.failed.png"), full_page=True, timeout=10_000)
    except Error as exc:  # a crashed or closed page still leaves its log
        with (ARTIFACTS / f"{stem}.console.log").open("a") as log:
            log.write(f"(no screenshot: {exc.message})\n")
