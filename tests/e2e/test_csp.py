"""The pages work under their Content-Security-Policy: no screen of the app, no voice call and
no part of the API docs makes Chromium report a violation, and each page's icon loads."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.accounts import Trainee
from tests.e2e.browser import console_log
from tests.e2e.server import AppServer

_WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
));
"""
"""Keeps every CSP violation the page reports (added before any of the page's scripts run)."""

_ICON = """async () => {
  const link = document.querySelector("link[rel~='icon']");
  const answer = await fetch(link.href);
  return [answer.status, answer.headers.get("content-type")];
}"""


_INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = true";
  document.body.append(script);
}"""


def _violations(page: Page) -> list[str]:
    reported: list[str] = page.evaluate("window.__violations")
    logged = [line for line in console_log(page) if "Content Security Policy" in line]
    return [*reported, *logged]


def _icon(page: Page) -> list[object]:
    return list(page.evaluate(_ICON))


def test_the_api_docs_run_under_their_policy(
    ui_built: Path, make_context: Callable[..., BrowserContext]
) -> None:
    context = make_context("granted")
    context.add_init_script(_WATCH)
    page = context.new_page()
    response = page.goto("/docs")
    assert response is not None and response.ok
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]

    operation = page.get_by_text("/training/start").first
    expect(operation).to_be_visible()
    operation.click()  # an operation's panel: parameters, schemas, highlighted examples
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    page.get_by_role("button", name="Try it out").first.click()
    expect(page.get_by_role("button", name="Execute").first).to_be_visible()

    assert _icon(page) == [200, "image/svg+xml"]
    assert _violations(page) == []

    # The watch works: an inline script the policy does not list is blocked, and reported.
    page.evaluate(_INJECT)
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.injected") is None
    assert _violations(page)[0].startswith("script-src-elem blocked inline")


def test_every_screen_and_a_voice_call_run_under_the_policy(
    trainee: Trainee, app_server: AppServer, make_context: Callable[..., BrowserContext]
) -> None:
    signed_out = make_context("granted")
    signed_out.add_init_script(_WATCH)
    page = signed_out.new_page()
    response = page.goto("/")
    assert response is not None and response.ok
    assert "script-src 'self' blob:;" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _icon(page) == [200, "image/svg+xml"]
    assert _violations(page) == []

    finished = trainee.start_session(app_server)
    with app_server.client(trainee.token) as api:
        said = "How do you onboard new drivers today, and what does that cost you?"
        api.post("/training/respond", json={"session_id": finished, "message": said})
        api.post("/training/end", json={"session_id": finished})

    context = make_context("granted")
    context.add_init_script(_WATCH)
    page = trainee.signed_in(context)
    screens = [
        ("/#/champions", "Champions"),
        (f"/#/champions/{trainee.champion_id}", "Patterns"),
        (f"/#/sessions/{finished}", "The champion's way"),
        ("/#/history", "Scores over time"),
    ]
    for path, heading in screens:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if "champions/" in path:  # the champion's recording, loaded into a media element
            page.get_by_role("button", name="Play the call").click()
            expect(page.get_by_label("The champion's call")).to_be_visible(timeout=30_000)

    # A voice call: the microphone, the WebRTC connection and the champion's voice playing.
    page.goto(f"/#/practice?champion={trainee.champion_id}")
    page.get_by_label("Voice call").check()
    page.get_by_role("button", name="Start practice").click()
    expect(page.get_by_role("button", name="Hang up")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("status").filter(has_text=re.compile("is speaking"))).to_be_visible(
        timeout=60_000
    )
    page.get_by_role("button", name="Hang up").click()

    assert _violations(page) == []
