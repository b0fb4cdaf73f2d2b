"""The end-of-session scorecard: the rubric over the whole session, coaching and metrics.

Each criterion's session score is its mean over the turns where it applied. The overall is
the rubric-weighted mean of those session scores with the weights renormalised over the
criteria practised at least once (the same rule as a single turn's score, see `scoring`):

    overall = sum(RUBRIC[c] * mean[c] for c in practised) / sum(RUBRIC[c] for c in practised)

Criteria never practised are listed in ``not_practised`` with a note and left out of the
overall; with nothing scored at all the overall is 0 and the session does not pass.
"""

from __future__ import annotations

from statistics import fmean
from typing import Any

from agents.training.coaching import coaching
from agents.training.scoring import weighted_score
from agents.training.signals import clip_words, questions, tokens
from agents.training.types import (
    DEFAULT_PASS_THRESHOLD,
    RUBRIC,
    RUBRIC_DESCRIPTIONS,
    DialogueTurn,
    ScoredTurn,
    TrainingContext,
)

QUOTE_WORDS = 40
CHAMPION_WAYS = 3


def build_scorecard(
    *,
    ctx: TrainingContext,
    turns: list[ScoredTurn],
    transcript: list[DialogueTurn],
    pass_threshold: float = DEFAULT_PASS_THRESHOLD,
) -> dict[str, Any]:
    """The session's scorecard, JSON-able.

    Args:
        ctx: the session (the champion's metrics come from here).
        turns: the scored trainee turns.
        transcript: the whole conversation, both sides, for the trainee's metrics.
        pass_threshold: the overall score that passes.

    Returns:
        ``overall``, ``passed``, ``pass_threshold``, ``rubric`` (per criterion: weight,
        description, score or None, turns_scored, evidence), ``not_practised``, ``notes``,
        ``keep`` / ``start`` / ``stop`` (1-3 lines each), ``metrics`` (trainee and champion),
        ``champion_ways`` (the weakest turns with the champion's line), ``turn_count`` and
        ``provider``.
    """
    scored = {c: [(t, t.score.criteria[c]) for t in turns if c in t.score.criteria] for c in RUBRIC}
    means = {c: round(fmean(s for _, s in pairs), 1) for c, pairs in scored.items() if pairs}
    not_practised = [c for c in RUBRIC if c not in means]
    overall = weighted_score(means) if means else 0.0
    rubric = {
        c: {
            "weight": RUBRIC[c],
            "description": RUBRIC_DESCRIPTIONS[c],
            "score": means.get(c),
            "turns_scored": len(scored[c]),
            "evidence": evidence(scored[c]),
        }
        for c in RUBRIC
    }
    notes = []
    if not turns:
        notes.append("No trainee turns were scored, so the session cannot pass.")
    elif not_practised:
        names = ", ".join(c.replace("_", " ") for c in not_practised)
        notes.append(
            f"Not practised: {names}. Left out of the overall; the other weights are scaled "
            "up to sum to one."
        )
    trainee = trainee_metrics(transcript)
    keep, start, stop = coaching(rubric=rubric, not_practised=not_practised, metrics=trainee)
    return {
        "overall": overall,
        "passed": bool(turns) and overall >= pass_threshold,
        "pass_threshold": pass_threshold,
        "rubric": rubric,
        "not_practised": not_practised,
        "notes": notes,
        "keep": keep,
        "start": start,
        "stop": stop,
        "metrics": {"trainee": trainee, "champion": ctx.champion_metrics},
        "champion_ways": champion_ways(turns),
        "turn_count": len(turns),
        "provider": "offline",
    }


def evidence(pairs: list[tuple[ScoredTurn, float]]) -> list[dict[str, Any]]:
    """The trainee's own words behind a criterion: the best and the worst scored turn."""
    if not pairs:
        return []
    best = max(pairs, key=lambda p: (p[1], -p[0].index))
    worst = min(pairs, key=lambda p: (p[1], p[0].index))
    chosen = [("best", best)] + ([("worst", worst)] if worst[0].index != best[0].index else [])
    return [
        {
            "turn_index": turn.index,
            "quote": clip_words(turn.text, QUOTE_WORDS),
            "score": score,
            "kind": kind,
        }
        for kind, (turn, score) in chosen
    ]


def trainee_metrics(transcript: list[DialogueTurn]) -> dict[str, Any]:
    """Talk and question measures of the trainee, from the transcript.

    ``talk_ratio`` is the trainee's share of speaking time when every turn has timings,
    else of words (``talk_ratio_basis`` says which). ``longest_monologue_words`` counts the
    words of the longest run of trainee turns with no prospect turn between them.
    ``questions_per_minute`` needs timings (None without).
    """
    mine = [t for t in transcript if t.role == "trainee"]
    words = [len(tokens(t.text)) for t in mine]
    all_words = sum(len(tokens(t.text)) for t in transcript)
    asked = [q for t in mine for q in questions(t.text)]
    timed = bool(transcript) and all(t.start is not None and t.end is not None for t in transcript)
    duration = None
    talk_ratio = _ratio(sum(words), all_words)
    if timed:
        spans = [(float(t.start or 0.0), float(t.end or 0.0)) for t in transcript]
        duration = max(e for _, e in spans) - min(s for s, _ in spans)
        talk = [max(0.0, e - s) for s, e in spans]
        mine_talk = sum(d for d, t in zip(talk, transcript, strict=True) if t.role == "trainee")
        talk_ratio = _ratio(mine_talk, sum(talk))
    longest = run = 0
    for turn in transcript:
        run = run + len(tokens(turn.text)) if turn.role == "trainee" else 0
        longest = max(longest, run)
    return {
        "talk_ratio": talk_ratio,
        "talk_ratio_basis": "time" if timed else "words",
        "questions_total": len(asked),
        "open_questions": sum(q.open for q in asked),
        "longest_monologue_words": longest,
        "words_per_turn": _ratio(sum(words), len(mine), digits=1),
        "questions_per_minute": _ratio(len(asked), duration / 60) if duration else None,
        "duration_seconds": round(duration, 1) if duration else None,
        "turns": len(mine),
        "closed_question_example": next(
            (
                clip_words(t.text, 20)
                for t in mine
                if (qs := questions(t.text)) and not any(q.open for q in qs)
            ),
            None,
        ),
    }


def champion_ways(turns: list[ScoredTurn]) -> list[dict[str, Any]]:
    """The weakest turns that have the champion's line, weakest first."""
    with_way = [t for t in turns if t.score.champion_way]
    weakest = sorted(with_way, key=lambda t: (t.score.score, t.index))
    return [
        {
            "turn_index": t.index,
            "trainee_said": clip_words(t.text, QUOTE_WORDS),
            "score": t.score.score,
            "champion_way": t.score.champion_way,
            "source": t.score.champion_way_source,
        }
        for t in weakest[:CHAMPION_WAYS]
    ]


def _ratio(numerator: float, denominator: float, *, digits: int = 3) -> float | None:
    return round(numerator / denominator, digits) if denominator > 0 else None
