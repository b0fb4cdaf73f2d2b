"""The rubric criteria of one trainee turn: when each applies, and its 0-100 score.

Applicability (a criterion that does not apply is left out of the turn's score):

- ``discovery``: the turn asks a question that is not only the way a next step is put
  ("does Thursday work", "how about a demo"), or it is one of the first `EARLY_TURNS`
  trainee turns with no objection to answer and more than a greeting (then not asking is
  the miss).
- ``objection_handling``: the prospect's previous turn raised an objection (an objection cue,
  or the wording of one of the scenario's objections).
- ``value``: the turn claims value, pitches the offer, offers a lower-risk start (not as the
  next step itself), or answers an objection.
- ``next_step``: the turn proposes one, or it is late (trainee turn `LATE_TURN` or after)
  with no objection on the table.
- ``listening``: always.

Scores (each clamped to 0-100):

- discovery: no question 15; best question open 70, closed 35; +15 (open) or +5 (closed)
  when it asks about pain, impact, goals, process, timeline or the decision; +10 when it
  builds on the prospect's last words; -10 for more than two questions at once.
- objection_handling: acknowledgement 35, value cue 25, a number with a unit 20, social
  proof 20, a pilot or trial 15, words about the objection's kind 15, an open clarifying
  question 15; -25 when dismissive ("trust me").
- value: 15, +30 value cue, +25 number with a unit, +15 social proof, +15 tied to words
  the prospect used, +10 about the prospect ("you", "your").
- next_step: no proposal 10; a proposal: action 40, +30 a time, +15 the people, +15 a
  check ("does that work", or asked as a question).
- listening: a back-channel 50; otherwise 55, +10 per word picked up from the prospect's
  last turn (up to 30), +10 for asking, +10 for acknowledging; over `MONOLOGUE_WORDS` words
  it is capped at 40 and loses 0.4 per extra word; -10 over 50 words; -20 when this and the
  two turns before it each ran 15+ words without a question (talking over the prospect).
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.training import lexicon as lx
from agents.training.facts import asked_topics
from agents.training.signals import (
    TurnSignals,
    content_words,
    find_phrases,
    relevant_to,
)

EARLY_TURNS = 3
LATE_TURN = 5
MONOLOGUE_WORDS = 80
LONG_TURN_WORDS = 50
DEEP_TOPICS = frozenset({"pain", "impact", "goal", "process", "timeline", "decision"})
_GREETINGS = frozenset({"hi", "hello", "hey", "good", "morning", "afternoon"})


@dataclass(frozen=True)
class Situation:
    """One trainee turn in its place in the conversation."""

    sig: TurnSignals
    index: int  # the trainee's turn number, from 0
    prospect_last: str  # the prospect's turn just before, "" at the start
    prospect_all: str  # everything the prospect has said so far
    objection: str | None  # the kind of objection just raised ("other" when unnamed)
    earlier: tuple[TurnSignals, ...]  # the trainee's last two turns before this one

    @property
    def greeting_only(self) -> bool:
        """A short hello or thanks with nothing else in it."""
        words = self.sig.words
        greets = bool(words) and (self.sig.rapport or words[0] in _GREETINGS)
        return greets and len(words) <= 15 and not self.sig.questions and not self.sig.claims_value


@dataclass(frozen=True)
class Mark:
    """A criterion's score, with what earned it and what was missing."""

    score: float
    good: str | None = None
    missing: str | None = None


def applicable(s: Situation) -> list[str]:
    """The rubric criteria that apply to this turn, in rubric order."""
    sig = s.sig
    proposes = sig.next_step.proposes
    # "How about Thursday?" is how a proposal is put, not a discovery question.
    probing = sig.open_questions - len(find_phrases(sig.words, ("how about",)))
    asks = bool(sig.questions) and (not proposes or probing > 0)
    early = s.index < EARLY_TURNS and s.objection is None and not sig.backchannel
    found = []
    if asks or (early and not proposes and not s.greeting_only):
        found.append("discovery")
    if s.objection is not None:
        found.append("objection_handling")
    pitches = bool(find_phrases(sig.words, lx.PITCH_CUES))
    offers = sig.risk_reducer and not proposes  # a pilot proposed as the next step is not a claim
    if sig.claims_value or offers or pitches or s.objection is not None:
        found.append("value")
    if proposes or (s.index >= LATE_TURN and s.objection is None):
        found.append("next_step")
    found.append("listening")
    return found


def discovery(s: Situation) -> Mark:
    """Open questions about the prospect's situation score; none, or only closed, do not."""
    sig = s.sig
    if not sig.questions:
        return Mark(15, missing="no question about their situation")
    is_open = sig.open_questions > 0
    score = 70.0 if is_open else 35.0
    deep = DEEP_TOPICS.intersection(asked_topics(sig.words, limit=3))
    if deep:
        score += 15 if is_open else 5
    if content_words(s.prospect_last) & content_words(" ".join(sig.words)):
        score += 10
    if len(sig.questions) > 2:
        score -= 10
    if is_open:
        return Mark(score, good="an open question that gets them talking")
    return Mark(score, missing="an open question (what, how, walk me through) instead of yes/no")


def objection_handling(s: Situation) -> Mark:
    """Acknowledge, then answer with value, numbers, proof or a lower-risk start."""
    sig = s.sig
    parts = [
        (sig.acknowledges, 35, "acknowledged it"),
        (sig.value, 25, "answered with value"),
        (sig.numbers, 20, "put a number on it"),
        (sig.proof, 20, "used customers as proof"),
        (sig.risk_reducer, 15, "lowered the risk"),
        (relevant_to(s.objection, sig.words), 15, "spoke to the concern itself"),
        (sig.open_questions > 0, 15, "asked what is behind it"),
    ]
    score = sum(points for hit, points, _ in parts if hit) - (25 if sig.dismissive else 0)
    done = [label for hit, _, label in parts if hit]
    good = f"on the objection you {' and '.join(done[:2])}" if done else None
    if not sig.acknowledges:
        missing = "acknowledging the objection before answering it"
    elif not (sig.value or sig.numbers or sig.proof or sig.risk_reducer):
        missing = "an answer with value, a number or a customer like them after acknowledging"
    else:
        missing = None
    return Mark(score, good=good, missing=missing)


def value(s: Situation) -> Mark:
    """Value tied to the prospect's problem, with numbers or proof."""
    sig = s.sig
    tied = bool(content_words(s.prospect_all) & content_words(" ".join(sig.words)))
    about_them = any(w in ("you", "your", "yours", "you're") for w in sig.words)
    score = 15.0
    score += 30 if sig.value else 0
    score += 25 if sig.numbers else 0
    score += 15 if sig.proof else 0
    score += 15 if tied else 0
    score += 10 if about_them else 0
    if sig.numbers and (sig.value or sig.proof):
        return Mark(score, good="value with a concrete number")
    if sig.value or sig.proof:
        return Mark(score, good="a clear outcome", missing="a number to make the value concrete")
    return Mark(score, missing="the outcome for them: a number or a customer result")


def next_step(s: Situation) -> Mark:
    """A concrete next step: what, when, with whom, and a check that it works."""
    step = s.sig.next_step
    if not step.proposes:
        return Mark(10, missing="a concrete next step with a time")
    checks = bool(s.sig.questions) or bool(
        find_phrases(s.sig.words, ("does that work", "would that work", "work for you"))
    )
    score = 40 + (30 if step.time else 0) + (15 if step.people else 0) + (15 if checks else 0)
    if step.time:
        return Mark(score, good="a next step with a time")
    return Mark(score, good="proposed a next step", missing="a day and time for the next step")


def listening(s: Situation) -> Mark:
    """Picks up the prospect's words, asks, and leaves room; long monologues lose."""
    sig = s.sig
    if sig.backchannel:
        return Mark(50)
    count = len(sig.words)
    picked = content_words(s.prospect_last) & content_words(" ".join(sig.words))
    score = 55.0 + min(30, 10 * len(picked)) + (10 if sig.questions else 0)
    score += 10 if sig.acknowledges else 0
    if count > MONOLOGUE_WORDS:
        score = min(score, 40) - 0.4 * (min(count, 200) - MONOLOGUE_WORDS)
        return Mark(score, missing=f"room for the prospect ({count} words in one turn)")
    if count > LONG_TURN_WORDS:
        score -= 10
    recent = [*s.earlier[-2:], sig]
    if len(recent) == 3 and all(len(t.words) >= 15 and not t.questions for t in recent):
        return Mark(score - 20, missing="a question back: three turns of talking without one")
    if picked:
        return Mark(score, good="built on what they said")
    if score < 60:
        return Mark(score, missing="picking up the prospect's own words")
    return Mark(score)


CRITERIA = {
    "discovery": discovery,
    "objection_handling": objection_handling,
    "value": value,
    "next_step": next_step,
    "listening": listening,
}
