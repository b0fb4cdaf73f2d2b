"""The offline prospect's fact sheet, and which facts a trainee's question asks for.

The facts come from the scenario (persona, objections, goal); what the scenario does not say
(team size, current process, pain, budget) is picked from small fixed lists by a stable hash
of the scenario, so the same scenario always gives the same prospect, session after session.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from agents.training.signals import objection_kind

# Topics in the order a generic open question ("tell me more") walks through them.
OPEN_ORDER = ("pain", "process", "goal", "impact", "team")


def _cues(text: str) -> tuple[str, ...]:
    return tuple(" ".join(p.split()) for p in text.split(",") if p.strip())


# topic -> strong cues: phrases, or word stems ending in "*" (a stem matches any word it
# starts).
TOPIC_CUES: dict[str, tuple[str, ...]] = {
    "greeting": _cues(
        "how are you, how's your day, how is your day, how's it going, how is it going, "
        "how has your week, how's your week, how have you been, how's your morning"
    ),
    "role": _cues("role, position, title, responsib*, what do you do, your job"),
    "company": _cues("company, business, organi*, industry"),
    "team": _cues("how many, headcount, team size, size, how big, how large, employees, staff"),
    "process": _cues(
        "process*, workflow*, tools, system*, track*, manag*, handl*, walk me through, "
        "day to day, onboard*, spreadsheet*"
    ),
    "pain": _cues(
        "problem*, challeng*, pain*, struggl*, issue*, frustrat*, biggest, difficult*, hard, "
        "wrong, broken, headache*, bottleneck*, slow*, keeps you up, worr*"
    ),
    "impact": _cues(
        "cost, costing, impact*, affect*, lose, losing, lost, overtime, money, revenue, how much"
    ),
    "budget": _cues("budget*, spend*, invest*, price range, afford, allocat*, set aside"),
    "timeline": _cues(
        "timeline*, timeframe*, deadline*, urgen*, by when, how soon, season, "
        "when do you need, when would"
    ),
    "decision": _cues(
        "decision*, decide*, sign off, approv*, who else, stakeholder*, involved, boss, buy in"
    ),
    "goal": _cues(
        "goal*, success*, ideal*, achiev*, improve*, better, magic wand, look like, outcome*, "
        "priorit*, want to change"
    ),
    "vendor": _cues(
        "vendor*, provider*, competitor*, alternative*, tried, looked at, other solutions, evaluat*"
    ),
}
# Weak cues: they name a topic only when no strong cue names another one.
WEAK_CUES: dict[str, tuple[str, ...]] = {
    "process": _cues("currently, today, right now, use, using"),
    "team": _cues("team, people"),
}
_INDUSTRIES = (
    (("logistic", "freight", "shipping", "transport", "trucking"), "logistics"),
    (("health", "clinic", "care", "medical"), "healthcare"),
    (("retail", "store", "shop", "market"), "retail"),
    (("lab", "tech", "software", "data", "cloud"), "software"),
    (("bank", "financial", "capital", "insurance"), "financial services"),
)
_TEAM_SIZES = (15, 25, 40, 60, 120)
_PROCESSES = (
    "it's mostly spreadsheets and email, and a lot of it lives in people's heads",
    "we use an older system we've had for years, plus a lot of manual checklists",
    "a supervisor walks new people through it, and we track everything in spreadsheets",
)
_PAINS = (
    "things slip when someone is out, and the mistakes show up weeks later",
    "I have no real visibility, so I spend hours chasing people for updates",
    "it's slow and manual, and new people take far too long to get up to speed",
)
_GOALS = (
    "mostly visibility: knowing where things stand without chasing people",
    "getting new people productive faster, with fewer mistakes",
    "less manual work for my leads, so they can focus on the floor",
)
_IMPACT_THOUSANDS = (5, 10, 15, 20)
_DECIDERS = ("our director of finance", "our COO", "our CEO")


@dataclass(frozen=True)
class FactSheet:
    """What the prospect knows about themselves, fixed for a scenario."""

    name: str
    role: str
    company: str
    industry: str
    team_size: int
    process: str
    pain: str
    impact_thousands: int
    goal: str
    decider: str
    kinds: frozenset[str]

    def answer(self, topic: str, *, repeated: bool = False) -> str:
        """One spoken sentence answering ``topic``; a shorter "like I said" when repeated."""
        lead = "Like I said, " if repeated and topic not in ("greeting",) else ""
        text = {
            "greeting": "Doing alright, thanks. What's this about?",
            "role": f"I'm the {self.role} here at {self.company}.",
            "company": f"We're a {self.industry} company, about {self.team_size * 8} people "
            "overall.",
            "team": f"There are about {self.team_size} people on my team.",
            "process": f"Right now {self.process}.",
            "pain": f"Honestly, {self.pain}.",
            "impact": f"I'd guess we lose about {self.impact_thousands} thousand dollars a month, "
            "but nobody has really measured it.",
            "budget": "There's nothing set aside for this yet, so it would have to pay for itself."
            if "price" in self.kinds
            else f"We could find maybe {self.impact_thousands * 2} thousand a year if the case "
            "is clear.",
            "timeline": "Realistically not before next quarter; we're in our busy season."
            if "timing" in self.kinds
            else "Sooner is better, ideally within the next couple of months.",
            "decision": f"I'd make the call, but {self.decider} has the final say.",
            "goal": f"For me it's {self.goal}.",
            "vendor": "We use our current vendor for most of it, and they're fine."
            if "vendor" in self.kinds
            else "Nobody really; we've kept it in-house so far.",
        }[topic]
        text = text.removeprefix("Honestly, ") if lead else text
        if not lead or text.startswith(("I ", "I'")):
            return lead + text
        return lead + text[0].lower() + text[1:]


def build_facts(scenario: dict[str, Any]) -> FactSheet:
    """The fact sheet of a scenario's prospect (same scenario, same facts)."""
    persona = scenario.get("persona") or {}
    objections = scenario.get("objections") or []
    seed = json.dumps(
        [scenario.get("title"), persona, [o.get("text") for o in objections]],
        sort_keys=True,
        default=str,
    )
    pick = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    company = str(persona.get("company") or "our company")
    lowered = company.lower()
    industry = next(
        (name for stems, name in _INDUSTRIES if any(s in lowered for s in stems)), "services"
    )
    return FactSheet(
        name=str(persona.get("name") or "Jordan"),
        role=str(persona.get("role") or "head of operations").lower(),
        company=company,
        industry=industry,
        team_size=_TEAM_SIZES[pick % len(_TEAM_SIZES)],
        process=_PROCESSES[(pick >> 8) % len(_PROCESSES)],
        pain=_PAINS[(pick >> 16) % len(_PAINS)],
        impact_thousands=_IMPACT_THOUSANDS[(pick >> 24) % len(_IMPACT_THOUSANDS)],
        goal=str(_GOALS[(pick >> 32) % len(_GOALS)]),
        decider=_DECIDERS[(pick >> 40) % len(_DECIDERS)],
        kinds=frozenset(filter(None, (objection_kind_of(o) for o in objections))),
    )


def objection_kind_of(objection: dict[str, Any]) -> str | None:
    """The kind of a scenario objection: its ``kind`` when known, else read from its text."""
    kind = str(objection.get("kind") or "").lower()
    aliases = {
        "an existing vendor": "vendor",
        "current-vendor": "vendor",
        "incumbent": "vendor",
        "competitor": "vendor",
        "needing to check with others": "authority",
        "sign-off": "authority",
        "lack of interest": "need",
        "no-interest": "need",
        "contract terms": "contract",
        "budget": "price",
        "cost": "price",
    }
    kind = aliases.get(kind, kind)
    if kind in ("price", "vendor", "timing", "authority", "need", "contract", "complexity", "risk"):
        return kind
    return objection_kind(str(objection.get("text") or ""))


def asked_topics(words: list[str] | tuple[str, ...], *, limit: int = 2) -> list[str]:
    """The fact topics a question asks about, in the order they are named, at most ``limit``.

    Cues are phrases or stems; a word within a small edit of a cue word of six letters or
    more also counts, so "proccess" or "bugdet" from a recogniser still lands.
    """
    return list(_asked(tuple(words), limit))


@functools.lru_cache(maxsize=512)
def _asked(words: tuple[str, ...], limit: int) -> tuple[str, ...]:
    found = _topics(words, TOPIC_CUES) or _topics(words, WEAK_CUES)
    if "greeting" in found:
        return ("greeting",)
    return tuple(found[:limit])


def _topics(words: list[str] | tuple[str, ...], table: dict[str, tuple[str, ...]]) -> list[str]:
    hits: list[tuple[int, str]] = []
    for topic, cues in table.items():
        where = [i for cue in cues if (i := _cue_at(words, cue)) is not None]
        if where:
            hits.append((min(where), topic))
    return [topic for _, topic in sorted(hits)]


def _cue_at(words: list[str] | tuple[str, ...], cue: str) -> int | None:
    if " " in cue:
        parts = cue.split()
        return next(
            (i for i in range(len(words)) if list(words[i : i + len(parts)]) == parts), None
        )
    stem = cue.rstrip("*")
    for i, word in enumerate(words):
        if word == stem or (cue.endswith("*") and word.startswith(stem)):
            return i
        if len(stem) >= 6 and len(word) >= 6 and _near(word, stem):
            return i
    return None


def _near(word: str, cue: str) -> bool:
    """Within a small edit ("proccess", "bugdet"): similarity ratio 0.8 or more."""
    matcher = difflib.SequenceMatcher(None, word, cue)
    return (
        matcher.real_quick_ratio() >= 0.8
        and matcher.quick_ratio() >= 0.8
        and (matcher.ratio() >= 0.8)
    )
