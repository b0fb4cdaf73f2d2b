"""The browser app end to end, as a trainee uses it: sign up, upload a champion's call and watch
it become ready, study the champion, practise by voice with the fake microphone, read the
scorecard and the history. Each screen is kept in ``test-artifacts/e2e/``."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.browser import shot, watch_console
from tests.e2e.server import AppServer

EMAIL = "trainee@example.com"
PASSWORD = "practice-makes-perfect"
INGEST_SECONDS = 180  # whisper ingests the 75 s call in ~20 s here; generous for CI
TURN_SECONDS = 60  # a spoken turn and its reply

# Watches the live transcript for what must never show: words still being recognised left
# behind (more than one interim, or one that is not the last line), a score chip on such
# words, and a reply timed faster than a turn can end (the server waits 200 ms of silence).
_WATCH_TRANSCRIPT = """() => {
    window.transcriptFaults = [];
    const fault = (what) => window.transcriptFaults.push(what);
    new MutationObserver(() => {
        const chat = document.querySelector('.call ol.chat');
        if (!chat) return;
        const items = [...chat.children];
        const interims = [...chat.querySelectorAll('.interim')];
        if (interims.length > 1) fault(`${interims.length} interim lines`);
        for (const interim of interims) {
            if (interim.closest('li') !== items[items.length - 1]) {
                fault(`interim not the last line: ${interim.textContent}`);
            }
        }
        for (const badge of chat.querySelectorAll('.badge')) {
            const line = badge.closest('li');
            if (line.querySelector('.interim')) fault(`score on interim: ${line.textContent}`);
        }
        for (const heard of chat.querySelectorAll('[title*="as this browser heard it"]')) {
            const ms = Number(/replied in (\\d+) ms/.exec(heard.textContent)?.[1]);
            if (!(ms >= 200)) fault(`heard: ${heard.textContent}`);
        }
    }).observe(document, {subtree: true, childList: true, characterData: true});
}"""


def _session_id(page: Page) -> str:
    match = re.search(r"#/sessions/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def test_sign_up_upload_study_practise_and_read_the_scorecard(
    ui_built: Path, app_server: AppServer, context: BrowserContext, champion_video: Path
) -> None:
    page = context.new_page()
    watch_console(page)

    # Sign up.
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="Create an account").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "01-sign-up")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Champions", exact=True)).to_be_visible()
    expect(page.get_by_text(EMAIL)).to_be_visible()
    shot(page, "02-champions-empty")

    # Upload the champion's call and follow its ingest to ready.
    page.get_by_label("Recording of a sales call").set_input_files(champion_video)
    page.get_by_label("Champion's name (optional)").fill("Alex")
    page.get_by_role("button", name="Upload").click()
    progress = page.locator("#ingest-progress")
    expect(progress).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"Analysing: \d+%"))).to_be_visible()
    shot(page, "03-ingest-progress")
    open_link = page.get_by_role("link", name="Open the champion")
    expect(open_link).to_be_visible(timeout=INGEST_SECONDS * 1000)
    expect(page.get_by_text("Analysis complete")).to_be_visible()
    expect(page.locator(".step-done")).to_have_count(6)
    expect(page.get_by_role("list", name="Your champions").get_by_text("Ready")).to_be_visible()
    shot(page, "04-champion-ready")

    # The champion page: transcript by speaker, metrics against ranges, patterns, scenarios.
    open_link.click()
    expect(page.get_by_role("heading", name="Alex", exact=True)).to_be_visible()
    lines = page.locator("ol.transcript li")
    expect(lines.first).to_be_visible()
    expect(page.locator("ol.transcript").get_by_text("Alex (champion)").first).to_be_visible()
    expect(page.locator("ol.transcript").get_by_text("Prospect").first).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"Talk ratio: \d+%"))).to_be_visible()
    expect(page.get_by_role("heading", name="Patterns")).to_be_visible()
    expect(page.locator(".patterns blockquote").first).to_be_visible()
    expect(page.get_by_role("link", name="Practise this scenario").first).to_be_visible()
    # A line of the transcript plays that moment of the call.
    third = lines.nth(2)
    start = _seconds(third.locator(".time").inner_text())
    third.get_by_role("button").click()
    audio = page.get_by_label("The champion's call")
    expect(audio).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "at => { const a = document.querySelector('audio'); return a && !a.paused &&"
        " a.currentTime >= at; }",
        arg=start,
    )
    shot(page, "05-champion-page")

    # Practise by voice: the fake microphone says the trainee's line.
    page.get_by_role("link", name="Practise with Alex").click()
    expect(page.get_by_role("heading", name="Practice")).to_be_visible()
    # The rubric is open to read before practising.
    page.get_by_text("How you are scored").click()
    expect(page.get_by_text(re.compile(r"Discovery \(25%\)"))).to_be_visible()
    page.get_by_label("Roleplay").check()
    page.get_by_label("Medium").check()
    page.get_by_label("Voice call").check()
    shot(page, "06-practice-setup")
    page.evaluate(_WATCH_TRANSCRIPT)
    page.get_by_role("button", name="Start practice").click()
    expect(page.get_by_role("heading", name="Practice call")).to_be_visible()
    session_id = _session_id(page)
    # The call connects by itself: no Connect click.
    expect(page.get_by_role("button", name="Hang up")).to_be_visible(timeout=30_000)
    # The trainee's words appear, the prospect answers, the turn is scored, the reply is timed.
    trainee = page.locator("li.bubble-you .said")
    expect(trainee.first).not_to_be_empty(timeout=TURN_SECONDS * 1000)
    expect(page.locator("li.bubble-ai")).to_have_count(2, timeout=TURN_SECONDS * 1000)
    expect(page.locator("ol.scores li").first).to_be_visible(timeout=TURN_SECONDS * 1000)
    heard = page.get_by_title(re.compile("as this browser heard it"))
    expect(heard.first).to_have_text(re.compile(r"replied in \d+ ms"), timeout=TURN_SECONDS * 1000)
    # The figure is a reply's, not the opening line's; the score chip is on final words.
    expect(page.locator("li.bubble-ai").first.locator(".latency")).to_have_count(0)
    scored = page.locator("li.bubble-you").filter(has=page.locator(".badge"))
    expect(scored.first.locator(".said")).to_have_text(re.compile(r"\w"))
    expect(page.get_by_text(re.compile(r"replied in 0 ms"))).to_have_count(0)
    shot(page, "07-live-call")
    # The fake microphone says the line again: its final words arrive as a new line, and
    # words shown while recognising (an STT with interim results) never stay behind.
    interim = page.locator(".interim")
    finals = page.locator("li.bubble-you:not(:has(.interim))")
    expect(interim).to_have_count(0, timeout=TURN_SECONDS * 1000)
    before = finals.count()
    expect(finals).to_have_count(before + 1, timeout=TURN_SECONDS * 1000)
    expect(interim).to_have_count(0, timeout=TURN_SECONDS * 1000)
    shot(page, "07b-live-call-next-turn")
    assert page.evaluate("() => window.transcriptFaults") == []
    heard_shown = {int(ms) for ms in re.findall(r"replied in (\d+) ms\b(?! \()", _transcript(page))}

    # Hang up: the scorecard.
    page.get_by_role("button", name="Hang up").click()
    expect(page.get_by_role("heading", name="Scorecard")).to_be_visible(timeout=30_000)
    expect(page.locator(".overall-score .huge")).to_have_text(re.compile(r"^\d+$"))
    expect(page.get_by_role("table", name=re.compile("Score per criterion"))).to_be_visible()
    expect(page.get_by_role("heading", name="Keep")).to_be_visible()
    expect(page.get_by_role("heading", name="The champion's way")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("beside the champion"))).to_be_visible()
    expect(page.get_by_label("Your side of the call")).to_be_visible(timeout=30_000)
    expect(page.get_by_label("The AI's side of the call")).to_be_visible()
    shot(page, "08-scorecard")

    # What the browser showed is what the server stored.
    token = page.evaluate("() => sessionStorage.getItem('championclone.token')")
    with app_server.client(token) as api:
        stored = api.get(f"/training/sessions/{session_id}").json()
    assert stored["status"] == "ended"
    said = [t for t in stored["turns"] if t["role"] == "trainee"]
    assert said and said[0]["score"] is not None
    replies = [t for t in stored["turns"] if t["role"] == "ai" and t["latency_ms"]]
    # The browser timed replies as the trainee heard them and told the server; a reply that
    # overlapped the trainee's speech has the server's figure alone.
    timed = [t for t in replies if "client_ms" in (t["latency_breakdown"] or {})]
    assert timed, replies
    for reply in timed:
        heard = reply["latency_breakdown"]
        assert heard["client_ms"] == reply["latency_ms"] >= heard["server_ms"]
    assert heard_shown <= {round(t["latency_ms"]) for t in timed}, (heard_shown, replies)
    shown = page.locator(".overall-score .huge").inner_text()
    assert shown == str(round(stored["scorecard"]["overall"]))

    # History: the session and its score over time.
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Scores over time")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Scores for Alex"))).to_be_visible()
    expect(page.get_by_role("region", name="Your sessions").get_by_role("row")).to_have_count(2)
    shot(page, "09-history")

    # Sign out: back to the sign-in screen, and the token is gone.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('championclone.token')") is None


def _transcript(page: Page) -> str:
    return page.locator(".call ol.chat").inner_text()


def _seconds(clock: str) -> float:
    minutes, seconds = clock.split(":")[-2:]
    return int(minutes) * 60 + int(seconds)
