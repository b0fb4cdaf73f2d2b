"""Whisper's words given to diarized speakers: relabelled, and split where the speaker changes
or a long pause skips the other speaker's turn."""

from __future__ import annotations

import pytest

from ingest.speaker_turns import (
    JOIN_GAP_SECONDS,
    MAX_PAUSE_SECONDS,
    RegionSpeakers,
    join_unfinished,
    split_by_speaker,
)
from ingest.types import Segment, Word
from ingest.vad import SpeechRegion

SPEAKERS = RegionSpeakers(
    [SpeechRegion(0.0, 2.0), SpeechRegion(2.6, 4.0), SpeechRegion(4.5, 6.0)], ["S0", "S1", "S0"]
)


def segment(*words: tuple[str, float, float], speaker: str = "S0") -> Segment:
    return Segment(
        words[0][1],
        words[-1][2],
        speaker,
        " ".join(w for w, _, _ in words),
        [Word(w, s, e) for w, s, e in words],
    )


@pytest.mark.parametrize(
    ("start", "end", "speaker"),
    [
        (0.5, 0.9, "S0"),  # inside a region
        (1.8, 2.7, "S0"),  # overlaps the first region more
        (1.9, 2.9, "S1"),  # overlaps the second region more
        (2.1, 2.2, "S0"),  # in a gap, nearer the first region
        (2.4, 2.5, "S1"),  # in a gap, nearer the second region
        (7.0, 7.5, "S0"),  # after the last region
        (-1.0, -0.5, "S0"),  # before the first
    ],
)
def test_a_span_belongs_to_the_region_it_overlaps_most_else_the_nearest(
    start: float, end: float, speaker: str
) -> None:
    assert SPEAKERS.speaker(start, end) == speaker


def test_a_segment_is_split_where_the_speaker_changes() -> None:
    joined = segment(
        ("Thursday", 0.2, 0.6), ("works?", 0.6, 1.0), ("Yes,", 2.7, 3.0), ("it", 3.0, 3.2),
        ("does.", 3.2, 3.6), ("Great.", 4.6, 5.0),
    )  # fmt: skip

    pieces = split_by_speaker(joined, SPEAKERS)

    assert [(p.speaker, p.text, p.start, p.end) for p in pieces] == [
        ("S0", "Thursday works?", 0.2, 1.0),
        ("S1", "Yes, it does.", 2.7, 3.6),
        ("S0", "Great.", 4.6, 5.0),
    ]
    assert [w.word for w in pieces[1].words] == ["Yes,", "it", "does."]


def test_one_speakers_segment_keeps_its_text_and_takes_the_regions_label() -> None:
    one = segment(("Yes,", 2.7, 3.0), ("it", 3.0, 3.2), ("does.", 3.2, 3.6))
    one.text = "Yes, it does."  # whisper's own text, kept as it is

    (piece,) = split_by_speaker(one, SPEAKERS)

    assert piece.speaker == "S1" and piece.text == "Yes, it does."
    wordless = Segment(4.6, 5.5, "S0", "Mm-hmm.")
    assert split_by_speaker(wordless, SPEAKERS)[0].speaker == "S0"
    assert split_by_speaker(Segment(2.8, 3.9, "S0", "Right."), SPEAKERS)[0].speaker == "S1"


def test_without_speakers_only_a_long_pause_splits_a_segment() -> None:
    # A stereo channel: the other speaker's turn is silence here, which whisper's filter joined.
    gap = MAX_PAUSE_SECONDS + 0.5
    joined = segment(
        ("What", 0.0, 0.3), ("happens?", 0.3, 0.8), ("Things", 0.8 + gap, 1.2 + gap),
        ("slip.", 1.2 + gap, 1.6 + gap), speaker="S1",
    )  # fmt: skip

    pieces = split_by_speaker(joined, None)

    assert [(p.speaker, p.text) for p in pieces] == [
        ("S1", "What happens?"),
        ("S1", "Things slip."),
    ]
    short = segment(("What", 0.0, 0.3), ("happens?", 1.0, 1.5), speaker="S1")
    assert split_by_speaker(short, None) == [short]


def test_regions_and_labels_must_match() -> None:
    with pytest.raises(ValueError):
        RegionSpeakers([SpeechRegion(0, 1)], ["S0", "S1"])
    with pytest.raises(ValueError):
        RegionSpeakers([], [])


def _said(start: float, end: float, speaker: str, text: str) -> Segment:
    return Segment(start, end, speaker, text, [Word(text.split()[0], start, end)])


def test_a_sentence_cut_in_two_is_joined_and_finished_sentences_are_not() -> None:
    segments = [
        _said(0.0, 2.0, "S0", "Walk me through how a new driver"),
        _said(2.3, 3.5, "S0", "gets onboarded today."),
        _said(3.8, 5.0, "S0", "What does it cost you?"),  # the last one ended a sentence
        _said(5.5, 6.0, "S0", "Right now it is mostly paper,"),
        _said(6.2, 7.0, "S1", "Sure."),  # somebody else speaks in between
        _said(7.1, 8.0, "S0", "and spreadsheets"),
        _said(8.0 + JOIN_GAP_SECONDS + 0.5, 10.0, "S0", "much later."),  # too far apart
    ]
    joined = join_unfinished(segments)

    assert [s.text for s in joined] == [
        "Walk me through how a new driver gets onboarded today.",
        "What does it cost you?",
        "Right now it is mostly paper,",
        "Sure.",
        "and spreadsheets",
        "much later.",
    ]
    first = joined[0]
    assert (first.start, first.end, first.speaker) == (0.0, 3.5, "S0")
    assert [w.word for w in first.words] == ["Walk", "gets"]
