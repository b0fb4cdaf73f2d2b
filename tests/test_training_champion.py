"""The offline champion (demo mode): verbatim lines, the right kind of line, no repeats."""

from __future__ import annotations

import copy

from agents.training.champion import ChampionDemoEngine, wanted_category
from agents.training.types import DialogueTurn
from tests.support.training_fakes import (
    CLOSING_LINE,
    LINES,
    PILOT_LINE,
    PRICE_LINE,
    SCENARIO,
    FakeChampionLines,
    history,
    make_ctx,
    sentence_count,
)

QUOTES = {line[0] for line in LINES}


def demo(*trainee: str) -> list[DialogueTurn]:
    """A demo conversation: the champion's greeting, then the prospect's (trainee's) turns."""
    turns = [("ai", "Hi Dana, this is Alex Rivera.")]
    for n, text in enumerate(trainee):
        if n:
            turns.append(("ai", "Okay."))
        turns.append(("trainee", text))
    return history(*turns)


def test_first_message_greets_the_prospect_as_the_champion() -> None:
    first = ChampionDemoEngine(lines=FakeChampionLines()).first_message(make_ctx(mode="demo"))
    assert first.startswith("Hi Dana") and "Alex Rivera" in first
    assert sentence_count(first) <= 3


async def test_an_objection_gets_the_champions_objection_handling_verbatim() -> None:
    lines = FakeChampionLines()
    engine = ChampionDemoEngine(lines=lines)
    convo = demo(
        "fine thanks busy week",
        "we do it all in spreadsheets",
        "honestly that sounds expensive what would it cost us a month",
    )
    reply = await engine.reply(make_ctx(mode="demo"), convo)
    assert reply == PRICE_LINE
    assert lines.calls[0][1] == "objection_handling"


async def test_early_turns_ask_discovery_questions_and_late_ones_close() -> None:
    lines = FakeChampionLines()
    engine = ChampionDemoEngine(lines=lines)
    early = await engine.reply(
        make_ctx(mode="demo"), demo("pretty good we track everything in spreadsheets today")
    )
    assert lines.calls[-1][1] == "discovery_question"
    assert early in {q for q, cat, *_ in LINES if cat == "discovery_question"}
    ready = await engine.reply(
        make_ctx(mode="demo"),
        demo("ok", "we track it in spreadsheets", "mostly visibility", "a pilot could work"),
    )
    assert lines.calls[-1][1] == "closing"
    assert ready in {PILOT_LINE, CLOSING_LINE}


async def test_replies_are_the_champions_own_lines_and_not_said_twice_in_a_row() -> None:
    engine = ChampionDemoEngine(lines=FakeChampionLines())
    ctx = make_ctx(mode="demo")
    said = "that sounds expensive for us"
    convo = demo(said)
    first = await engine.reply(ctx, convo)
    convo += [DialogueTurn("ai", first), DialogueTurn("trainee", said)]
    second = await engine.reply(ctx, convo)
    assert first in QUOTES
    assert second != first


async def test_falls_back_to_the_recorded_reply_then_to_a_plain_line() -> None:
    scenario = copy.deepcopy(SCENARIO)
    recorded = "I hear you. If it saves a third of that, it pays for itself."
    scenario["objections"][0]["champion_response"] = recorded
    empty = ChampionDemoEngine(lines=FakeChampionLines(lines=[]))
    objection = demo("that sounds too expensive")
    assert await empty.reply(make_ctx(mode="demo", scenario=scenario), objection) == recorded
    plain = await empty.reply(make_ctx(mode="demo"), demo("we use spreadsheets"))
    assert plain and sentence_count(plain) <= 2


async def test_a_failing_store_still_gets_an_answer() -> None:
    engine = ChampionDemoEngine(lines=FakeChampionLines(fail=True))
    reply = await engine.reply(make_ctx(mode="demo"), demo("we are not sure about the price"))
    assert reply.startswith("I hear you")


def test_the_kind_of_line_wanted_reads_unpunctuated_speech() -> None:
    assert wanted_category("we are happy with our current vendor", 3) == "objection_handling"
    assert wanted_category("we track it in spreadsheets", 1) == "discovery_question"
    assert wanted_category("that sounds good what are the next steps", 3) == "closing"
    assert wanted_category("we track it in spreadsheets", 4) is None
