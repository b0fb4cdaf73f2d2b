"""The end-of-session scorecard: the documented overall, evidence, coaching and metrics."""

from __future__ import annotations

import json

from agents.training.prospect import ScenarioProspectEngine
from agents.training.scorecard import build_scorecard
from agents.training.scoring import HeuristicTurnScorer
from agents.training.types import RUBRIC, DialogueTurn, ScoredTurn, TurnScore
from tests.support.training_fakes import GOOD_ANSWERS, PITCH, PRICE, FakeChampionLines, make_ctx

CHAMPION_METRICS = {"talk_ratio": 0.46, "questions_total": 9, "longest_monologue_seconds": 21.0}
MONOLOGUE = " ".join(["our platform has dashboards reports and alerts for every supervisor"] * 9)
# A mixed session: a good open question, a monologue, a weak and a good objection answer.
SESSION = [
    "hi dana this is alex from brightpath thanks for taking the call",
    "what is the biggest problem with onboarding new drivers right now",
    "do you use spreadsheets for that",
    MONOLOGUE,
    "ok",
    GOOD_ANSWERS[PRICE],
]


def turn(index: int, text: str, criteria: dict[str, float], way: str | None = None) -> ScoredTurn:
    """A scored trainee turn with hand-set criteria (overall as the scorer computes it)."""
    total = sum(RUBRIC[c] for c in criteria)
    overall = round(sum(RUBRIC[c] * s for c, s in criteria.items()) / total, 1)
    return ScoredTurn(index, text, TurnScore(overall, criteria, "f", "s", way))


async def played_session(texts: list[str]) -> tuple[list[ScoredTurn], list[DialogueTurn]]:
    """Plays ``texts`` against the offline prospect and scores every trainee turn."""
    ctx = make_ctx("medium", champion_metrics=CHAMPION_METRICS)
    engine, scorer, lines = ScenarioProspectEngine(), HeuristicTurnScorer(), FakeChampionLines()
    transcript = [DialogueTurn("ai", engine.first_message(ctx))]
    scored = []
    for text in texts:
        transcript.append(DialogueTurn("trainee", text))
        result = await scorer.score(ctx, transcript, lines)
        scored.append(ScoredTurn(len(transcript) - 1, text, result))
        transcript.append(DialogueTurn("ai", await engine.reply(ctx, transcript)))
    return scored, transcript


def test_overall_is_the_weighted_mean_of_criterion_means_over_practised_criteria() -> None:
    turns = [
        turn(1, "what happens when a supervisor is out", {"discovery": 90, "listening": 70}),
        turn(3, "do you have a budget", {"discovery": 40, "listening": 60}),
        turn(5, "ok", {"objection_handling": 0, "value": 15, "listening": 50}),
    ]
    card = build_scorecard(ctx=make_ctx(), turns=turns, transcript=[])
    means = {"discovery": 65.0, "objection_handling": 0.0, "value": 15.0, "listening": 60.0}
    weights = sum(RUBRIC[c] for c in means)
    assert card["overall"] == round(sum(RUBRIC[c] * m for c, m in means.items()) / weights, 1)
    assert card["not_practised"] == ["next_step"]
    assert card["rubric"]["next_step"]["score"] is None
    assert card["rubric"]["discovery"]["score"] == 65.0
    assert "next step" in card["notes"][0]
    assert card["turn_count"] == 3 and card["provider"] == "offline"


def test_passed_follows_the_threshold() -> None:
    turns = [turn(1, "what happens when a supervisor is out", {"discovery": 80, "listening": 80})]
    card = build_scorecard(ctx=make_ctx(), turns=turns, transcript=[], pass_threshold=80)
    assert card["overall"] == 80.0 and card["passed"] is True and card["pass_threshold"] == 80
    card = build_scorecard(ctx=make_ctx(), turns=turns, transcript=[], pass_threshold=80.1)
    assert card["passed"] is False


def test_an_empty_session_does_not_pass() -> None:
    card = build_scorecard(ctx=make_ctx(), turns=[], transcript=[])
    assert card["overall"] == 0.0 and card["passed"] is False
    assert card["not_practised"] == list(RUBRIC)
    assert all(entry["evidence"] == [] for entry in card["rubric"].values())
    assert card["champion_ways"] == [] and "No trainee turns" in card["notes"][0]
    assert card["start"] and card["keep"] == []  # nothing to keep, everything to start


async def test_evidence_quotes_the_trainees_best_and_worst_turns() -> None:
    scored, transcript = await played_session(SESSION)
    card = build_scorecard(ctx=make_ctx(), turns=scored, transcript=transcript)
    by_index = {t.index: t for t in scored}
    discovery = card["rubric"]["discovery"]["evidence"]
    assert [e["kind"] for e in discovery] == ["best", "worst"]
    assert discovery[0]["score"] > discovery[1]["score"]
    for entry in card["rubric"].values():
        for quote in entry["evidence"]:
            said = by_index[quote["turn_index"]].text
            assert transcript[quote["turn_index"]].role == "trainee"
            assert said.startswith(quote["quote"]) and len(quote["quote"].split()) <= 40


async def test_a_mixed_session_gets_keep_start_and_stop_coaching() -> None:
    scored, transcript = await played_session(SESSION)
    card = build_scorecard(ctx=make_ctx(), turns=scored, transcript=transcript)
    for key in ("keep", "start", "stop"):
        assert 1 <= len(card[key]) <= 3, key
    assert any("Start proposing a concrete next step" in line for line in card["start"])
    assert any(str(len(MONOLOGUE.split())) in line for line in card["stop"])
    assert "what is the biggest problem" in card["keep"][0]  # the best discovery turn
    json.dumps(card)  # JSON-able as stored


async def test_champion_ways_are_the_weakest_turns_with_a_line() -> None:
    scored, transcript = await played_session(SESSION)
    card = build_scorecard(ctx=make_ctx(), turns=scored, transcript=transcript)
    ways = card["champion_ways"]
    assert 1 <= len(ways) <= 3
    scores = [w["score"] for w in ways]
    assert scores == sorted(scores)
    with_way = sorted(t.score.score for t in scored if t.score.champion_way)
    assert scores == with_way[: len(ways)]
    assert all(w["trainee_said"] and w["champion_way"] for w in ways)


async def test_trainee_metrics_come_from_the_transcript() -> None:
    scored, transcript = await played_session([PITCH, "what tools do you use today", "ok"])
    ctx = make_ctx(champion_metrics=CHAMPION_METRICS)
    metrics = build_scorecard(ctx=ctx, turns=scored, transcript=transcript)["metrics"]
    assert metrics["champion"] == CHAMPION_METRICS
    mine = metrics["trainee"]
    trainee_words = len(PITCH.split()) + 6 + 1
    all_words = sum(len(t.text.replace(",", " ").split()) for t in transcript)
    assert mine["talk_ratio_basis"] == "words"
    assert abs(mine["talk_ratio"] - trainee_words / all_words) < 0.05
    assert mine["questions_total"] == 1 and mine["open_questions"] == 1
    assert mine["longest_monologue_words"] == len(PITCH.split())
    assert mine["words_per_turn"] == round(trainee_words / 3, 1)
    assert mine["questions_per_minute"] is None


def test_timed_transcripts_give_time_based_ratio_and_question_rate() -> None:
    transcript = [
        DialogueTurn("ai", "Hello, this is Dana.", 0.0, 2.0),
        DialogueTurn("trainee", "hi dana so how are things going", 2.5, 5.0),
        DialogueTurn("trainee", "and what tools do you use today", 5.0, 8.5),
        DialogueTurn("ai", "Mostly spreadsheets.", 9.0, 12.0),
    ]
    turns = [turn(1, transcript[1].text, {"discovery": 80, "listening": 70})]
    mine = build_scorecard(ctx=make_ctx(), turns=turns, transcript=transcript)["metrics"]["trainee"]
    assert mine["talk_ratio_basis"] == "time"
    assert mine["talk_ratio"] == round(6.0 / 11.0, 3)
    assert mine["longest_monologue_words"] == 14  # two trainee turns in a row
    assert mine["questions_per_minute"] == round(2 / (12.0 / 60), 3)
