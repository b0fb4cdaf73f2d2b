"""Word lists and cue phrases for the offline analysis engines.

Everything is lower case and matched against word tokens (see `metrics.tokens`), so the same
lists work on punctuated cloud transcripts and on the unpunctuated lower-case text of the
offline recogniser. Phrase lists are written comma-separated; a phrase is a sequence of tokens.
"""

from __future__ import annotations


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

# Wh-words, and the words that must follow one for it to ask rather than to start a clause
# ("what do you use" asks, "what we found is" does not).
WH_WORDS = _words("what how why when where who which")
WH_CONTRACTIONS = _words("what's how's why's when's where's who's whats hows wheres")
AUXILIARIES = _words(
    "is are was were do does did can could would will should shall have has had may might am "
    "don't doesn't didn't isn't aren't won't wouldn't can't couldn't haven't"
)
WH_FOLLOWERS = AUXILIARIES | _words(
    "many much long often soon about else kind sort type types part parts one ones tools made "
    "makes happens happened led prompted brought keeps not exactly specifically if"
)
# Subjects after which an auxiliary starts a question: anywhere ("do you") or only at the
# start of a clause ("is it", "are we").
INVERSION_SUBJECTS_ANYWHERE = _words("you ya y'all")
INVERSION_SUBJECTS_AT_START = _words(
    "your it there that this we they he she anyone anybody the everyone i"
)
# Subjects before an auxiliary that make it a statement ("when you do you save").
SUBJECT_PRONOUNS = _words("i you we they he she it")
# Words after which a wh-word asks even mid-clause ("I'm curious how you do it").
EMBEDDED_QUESTION_LEADS = _words("curious wondering wonder hear")
# Imperatives and phrases that ask a question at the start of a clause.
QUESTION_IMPERATIVES = _phrases(
    "tell me, walk me through, talk me through, help me understand, describe, curious, how about"
)
# Openers of open questions, which weigh more than yes/no questions.
OPEN_QUESTION_OPENERS = _phrases(
    "what, what's, how, how's, why, walk me through, talk me through, tell me, "
    "help me understand, describe, curious"
)
# Words after which a new clause (and so possibly a question) starts in unpunctuated text.
CLAUSE_BOUNDARIES = _words(
    "so and but okay ok well now alright right great cool yeah yes sure um uh also then just "
    "perfect gotcha thanks wonderful awesome question understood fair anyway hmm"
)

# Boundary words dropped from the end of a quoted question ("... today and").
TRAILING_CONNECTIVES = _words("and so but um uh also then okay ok well")
# Auxiliaries that ask a question at the start of a clause whatever follows ("does Thursday
# work"), unless followed by one of the words after them ("would love to").
CLAUSE_AUXILIARIES = _words("does did is are would could can should shall do")
NOT_AFTER_CLAUSE_AUXILIARY = _words(
    "love like appreciate recommend say not definitely really also just a an"
)

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

VALUE_CUES = _phrases(
    "save, saves, saving, saved, reduce, reduces, reduced, cut, cuts, increase, increases, "
    "increased, boost, boosts, improve, improves, improved, roi, return on investment, percent, "
    "faster, quicker, so that you, so you can, which means, pays for itself, time back, "
    "double, doubled, twice, half, more revenue, fewer, less time"
)
# Units that make a number a value claim ("30%", "ten hours").
VALUE_UNITS = _words("percent hours hour minutes days weeks times x dollars k grand thousand")
NUMBER_WORDS = _words(
    "two three four five six seven eight nine ten twelve fifteen twenty thirty forty fifty "
    "sixty seventy eighty ninety hundred"
)

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
