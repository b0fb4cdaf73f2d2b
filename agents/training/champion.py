"""The offline champion for demo mode: answers the trainee (playing the prospect) with the
champion's own retrieved lines, no model.

Which kind of line is wanted depends on what the prospect just said and when: an objection
calls for objection handling; the first turns for a discovery question; an agreeing prospect
or a late turn for closing; otherwise any line of the champion's but an opening. Lines are
quoted verbatim; one is not said twice in a row, and unused ones are preferred. When nothing
fits, the champion's recorded reply to the scenario's matching objection is used, and after
that a plain line of the same kind.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.training.facts import objection_kind_of
from agents.training.prospect_lines import MAX_WORDS
from agents.training.signals import find_phrases, is_backchannel, objection_kind, tokens
from agents.training.types import ChampionLine, ChampionLines, DialogueTurn, TrainingContext

logger = logging.getLogger(__name__)

EARLY_TURNS = 2  # prospect turns during which the champion is still discovering
LATE_TURNS = 6  # from this prospect turn on, the champion moves to close
READY_CUES = (
    "sounds good",
    "could work",
    "might work",
    "would work",
    "interested",
    "next step",
    "what's next",
    "what are the next",
    "how do we start",
    "how would we start",
    "send me",
    "let's do it",
    "makes sense",
    "i like that",
    "sign up",
    "get started",
)
FALLBACKS = {
    "objection_handling": (
        "I hear you. What's behind that for you?",
        "That's fair. Can I ask what it would need to look like to make sense?",
    ),
    "discovery_question": (
        "Tell me a bit more about how that works today.",
        "What happens when that goes wrong?",
    ),
    "closing": (
        "Would it make sense to set up a short follow-up this week with whoever else should "
        "be involved?",
        "How about we put thirty minutes in the calendar for Thursday to walk through it?",
    ),
    "": (
        "That makes sense. What would be most useful for you to see?",
        "Got it. What would you most want to improve?",
    ),
}


class ChampionDemoEngine:
    """Plays the champion with their own words (demo mode); see the module notes.

    Args:
        lines: the champion's real lines, found by similarity.
    """

    name = "offline"

    def __init__(self, *, lines: ChampionLines) -> None:
        self.lines = lines

    def first_message(self, ctx: TrainingContext) -> str:
        """A greeting in the champion's opening style, naming the prospect and the champion."""
        persona = ctx.scenario.get("persona") or {}
        prospect = str(persona.get("name") or "").split()
        champion = ctx.champion_name.strip() or "your rep"
        hello = f"Hi {prospect[0]}" if prospect else "Hi there"
        return f"{hello}, this is {champion}. Thanks for making time today. How has your week been?"

    async def reply(self, ctx: TrainingContext, history: list[DialogueTurn]) -> str:
        """The champion's closest real line to what the prospect just said."""
        said = _latest_trainee_run(history)
        previous = [t.text.strip() for t in history if t.role == "ai"]
        last = previous[-1] if previous else ""
        turn = sum(
            1
            for n, t in enumerate(history)
            if t.role == "trainee" and (n == 0 or history[n - 1].role != "trainee")
        )
        category = wanted_category(said, turn)
        query = f"{last} {said}" if is_backchannel(said) else said
        hits = await self._closest(query, category)
        fresh = [h for h in hits if _norm(h.quote) != _norm(last) and _fits(h.quote)]
        unused = [h for h in fresh if _norm(h.quote) not in {_norm(p) for p in previous}]
        if unused or fresh:
            return (unused or fresh)[0].quote
        if category == "objection_handling":
            recorded = _recorded_reply(ctx.scenario, said)
            if recorded and _norm(recorded) != _norm(last):
                return recorded
        options = FALLBACKS[category or ""]
        return next((o for o in options if _norm(o) != _norm(last)), options[0])

    async def _closest(self, query: str, category: str | None) -> list[ChampionLine]:
        """Lines of ``category`` first, then any but openings after the first turns."""
        if not tokens(query):
            return []
        found: list[ChampionLine] = []
        try:
            if category:
                found += await self.lines.closest(query, category=category, limit=5)
            if not found:
                anywhere = await self.lines.closest(query, limit=5)
                found += [h for h in anywhere if h.category != "opening"]
        except Exception:  # a retrieval failure must not silence the champion
            logger.warning("champion line retrieval failed; using a fallback line")
        return found


def wanted_category(said: str, turn: int) -> str | None:
    """The kind of champion line the prospect's turn calls for (None: any).

    Args:
        said: what the prospect (the trainee) just said.
        turn: which prospect turn this is, from 1.
    """
    if objection_kind(said):
        return "objection_handling"
    if turn >= LATE_TURNS or find_phrases(tokens(said), READY_CUES):
        return "closing"
    if turn <= EARLY_TURNS:
        return "discovery_question"
    return None


def _latest_trainee_run(history: list[DialogueTurn]) -> str:
    run: list[str] = []
    for turn in reversed(history):
        if turn.role != "trainee":
            if run:
                break
            continue
        run.insert(0, turn.text.strip())
    return " ".join(run)


def _recorded_reply(scenario: dict[str, Any], said: str) -> str | None:
    """The champion's recorded reply to the scenario objection of the same kind."""
    kind = objection_kind(said)
    for objection in scenario.get("objections") or []:
        reply = str(objection.get("champion_response") or "").strip()
        if reply and objection_kind_of(objection) == kind and _fits(reply):
            return reply
    return None


def _fits(text: str) -> bool:
    return 0 < len(tokens(text)) <= MAX_WORDS


def _norm(text: str) -> str:
    return " ".join(tokens(text))
