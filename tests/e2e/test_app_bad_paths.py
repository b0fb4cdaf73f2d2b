"""The browser app when things go wrong: a wrong password, a file we cannot analyse, a denied
microphone, the server restarting mid-call. Each shows a clear message and the app recovers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.accounts import PASSWORD, Trainee
from tests.e2e.browser import shot
from tests.e2e.server import AppServer

TURN_MS = 60_000


def test_a_wrong_password_is_refused_plainly_then_the_right_one_works(
    ui_built: Path, app_server: AppServer, page: Page
) -> None:
    email = f"someone-{uuid.uuid4().hex[:8]}@example.com"
    app_server.sign_up(email, PASSWORD)
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Incorrect e-mail or password"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "bad-01-wrong-password")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard alone is enough
    expect(page.get_by_role("heading", name="Champions", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_a_file_we_cannot_analyse_is_refused_with_the_reason(
    trainee: Trainee, context: BrowserContext, tmp_path: Path, champion_video: Path
) -> None:
    page = trainee.signed_in(context)
    page.goto("/#/champions")
    recording = page.get_by_label("Recording of a sales call")

    # A type the app does not take: refused before anything is sent.
    notes = tmp_path / "meeting-notes.txt"
    notes.write_text("Call notes: the prospect liked the demo.")
    recording.set_input_files(notes)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("not a file type we can analyse"))
    shot(page, "bad-02-file-type")

    # A file named like a video that is not one: the server refuses it and says why.
    fake = tmp_path / "not-really.mp4"
    fake.write_text("this is text, not a video " * 40)
    recording.set_input_files(fake)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"\.mp4", re.I))
    refusal = page.get_by_role("alert").inner_text()
    shot(page, "bad-03-not-a-video")
    assert len(_champions(page)) == 1, refusal  # nothing was stored for the refused files

    # The form still works: a real recording is taken.
    recording.set_input_files(champion_video)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Uploaded. Analysing the call…")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("alert")).to_have_count(0)


def _champions(page: Page) -> list[dict[str, object]]:
    """The champions of the page's user, read with the page's own token."""
    champions: list[dict[str, object]] = page.evaluate(
        """async () => {
            const token = sessionStorage.getItem('championclone.token');
            const headers = {Authorization: `Bearer ${token}`};
            const response = await fetch('/champions', {headers});
            return response.json();
        }"""
    )
    return champions


def test_a_denied_microphone_says_so_and_text_practice_still_works(
    trainee: Trainee, app_server: AppServer, denied_context: BrowserContext
) -> None:
    session_id = trainee.start_session(app_server)
    page = trainee.signed_in(denied_context)
    page.goto(f"/#/sessions/{session_id}/call")
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Microphone access was denied"))
    expect(page.get_by_role("button", name="Hang up")).to_have_count(0)
    shot(page, "bad-04-microphone-denied")

    page.get_by_role("link", name="Practise by text instead").click()
    expect(page.get_by_role("heading", name="Practice by text")).to_be_visible()
    # Or by phone: a code to key in after calling the practice number.
    page.get_by_role("button", name="Get a dial-in code").click()
    told = page.get_by_role("status").filter(has_text="key in")
    expect(told).to_contain_text("Call +1 555 0100 and key in")
    code = page.locator(".dial-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    expect(told).to_contain_text(" ".join(code))  # read digit by digit by screen readers
    turn = page.get_by_label("Your turn")
    turn.fill("Hi Dana, how do you onboard new drivers today, and what does that cost you?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("li.bubble-ai")).to_have_count(2)
    expect(page.locator("ol.scores li")).to_have_count(1)
    expect(page.locator("li.bubble-you .badge")).to_have_text(re.compile(r"Score \d+"))
    shot(page, "bad-05-text-practice")
    page.get_by_role("button", name="End and see scorecard").click()
    expect(page.get_by_role("heading", name="Scorecard")).to_be_visible()
    expect(page.get_by_text("This session has no recorded call")).to_be_visible()


def test_a_server_restart_mid_call_is_reported_and_the_call_reconnects(
    trainee: Trainee, app_server: AppServer, make_context: Callable[..., BrowserContext]
) -> None:
    session_id = trainee.start_session(app_server)
    page = trainee.signed_in(make_context("granted"))
    page.goto(f"/#/sessions/{session_id}/call")
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("button", name="Hang up")).to_be_visible(timeout=30_000)
    replies = page.locator("li.bubble-ai")
    expect(replies).to_have_count(2, timeout=TURN_MS)  # the opening line and one reply

    app_server.kill()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile("Lost the connection to the server"), timeout=30_000
    )
    expect(page.get_by_text("Your conversation so far is saved")).to_be_visible()
    expect(page.get_by_role("button", name="Reconnect")).to_be_disabled()
    shot(page, "bad-06-server-lost")

    app_server.start()
    expect(page.get_by_text("The server is back.")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Reconnect").click()
    expect(page.get_by_role("button", name="Hang up")).to_be_visible(timeout=30_000)
    # The conversation goes on where it was: the trainee speaks again and gets a new reply.
    expect(replies).to_have_count(3, timeout=TURN_MS)
    shot(page, "bad-07-reconnected")
    page.get_by_role("button", name="Hang up").click()
    expect(page.get_by_role("heading", name="Scorecard")).to_be_visible(timeout=30_000)
    with app_server.client(trainee.token) as api:
        stored = api.get(f"/training/sessions/{session_id}").json()
    trainee_turns = [t for t in stored["turns"] if t["role"] == "trainee"]
    assert len(trainee_turns) >= 2  # one before the restart, one after
    assert stored["status"] == "ended"
