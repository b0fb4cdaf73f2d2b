"""The word error rate helper that tests and benchmarks use to say how well speech was heard."""

from __future__ import annotations

import pytest

from tests.support.wer import normalize, number_words, wer, word_errors


def test_numbers_money_and_percentages_are_words() -> None:
    assert normalize("Most teams pay $2,000 a month, 40% less.") == (
        "most teams pay two thousand dollars a month forty percent less".split()
    )
    assert normalize("Thursday at 10 works") == ["thursday", "at", "ten", "works"]
    assert [number_words(n) for n in (0, 15, 25, 100, 1_234)] == [
        "zero",
        "fifteen",
        "twenty five",
        "one hundred",
        "one thousand two hundred thirty four",
    ]


def test_case_punctuation_hyphens_and_contractions_do_not_count() -> None:
    assert wer("I'm sure it won't; a two-week pilot.", "i am sure it wo not a two week pilot") == 0


def test_each_substitution_insertion_and_deletion_counts_once() -> None:
    assert word_errors("a b c d".split(), "a x c".split()) == 2
    assert wer("a b c d", "a b c d e") == pytest.approx(0.25)
    assert wer("a b", "") == 1.0
    assert wer("", "") == 0.0 and wer("", "noise") == 1.0
