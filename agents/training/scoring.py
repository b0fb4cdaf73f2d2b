"""The offline turn scorer: the transparent rubric applied with text heuristics, no model.

A turn is scored only on the criteria that apply to it (see `criteria` for when each applies
and how it is scored). The turn's overall score is the weighted mean over those criteria,
with the `RUBRIC` weights renormalised to sum to one over them:

    overall = sum(RUBRIC[c] * score[c] for c in applicable) / sum(RUBRIC[c] for c in applicable)

so a criterion that does not apply neither drags the turn down nor lifts it. ``criteria``
holds the applicable criteria only; ``listening`` always applies, so it is never empty.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.training.criteria import CRITERIA, EARLY_TURNS, Mark, Situation, applicable
from agents.training.facts import objection_kind_of
from agents.training.signals import content_words, objection_kind, read_turn
from agents.training.types import (
    RUBRIC,
    ChampionLine,
    ChampionLines,
    DialogueTurn,
    TrainingContext,
    TurnScore,
)

logger = logging.getLogger(__name__)

GOOD_ENOUGH = 60.0
SCENARIO_MATCH = 0.6  # share of an objection's topic words that marks a turn as raising it
NEXT_MOVE = (
    "Next, go one level deeper: ask what that problem costs them, then tie your answer to it."
)
CHECK_ANSWER = 'Check that it landed before moving on: "Does that answer your concern?"'
CONFIRM_STEP = "Confirm before you hang up: who joins, and what they need to see to say yes."
LISTENING_SUGGESTIONS = {
    "room": "Keep the turn under 60 words and end it with a question.",
    "question": 'Stop and ask: "What\'s your take on that?" You have talked for three turns.',
    "words": 'Start from the prospect\'s own words ("you mentioned ...") before making your point.',
}
SUGGESTIONS = {
    "discovery": 'Ask an open question about their situation, such as "Walk me through how '
    'that works today" or "What happens when it goes wrong?"',
    "value": 'Tie the offer to their problem with a number, such as "teams like yours cut that '
    'time by 30 percent".',
    "next_step": 'Propose a specific step with a time and the right people, such as "How about '
    'a 30-minute demo Thursday at 2 with your finance lead?"',
}
OBJECTION_SUGGESTIONS = {
    "price": 'Acknowledge it ("I hear you"), then weigh the price against what the problem '
    "costs them, with a number.",
    "vendor": "Acknowledge it, then show how you work alongside their current vendor and name "
    "a customer who did the same.",
    "timing": "Acknowledge it, then show what waiting costs and offer a small start, like a "
    "two-week pilot.",
}
DEFAULT_OBJECTION_SUGGESTION = (
    'Acknowledge it first ("That makes sense"), then answer with a number, a customer like '
    "them, or a low-risk first step."
)


def weighted_score(criteria: dict[str, float]) -> float:
    """The rubric-weighted mean of ``criteria`` (weights renormalised over those present)."""
    weights = {c: RUBRIC[c] for c in criteria if c in RUBRIC}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return round(sum(RUBRIC[c] * criteria[c] for c in weights) / total, 1)


def situation_of(ctx: TrainingContext, history: list[DialogueTurn]) -> Situation:
    """The last trainee turn of ``history`` in its place in the conversation."""
    last = max((n for n, t in enumerate(history) if t.role == "trainee"), default=-1)
    before = history[:last] if last >= 0 else list(history)
    prospect = [t.text for t in before if t.role == "ai"]
    prospect_last = prospect[-1] if prospect else ""
    mine = [t.text for t in before if t.role == "trainee"]
    return Situation(
        sig=read_turn(history[last].text if last >= 0 else ""),
        index=len(mine),
        prospect_last=prospect_last,
        prospect_all=" ".join(prospect),
        objection=raised_objection(ctx.scenario, prospect_last),
        earlier=tuple(read_turn(text) for text in mine[-2:]),
    )


def raised_objection(scenario: dict[str, Any], said: str) -> str | None:
    """The kind of objection the prospect raised in ``said`` ("other" when it has no kind).

    An objection cue counts, and so does most of the wording of one of the scenario's
    objections (a recorded objection may have no cue word in it).
    """
    kind = objection_kind(said)
    if kind or not said.strip():
        return kind
    heard = content_words(said)
    for objection in scenario.get("objections") or []:
        words = content_words(str(objection.get("text") or ""))
        if len(words) >= 2 and len(words & heard) >= SCENARIO_MATCH * len(words):
            return objection_kind_of(objection) or "other"
    return None


class HeuristicTurnScorer:
    """Scores a trainee turn against the rubric offline (see the module notes)."""

    name = "offline"

    async def score(
        self, ctx: TrainingContext, history: list[DialogueTurn], lines: ChampionLines
    ) -> TurnScore:
        """Scores the last turn of ``history`` (a trainee turn).

        Args:
            ctx: the session.
            history: the conversation, ending with the trainee turn to score.
            lines: the champion's real lines, for the champion's way.

        Returns:
            The applicable criteria (0-100), their renormalised weighted mean, one line of
            feedback, one suggestion, and the champion's closest real line for the moment.
        """
        situation = situation_of(ctx, history)
        names = applicable(situation)
        marks = {c: CRITERIA[c](situation) for c in names}
        criteria = {c: round(min(100.0, max(0.0, float(m.score))), 1) for c, m in marks.items()}
        found = await champion_lines(lines, situation, champion_category(situation, names))
        return turn_score(
            criteria,
            feedback=feedback(marks),
            suggestion=suggestion(marks, situation),
            found=found,
            provider=self.name,
        )


def turn_score(
    criteria: dict[str, float],
    *,
    feedback: str,
    suggestion: str,
    found: list[ChampionLine],
    provider: str,
) -> TurnScore:
    """A turn's score: the rubric-weighted mean of ``criteria``, and the champion's way.

    Args:
        criteria: the marks (0-100) of the criteria that apply to the turn.
        feedback: one line of feedback.
        suggestion: one suggestion.
        found: the champion's real lines closest to the moment, best first; the first one
            is the champion's way.
        provider: who scored the turn.

    Returns:
        The turn's score, as every scorer returns it.
    """
    line = found[0] if found else None
    return TurnScore(
        score=weighted_score(criteria),
        criteria=criteria,
        feedback=feedback,
        suggestion=suggestion,
        champion_way=line.quote if line else None,
        champion_way_source=way_source(line),
        provider=provider,
    )


def feedback(marks: dict[str, Mark]) -> str:
    """One line: the best thing the turn did, and the most important thing it missed."""
    ranked = sorted(marks.items(), key=lambda kv: kv[1].score)
    good = next((m.good for _, m in reversed(ranked) if m.good and m.score >= GOOD_ENOUGH), None)
    missing = next((m.missing for _, m in ranked if m.missing and m.score < GOOD_ENOUGH), None)
    parts = [f"Good: {good}." if good else "", f"Missing: {missing}." if missing else ""]
    return " ".join(p for p in parts if p) or "A fair turn; nothing stood out either way."


def suggestion(marks: dict[str, Mark], situation: Situation) -> str:
    """One concrete line for the weakest criterion that missed something (heavier on a tie).

    When nothing was missed: check an objection answer landed, confirm a proposed step, ask
    an open question if the turn asked none, else go one level deeper.
    """
    ranked = sorted(marks, key=lambda c: (marks[c].score, -RUBRIC[c]))
    weakest = next((c for c in ranked if marks[c].missing), None)
    if weakest is None:
        if situation.objection is not None:
            return CHECK_ANSWER
        if situation.sig.next_step.proposes:
            return CONFIRM_STEP
        return NEXT_MOVE if situation.sig.questions else SUGGESTIONS["discovery"]
    if weakest == "objection_handling":
        objection = situation.objection or ""
        return OBJECTION_SUGGESTIONS.get(objection, DEFAULT_OBJECTION_SUGGESTION)
    if weakest == "listening":
        missing = marks[weakest].missing or ""
        key = (
            "room"
            if missing.startswith("room")
            else "question"
            if "question" in missing
            else "words"
        )
        return LISTENING_SUGGESTIONS[key]
    return SUGGESTIONS[weakest]


def champion_category(situation: Situation, names: list[str]) -> str:
    """Which of the champion's lines the moment called for."""
    if situation.objection is not None:
        return "objection_handling"
    if "next_step" in names:
        return "closing"
    if "discovery" in names or situation.index < EARLY_TURNS:
        return "discovery_question"
    return "value_statement"


async def champion_lines(
    lines: ChampionLines, situation: Situation, category: str, *, limit: int = 1
) -> list[ChampionLine]:
    """The champion's real lines closest to the moment (the prospect's last words and the
    trainee's answer), best first; the first one is the champion's way. A failed lookup
    gives none: the score matters more than the example."""
    query = f"{situation.prospect_last} {' '.join(situation.sig.words)}".strip()
    if not query:
        return []
    try:
        return await lines.closest(query, category=category, limit=limit)
    except Exception:  # the score matters more than the example; keep scoring
        logger.warning("champion line lookup failed; scoring without the champion's way")
        return []


def way_source(line: ChampionLine | None) -> dict[str, Any] | None:
    """Where the champion's way comes from, as stored with the turn's score."""
    if line is None:
        return None
    return {"category": line.category, "start": line.start, "end": line.end, "why": line.why}
