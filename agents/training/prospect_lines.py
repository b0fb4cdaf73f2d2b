"""What the offline prospect says: line templates, and short spoken replies built from them.

Every pushback and escalation names the concern with a cue word the scorer recognises as an
objection ("the cost", "switching", "busy"), so the turn that follows it is scored on
objection handling.
"""

from __future__ import annotations

import hashlib
import re

from agents.training.facts import FactSheet
from agents.training.signals import sentences, tokens

MAX_SENTENCES = 3
MAX_WORDS = 60
_MARKUP = re.compile(r"[*_#`>\[\]]+")

CONCERNS = {
    "price": "the cost",
    "vendor": "switching from our current vendor",
    "timing": "the timing",
    "authority": "getting sign off",
    "risk": "the risk",
    "complexity": "how complicated this is",
    "contract": "being locked into a contract",
    "need": "whether we need this at all",
}
ESCALATIONS = {
    "price": "Everyone says it pays for itself. What would the cost be in the first year, all in?",
    "vendor": "Switching vendors has burned us before. Who else has done it without a mess?",
    "timing": "Even so, it's a busy time and my team is stretched thin. What would this take "
    "from them?",
    "authority": "Even if I like it, I'd have to run it by my boss. What would I tell them?",
}
DETAILS = {
    "risk": "We've been burned by tools nobody ended up using.",
    "complexity": "My team has no time to learn another tool.",
    "contract": "We got stuck in a long contract last time.",
    "need": "I'm just not sure it's a problem worth solving right now.",
}
DETAIL_TOPICS = {
    "price": "budget",
    "vendor": "vendor",
    "timing": "timeline",
    "authority": "decision",
}
YIELDS = ("Okay, that's fair.", "Alright, that makes sense.", "Fair enough, that helps.")
PARKS = ("Let's park that for now, but I'm not sold on it.",)
BRIEF = ("Mm-hmm.", "Okay.", "Go on.")
NEUTRAL = ("Okay.", "Alright, go on.", "Mm, okay.")
AFTER_AGREEMENT = ("Sounds good, talk then.", "Great, send the invite over.")
IMPATIENT = (
    "I don't see where this is going. What exactly are you proposing?",
    "Sorry, I'm short on time. What is it you want from me?",
)
SHORT_ON_TIME = "And I don't have long."
GREETED = "Hi, yes. What can I do for you?"
ENDED = "I'm sorry, I have to jump on another call. Send me an email."
STILL_ENDED = "I really have to go. Send me an email and I'll look when I can."
NOT_HEARD = "Sorry, I didn't catch that."
CLOSED_QUESTION = "Maybe. It depends on what it would take from us."
TIME_CHECK = "I've got a few minutes, go ahead."
NOT_YET = "Maybe, but I'm not sure yet what we'd get out of it. What would it change for us?"
VAGUE_STEP = "Maybe. What exactly would that look like, and when?"
REOPEN = "Before that, I'd still need a better answer on {concern}."
BEFORE_STEP = "Hold on, before we get there."
STILL_STUCK = "But I'm still stuck on {concern}."


def concern(kind: str | None) -> str:
    """The objection's subject as a noun phrase ("the cost")."""
    return CONCERNS.get(kind or "", "whether this is right for us")


def escalation(kind: str | None) -> str:
    """A harder follow-up to a good answer, before a hard prospect yields."""
    fallback = f"Maybe, but I'm still not sure about {concern(kind)}. Why would it work for us?"
    return ESCALATIONS.get(kind or "", fallback)


def pushback(kind: str | None, *, pushback_level: float, weak: int, objection: str) -> str:
    """The reply to a weak answer: gentle on easy, firm on medium, repeating on hard."""
    if pushback_level < 0.35:
        return f"I guess, but I still worry about {concern(kind)}."
    if pushback_level < 0.7:
        return f"I'm not sure that answers it. I'm still stuck on {concern(kind)}."
    if weak <= 1:
        return f"That doesn't answer my question. {objection}"
    return f"You're not hearing me on {concern(kind)}."


def detail(kind: str | None, facts: FactSheet) -> str:
    """What lies behind an objection, told when the trainee asks about it."""
    if kind in DETAIL_TOPICS:
        return facts.answer(DETAIL_TOPICS[kind])
    return DETAILS.get(kind or "", "I just don't see yet why this would be worth it for us.")


def value_reaction(*, numbers: bool, proof: bool, pushback_level: float) -> str:
    """How the prospect takes a value statement."""
    if numbers:
        return "Okay, that would matter to us if it holds up."
    if proof:
        return "Good to hear it worked for a team like ours."
    if pushback_level < 0.35:
        return "That sounds useful."
    return "Everyone says that. What would it mean for us specifically?"


def pick(options: tuple[str, ...], *keys: object) -> str:
    """One of ``options``, chosen by a stable hash of ``keys`` (same keys, same line)."""
    digest = hashlib.sha256("|".join(map(str, keys)).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def clean(text: str) -> str:
    """A line as it should be spoken: no markup, one space, a capital and end punctuation."""
    text = " ".join(_MARKUP.sub(" ", text).split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def spoken(essential: str, *, before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> str:
    """A short spoken reply: ``essential`` with the optional parts around it that still fit.

    The reply stays within `MAX_SENTENCES` sentences and about `MAX_WORDS` words; optional
    parts that would break the limit are left out (those after ``essential`` first), and an
    essential part that is too long on its own is cut at a sentence end.
    """
    core = sentences(clean(essential))[:MAX_SENTENCES]
    while len(core) > 1 and len(tokens(" ".join(core))) > MAX_WORDS:
        core.pop()
    parts = [clean(p) for p in before] + [" ".join(core)] + [clean(p) for p in after]
    middle = len(before)
    keep = [True] * len(parts)

    def fits() -> bool:
        text = " ".join(p for p, k in zip(parts, keep, strict=True) if k and p)
        return len(sentences(text)) <= MAX_SENTENCES and len(tokens(text)) <= MAX_WORDS

    for n in [*range(len(parts) - 1, middle, -1), *range(middle)]:
        if fits():
            break
        keep[n] = False
    return " ".join(p for p, k in zip(parts, keep, strict=True) if k and p)
