"""Conversation metrics and the text measures behind them, on hand-computed transcripts."""

from __future__ import annotations

import pytest

from ingest.analysis.metrics import (
    conversation_metrics,
    count_fillers,
    is_question,
    question_spans,
    sentence_spans,
)
from tests.support.transcripts import make_segments

# Champion S0 (0.5 s per word): 0-3.5, 7-12, 12.5-16.5 (merged with the one before: 0.5 s
# gap), 18.5-21 (2 s gap: a new monologue), 26-30, 33-39.5. Prospect S1: 4-6, 22-24, 31-32.5.
CALL = [
    ("S0", 0.0, "Hi Dana, thanks for taking the call."),
    ("S1", 4.0, "Sure, happy to chat."),
    ("S0", 7.0, "Um, so what does your team use for reporting today?"),
    ("S0", 12.5, "We basically help teams like yours save time."),
    ("S0", 18.5, "you know it is simple"),
    ("S1", 22.0, "We use spreadsheets mostly."),
    ("S0", 26.0, "how many hours does that take each week"),
    ("S1", 31.0, "about ten hours"),
    ("S0", 33.0, "Like, we could cut that in half. Does Thursday work for a demo?"),
]


def test_metrics_of_a_hand_computed_call() -> None:
    metrics = conversation_metrics(make_segments(CALL), champion="S0")

    assert metrics["duration_seconds"] == 39.5
    assert metrics["champion_talk_seconds"] == 25.5
    assert metrics["talk_ratio"] == pytest.approx(25.5 / 31, abs=1e-3)
    assert metrics["longest_monologue_seconds"] == 9.5  # 7.0 to 16.5, merged over 0.5 s
    assert metrics["questions_total"] == 3
    assert metrics["questions_per_minute"] == pytest.approx(3 / (39.5 / 60), abs=1e-3)
    assert metrics["words_per_minute"] == pytest.approx(51 / (25.5 / 60), abs=1e-3)
    # "Um", "basically", "you know", "Like," -- not "teams like yours".
    assert metrics["filler_words_total"] == 4
    assert metrics["filler_rate_per_100_words"] == pytest.approx(400 / 51, abs=1e-3)
    assert metrics["patience_seconds"] == pytest.approx((1.0 + 2.0 + 0.5) / 3, abs=1e-3)
    assert metrics["turns_total"] == 7
    assert metrics["champion_turns"] == 4


def test_metrics_are_per_speaker_and_do_not_depend_on_segment_order() -> None:
    segments = make_segments(CALL)
    prospect = conversation_metrics(list(reversed(segments)), champion="S1")

    assert prospect["champion_talk_seconds"] == 5.5
    assert prospect["talk_ratio"] == pytest.approx(5.5 / 31, abs=1e-3)
    assert prospect["longest_monologue_seconds"] == 2.0
    assert prospect["questions_total"] == 0
    # The prospect replies 0.5 s, 1 s and 1 s after the champion stops.
    assert prospect["patience_seconds"] == pytest.approx(2.5 / 3, abs=1e-3)
    assert prospect["champion_turns"] == 3


def test_a_silence_of_one_and_a_half_seconds_breaks_a_monologue() -> None:
    merged = make_segments([("S0", 0.0, "one two three four"), ("S0", 3.4, "five six")])
    split = make_segments([("S0", 0.0, "one two three four"), ("S0", 3.5, "five six")])

    assert conversation_metrics(merged, champion="S0")["longest_monologue_seconds"] == 4.4
    assert conversation_metrics(split, champion="S0")["longest_monologue_seconds"] == 2.0


def test_another_speaker_between_breaks_a_monologue_even_without_silence() -> None:
    segments = make_segments(
        [("S0", 0.0, "one two three four"), ("S1", 2.0, "yes"), ("S0", 2.5, "five six seven")]
    )
    metrics = conversation_metrics(segments, champion="S0")

    assert metrics["longest_monologue_seconds"] == 2.0
    assert metrics["patience_seconds"] == 0.0  # overlaps count as no pause, never negative


def test_rates_are_none_without_their_denominator() -> None:
    empty = conversation_metrics([], champion="S0")
    assert empty["duration_seconds"] == 0.0
    assert empty["talk_ratio"] is None
    assert empty["questions_per_minute"] is None
    assert empty["patience_seconds"] is None
    assert empty["turns_total"] == 0

    alone = conversation_metrics(make_segments([("S0", 0.0, "just me talking")]), champion="S0")
    assert alone["talk_ratio"] == 1.0
    assert alone["patience_seconds"] is None  # the champion never replied to anyone
    silent = conversation_metrics(make_segments([("S1", 0.0, "hello")]), champion="S0")
    assert silent["words_per_minute"] is None
    assert silent["filler_rate_per_100_words"] is None
    assert silent["talk_ratio"] == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "What tools do you use today?",
        "Walk me through your reporting process.",
        "tell me about the last time a report was late",
        "what is the biggest probably ot does right now",
        "thanks for taking the call so how do you handle reporting today",
        "do you have a minute",
        "thank you do you have a minute",
        "is it fair to say the budget is set",
        "does thursday at two work for a demo",
        "i'm curious how you handle that today",
        "You're using Salesforce today?",
    ],
)
def test_questions_are_found_with_and_without_punctuation(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "What we found is that teams save time.",
        "That's how we do it.",
        "when you do you save hours every week",
        "we help teams like yours save ten hours a week",
        "yeah would love that",
        "i'll let you know what works",
        "the reason for my call is your reporting workload",
    ],
)
def test_statements_are_not_questions(text: str) -> None:
    assert not is_question(text)


def test_unpunctuated_text_is_split_into_one_span_per_question() -> None:
    text = (
        "thanks for taking the call so what is your biggest challenge right now "
        "and how do you handle reporting today"
    )
    spans = question_spans(text)

    assert [text[q.start : q.end] for q in spans] == [
        "what is your biggest challenge right now",
        "how do you handle reporting today",
    ]
    assert all(q.open for q in spans)
    closed = question_spans("do you have a minute")
    assert [(q.open, q.opener) for q in closed] == [(False, "do you")]


def test_sentence_spans_keep_decimals_and_cover_unpunctuated_text() -> None:
    text = "We cut it by 2.5 hours. Does that help? ok"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "We cut it by 2.5 hours.",
        "Does that help?",
        "ok",
    ]
    assert sentence_spans("  no punctuation at all ") == [(2, 23)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("um so like we basically you know help teams", 4),
        ("uh I actually think so", 2),
        ("it was like really fast, like, amazing", 2),
        ("I mean, sort of.", 2),
        ("what kind of tools do you use", 0),
        ("we'd like to help companies like yours", 0),
        ("do you know the answer? I'll let you know.", 0),
        ("ERM we are Er ready", 2),
    ],
)
def test_fillers_count_only_filler_uses(text: str, expected: int) -> None:
    assert count_fillers(text) == expected
