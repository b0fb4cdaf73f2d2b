"""The offline turn scorer: applicable criteria, their scores, and the champion's way."""

from __future__ import annotations

import pytest

from agents.training.scoring import HeuristicTurnScorer
from agents.training.signals import questions
from agents.training.types import RUBRIC, TurnScore
from ingest.analysis.metrics import question_spans
from tests.support.training_fakes import (
    COST_LINE,
    DISCOVERY_LINE,
    GOOD_ANSWERS,
    PRICE,
    PRICE_LINE,
    FakeChampionLines,
    history,
    make_ctx,
)

OPENING = ("ai", "Hello, this is Dana.")
MONOLOGUE = " ".join(
    ["our platform has dashboards reports alerts and a mobile app for every supervisor"] * 11
)


async def score(*turns: tuple[str, str], lines: FakeChampionLines | None = None) -> TurnScore:
    return await HeuristicTurnScorer().score(
        make_ctx(), history(*turns), lines or FakeChampionLines()
    )


def expected_overall(criteria: dict[str, float]) -> float:
    """The documented rule: rubric weights renormalised over the applicable criteria."""
    total = sum(RUBRIC[c] for c in criteria)
    return round(sum(RUBRIC[c] * s for c, s in criteria.items()) / total, 1)


async def test_an_open_question_scores_high_on_discovery_and_a_closed_one_low() -> None:
    open_q = await score(
        OPENING, ("trainee", "what is the biggest problem with onboarding new drivers right now")
    )
    closed = await score(OPENING, ("trainee", "do you have a budget for this"))
    assert open_q.criteria["discovery"] >= 80
    assert closed.criteria["discovery"] <= 45
    assert open_q.score > closed.score
    assert "open question" in closed.feedback


async def test_messy_recognition_is_still_an_open_question() -> None:
    result = await score(OPENING, ("trainee", "what is the biggest probably ot does right now"))
    assert result.criteria["discovery"] >= 80


async def test_objection_handling_rewards_acknowledge_and_answer_and_punishes_ok() -> None:
    objection = ("ai", PRICE)
    good = await score(OPENING, ("trainee", "hi"), objection, ("trainee", GOOD_ANSWERS[PRICE]))
    weak = await score(OPENING, ("trainee", "hi"), objection, ("trainee", "ok"))
    assert good.criteria["objection_handling"] >= 85
    assert weak.criteria["objection_handling"] <= 15
    assert good.score >= 80 > 40 >= weak.score
    assert "acknowledg" in weak.feedback.lower()
    assert "price" in weak.suggestion.lower()


async def test_objection_handling_does_not_apply_without_an_objection() -> None:
    result = await score(OPENING, ("trainee", GOOD_ANSWERS[PRICE]))
    assert "objection_handling" not in result.criteria
    assert result.score == expected_overall(result.criteria)


async def test_a_recorded_objection_without_cue_words_still_counts() -> None:
    ctx = make_ctx()
    ctx.scenario["objections"][0]["text"] = "Two grand a month is a lot of money for us."
    result = await HeuristicTurnScorer().score(
        ctx,
        history(("ai", "Two grand a month is a lot of money for us."), ("trainee", "ok")),
        FakeChampionLines(),
    )
    assert "objection_handling" in result.criteria


async def test_overall_is_the_renormalised_weighted_mean_of_applicable_criteria() -> None:
    result = await score(
        OPENING,
        ("trainee", "hi"),
        ("ai", PRICE),
        (
            "trainee",
            "i hear you teams like yours save ten hours a week so what does it cost you now",
        ),
    )
    assert set(result.criteria) == {"discovery", "objection_handling", "value", "listening"}
    assert result.score == expected_overall(result.criteria)


async def test_a_long_monologue_loses_on_listening() -> None:
    long = await score(("ai", "There are about forty people on my team."), ("trainee", MONOLOGUE))
    short = await score(
        ("ai", "There are about forty people on my team."),
        ("trainee", "forty people is a big team how do you onboard them today"),
    )
    assert len(MONOLOGUE.split()) >= 140
    assert long.criteria["listening"] <= 30 < short.criteria["listening"]
    assert "words" in long.feedback and "60 words" in long.suggestion


async def test_talking_over_the_prospect_for_several_turns_is_penalised() -> None:
    statement = "our platform gives every supervisor one place to see the progress of all new hires"
    once = await score(OPENING, ("trainee", statement))
    thrice = await score(
        OPENING,
        ("trainee", statement),
        ("ai", "Okay."),
        ("trainee", statement),
        ("ai", "Okay."),
        ("trainee", statement),
    )
    assert thrice.criteria["listening"] <= once.criteria["listening"] - 20


async def test_next_step_applies_when_proposed_or_late_and_rewards_concreteness() -> None:
    early = await score(OPENING, ("trainee", "what tools do you use today"))
    assert "next_step" not in early.criteria
    concrete = await score(
        OPENING, ("trainee", "how about a demo thursday at two pm with your finance director")
    )
    vague = await score(OPENING, ("trainee", "lets follow up sometime"))
    assert concrete.criteria["next_step"] >= 85
    assert vague.criteria["next_step"] <= 50
    assert "discovery" not in concrete.criteria  # "how about ..." is how a proposal is put
    late_turns = [OPENING]
    for n in range(5):
        late_turns += [("trainee", f"thanks that is helpful number {n}"), ("ai", "Sure.")]
    late = await score(*late_turns, ("trainee", "great thanks for the chat"))
    assert late.criteria["next_step"] <= 15


async def test_value_with_numbers_and_proof_beats_feature_talk() -> None:
    said = ("ai", "New drivers take weeks to get up to speed and make mistakes.")
    strong = await score(
        said, ("trainee", "teams like yours cut onboarding for new drivers by 40%")
    )
    weak = await score(said, ("trainee", "our platform has lots of features"))
    assert strong.criteria["value"] >= 80
    assert weak.criteria["value"] <= 35


async def test_the_champions_way_is_their_closest_line_for_the_situation() -> None:
    lines = FakeChampionLines()
    result = await score(
        OPENING, ("trainee", "hi"), ("ai", PRICE), ("trainee", GOOD_ANSWERS[PRICE]), lines=lines
    )
    assert result.champion_way == PRICE_LINE
    assert result.champion_way_source == {
        "category": "objection_handling",
        "start": 70.0,
        "end": 80.0,
        "why": "Objection handling: the champion's real line.",
    }
    assert lines.calls[-1][1] == "objection_handling"
    early = await score(
        OPENING, ("trainee", "do you track onboarding in spreadsheets"), lines=lines
    )
    assert lines.calls[-1][1] == "discovery_question"
    assert early.champion_way in {DISCOVERY_LINE, COST_LINE}


async def test_a_failing_store_still_scores_without_the_champions_way() -> None:
    result = await score(
        OPENING, ("trainee", "what tools do you use"), lines=FakeChampionLines(fail=True)
    )
    assert result.champion_way is None and result.champion_way_source is None
    assert result.criteria["discovery"] >= 70


async def test_punctuation_and_case_do_not_change_the_score() -> None:
    plain = await score(("ai", PRICE), ("trainee", "i hear you so what would it need to cost"))
    cased = await score(("ai", PRICE), ("trainee", "I hear you, so what would it need to cost?"))
    assert plain.criteria == cased.criteria
    assert plain.feedback and "\n" not in plain.feedback and plain.suggestion
    assert plain.provider == "offline"


@pytest.mark.parametrize(
    "text",
    [
        "what is the biggest probably ot does right now",
        "hi dana thanks for taking the call how are you",
        "so how many people are on your team and what tools do you use",
        "does thursday at two work for a demo",
        "what we found is that teams save time",
        "thank you do you have a minute",
        "curious how you handle that today",
        "Great to meet you, Dana. Before I show you anything, walk me through it.",
        "Who else would need to be in the room to say yes?",
    ],
)
def test_questions_are_found_as_the_call_analyser_finds_them(text: str) -> None:
    """The scorer finds the questions the call analyser finds (one detector, `ingest/questions`)."""
    assert [(q.opener, q.open) for q in question_spans(text)] == [
        (q.opener, q.open) for q in questions(text)
    ]
