"""How the offline prospect behaves at each difficulty, from the scenario's levels.

A scenario's ``difficulty_levels[difficulty]`` gives ``pushback`` (0..1, or the word
"low", "medium" or "high" that scenarios written by Claude use), ``objections_to_raise``
(a list of objection ``order`` numbers, or how many of the first ones) and
``patience_turns``; what it leaves out comes from `DEFAULT_LEVELS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.training.types import TrainingContext

DEFAULT_LEVELS: dict[str, dict[str, Any]] = {
    "easy": {"pushback": 0.2, "objections_to_raise": 1, "patience_turns": 6},
    "medium": {"pushback": 0.5, "objections_to_raise": 3, "patience_turns": 4},
    "hard": {"pushback": 0.85, "objections_to_raise": 99, "patience_turns": 2},
}
PUSHBACK_WORDS = {"low": 0.2, "medium": 0.5, "high": 0.85}


@dataclass(frozen=True)
class Level:
    """How the prospect behaves at the session's difficulty."""

    pushback: float
    queue: tuple[dict[str, Any], ...]
    patience: int

    @property
    def needed(self) -> int:
        """Answer strength that counts as good (see the module rules)."""
        return 1 if self.pushback < 0.35 else 2

    @property
    def weak_tolerance(self) -> int | None:
        """Weak answers taken before letting an objection go (None: never)."""
        return 1 if self.pushback < 0.35 else 2 if self.pushback < 0.7 else None

    @property
    def gap(self) -> int:
        """Substantive turns between one objection settling and the next one coming up."""
        return 4 if self.pushback < 0.35 else 3 if self.pushback < 0.7 else 2


def level_for(ctx: TrainingContext) -> Level:
    """The difficulty settings, with the objections to raise in the order they are met."""
    levels = ctx.scenario.get("difficulty_levels") or {}
    conf = {**DEFAULT_LEVELS.get(ctx.difficulty, DEFAULT_LEVELS["medium"])}
    conf.update(levels.get(ctx.difficulty) or {})
    objections = sorted(
        (o for o in ctx.scenario.get("objections") or [] if str(o.get("text") or "").strip()),
        key=lambda o: int(o.get("order") or 0),
    )
    wanted = conf.get("objections_to_raise")
    if isinstance(wanted, list):
        by_order = {int(o.get("order") or 0): o for o in objections}
        queue = [by_order[int(n)] for n in wanted if int(n) in by_order]
    else:
        queue = objections[: max(0, int(wanted if wanted is not None else len(objections)))]
    return Level(
        pushback=pushback_of(conf.get("pushback", 0.5)),
        queue=tuple(queue),
        patience=max(1, int(conf.get("patience_turns", 4))),
    )


def pushback_of(value: Any) -> float:
    """A level's pushback as 0..1, from a number or a word in `PUSHBACK_WORDS` (else 0.5)."""
    if isinstance(value, str) and value.strip().lower() in PUSHBACK_WORDS:
        return PUSHBACK_WORDS[value.strip().lower()]
    try:
        return min(1.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return 0.5
