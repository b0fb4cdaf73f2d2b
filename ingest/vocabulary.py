"""Word lists for telling questions, value and proof in spoken sales talk, shared by the call
analyser (ingest) and the training agent's live scorer (agents), so both read a turn the same
way."""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """The space-separated words of ``text`` as a set."""
    return frozenset(text.split())


def phrases(text: str) -> tuple[str, ...]:
    """The comma-separated phrases of ``text``, each with single spaces."""
    return tuple(" ".join(p.split()) for p in text.split(",") if p.strip())


# Wh-words, and the words that must follow one for it to ask rather than to start a clause
# ("what do you use" asks, "what we found is" does not).
WH_WORDS = words("what how why when where who which")

WH_CONTRACTIONS = words("what's how's why's when's where's who's whats hows wheres")

AUXILIARIES = words(
    "is are was were do does did can could would will should shall have has had may might am "
    "don't doesn't didn't isn't aren't won't wouldn't can't couldn't haven't"
)

WH_FOLLOWERS = AUXILIARIES | words(
    "many much long often soon about else kind sort type types part parts one ones tools made "
    "makes happens happened led prompted brought keeps not exactly specifically if"
)

# Subjects after which an auxiliary starts a question: anywhere ("do you") or only at the
# start of a clause ("is it", "are we").
INVERSION_SUBJECTS_ANYWHERE = words("you ya y'all")

INVERSION_SUBJECTS_AT_START = words(
    "your it there that this we they he she anyone anybody the everyone i"
)

# Subjects before an auxiliary that make it a statement ("when you do you save").
SUBJECT_PRONOUNS = words("i you we they he she it")

# Words after which a wh-word asks even mid-clause ("I'm curious how you do it").
EMBEDDED_QUESTION_LEADS = words("curious wondering wonder hear")

# Imperatives and phrases that ask a question at the start of a clause.
QUESTION_IMPERATIVES = phrases(
    "tell me, walk me through, talk me through, help me understand, describe, curious, how about"
)

# Openers of open questions, which weigh more than yes/no questions.
OPEN_QUESTION_OPENERS = phrases(
    "what, what's, how, how's, why, walk me through, talk me through, tell me, "
    "help me understand, describe, curious"
)

# Words after which a new clause (and so possibly a question) starts in unpunctuated text.
CLAUSE_BOUNDARIES = words(
    "so and but okay ok well now alright right great cool yeah yes sure um uh also then just "
    "perfect gotcha thanks wonderful awesome question understood fair anyway hmm"
)

# Auxiliaries that ask a question at the start of a clause whatever follows ("does Thursday
# work"), unless followed by one of the words after them ("would love to").
CLAUSE_AUXILIARIES = words("does did is are would could can should shall do")

NOT_AFTER_CLAUSE_AUXILIARY = words(
    "love like appreciate recommend say not definitely really also just a an"
)

VALUE_CUES = phrases(
    "save, saves, saving, saved, reduce, reduces, reduced, cut, cuts, increase, increases, "
    "increased, boost, boosts, improve, improves, improved, roi, return on investment, percent, "
    "faster, quicker, so that you, so you can, which means, pays for itself, time back, "
    "double, doubled, twice, half, more revenue, fewer, less time"
)

# Units that make a number a value claim ("30%", "ten hours").
VALUE_UNITS = words("percent hours hour minutes days weeks times x dollars k grand thousand")

NUMBER_WORDS = words(
    "two three four five six seven eight nine ten twelve fifteen twenty thirty forty fifty "
    "sixty seventy eighty ninety hundred"
)
