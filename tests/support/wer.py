"""Word error rate between what was said and what a recogniser heard.

Both sides are normalised the same way first, so only real recognition errors count: lower
case, no punctuation, hyphens as spaces, contractions spelled out, and numbers as words
("$2,000" is "two thousand dollars", "40%" is "forty percent").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER = re.compile(r"\$?\d[\d,]*(?:\.\d+)?%?")
_CONTRACTIONS = {"'m": " am", "n't": " not", "'re": " are", "'ll": " will", "'ve": " have"}


def number_words(value: int) -> str:
    """``value`` (0 to 999,999,999) spelled out: 2000 is "two thousand"."""
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for size, name in ((1_000_000, "million"), (1000, "thousand"), (100, "hundred")):
        if value >= size:
            high, rest = divmod(value, size)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _spell(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = token.strip("$%").replace(",", "")
    whole, _, fraction = digits.partition(".")
    words = number_words(int(whole)) if int(whole) < 1_000_000_000 else whole
    if fraction:
        words += " point " + " ".join(_ONES[int(d)] for d in fraction)
    if token.endswith("%"):
        words += " percent"
    if token.startswith("$"):
        words += " dollars"
    return f" {words} "


def normalize(text: str) -> list[str]:
    """The words of ``text``, normalised for comparison."""
    text = _NUMBER.sub(_spell, text.lower().replace("\u2019", "'"))
    for short, long in _CONTRACTIONS.items():
        text = text.replace(short, long)
    text = text.replace("'s", "s").replace("-", " ")
    return re.sub(r"[^a-z' ]+", " ", text).replace("'", "").split()


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, insertions and deletions that turn ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` (0 is perfect; may exceed 1)."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return float(bool(hyp))
    return word_errors(ref, hyp) / len(ref)
