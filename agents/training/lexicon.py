"""Word lists and cue phrases for the offline training engines.

The question and value lists are the call analyser's own (``ingest/vocabulary.py``, so both
read a turn the same way); the cue lists below differ where live turns need other words, and
the lists that only training needs (back-channels, next-step parts, objection relevance)
follow them.

Everything is lower case and matched against word tokens, so the lists work on punctuated
cloud transcripts and on the unpunctuated lower-case text of the offline recogniser.
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


# --- Shared with the call analyser: ingest/vocabulary.py ------------------------------------


OBJECTION_CUES: dict[str, tuple[str, ...]] = {
    "price": _phrases(
        "price, pricing, expensive, too much, budget, cost, costs, afford, cheaper, pricey"
    ),
    "vendor": _phrases(
        "already have, already use, already using, already work with, happy with, "
        "current vendor, current provider, current solution, current system, switching"
    ),
    "timing": _phrases(
        "not the right time, bad time, busy, next quarter, next year, not a priority, swamped, "
        "timing"
    ),
    "authority": _phrases(
        "need to think, think about it, have to think, talk to my boss, check with, run it by, "
        "my manager, my boss, the board, sign off"
    ),
    "need": _phrases("not interested, no need, don't need, don't see the need, not for us"),
    "contract": _phrases("contract, locked in, locked into, commitment, long term"),
    "complexity": _phrases(
        "too complicated, complicated, too complex, complex, learning curve, implementation, "
        "integration, too hard, difficult"
    ),
    "risk": _phrases(
        "concern, concerned, concerns, worried, worry, risk, risky, nervous, skeptical, "
        "not sure, doubt"
    ),
}
ACKNOWLEDGEMENTS = _phrases(
    "understand, hear you, fair, makes sense, totally get, appreciate, good question, "
    "great question, i get that, that's valid, completely get, i get it"
)
RISK_REDUCERS = _phrases(
    "trial, pilot, guarantee, no commitment, cancel, month to month, free, start small"
)
# The analyser's list, plus the spoken forms trainees use for the same move.
SOCIAL_PROOF_CUES = _phrases(
    "customers, clients, companies like, teams like, businesses like, folks like, people like, "
    "we helped, we've helped, we work with, we worked with, case study, one of our, "
    "other companies, similar companies, trusted by, used by, reference, references, "
    "a lot of teams, most of our, many of our, most teams, teams your size, "
    "companies your size, other teams"
)
RAPPORT_CUES = _phrases(
    "thanks for, thank you for, appreciate, how are you, how's your, good to, great to, nice to"
)

# --- Training only --------------------------------------------------------------------------

# A turn made only of these says "I am listening", nothing more.
BACKCHANNELS = _words(
    "yeah yes yep yup ok okay sure right mhm mm hmm uh huh alright cool great fine got it i see "
    "no nope nah oh ah um uhm er well so and hi hello hey thanks thank you"
)
# A next step: what is proposed, when, and with whom (the analyser's closing cues, split).
NEXT_STEP_ACTIONS = _phrases(
    "demo, pilot, trial, meeting, call, session, walkthrough, walk through, workshop, proposal, "
    "invite, schedule, book, calendar, set up, follow up, send over, send you, kick off, "
    "get started, next step, next steps, onboarding call, sign"
)
NEXT_STEP_TIMES = _phrases(
    "monday, tuesday, wednesday, thursday, friday, tomorrow, next week, this week, "
    "end of the week, this afternoon, tomorrow morning, morning, afternoon, o'clock, noon, "
    "minute, minutes, half an hour"
)
# Actions that are a proposal on their own; the others ("call", "meeting") need a time, people
# or a proposing phrase.
STRONG_ACTIONS = _words("demo pilot trial proposal invite schedule book calendar next sign")
PROPOSING = _phrases(
    "let's, lets, let us, how about, would you be open, are you open, can we, could we, shall we, "
    "why don't we, i'd suggest, i suggest, does that work, would that work, are you free, "
    "i'll send, i can send"
)
NEXT_STEP_PEOPLE = _phrases(
    "who else, your director, finance, your boss, your manager, your team, decision, bring, "
    "include, loop in, stakeholders, cfo, ceo, coo"
)
# A seller talking about the offer: value is expected to follow.
PITCH_CUES = _phrases(
    "we help, we offer, we provide, we do, our platform, our product, our tool, our software, "
    "our solution, our dashboard, it lets you, lets you, you can, it helps, helps you, we plug"
)
# Replies that wave an objection away instead of answering it.
DISMISSIVE = _phrases(
    "trust me, you're wrong, not true, don't worry, no no, it's not expensive, that's not a problem"
)
# Words that show an answer is about the objection raised, by kind.
RELEVANCE: dict[str, frozenset[str]] = {
    "price": _words(
        "cost costs price pricing pay pays paid month year roi return budget invest "
        "investment spend dollars thousand afford worth"
    ),
    "vendor": _words(
        "alongside keep replace switch switching integrate integrates plug tools "
        "together migrate migration vendor current existing"
    ),
    "timing": _words(
        "now before wait waiting sooner quarter peak season later delay ready start small time"
    ),
    "authority": _words("boss manager director finance sign approve bring together loop team"),
    "risk": _words("guarantee trial pilot cancel risk safe support proven"),
    "complexity": _words("setup set hour hours easy simple support implement implementation"),
    "contract": _words("month cancel flexible contract terms commitment"),
    "need": _words("problem pain mentioned said cost costing hours"),
}
# Everyday words that say nothing about what a turn is about (for word overlap).
STOPWORDS = _words(
    "a an the and or but so of to in on at for with from by about as is are was were be been "
    "it it's its this that these those there here i i'm i've i'd me my we we're our us you "
    "you're your they them their he she his her do does did done have has had can could would "
    "will should just really very not no yes yeah ok okay well like what how why when where "
    "who which if then than also um uh get got go going know think say said one all any some "
    "more most much many now right sure mean let let's be up out"
)
