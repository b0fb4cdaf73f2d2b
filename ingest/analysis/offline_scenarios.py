"""The offline scenario generator: a practice scenario filled in from the call, no model.

The prospect's objections are quoted from the call in the order the champion met them, with
the champion's reply; the persona's role and company come from what the prospect said about
themselves when they did, else from small fixed lists picked by a hash of the transcript (so
the same call always gives the same persona).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ingest.analysis import lexicons as lx
from ingest.analysis.quotes import clipped_span, objection_cues, quote_span, quote_timing
from ingest.types import PatternDraft, ScenarioDraft, Segment

MAX_OBJECTIONS = 8
DEFAULT_GOAL = "Agree a concrete next step"
# (word in a closing quote, goal), first match wins.
GOALS = (
    ("demo", "Book a follow-up demo"),
    ("trial", "Agree to start a trial"),
    ("pilot", "Agree to start a pilot"),
    ("proposal", "Get agreement to review a proposal"),
    ("contract", "Get agreement to review the contract"),
    ("meeting", "Schedule a follow-up meeting"),
    ("schedule", "Schedule a follow-up meeting"),
    ("calendar", "Schedule a follow-up meeting"),
)
GENERIC_OBJECTIONS = (
    ("price", "Honestly, this sounds expensive for what we need."),
    ("timing", "The timing isn't great; we're swamped until next quarter."),
)
SHORT_KIND = {
    "price": "price",
    "an existing vendor": "current-vendor",
    "timing": "timing",
    "needing to check with others": "sign-off",
    "lack of interest": "no-interest",
    "risk": "risk",
    "contract terms": "contract",
    "complexity": "complexity",
}
TRAITS = {
    "price": "cost-conscious",
    "an existing vendor": "loyal to the current vendor",
    "timing": "short on time",
    "needing to check with others": "needs buy-in from others",
    "lack of interest": "hard to engage",
    "risk": "risk-averse",
    "contract terms": "wary of commitments",
    "complexity": "wary of complexity",
}
DEFAULT_NAMES = ("Jordan Lee", "Sam Patel", "Alex Morgan", "Taylor Brooks", "Casey Nguyen")
DEFAULT_ROLES = ("Head of Operations", "VP of Sales", "IT Director", "Procurement Manager")
DEFAULT_COMPANIES = ("Northwind Logistics", "Brightline Health", "Cedar Retail", "Harbor Labs")

# A word of a role or company name: not one of the words that end one ("at Acme so we").
_WORD = r"(?!(?:" + "|".join(sorted(lx.NAME_ENDERS)) + r")\b)[a-z0-9&][\w&'-]*"
_COMPANY_NAME = rf"(?P<company>{_WORD}(?:\s+{_WORD}){{0,2}})"
_ROLE = re.compile(
    r"\b(?:i'm|i am|im)\s+(?:the|a|an)\s+(?P<role>(?:[a-z]+\s+){0,2}?(?:"
    + "|".join(sorted(lx.ROLE_WORDS))
    + rf")(?:\s+of\s+{_WORD}(?:\s+{_WORD})?)?)"
    + rf"(?:\s+(?:at|for|with|here\s+at|over\s+at)\s+{_COMPANY_NAME})?",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    rf"\b(?:here at|over at|we at|i work at|i work for)\s+{_COMPANY_NAME}", re.IGNORECASE
)
_FROM_COMPANY = re.compile(r"\bfrom (?P<company>[A-Z][\w&]+(?: [A-Z][\w&]+)?)")
_NAME_PATTERNS = (
    re.compile(r"\b[Mm]y name is (?P<name>[A-Za-z]+)"),
    re.compile(r"\b[Tt]his is (?P<name>[A-Z][a-z]+)\b"),
    re.compile(r"\b(?P<name>[A-Z][a-z]+) speaking\b"),
)
# How a prospect answers the phone: "hello this is dana" (lower case accepted here only).
_ANSWER = re.compile(
    r"^\W*(?:hello|hi|hey|yeah|yes|good morning|good afternoon)\W+(?:this is|it's)\s+"
    r"(?P<name>[a-z]+)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"\b(?:[Hh]i|[Hh]ey|[Hh]ello),? (?P<name>[A-Z][a-z]+)\b")
_NOT_A_NAME = lx.NOT_NAMES | {w.capitalize() for w in lx.NOT_NAMES_AFTER_THIS_IS}
_SMALL_WORDS = {"of", "for", "and", "the", "at"}


class TemplateScenarioGenerator:
    """Builds one practice scenario from the call with templates (offline)."""

    name = "offline"

    async def generate(
        self, segments: list[Segment], *, champion: str, patterns: list[PatternDraft]
    ) -> list[ScenarioDraft]:
        """One scenario: the prospect as met in the call, objections in the order raised."""
        return [build_scenario(segments, champion=champion, patterns=patterns)]


def build_scenario(
    segments: list[Segment], *, champion: str, patterns: list[PatternDraft]
) -> ScenarioDraft:
    """The scenario for a call.

    Args:
        segments: the transcript, any order.
        champion: the champion's speaker label; every other speaker is the prospect side.
        patterns: the champion's patterns; the closing ones set the goal.
    """
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    prospect = [s for s in ordered if s.speaker != champion and s.text.strip()]
    objections = call_objections(ordered, champion=champion)
    if not objections:
        objections = [
            {"text": text, "order": n, "kind": kind, "source": "generic"}
            for n, (kind, text) in enumerate(GENERIC_OBJECTIONS, start=1)
        ]
    persona = _persona(ordered, champion, prospect, objections)
    first_name = persona["name"].split()[0]
    if prospect:
        first = prospect[0].text
        begin, end = clipped_span(first, (len(first) - len(first.lstrip()), len(first.rstrip())))
        opening_line = first[begin:end]
    else:
        opening_line = f"Hi, this is {first_name}. What can I do for you?"
    kinds = list(dict.fromkeys(SHORT_KIND[o["kind"]] for o in objections if o["source"] == "call"))
    at = f"the {persona['role']} at {persona['company']}"
    title = (
        f"{' and '.join(kinds[:2])} objections from {at}" if kinds else f"Discovery call with {at}"
    )
    return ScenarioDraft(
        title=title[:1].upper() + title[1:200],
        goal=_goal(patterns),
        opening_line=opening_line,
        persona=persona,
        objections=objections,
        difficulty_levels=difficulty_levels(objections),
        provider="offline",
    )


def call_objections(ordered: list[Segment], *, champion: str) -> list[dict[str, Any]]:
    """The objections the prospect side raised, in call order, with the champion's reply.

    One per sentence and kind in each prospect segment, at most `MAX_OBJECTIONS`. The reply is
    the champion's next turn, credited to the objections of the last prospect turn before it.
    """
    raised: list[tuple[int, dict[str, Any]]] = []
    for idx, seg in enumerate(ordered):
        if seg.speaker == champion:
            continue
        kinds_here: set[str] = set()
        for cue in objection_cues(seg.text):
            if cue.label in kinds_here or len(raised) == MAX_OBJECTIONS:
                continue
            kinds_here.add(cue.label)
            span = quote_span(seg.text, cue)
            item = {
                "text": seg.text[span[0] : span[1]],
                "order": len(raised) + 1,
                "kind": cue.label,
                "start": quote_timing(seg, span)[0],
                "source": "call",
            }
            raised.append((idx, item))
    for idx, item in raised:
        after = range(idx + 1, len(ordered))
        reply = next((j for j in after if ordered[j].speaker == champion), None)
        later = [i for i, _ in raised if idx < i and (reply is None or i < reply)]
        if reply is not None and not later:
            item["champion_response"] = ordered[reply].text.strip()
    return [item for _, item in raised]


def difficulty_levels(objections: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """How the prospect behaves at each difficulty; objections are named by their order."""
    orders = [o["order"] for o in objections]
    first = objections[0]["kind"] if objections else "price"
    return {
        "easy": {
            "pushback": 0.2,
            "objections_to_raise": orders[:1],
            "repeat_objections": False,
            "patience_turns": 6,
            "description": f"Friendly and open: raises only the first objection ({first}) once "
            "and accepts any reasonable answer.",
        },
        "medium": {
            "pushback": 0.5,
            "objections_to_raise": orders[:3],
            "repeat_objections": False,
            "patience_turns": 4,
            "description": "Polite but guarded: raises up to three objections in the order the "
            "champion met them and wants a specific answer to each.",
        },
        "hard": {
            "pushback": 0.85,
            "objections_to_raise": orders,
            "repeat_objections": True,
            "patience_turns": 2,
            "description": "Skeptical and busy: raises every objection in the list, comes back "
            "to any that got a weak answer, and ends the call after two turns without value.",
        },
    }


def _goal(patterns: list[PatternDraft]) -> str:
    closing = " ".join(p.quote.lower() for p in patterns if p.category == "closing")
    words = set(re.findall(r"[a-z]+", closing))
    return next((goal for word, goal in GOALS if word in words), DEFAULT_GOAL)


def _persona(
    ordered: list[Segment],
    champion: str,
    prospect: list[Segment],
    objections: list[dict[str, Any]],
) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(s.text for s in ordered).encode()).digest()
    pick = int.from_bytes(digest[:8], "big")
    said_by_prospect = "\n".join(s.text for s in prospect)
    greetings = "\n".join([s.text for s in ordered if s.speaker == champion][:2])
    answer = prospect[0].text if prospect else ""
    sources = [(p, said_by_prospect) for p in _NAME_PATTERNS]
    sources += [(_ANSWER, answer), (_GREETING, greetings)]
    name = next(
        (
            m["name"].capitalize()
            for pattern, text in sources
            for m in pattern.finditer(text)
            if m["name"].capitalize() not in _NOT_A_NAME
        ),
        DEFAULT_NAMES[pick % len(DEFAULT_NAMES)],
    )
    role_match = _ROLE.search(said_by_prospect)
    company_match = (
        (role_match if role_match and role_match["company"] else None)
        or _COMPANY.search(said_by_prospect)
        or _FROM_COMPANY.search(said_by_prospect)
    )
    role = _titled(role_match["role"]) if role_match else None
    company = _titled(company_match["company"]) if company_match else None
    kinds = [o["kind"] for o in objections if o["source"] == "call"]
    traits = ["skeptical" if len(kinds) >= 3 else "cautious" if kinds else "open-minded"]
    traits += list(dict.fromkeys(TRAITS[k] for k in kinds))[:2]
    words = sum(len(s.text.split()) for s in prospect) / max(len(prospect), 1)
    traits.append("talkative" if words >= 15 else "brief and to the point")
    return {
        "name": name,
        "role": role or DEFAULT_ROLES[(pick >> 8) % len(DEFAULT_ROLES)],
        "company": company or DEFAULT_COMPANIES[(pick >> 16) % len(DEFAULT_COMPANIES)],
        "personality": ", ".join(traits).capitalize(),
        "source": "call" if role or company else "default",
    }


def _titled(text: str) -> str:
    """Title case for lower-case text ("head of ops" -> "Head of Ops"); cased text kept."""
    words = text.split()
    if any(w[:1].isupper() for w in words):
        return " ".join(words)
    titled = [w.upper() if w in lx.ACRONYMS else w.capitalize() for w in words]
    return " ".join(
        w if n and w in _SMALL_WORDS else t
        for n, (w, t) in enumerate(zip(words, titled, strict=True))
    )
