"""The offline prospect: objections in order per difficulty, pushback, next steps, facts."""

from __future__ import annotations

import copy
import re

import pytest

from agents.training.prospect import ScenarioProspectEngine
from agents.training.types import DialogueTurn, TrainingContext
from tests.support.training_fakes import (
    GOOD_ANSWERS,
    OBJECTION_TEXTS,
    PITCH,
    PRICE,
    SCENARIO,
    TIMING,
    VENDOR,
    make_ctx,
    sentence_count,
)

NEXT_STEP = "how about a pilot kickoff thursday at two pm with your finance director"


async def talk(ctx: TrainingContext, turns: list[str]) -> tuple[list[DialogueTurn], list[str]]:
    """Plays ``turns`` against a fresh engine; returns the history and the prospect's replies."""
    engine = ScenarioProspectEngine()
    convo = [DialogueTurn("ai", engine.first_message(ctx))]
    replies = []
    for text in turns:
        convo.append(DialogueTurn("trainee", text))
        reply = await engine.reply(ctx, convo)
        convo.append(DialogueTurn("ai", reply))
        replies.append(reply)
    return convo, replies


async def answer_every_objection(ctx: TrainingContext, turns: int = 14) -> list[str]:
    """Pitches, and answers each objection well as it comes; returns the replies."""
    engine = ScenarioProspectEngine()
    convo = [DialogueTurn("ai", engine.first_message(ctx))]
    replies = []
    for _ in range(turns):
        state = engine.state(ctx, convo)
        open_text = None if state.open is None else str(_queue(ctx)[state.open]["text"])
        text = GOOD_ANSWERS[open_text] if open_text else PITCH
        convo += [DialogueTurn("trainee", text)]
        replies.append(await engine.reply(ctx, convo))
        convo.append(DialogueTurn("ai", replies[-1]))
    return replies


def _queue(ctx: TrainingContext) -> list[dict]:
    from agents.training.difficulty import level_for

    return list(level_for(ctx).queue)


def raised_in_order(replies: list[str]) -> list[str]:
    """The objections as they first appear in the replies."""
    seen: list[str] = []
    for reply in replies:
        for text in OBJECTION_TEXTS:
            if text in reply and text not in seen:
                seen.append(text)
    return seen


def test_first_message_is_the_opening_line_or_built_from_the_persona() -> None:
    engine = ScenarioProspectEngine()
    assert engine.first_message(make_ctx()) == "Hello, this is Dana."
    scenario = {**copy.deepcopy(SCENARIO), "opening_line": ""}
    first = engine.first_message(make_ctx(scenario=scenario))
    assert "Dana" in first and "Acme Logistics" in first


@pytest.mark.parametrize(
    ("difficulty", "expected"),
    [("easy", [PRICE]), ("medium", [PRICE, VENDOR]), ("hard", [PRICE, VENDOR, TIMING])],
)
async def test_objections_come_in_order_and_as_many_as_the_difficulty_says(
    difficulty: str, expected: list[str]
) -> None:
    replies = await answer_every_objection(make_ctx(difficulty))
    assert raised_in_order(replies) == expected


async def test_a_number_of_objections_to_raise_takes_the_first_ones() -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["difficulty_levels"]["medium"]["objections_to_raise"] = 1
    replies = await answer_every_objection(make_ctx("medium", scenario=scenario))
    assert raised_in_order(replies) == [PRICE]


async def test_one_word_and_empty_turns_do_not_advance_anything() -> None:
    ctx = make_ctx("medium")
    engine = ScenarioProspectEngine()
    convo, replies = await talk(ctx, ["hi dana this is alex from brightpath", PITCH])
    assert PRICE in replies[-1]
    before = engine.state(ctx, convo)
    for word in ("yeah", "ok", "mm hmm", ""):
        convo += [DialogueTurn("trainee", word)]
        reply = await engine.reply(ctx, convo)
        convo.append(DialogueTurn("ai", reply))
        after = engine.state(ctx, convo)
        assert (after.open, after.raised, after.handled, after.weak) == (0, 1, [], 0)
        assert VENDOR not in reply and len(reply.split()) <= 8
    assert before.open == 0
    assert reply == "Sorry, I didn't catch that."


async def test_good_handling_moves_on_and_poor_handling_gets_pushback() -> None:
    ctx = make_ctx("medium")
    opening = ["hi dana this is alex from brightpath", PITCH]
    _, good = await talk(ctx, [*opening, GOOD_ANSWERS[PRICE]])
    assert VENDOR in good[-1]
    convo, poor = await talk(ctx, [*opening, "it is not that expensive really"])
    assert VENDOR not in poor[-1]
    assert "cost" in poor[-1].lower()
    state = ScenarioProspectEngine().state(ctx, convo)
    assert state.open == 0 and state.handled == []


async def test_hard_escalates_once_before_yielding_and_repeats_on_a_poor_answer() -> None:
    ctx = make_ctx("hard")
    engine = ScenarioProspectEngine()
    opening = ["hi dana this is alex from brightpath", PITCH]
    convo, replies = await talk(ctx, [*opening, GOOD_ANSWERS[PRICE]])
    assert engine.state(ctx, convo).open == 0  # not yet
    assert VENDOR not in replies[-1] and "cost" in replies[-1]
    convo, replies = await talk(ctx, [*opening, GOOD_ANSWERS[PRICE], GOOD_ANSWERS[PRICE]])
    assert engine.state(ctx, convo).handled == [0]
    assert VENDOR in replies[-1]
    _, replies = await talk(ctx, [*opening, "ok but it is worth it trust me"])
    assert PRICE in replies[-1]  # a hard prospect repeats the objection


async def test_easy_yields_to_a_second_weak_answer_but_medium_and_hard_do_not() -> None:
    weak = ["hi dana", PITCH, "it is fine", "really it is fine"]
    states = {}
    for difficulty in ("easy", "medium", "hard"):
        ctx = make_ctx(difficulty)
        convo, replies = await talk(ctx, weak)
        states[difficulty] = ScenarioProspectEngine().state(ctx, convo)
        assert PRICE in replies[1]
    assert states["easy"].handled == [0]
    assert states["medium"].open == 0 and states["hard"].open == 0


async def test_hard_prospect_runs_out_of_patience() -> None:
    ctx = make_ctx("hard")
    weak = ["so we are a platform", "we have features", "it has dashboards", "and reports"]
    _, replies = await talk(ctx, [*weak, "and more"])
    assert "another call" in replies[3]
    assert "email" in replies[4]


async def test_a_next_step_is_accepted_only_after_the_objections() -> None:
    ctx = make_ctx("medium")
    engine = ScenarioProspectEngine()
    convo, replies = await talk(ctx, ["hi dana", NEXT_STEP])
    assert PRICE in replies[-1]
    assert engine.state(ctx, convo).outcome is None
    turns = ["hi dana", PITCH, GOOD_ANSWERS[PRICE], GOOD_ANSWERS[VENDOR], NEXT_STEP]
    convo, replies = await talk(ctx, turns)
    assert engine.state(ctx, convo).outcome == "agreed"
    assert "Thursday" in replies[-1]


async def test_easy_accepts_a_next_step_sooner_than_medium() -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["difficulty_levels"]["easy"]["objections_to_raise"] = [1, 2, 3]
    turns = ["hi dana", PITCH, GOOD_ANSWERS[PRICE], NEXT_STEP]
    easy = make_ctx("easy", scenario=scenario)
    convo, replies = await talk(easy, turns)
    assert ScenarioProspectEngine().state(easy, convo).outcome == "agreed"
    assert "Thursday" in replies[-1]
    medium = make_ctx("medium", scenario=scenario)
    convo, replies = await talk(medium, turns)
    assert ScenarioProspectEngine().state(medium, convo).outcome is None
    assert VENDOR in replies[-2] and "Thursday" not in replies[-1]


async def test_a_vague_next_step_gets_a_request_for_specifics_on_medium() -> None:
    turns = ["hi dana", PITCH, GOOD_ANSWERS[PRICE], GOOD_ANSWERS[VENDOR], "lets do a demo"]
    convo, replies = await talk(make_ctx("medium"), turns)
    assert "when" in replies[-1].lower()
    assert ScenarioProspectEngine().state(make_ctx("medium"), convo).outcome is None


async def test_discovery_questions_get_persona_facts_even_from_messy_recognition() -> None:
    ctx = make_ctx("easy")
    _, replies = await talk(
        ctx,
        [
            "what is your role there",
            "how many people are on your team",
            "what is the biggest probably ot does right now",
            "how many people are on your team",
        ],
    )
    assert "head of operations" in replies[0] and "Acme Logistics" in replies[0]
    assert re.search(r"\d+ people", replies[1])
    assert replies[2].startswith("Honestly")  # the pain, not a shrug
    assert replies[3].startswith("Like I said") and replies[1].split()[-3] in replies[3]


async def test_replies_are_deterministic_and_restored_sessions_continue() -> None:
    turns = ["hi dana", "what tools do you use today", PITCH, "ok", GOOD_ANSWERS[PRICE]]
    first_convo, first = await talk(make_ctx("medium"), turns)
    _, second = await talk(make_ctx("medium"), turns)
    assert first == second
    # A fresh engine given the stored history (as a restored text session) answers the same.
    restored = ScenarioProspectEngine()
    assert await restored.reply(make_ctx("medium"), first_convo[:-1]) == first[-1]


async def test_consecutive_trainee_turns_count_as_one() -> None:
    ctx = make_ctx("medium")
    engine = ScenarioProspectEngine()
    split = [
        DialogueTurn("ai", "Hello, this is Dana."),
        DialogueTurn("trainee", "we help teams like yours"),
        DialogueTurn("trainee", "cut onboarding time by forty percent"),
    ]
    whole = [split[0], DialogueTurn("trainee", PITCH)]
    assert await engine.reply(ctx, split) == await engine.reply(ctx, whole)


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
async def test_replies_are_short_and_spoken(difficulty: str) -> None:
    turns = [
        "hi dana this is alex from brightpath how are you",
        "what is the biggest probably ot does right now",
        "yeah",
        "how much does that cost you and who else is involved in the decision",
        PITCH,
        "ok",
        GOOD_ANSWERS[PRICE],
        GOOD_ANSWERS[PRICE],
        GOOD_ANSWERS[VENDOR],
        GOOD_ANSWERS[VENDOR],
        GOOD_ANSWERS[TIMING],
        NEXT_STEP,
        "great talk soon",
    ]
    _, replies = await talk(make_ctx(difficulty), turns)
    for reply in replies:
        assert reply and sentence_count(reply) <= 3 and len(reply.split()) <= 60
        assert not re.search(r"[*#_`]", reply)
