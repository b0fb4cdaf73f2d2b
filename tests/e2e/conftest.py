"""Fixtures for browser tests: the app in a subprocess, headless Chromium, recordings.

Tests here are plain ``def`` tests on Playwright's sync API. While Playwright runs, it marks
its own event loop as running in the test thread, so nothing here may call ``asyncio.run`` or
use async fixtures (talk to the server with a sync ``httpx.Client``: `AppServer.client`); the
Playwright and browser fixtures are package-scoped so they stop before the rest of the suite's
async tests run.

Every screen a test keeps with `shot` and, when a test fails, each of its pages' screenshot
and console log land in ``test-artifacts/e2e/``, which is emptied when the package starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.accounts import Trainee
from tests.e2e.browser import (
    ARTIFACTS,
    CHROMIUM,
    Microphone,
    artifact_name,
    launch_chromium,
    new_context,
    save_failure,
    watch_console,
)
from tests.e2e.recordings import speech_samples, write_champion_video, write_wav
from tests.e2e.server import AppServer
from tests.support.services import IN_CI
from web.routers.ui import UI_DIST

_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test, so fixtures can tell that it failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    return any(report.failed for report in item.stash.get(_reports, {}).values())


@pytest.fixture(scope="package", autouse=True)
def chromium() -> Path:
    """Debian's Chromium; the tests skip without it on a developer machine, and fail in CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + "; CI must provide it (.ci/run installs it)")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="package", autouse=True)
def artifacts_dir() -> Path:
    """``test-artifacts/e2e/`` at the repository root, emptied at the start of the run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def ui_built() -> Path:
    """The browser app's bundle (``web/ui/dist``), which `make test` builds; fails without it.

    The server mounts the bundle when it starts, so request this before `app_server`.
    """
    if not (UI_DIST / "index.html").exists():
        pytest.fail(f"{UI_DIST} is not built: run `make ui` first (`make test` does)")
    return UI_DIST


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake microphone's file: the trainee's line (`TRAINEE_LINE`) said once.

    16-bit PCM mono at 48 kHz: 1 s of silence, the line (about 6 s), 8 s of silence.
    """
    folder = tmp_path_factory.mktemp("fake-microphone")
    return write_wav(speech_samples(), folder / "trainee.wav")


@pytest.fixture(scope="session")
def champion_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A champion's call to upload: ``alex-discovery-call.mp4`` (75 s, two voices, 0.7 MB)."""
    folder = tmp_path_factory.mktemp("champion-video")
    return write_champion_video(folder / "alex-discovery-call.mp4")


@pytest.fixture(scope="package")
def app_server(
    artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    """The app, shared by the package's tests; its log is ``test-artifacts/e2e/server.log``.

    A test may `AppServer.restart` it (SIGKILL, then start on the same port and data); the
    server is healthy again when that returns. Tests that need a server of their own, or
    other settings, use `app_server_factory`.
    """
    server = AppServer(
        data_dir=tmp_path_factory.mktemp("app-server") / "data",
        log_path=artifacts_dir / "server.log",
        env={"DIAL_IN_NUMBER": "+1 555 0100"},  # shown beside dial-in codes
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_server_factory(
    artifacts_dir: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., AppServer]]:
    """Starts servers of the test's own: ``make(name="app", **env) -> AppServer``.

    ``env`` overrides settings by variable name, e.g. ``make(RATE_LIMIT_LOGIN="3/minute")``.
    Each logs to ``test-artifacts/e2e/server-<test>-<name>.log``; all stop after the test.
    """
    servers: list[AppServer] = []

    def make(name: str = "app", **env: str) -> AppServer:
        log = artifacts_dir / f"server-{artifact_name(request.node.name)}-{name}.log"
        server = AppServer(data_dir=tmp_path / name / "data", log_path=log, env=env)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="package")
def playwright(chromium: Path) -> Iterator[Playwright]:
    """Playwright's sync API (no asyncio loop may be running in the test thread)."""
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Playwright, speech_wav: Path) -> Iterator[Browser]:
    """Headless Chromium whose fake microphone plays `speech_wav`, shared by the package."""
    browser = launch_chromium(playwright, speech_wav)
    yield browser
    browser.close()


@pytest.fixture
def make_context(
    browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserContext]]:
    """Makes browser contexts: ``make(microphone="granted", base_url=None, **options)``.

    ``microphone`` is ``"granted"``, ``"denied"`` (getUserMedia rejects with
    ``NotAllowedError`` and the Permissions API says ``denied``) or ``"prompt"`` (rejects the
    same way; the Permissions API says ``prompt``); see `new_context`. ``base_url`` defaults
    to the shared `app_server`'s origin; ``options`` go to `Browser.new_context`, e.g.
    ``viewport={"width": 375, "height": 740}``. If the test fails, every open page's
    screenshot and console log are saved; the contexts close after the test.
    """
    contexts: list[BrowserContext] = []

    def make(
        microphone: Microphone = "granted", base_url: str | None = None, **options: object
    ) -> BrowserContext:
        if base_url is None:
            base_url = request.getfixturevalue("app_server").url
        context = new_context(browser, base_url=base_url, microphone=microphone, **options)
        contexts.append(context)
        return context

    yield make
    failed = _failed(request.node)
    for number, context in enumerate(contexts):
        if failed:
            for page_number, page in enumerate(context.pages):
                save_failure(page, f"{request.node.name}-{number}-{page_number}")
        context.close()


@pytest.fixture
def context(make_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A context on the shared app's origin with the microphone granted."""
    return make_context("granted")


@pytest.fixture
def denied_context(make_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A context on the shared app's origin where the microphone is denied (NotAllowedError)."""
    return make_context("denied")


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page in `context`; ``page.goto("/")`` opens the shared app."""
    page = context.new_page()
    watch_console(page)
    return page


@pytest.fixture(scope="package")
def trainee(ui_built: Path, app_server: AppServer, champion_video: Path) -> Trainee:
    """A user of the shared app with a ready champion (ingested through the API)."""
    return Trainee(app_server, champion_video)
