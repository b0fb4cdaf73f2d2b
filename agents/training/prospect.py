"""The offline prospect for roleplay: a scenario-driven dialogue manager, no model.

The prospect's state is never stored: every reply replays the trainee's turns of the history
from the start (consecutive trainee turns count as one), so a session restored from the
database, or resumed in another process, continues exactly where it was. Rules per trainee
turn, in this order:

1. Empty turn: "Sorry, I didn't catch that." Back-channel ("yeah", "ok"): a brief reply;
   nothing advances.
2. After an agreed next step: short wrap-up. After the prospect ended the call: "send me an
   email".
3. An objection is on the table: the answer's strength is acknowledgement (1) plus substance
   (1: value, numbers, social proof, a pilot or trial, or words about the objection's kind),
   minus one if dismissive. Strength >= ``needed`` (1 on easy, 2 otherwise) is a good answer:
   a hard prospect (pushback >= 0.7) escalates once before yielding; yielding marks the
   objection handled and, on medium and hard when the trainee asked nothing, raises the next
   one at once. A question without an answer gets the detail behind the objection. Anything
   else is weak and gets pushback; easy yields at the second weak answer; medium lets go at
   the third (handled if some answer was half right, else parked: it comes back when a next
   step is proposed); hard never yields and loses patience.
4. No objection on the table: a next-step proposal is accepted once enough objections are
   handled (easy: the first; medium and hard: all, and some value must have been heard),
   otherwise the next objection comes first. Questions get facts from the fact sheet, value
   statements a reaction; the next objection is raised after a value statement or after
   ``gap`` substantive turns (4 on easy, 3 on medium, 2 on hard). Turns with neither
   question nor value (and weak answers on hard) use up patience (``patience_turns``): the
   prospect presses once, and a hard one then ends the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.training import prospect_lines as pl
from agents.training.difficulty import level_for
from agents.training.facts import OPEN_ORDER, FactSheet, asked_topics, build_facts
from agents.training.facts import objection_kind_of as kind_of
from agents.training.signals import TurnSignals, find_phrases, read_turn, relevant_to
from agents.training.types import DialogueTurn, TrainingContext

_GREETINGS = frozenset({"hi", "hello", "hey", "morning", "afternoon", "good"})
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "tomorrow", "next week")


@dataclass
class ProspectState:
    """Where the roleplay stands, derived from the trainee's turns."""

    turn: int = 0
    raised: int = 0
    open: int | None = None
    good: int = 0
    weak: int = 0
    best: int = 0
    handled: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)
    since: int = 0
    idle: int = 0
    warned: bool = False
    value_heard: bool = False
    shared: dict[str, int] = field(default_factory=dict)
    outcome: str | None = None


class _Conversation:
    def __init__(self, ctx: TrainingContext) -> None:
        self.facts: FactSheet = build_facts(ctx.scenario)
        self.level = level_for(ctx)
        self.state = ProspectState()
        self.seed = (ctx.scenario.get("title"), self.facts.name, ctx.difficulty)

    def step(self, text: str) -> str:
        s, sig = self.state, read_turn(text)
        s.turn += 1
        if not sig.words:
            return pl.NOT_HEARD
        if s.outcome == "ended":
            return pl.STILL_ENDED
        if sig.backchannel and not sig.questions:
            if s.open is None:
                return self._pick(pl.BRIEF, "brief")
            return f"Mm-hmm. So what about {pl.concern(self._kind(s.open))}?"
        if s.outcome == "agreed":
            if sig.questions:
                return pl.spoken(self._answer(sig))
            return self._pick(pl.AFTER_AGREEMENT, "after")
        s.value_heard = s.value_heard or sig.claims_value
        if s.open is not None:
            return self._on_objection(sig, s.open)
        return self._open_floor(sig)

    # -- objections -------------------------------------------------------------------------

    def _on_objection(self, sig: TurnSignals, position: int) -> str:
        s, level = self.state, self.level
        kind = self._kind(position)
        substance = sig.claims_value or sig.risk_reducer or relevant_to(kind, sig.words)
        strength = max(0, int(sig.acknowledges) + int(substance) - int(sig.dismissive))
        s.best = max(s.best, strength)
        if strength >= level.needed:
            s.idle = 0
            if level.pushback >= 0.7 and s.good == 0:
                s.good += 1
                return pl.spoken(pl.escalation(kind))
            return self._settle(sig, position, handled=True)
        if strength == 0 and sig.questions and not sig.next_step.proposes:
            s.idle = 0
            topics = asked_topics(sig.words)
            answer = self._answer(sig) if topics else pl.detail(kind, self.facts)
            still = (pl.STILL_STUCK.format(concern=pl.concern(kind)),)
            return pl.spoken(answer, after=still if level.pushback >= 0.35 else ())
        s.weak += 1
        tolerance = level.weak_tolerance
        if tolerance is not None and s.weak > tolerance:
            return self._settle(sig, position, handled=level.pushback < 0.35 or s.best > 0)
        objection = pl.clean(str(level.queue[position].get("text")))
        line = pl.pushback(kind, pushback_level=level.pushback, weak=s.weak, objection=objection)
        if level.pushback >= 0.7:
            s.idle += 1
            if s.idle >= level.patience:
                if s.warned:
                    s.outcome = "ended"
                    return pl.ENDED
                s.warned = True
                return pl.spoken(line, after=(pl.SHORT_ON_TIME,))
        return pl.spoken(line)

    def _settle(self, sig: TurnSignals, position: int, *, handled: bool) -> str:
        s = self.state
        (s.handled if handled else s.parked).append(position)
        s.open, s.good, s.weak, s.best, s.since, s.idle = None, 0, 0, 0, 0, 0
        options = pl.YIELDS if handled else pl.PARKS
        lead = options[(len(s.handled) + len(s.parked)) % len(options)]
        if sig.next_step.proposes and self._can_accept():
            return self._accept(sig, lead)
        if sig.questions:
            return pl.spoken(self._answer(sig), before=(lead,))
        if self.level.pushback >= 0.35 and s.raised < len(self.level.queue):
            return pl.spoken(self._raise(s.raised), before=(lead,))
        return pl.spoken(lead)

    def _raise(self, position: int) -> str:
        s = self.state
        s.open, s.good, s.weak, s.best = position, 0, 0, 0
        s.raised = max(s.raised, position + 1)
        return str(self.level.queue[position].get("text"))

    def _kind(self, position: int) -> str | None:
        return kind_of(self.level.queue[position])

    # -- the open floor ---------------------------------------------------------------------

    def _open_floor(self, sig: TurnSignals) -> str:
        s, level = self.state, self.level
        s.since += 1
        if sig.next_step.proposes:
            s.idle = 0
            if self._can_accept():
                return self._accept(sig)
            if s.parked and level.pushback >= 0.35:
                position = s.parked.pop(0)
                self._raise(position)
                return pl.spoken(pl.REOPEN.format(concern=pl.concern(self._kind(position))))
            if s.raised < len(level.queue):
                return pl.spoken(self._raise(s.raised), before=(pl.BEFORE_STEP,))
            return pl.NOT_YET
        parts: list[str] = []
        if sig.questions:
            s.idle = 0
            parts.append(self._answer(sig))
        elif sig.claims_value:
            s.idle = 0
            parts.append(
                pl.value_reaction(
                    numbers=sig.numbers, proof=sig.proof, pushback_level=level.pushback
                )
            )
        elif s.turn <= 2 and (sig.rapport or sig.words[0] in _GREETINGS):
            parts.append(pl.GREETED)
        else:
            s.idle += 1
        due = s.raised < len(level.queue) and (sig.claims_value or s.since >= level.gap)
        if due:
            return pl.spoken(self._raise(s.raised), before=tuple(parts))
        if parts:
            return pl.spoken(parts[0])
        if s.idle >= level.patience:
            if s.warned and level.pushback >= 0.7:
                s.outcome = "ended"
                return pl.ENDED
            s.warned = True
            return self._pick(pl.IMPATIENT, "impatient")
        return self._pick(pl.NEUTRAL, "neutral")

    def _can_accept(self) -> bool:
        s, level = self.state, self.level
        if level.pushback < 0.35:
            return len(s.handled) + len(s.parked) >= min(1, len(level.queue))
        if s.parked:
            return False
        return len(s.handled) >= len(level.queue) and (s.value_heard or bool(s.handled))

    def _accept(self, sig: TurnSignals, lead: str | None = None) -> str:
        s, level = self.state, self.level
        before = (lead,) if lead else ()
        if not sig.next_step.concrete and level.pushback >= 0.35:
            return pl.spoken(pl.VAGUE_STEP, before=before)
        s.outcome = "agreed"
        day = next(iter(find_phrases(sig.words, _DAYS)), None)
        agreed = f"{day.capitalize()} works for me." if day else "Sure, that works for me."
        invite = "Send me an invite."
        if not sig.next_step.people and level.pushback >= 0.35:
            invite = f"Send me an invite and I'll bring {self.facts.decider}."
        return pl.spoken(agreed, before=before, after=(invite,))

    # -- answers ----------------------------------------------------------------------------

    def _answer(self, sig: TurnSignals) -> str:
        s = self.state
        topics = asked_topics(sig.words)
        if not topics and sig.open_questions:
            topics = [next((t for t in OPEN_ORDER if t not in s.shared), OPEN_ORDER[0])]
        if not topics:
            time_check = find_phrases(sig.words, ("minute", "minutes", "second", "good time"))
            return pl.TIME_CHECK if time_check else pl.CLOSED_QUESTION
        lines = []
        for topic in topics:
            lines.append(self.facts.answer(topic, repeated=s.shared.get(topic, 0) > 0))
            s.shared[topic] = s.shared.get(topic, 0) + 1
        return " ".join(lines)

    def _pick(self, options: tuple[str, ...], label: str) -> str:
        return pl.pick(options, *self.seed, self.state.turn, label)


def _trainee_runs(history: list[DialogueTurn]) -> list[str]:
    """The trainee's turns, consecutive ones joined (one reply answers them together)."""
    runs: list[str] = []
    previous = "ai"
    for turn in history:
        if turn.role == "trainee":
            if previous == "trainee" and runs:
                runs[-1] = f"{runs[-1]} {turn.text}".strip()
            else:
                runs.append(turn.text.strip())
        previous = turn.role
    return runs


class ScenarioProspectEngine:
    """Plays the scenario's prospect offline (roleplay mode); see the module rules."""

    name = "offline"

    def first_message(self, ctx: TrainingContext) -> str:
        """The scenario's opening line, or a greeting built from the persona."""
        opening = str(ctx.scenario.get("opening_line") or "").strip()
        if opening:
            return pl.spoken(opening)
        facts = build_facts(ctx.scenario)
        first = facts.name.split()[0]
        return f"Hi, this is {first}, {facts.role} at {facts.company}. What can I do for you?"

    async def reply(self, ctx: TrainingContext, history: list[DialogueTurn]) -> str:
        """The prospect's reply to the trainee's latest turn (deterministic)."""
        return self._replay(ctx, history)[1]

    def state(self, ctx: TrainingContext, history: list[DialogueTurn]) -> ProspectState:
        """Where the roleplay stands after ``history`` (for tests, progress and debugging)."""
        return self._replay(ctx, history)[0]

    @staticmethod
    def _replay(ctx: TrainingContext, history: list[DialogueTurn]) -> tuple[ProspectState, str]:
        conversation = _Conversation(ctx)
        reply = "Sorry, go ahead."
        for text in _trainee_runs(history):
            reply = conversation.step(text)
        return conversation.state, reply
