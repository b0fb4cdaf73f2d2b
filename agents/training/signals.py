"""Text signals of a conversation turn, for the offline prospect, champion and scorer.

Works on punctuated text and on the lower-case, unpunctuated text of the offline recogniser.
Questions are found by the call analyser's detector (``ingest/questions.py``): from how a
clause starts (wh-word plus auxiliary, auxiliary-subject inversion, "tell me", "walk me
through"), with a trailing "?" as extra evidence.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from agents.training import lexicon as lx
from ingest.questions import is_open, question_starts

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_DIGIT = re.compile(r"\d")
_NEGATIONS = frozenset({"no", "not", "never", "without"})
_CLOCK = frozenset({"am", "pm", "o'clock"})


@dataclass(frozen=True)
class Question:
    """A question asked in a turn: its opener ("what", "do you") and whether it is open."""

    opener: str
    open: bool


@dataclass(frozen=True)
class NextStep:
    """What a turn says about a next step: an action, a time, the people to involve."""

    action: bool
    time: bool
    people: bool
    proposes: bool

    @property
    def concrete(self) -> bool:
        """A proposal with a time or the people who should join."""
        return self.proposes and (self.time or self.people)


@dataclass(frozen=True)
class TurnSignals:
    """What a single turn does, as the engines and the scorer read it."""

    words: tuple[str, ...]
    questions: tuple[Question, ...]
    backchannel: bool
    acknowledges: bool
    value: bool
    numbers: bool
    proof: bool
    risk_reducer: bool
    dismissive: bool
    rapport: bool
    next_step: NextStep

    @property
    def open_questions(self) -> int:
        """How many of the questions are open."""
        return sum(q.open for q in self.questions)

    @property
    def claims_value(self) -> bool:
        """A value cue, a number with a unit, or social proof."""
        return self.value or self.numbers or self.proof


def tokens(text: str) -> list[str]:
    """The lower-cased words of ``text`` (numbers kept whole, "30%" one token)."""
    return [m.group().lower().replace("\u2019", "'") for m in _TOKEN.finditer(text)]


def clip_words(text: str, limit: int) -> str:
    """The start of ``text`` up to its ``limit``-th word (the text itself when shorter)."""
    ends = [m.end() for m in _TOKEN.finditer(text)]
    return text.strip() if len(ends) <= limit else text[: ends[limit - 1]].strip()


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, or the whole text when it has no end punctuation."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def find_phrases(words: list[str] | tuple[str, ...], phrases: tuple[str, ...]) -> list[str]:
    """The phrases that occur in ``words``, in text order; negated ones ("no risk") skipped."""
    by_first = _by_first_word(phrases)
    found: list[str] = []
    for i, word in enumerate(words):
        for phrase, parts in by_first.get(word, ()):
            if tuple(words[i : i + len(parts)]) != parts:
                continue
            if i > 0 and words[i - 1] in _NEGATIONS and parts[0] not in _NEGATIONS:
                continue
            found.append(phrase)
            break
    return found


@functools.lru_cache(maxsize=64)
def _by_first_word(phrases: tuple[str, ...]) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """The phrases indexed by their first word, in list order."""
    index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for phrase in phrases:
        parts = tuple(phrase.split())
        index.setdefault(parts[0], []).append((phrase, parts))
    return index


def questions(text: str) -> list[Question]:
    """The questions asked in ``text``, punctuated or not (one per question opener).

    A sentence ending in "?" counts as at least one question (its first word the opener when
    no opener is found); elsewhere each opener found at the start of a clause (or "do you"
    anywhere) starts one.
    """
    found: list[Question] = []
    for sentence in sentences(text):
        words = tokens(sentence)
        openers = [opener for _, opener in question_starts(words)]
        if sentence.endswith("?") and not openers and words:
            openers.append(words[0])
        found.extend(Question(o, is_open(o)) for o in openers)
    return found


def objection_kind(text: str) -> str | None:
    """The kind of objection ``text`` raises ("price", "vendor", "timing", ...), if any.

    With cues of several kinds, the kind listed first in `lexicon.OBJECTION_CUES` wins.
    """
    words = tokens(text)
    return next((k for k, cues in lx.OBJECTION_CUES.items() if find_phrases(words, cues)), None)


def has_number_value(words: list[str] | tuple[str, ...]) -> bool:
    """Whether a number comes with a unit ("30%", "two thousand", "ten hours")."""
    for n, word in enumerate(words):
        if word.endswith("%") and _DIGIT.search(word):
            return True
        is_number = bool(_DIGIT.search(word)) or word in lx.NUMBER_WORDS
        if is_number and any(w in lx.VALUE_UNITS for w in words[n + 1 : n + 3]):
            return True
    return False


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry its topic (no stopwords, three letters or more)."""
    return {_stem(w) for w in tokens(text) if len(w) >= 3 and w not in lx.STOPWORDS}


def _stem(word: str) -> str:
    """A crude stem so "drivers"/"driver" and "onboarding"/"onboard" meet."""
    for suffix in ("ing", "ers", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def relevant_to(kind: str | None, words: list[str] | tuple[str, ...]) -> bool:
    """Whether ``words`` speak to an objection of ``kind`` (price talk for a price objection)."""
    cues = lx.RELEVANCE.get(kind or "", frozenset())
    return any(w in cues for w in words)


def is_backchannel(text: str) -> bool:
    """An empty turn, or one of up to three listening words ("yeah", "ok", "mm hmm")."""
    words = tokens(text)
    return len(words) <= 3 and all(w in lx.BACKCHANNELS for w in words)


def next_step(words: list[str] | tuple[str, ...]) -> NextStep:
    """The next-step parts of a turn: an action, a time, people, and whether it proposes."""
    actions = find_phrases(words, lx.NEXT_STEP_ACTIONS)
    time = bool(find_phrases(words, lx.NEXT_STEP_TIMES)) or any(
        (_DIGIT.search(w) or w in lx.NUMBER_WORDS) and nxt in _CLOCK
        for w, nxt in itertools.pairwise(words)
    )
    people = bool(find_phrases(words, lx.NEXT_STEP_PEOPLE))
    strong = any(a.split()[0] in lx.STRONG_ACTIONS for a in actions)
    proposes = bool(actions) and (
        strong or time or people or bool(find_phrases(words, lx.PROPOSING))
    )
    return NextStep(action=bool(actions), time=time, people=people, proposes=proposes)


@functools.lru_cache(maxsize=512)
def read_turn(text: str) -> TurnSignals:
    """Everything the engines look for in one turn (cached: the engines replay history)."""
    words = tuple(tokens(text))
    return TurnSignals(
        words=words,
        questions=tuple(questions(text)),
        backchannel=is_backchannel(text),
        acknowledges=bool(find_phrases(words, lx.ACKNOWLEDGEMENTS)),
        value=bool(find_phrases(words, lx.VALUE_CUES)),
        numbers=has_number_value(words),
        proof=bool(find_phrases(words, lx.SOCIAL_PROOF_CUES)),
        risk_reducer=bool(find_phrases(words, lx.RISK_REDUCERS)),
        dismissive=bool(find_phrases(words, lx.DISMISSIVE)),
        rapport=bool(find_phrases(words, lx.RAPPORT_CUES)),
        next_step=next_step(words),
    )
