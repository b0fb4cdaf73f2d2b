"""Word lists and cue phrases for the offline analysis engines.

Everything is lower case and matched against word tokens (see `metrics.tokens`), so the same
lists work on punctuated cloud transcripts and on the unpunctuated lower-case text of the
offline recogniser. Phrase lists are written comma-separated; a phrase is a sequence of tokens.
"""

from __future__ import annotations

from ingest.vocabulary import (  # noqa: F401 - the shared lists, read here as lx.NAME
    NUMBER_WORDS,
    VALUE_CUES,
    VALUE_UNITS,
    WH_WORDS,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(" ".join(p.split()) for p in text.split(",") if p.strip())


# Fillers wherever they occur.
FILLER_WORDS = _words("um umm uhm uh uhh er erm ah basically actually")
# Two-word fillers, each with the words that, just before it, make it literal speech
# ("what kind of tool", "do you know", "let you know").
_DETERMINERS = _words(
    "what which this that the a any some same every one different each no these those that's "
    "whatever all"
)
FILLER_PHRASES: dict[tuple[str, str], frozenset[str]] = {
    ("you", "know"): _words(
        "do did does don't didn't if let would will you'll might as to how what whether that "
        "i i'll we'll can could"
    ),
    ("sort", "of"): _DETERMINERS,
    ("kind", "of"): _DETERMINERS,
    ("i", "mean"): _words("do did what if you know"),
}
# "like" is a filler at the start of a clause, set off by commas, or after one of these words
# ("it was like really fast", "and like we"). Anywhere else it is taken as the verb or the
# comparison ("we'd like", "companies like yours").
LIKE_FILLER_BEFORE = _words(
    "and but so um uh was were is it's its i'm we're they're you're he's she's be been totally "
    "literally like or"
)


# Boundary words dropped from the end of a quoted question ("... today and").
TRAILING_CONNECTIVES = _words("and so but um uh also then okay ok well")

# Prospect objections by kind, most specific first (a sentence with several cues takes the
# first kind listed); the kind names the objection in explanations.
OBJECTION_CUES: dict[str, tuple[str, ...]] = {
    "price": _phrases(
        "price, pricing, expensive, too much, budget, cost, costs, afford, cheaper, pricey"
    ),
    "an existing vendor": _phrases(
        "already have, already use, already using, already work with, happy with, "
        "current vendor, current provider, current solution, current system, switching"
    ),
    "timing": _phrases(
        "not the right time, bad time, busy, next quarter, next year, not a priority, swamped, "
        "timing"
    ),
    "needing to check with others": _phrases(
        "need to think, think about it, have to think, talk to my boss, check with, run it by, "
        "my manager, my boss, the board, sign off"
    ),
    "lack of interest": _phrases(
        "not interested, no need, don't need, don't see the need, not for us"
    ),
    "contract terms": _phrases("contract, locked in, locked into, commitment, long term"),
    "complexity": _phrases(
        "too complicated, complicated, too complex, complex, learning curve, implementation, "
        "integration, too hard, difficult"
    ),
    "risk": _phrases(
        "concern, concerned, concerns, worried, worry, risk, risky, nervous, skeptical, "
        "not sure, doubt"
    ),
}

# How the champion answers an objection; each approach is named in the explanation.
REFRAME_CUES: dict[str, tuple[str, ...]] = {
    "acknowledges it": _phrases(
        "understand, hear you, fair, makes sense, totally get, appreciate, good question, "
        "great question, i get that, that's valid, completely get, i get it"
    ),
    "points to customers who faced the same": _phrases(
        "customers, clients, teams like, companies like, we helped, we've helped"
    ),
    "reframes it around value": _phrases(
        "save, saves, roi, pays for itself, return, percent, cost of, hours, compared, "
        "instead of, in the long run, that's why, which means"
    ),
    "lowers the risk": _phrases(
        "trial, pilot, guarantee, no commitment, cancel, month to month, free, start small"
    ),
}

OPENING_CUES: dict[str, tuple[str, ...]] = {
    "gives a reason for the call": _phrases(
        "reason for my call, reason i'm calling, reason i called, reaching out, "
        "calling because, noticed, saw that"
    ),
    "sets an agenda": _phrases(
        "agenda, quick, minutes, plan is, i'd like to, what i'd love, goal for today, for today"
    ),
    "builds rapport": _phrases(
        "thanks for, thank you for, appreciate, how are you, how's your, good to, great to, nice to"
    ),
}


SOCIAL_PROOF_CUES = _phrases(
    "customers, clients, companies like, teams like, businesses like, folks like, people like, "
    "we helped, we've helped, we work with, we worked with, case study, one of our, "
    "other companies, similar companies, trusted by, used by, reference, references, "
    "a lot of teams, most of our, many of our"
)

CLOSING_CUES = _phrases(
    "next step, next steps, schedule, calendar, book, demo, trial, pilot, send over, send you, "
    "contract, proposal, shall we, set up, follow up, invite, sign, agreement, kick off, "
    "move forward, get started, onboarding, monday, tuesday, wednesday, thursday, friday, "
    "tomorrow, next week, does that work, would that work"
)

# A capitalised name right after these words, or right before these verbs, is taken as a
# customer named as proof ("teams like Stripe", "Acme cut their ..."); cased text only.
NAMED_CUSTOMER_BEFORE = _words("like helped")
NAMED_CUSTOMER_AFTER = _words("uses use used saw cut went switched increased reduced saved doubled")
NOT_NAMES = _words(
    "I I'm I've I'll I'd Monday Tuesday Wednesday Thursday Friday Saturday Sunday January "
    "February March April May June July August September October November December"
)

# The prospect's role, from "I'm the head of operations at Acme": a role word, and the words
# that end a role or company name in unpunctuated text.
ROLE_WORDS = _words(
    "head director vp manager lead chief founder owner cto ceo cfo coo cmo cio buyer officer "
    "administrator president"
)
NAME_ENDERS = _words(
    "and so but we i which where that right now today for in on with the our is are was has "
    "have who um uh here at"
)
ACRONYMS = _words("vp cto ceo cfo coo cmo cio it hr")
# Words that follow "this is" or a greeting but are not a name ("this is great", "hi there").
NOT_NAMES_AFTER_THIS_IS = _words(
    "there everyone again all team folks guys great good fine the a an it not about what why "
    "how really just so very interesting exactly my our your going definitely actually helpful "
    "perfect true right awesome cool me him her us them something where when he she"
)
