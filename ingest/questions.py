"""Where questions start in spoken sales talk, shared by the call analyser (ingest) and the
training agent's live scorer (agents), so both find the same questions in a turn.

Works on the lower-cased words of one sentence, punctuated or not: a question starts where a
clause starts with a wh-word plus auxiliary, an auxiliary-subject inversion ("do you", "is
it"), or an asking imperative ("tell me", "walk me through"), over the word lists of
``ingest/vocabulary.py``. What a trailing "?" adds is left to the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest import vocabulary as lx

# A question opener claims at least this many words, and at most this many before a new
# clause may start another question.
_MIN_QUESTION_WORDS = 3
_MAX_QUESTION_WORDS = 8

_THANKS = ("thank", "thanks")
_IMPERATIVES = tuple((phrase, tuple(phrase.split())) for phrase in lx.QUESTION_IMPERATIVES)


def question_starts(words: Sequence[str]) -> list[tuple[int, str]]:
    """Where questions start in one sentence, with their openers, in text order.

    Args:
        words: the lower-cased words of the sentence.

    Returns:
        ``(index of the first word, opener)`` per question, the opener being a wh-word
        ("what"), an inversion ("do you") or an asking phrase ("walk me through"). The words
        after an opener belong to its question until a new clause starts, so "how do you do
        it" is one question and "so what is it and how do you do it" two.
    """
    starts: list[tuple[int, str]] = []
    i = 0
    while i < len(words):
        hit = _question_start(words, i)
        if not hit:
            i += 1
            continue
        first, (opener, length) = i, hit
        starts.append((first, opener))
        i += max(length, _MIN_QUESTION_WORDS)
        while (
            i < len(words)
            and i < first + _MAX_QUESTION_WORDS
            and words[i - 1] not in lx.CLAUSE_BOUNDARIES
        ):
            i += 1
    return starts


def is_open(opener: str | None) -> bool:
    """Whether a question with this opener is open ("what", "walk me through") rather than
    yes/no ("do you")."""
    return opener is not None and opener in lx.OPEN_QUESTION_OPENERS


def _question_start(words: Sequence[str], i: int) -> tuple[str, int] | None:
    """The opener and its length in words if a question starts at word ``i``."""
    word = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    prev = words[i - 1] if i > 0 else ""
    at_start = i == 0 or prev in lx.CLAUSE_BOUNDARIES
    if word in lx.WH_CONTRACTIONS and (at_start or prev in lx.EMBEDDED_QUESTION_LEADS):
        return word, 1
    after_next = words[i + 2] if i + 2 < len(words) else ""
    inverted = nxt in lx.AUXILIARIES and after_next in lx.INVERSION_SUBJECTS_ANYWHERE
    if word in lx.WH_WORDS and (
        (at_start and nxt in lx.WH_FOLLOWERS)
        or (prev in lx.EMBEDDED_QUESTION_LEADS and nxt)
        or inverted  # "... how do you feel": a question wherever it starts
    ):
        return word, 1
    if at_start:
        for phrase, parts in _IMPERATIVES:
            if tuple(words[i : i + len(parts)]) == parts:
                return phrase, len(parts)
    if word in lx.AUXILIARIES:
        subjects = lx.INVERSION_SUBJECTS_ANYWHERE
        if at_start:
            subjects = subjects | lx.INVERSION_SUBJECTS_AT_START
        # "thank you do you have a minute" asks; "when you do you save" does not.
        thanked = prev == "you" and i > 1 and words[i - 2] in _THANKS
        statement = prev in lx.SUBJECT_PRONOUNS and not thanked
        if nxt in subjects and not (statement and not at_start):
            return f"{word} {nxt}", 2
        clause_aux = at_start and word in lx.CLAUSE_AUXILIARIES
        if clause_aux and nxt and nxt not in lx.NOT_AFTER_CLAUSE_AUXILIARY:
            return word, 1
    return None
