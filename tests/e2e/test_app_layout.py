"""Every screen fits a narrow (phone-sized) screen and names its form fields for assistive
technology; the screens are kept as artifacts at that size."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.accounts import Trainee
from tests.e2e.browser import shot
from tests.e2e.server import AppServer

PHONE = {"width": 375, "height": 740}

# Elements wider than the screen, and form fields that have no accessible name.
_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)
        && !e.getAttribute('aria-label') && !e.textContent.trim())
    .map(e => e.outerHTML.slice(0, 80))"""


def _check(page: Page, name: str) -> None:
    assert page.evaluate(_OVERFLOW) <= 0, f"{name} is wider than a phone screen"
    assert page.evaluate(_UNLABELLED) == [], f"{name} has form fields without a name"
    shot(page, f"phone-{name}")


def test_each_screen_fits_a_phone_and_labels_its_fields(
    trainee: Trainee, app_server: AppServer, make_context: Callable[..., BrowserContext]
) -> None:
    # A finished text session, so the scorecard and history have something to show.
    session_id = trainee.start_session(app_server)
    with app_server.client(trainee.token) as api:
        said = "How do you onboard new drivers today, and what does that cost you?"
        api.post("/training/respond", json={"session_id": session_id, "message": said})
        api.post("/training/end", json={"session_id": session_id})

    signed_out = make_context("granted", viewport=PHONE).new_page()
    signed_out.goto("/")
    expect(signed_out.get_by_role("heading", name="Sign in")).to_be_visible()
    _check(signed_out, "sign-in")

    page = trainee.signed_in(make_context("granted", viewport=PHONE))
    screens = [
        ("champions", "/#/champions", "Champions"),
        ("champion", f"/#/champions/{trainee.champion_id}", "Patterns"),
        ("practice", f"/#/practice?champion={trainee.champion_id}", "Practice"),
        ("call", f"/#/sessions/{trainee.start_session(app_server)}/call", "Transcript"),
        ("scorecard", f"/#/sessions/{session_id}", "The champion's way"),
        ("history", "/#/history", "Scores over time"),
    ]
    for name, path, heading in screens:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        _check(page, name)
