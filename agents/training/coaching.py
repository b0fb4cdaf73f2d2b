"""Keep / start / stop coaching for the scorecard, from the rubric and the trainee's metrics.

Each list has one to three concrete lines. Keep: criteria scored `STRONG` or more (with the
trainee's best line), and a talk ratio at or under `GOOD_TALK_RATIO`. Start: criteria never
practised, then criteria under `WEAK`. Stop: a monologue over `MONOLOGUE_WORDS` words, a talk
ratio over `HIGH_TALK_RATIO`, more closed than open questions, objections passed over without
an acknowledgement. A list that would be empty gets a line from the best (keep) or weakest
(start, stop) criterion.
"""

from __future__ import annotations

from typing import Any

from agents.training.criteria import MONOLOGUE_WORDS
from agents.training.signals import clip_words

STRONG = 75.0
WEAK = 60.0
GOOD_TALK_RATIO = 0.55
HIGH_TALK_RATIO = 0.65
MAX_ITEMS = 3
EXAMPLE_WORDS = 15

LABELS = {
    "discovery": "discovery",
    "objection_handling": "objection handling",
    "value": "value",
    "next_step": "next steps",
    "listening": "listening",
}
KEEP = {
    "discovery": "Keep asking open questions like",
    "objection_handling": "Keep acknowledging objections and answering with proof, as in",
    "value": "Keep tying value to their problem with numbers, as in",
    "next_step": "Keep closing on a concrete next step, as in",
    "listening": "Keep building on the prospect's own words, as in",
}
START_NOT_PRACTISED = {
    "discovery": "Start with two or three open questions about their situation before you pitch.",
    "objection_handling": "Start drawing concerns out: ask what would stop them from moving "
    "forward, then answer it.",
    "value": 'Start tying the offer to their problem with a number, such as "teams like yours '
    'save ten hours a week".',
    "next_step": "Start proposing a concrete next step with a day, a time and who should join.",
    "listening": "Start leaving room: short turns that pick up their words and end in a question.",
}
START_WEAK = {
    "discovery": 'Start asking open questions ("what", "how", "walk me through") instead of '
    "yes/no ones.",
    "objection_handling": 'Start acknowledging each objection ("I hear you") before answering it '
    "with a number or a customer like them.",
    "value": "Start backing claims with a number or a customer result tied to their problem.",
    "next_step": "Start closing with a specific day, a time and the people to bring.",
    "listening": "Start picking up the prospect's own words and ending your turns with a question.",
}
STOP_WEAK = {
    "discovery": "Stop pitching before you know their situation, as in",
    "objection_handling": "Stop moving past objections without acknowledging them, as in",
    "value": "Stop describing features without saying what they change for them, as in",
    "next_step": "Stop ending without a named day and step, as in",
    "listening": "Stop talking past the prospect, as in",
}


def coaching(
    *, rubric: dict[str, dict[str, Any]], not_practised: list[str], metrics: dict[str, Any]
) -> tuple[list[str], list[str], list[str]]:
    """The keep, start and stop lines (one to three each).

    Args:
        rubric: the scorecard's rubric (score and evidence per criterion).
        not_practised: criteria no turn was scored on.
        metrics: the trainee's metrics (see `scorecard.trainee_metrics`).
    """
    scores = {c: e["score"] for c, e in rubric.items() if e["score"] is not None}
    ranked = sorted(scores, key=lambda c: scores[c])
    keep = [
        _with_quote(KEEP[c], _quote(rubric[c], "best"))
        for c in sorted(scores, key=lambda c: -scores[c])
        if scores[c] >= STRONG
    ]
    ratio, basis = metrics.get("talk_ratio"), metrics.get("talk_ratio_basis", "words")
    if ratio is not None and ratio <= GOOD_TALK_RATIO and metrics.get("turns"):
        keep.append(f"Keep letting the prospect talk: you had {ratio:.0%} of the {basis}.")
    if not keep and ranked:
        best = ranked[-1]
        keep.append(
            _with_quote(
                f"Keep working on your strongest area, {LABELS[best]} ({scores[best]:.0f}), as in",
                _quote(rubric[best], "best"),
            )
        )

    start = [START_NOT_PRACTISED[c] for c in not_practised]
    start += [START_WEAK[c] for c in ranked if scores[c] < WEAK]
    if not start and ranked:
        start.append(START_WEAK[ranked[0]])

    stop = []
    longest = metrics.get("longest_monologue_words") or 0
    if longest > MONOLOGUE_WORDS:
        stop.append(
            f"Stop monologues: your longest turn ran {longest} words; keep turns under 60 and "
            "end with a question."
        )
    if ratio is not None and ratio > HIGH_TALK_RATIO:
        stop.append(
            f"Stop carrying the conversation: you had {ratio:.0%} of the {basis}; aim for under "
            "half."
        )
    example = metrics.get("closed_question_example")
    opened = metrics.get("open_questions") or 0
    closed = (metrics.get("questions_total") or 0) - opened
    if example and closed > opened and closed >= 2:
        stop.append(f'Stop asking yes/no questions like "{example}"; they close the talk down.')
    handling = scores.get("objection_handling")
    if handling is not None and handling < WEAK:
        stop.append(_stop(rubric, "objection_handling"))
    if not stop and ranked:
        stop.append(_stop(rubric, ranked[0]))
    return keep[:MAX_ITEMS], start[:MAX_ITEMS], stop[:MAX_ITEMS]


def _stop(rubric: dict[str, dict[str, Any]], criterion: str) -> str:
    return _with_quote(STOP_WEAK[criterion], _quote(rubric[criterion], "worst"))


def _quote(entry: dict[str, Any], kind: str) -> str | None:
    return next((e["quote"] for e in entry.get("evidence") or [] if e["kind"] == kind), None)


def _with_quote(lead: str, quote: str | None) -> str:
    if not quote:
        return lead.removesuffix(" as in").removesuffix(",").removesuffix(" like") + "."
    return f'{lead} "{clip_words(quote, EXAMPLE_WORDS)}".'
