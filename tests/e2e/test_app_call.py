"""The practice call screen: which replies the browser times, connecting straight from
*Start practice*, and a transcript that follows new lines unless the trainee scrolled up."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.accounts import Trainee
from tests.e2e.browser import shot
from tests.e2e.server import REPO_ROOT, AppServer

UI = REPO_ROOT / "web" / "ui"
ESBUILD = UI / "node_modules" / ".bin" / "esbuild"
SAID = "How do you onboard new drivers today, and what does that cost you?"

# Feeds a ReplyClock what ReplyTimer samples every 10 ms: the microphone carrying speech or
# not, the bot's audio sounding or not (spans [from, to] in ms, both ends sounding), and the
# server's turn ends as they arrive. Returns each timed reply as [when it started, its wait].
_RUN_CLOCK = """({speech, bot, turnEnds, until}) => {
    const clock = new ReplyTimerModule.ReplyClock();
    const inside = (spans, t) => spans.some(([from, to]) => from <= t && t <= to);
    const timed = [];
    for (let t = 0; t <= until; t += 10) {
        if (turnEnds.includes(t)) clock.turnEnded(t);
        clock.heardMic(t, inside(speech, t));
        const waited = clock.heardBot(t, inside(bot, t));
        if (waited !== null) timed.push([t, Math.round(waited)]);
    }
    return timed;
}"""


@pytest.fixture(scope="module")
def reply_timer_js() -> str:
    """web/ui/src/replytimer.ts as a script that defines ``ReplyTimerModule``."""
    if not ESBUILD.exists():
        pytest.fail(f"{ESBUILD} is missing: run `make ui` first (`make test` does)")
    built = subprocess.run(
        [
            str(ESBUILD),
            "src/replytimer.ts",
            "--bundle",
            "--format=iife",
            "--global-name=ReplyTimerModule",
            "--target=es2020",
        ],
        cwd=UI,
        capture_output=True,
        text=True,
        check=True,
    )
    return built.stdout


@pytest.fixture
def clock_page(make_context: Callable[..., BrowserContext], reply_timer_js: str) -> Page:
    """A blank page with the reply clock loaded (it needs no server)."""
    page = make_context(base_url="http://127.0.0.1:9").new_page()
    page.set_content("<!doctype html><title>Reply clock</title>")
    page.add_script_tag(content=reply_timer_js)
    return page


def _timed(
    page: Page,
    *,
    speech: list[tuple[int, int]],
    bot: list[tuple[int, int]],
    turn_ends: list[int],
    until: int = 15_000,
) -> list[list[int]]:
    """The replies the clock times over a call laid out in ms."""
    timeline = {"speech": speech, "bot": bot, "turnEnds": turn_ends, "until": until}
    timed: list[list[int]] = page.evaluate(_RUN_CLOCK, timeline)
    return timed


OPENING = (0, 3_000)  # the bot's opening line
TRAINEE = (4_000, 7_000)  # the trainee's turn, which the server ends at 7.5 s
REPLY = (8_000, 11_000)


def test_a_reply_is_timed_from_the_end_of_speech_to_its_first_sound(clock_page: Page) -> None:
    timed = _timed(clock_page, speech=[TRAINEE], bot=[OPENING, REPLY], turn_ends=[7_500])
    assert timed == [[8_000, 1_000]]  # the opening line answers no turn: not timed


def test_no_figure_when_the_trainee_is_still_talking_as_the_reply_starts(
    clock_page: Page,
) -> None:
    # They start again after their turn ended and are talking when the reply sounds: "now
    # minus last speech" would be 0 ms.
    still = _timed(
        clock_page, speech=[TRAINEE, (7_800, 9_000)], bot=[OPENING, REPLY], turn_ends=[7_500]
    )
    # A few words after the turn ended, quiet again before the reply: the end of speech we
    # have is not the one the server answered.
    again = _timed(
        clock_page, speech=[TRAINEE, (7_600, 7_700)], bot=[OPENING, REPLY], turn_ends=[7_500]
    )
    # Talking straight through the reply's start, with no end of turn in between.
    through = _timed(clock_page, speech=[(4_000, 9_000)], bot=[OPENING, REPLY], turn_ends=[])
    assert still == again == through == []


def test_no_figure_without_an_end_of_speech_for_this_reply(clock_page: Page) -> None:
    # No end of turn reached the browser.
    no_end = _timed(clock_page, speech=[TRAINEE], bot=[OPENING, REPLY], turn_ends=[])
    # A turn end (the server heard something) with no speech at the microphone since the
    # previous reply: the last speech is from before it, which gave waits of 9 s and more.
    stale = _timed(
        clock_page,
        speech=[(500, 1_500)],
        bot=[(2_000, 3_000), REPLY],
        turn_ends=[1_800, 7_500],
    )
    assert no_end == []
    assert stale == [[2_000, 500]]  # the first reply only


def test_a_pause_inside_a_reply_is_not_a_new_reply(clock_page: Page) -> None:
    # The trainee talks over the reply; the server ends their turn while the bot is still
    # speaking; the bot pauses between sentences and goes on.
    timed = _timed(
        clock_page,
        speech=[TRAINEE, (8_500, 9_500)],
        bot=[OPENING, (8_000, 10_000), (10_400, 12_000)],
        turn_ends=[7_500, 9_800],
    )
    assert timed == [[8_000, 1_000]]


def test_one_figure_per_turn(clock_page: Page) -> None:
    timed = _timed(
        clock_page,
        speech=[TRAINEE, (12_000, 13_000)],
        bot=[OPENING, (8_000, 9_000), (9_500, 10_000), (13_600, 14_000)],
        turn_ends=[7_500, 13_300],
    )
    assert timed == [[8_000, 1_000], [13_600, 600]]


def test_start_practice_by_voice_asks_for_the_microphone_at_once(
    trainee: Trainee, denied_context: BrowserContext
) -> None:
    page = trainee.signed_in(denied_context)
    page.goto(f"/#/practice?champion={trainee.champion_id}")
    page.get_by_label("Voice call").check()
    page.get_by_role("button", name="Start practice").click()
    expect(page.get_by_role("heading", name="Practice call")).to_be_visible()
    # No Connect click: the call starts connecting, and the denied microphone says so.
    expect(page.get_by_role("alert")).to_have_text(re.compile("Microphone access was denied"))
    expect(page.get_by_role("button", name="Hang up")).to_have_count(0)
    shot(page, "call-01-denied-after-start")

    # Only the first opening connects by itself: a reload waits for the trainee.
    page.reload()
    expect(page.get_by_role("button", name="Connect", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)

    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Microphone access was denied"))
    page.get_by_role("link", name="Practise by text instead").click()
    expect(page.get_by_role("heading", name="Practice by text")).to_be_visible()
    page.get_by_label("Your turn").fill(SAID)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("li.bubble-ai")).to_have_count(2)


_AT_END = "el => el.scrollHeight - el.scrollTop - el.clientHeight <= 2"


def test_new_lines_scroll_into_view_unless_the_trainee_scrolled_up(
    trainee: Trainee, app_server: AppServer, context: BrowserContext
) -> None:
    session_id = trainee.start_session(app_server)
    with app_server.client(trainee.token) as api:
        for _ in range(5):
            said = api.post("/training/respond", json={"session_id": session_id, "message": SAID})
            assert said.status_code == 200, said.text
    page = trainee.signed_in(context)
    page.goto(f"/#/sessions/{session_id}/call?input=text")
    chat = page.locator(".call ol.chat")
    lines = chat.locator("li")
    expect(lines).to_have_count(11)  # the opening line and five exchanges
    assert chat.evaluate("el => el.scrollHeight > el.clientHeight")  # it has to scroll
    # The transcript opens at its latest line, and follows the new ones.
    page.wait_for_function(f"() => ({_AT_END})(document.querySelector('.call ol.chat'))")
    page.get_by_label("Your turn").fill(SAID)
    page.get_by_role("button", name="Send").click()
    expect(lines).to_have_count(13)
    expect(lines.last).to_be_in_viewport()
    assert chat.evaluate(_AT_END)
    shot(page, "call-02-transcript-follows")

    # Scrolled up to read: new lines leave the position alone.
    chat.hover()
    page.mouse.wheel(0, -5_000)
    page.wait_for_function("() => document.querySelector('.call ol.chat').scrollTop === 0")
    page.get_by_label("Your turn").fill(SAID)
    page.get_by_role("button", name="Send").click()
    expect(lines).to_have_count(15)
    expect(lines.first).to_be_in_viewport()
    expect(lines.last).not_to_be_in_viewport()
    assert chat.evaluate("el => el.scrollTop") == 0
