"""The shared question detector (`ingest/questions.py`) on the words of one sentence."""

from __future__ import annotations

import pytest

from ingest.questions import is_open, question_starts


def _words(text: str) -> list[str]:
    return text.lower().split()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what tools do you use today", [(0, "what")]),
        (
            "so how many people are on your team and what tools do you use",
            [(1, "how"), (9, "what")],
        ),
        ("walk me through your reporting process", [(0, "walk me through")]),
        ("thanks for taking the call so how do you handle reporting", [(6, "how")]),
        ("thank you do you have a minute", [(2, "do you")]),
        ("is it fair to say the budget is set", [(0, "is it")]),
        ("does thursday at two work for a demo", [(0, "does")]),
        ("curious how you handle that today", [(0, "curious")]),
        ("i'm curious how you handle that today", [(2, "how")]),
        ("we were wondering how you handle that", [(3, "how")]),
        ("what's the budget", [(0, "what's")]),
    ],
)
def test_question_starts_finds_each_opener(text: str, expected: list[tuple[int, str]]) -> None:
    assert question_starts(_words(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "what we found is that teams save time",
        "when you do you save hours every week",
        "yeah would love that",
        "i'll let you know what works",
        "we help teams like yours save ten hours a week",
        "",
    ],
)
def test_statements_start_no_question(text: str) -> None:
    assert question_starts(_words(text)) == []


def test_a_question_claims_its_words_until_a_new_clause() -> None:
    # "do you" inside the first question does not start a second one...
    assert question_starts(_words("how do you do you know")) == [(0, "how")]
    # ...but a new clause does, even right after the opener's first words.
    assert question_starts(_words("what is it and do you like it")) == [(0, "what"), (4, "do you")]


def test_any_sequence_of_words_is_read_the_same() -> None:
    words = _words("help me understand how you report and does that work")
    assert question_starts(tuple(words)) == question_starts(words)
    assert question_starts(words) == [(0, "help me understand"), (7, "does that")]


@pytest.mark.parametrize(
    ("opener", "open_"),
    [
        ("what", True),
        ("how's", True),
        ("walk me through", True),
        ("do you", False),
        ("which", False),
        ("does", False),
        (None, False),
    ],
)
def test_is_open(opener: str | None, open_: bool) -> None:
    assert is_open(opener) is open_
