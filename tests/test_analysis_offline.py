"""The offline pattern analyzer and scenario generator on realistic sales calls."""

from __future__ import annotations

import pytest

from ingest.analysis.offline_patterns import HeuristicPatternAnalyzer
from ingest.analysis.offline_scenarios import TemplateScenarioGenerator
from ingest.analysis.quotes import MAX_QUOTE_WORDS, quote_timing
from ingest.types import (
    DIFFICULTIES,
    PATTERN_CATEGORIES,
    PatternAnalyzer,
    PatternDraft,
    ScenarioGenerator,
    Segment,
    Word,
)
from tests.support.transcripts import make_segments

CHAMPION = "S0"

# A cloud-style transcript: cased and punctuated. S1 is the prospect.
CALL = [
    ("S1", 0.0, "Hello, this is Dana."),
    (
        "S0",
        2.0,
        "Hi Dana, this is Sam from Brightwave. Thanks for taking the call. "
        "The reason for my call is your team's reporting workload.",
    ),
    ("S1", 14.0, "Sure. I'm the head of operations at Acme Logistics, so reports land on me."),
    ("S0", 22.0, "Walk me through how your team builds the weekly report today."),
    ("S1", 28.0, "We pull it together by hand in spreadsheets."),
    ("S0", 33.0, "How many hours does that take each week? Do you use any tools for it?"),
    ("S1", 41.0, "About ten hours. Honestly, it sounds expensive and our budget is tight."),
    (
        "S0",
        49.0,
        "I hear you on price. Most teams get those ten hours back in the first month, "
        "so it pays for itself quickly.",
    ),
    ("S1", 60.0, "We're also pretty happy with our current vendor."),
    (
        "S0",
        65.0,
        "That makes sense. Companies like Globex switched last year and kept their setup.",
    ),
    ("S1", 74.0, "Hmm, okay."),
    ("S0", 76.0, "Our customers cut reporting time by 30% in the first quarter."),
    ("S1", 82.0, "That would help."),
    ("S0", 84.0, "Great. Shall we book a demo for Thursday so your team can see it live?"),
    ("S1", 92.0, "Thursday works."),
]

# The offline recogniser's output: lower case, no punctuation, recognition errors.
RAW_CALL = [
    ("S1", 0.0, "hello this is dana"),
    (
        "S0",
        2.5,
        "hi dana this is sam from brightwave thanks for taking the call "
        "so what is the biggest probably ot does right now",
    ),
    ("S1", 12.0, "we spend a lot of time on reports but honestly it sounds expensive"),
    ("S0", 18.0, "i hear you most of our customers save ten hours a week so it pays for itself"),
    ("S1", 26.0, "okay we are also happy with our current vendor"),
    ("S0", 31.0, "that makes sense how do you feel about the reports they give you"),
    ("S1", 37.0, "they are fine"),
    ("S0", 39.0, "do you have time on thursday for a demo"),
]


def segments_of(turns: list[tuple[str, float, str]]) -> list[Segment]:
    return make_segments(turns, seconds_per_word=0.4)


async def analyze(turns: list[tuple[str, float, str]]) -> list[PatternDraft]:
    analyzer: PatternAnalyzer = HeuristicPatternAnalyzer()
    result = await analyzer.analyze(segments_of(turns), champion=CHAMPION)
    assert result.provider == "offline"
    return result.patterns


def source_segment(pattern: PatternDraft, segments: list[Segment]) -> Segment:
    """The one segment whose text holds the quote and whose time holds the pattern."""
    holders = [
        s
        for s in segments
        if pattern.quote in s.text and s.start <= pattern.start <= pattern.end <= s.end
    ]
    assert holders, f"{pattern.category} quote is not verbatim from a segment"
    return holders[0]


async def test_every_category_is_found_in_a_punctuated_call() -> None:
    segments = segments_of(CALL)
    patterns = await analyze(CALL)

    assert {p.category for p in patterns} == set(PATTERN_CATEGORIES)
    for pattern in patterns:
        segment = source_segment(pattern, segments)
        assert segment.speaker == CHAMPION
        assert pattern.why.startswith(pattern.category.replace("_", " ").capitalize())
    by_category = {
        p.category: [q.quote for q in patterns if q.category == p.category] for p in patterns
    }
    assert by_category["discovery_question"] == [
        "Walk me through how your team builds the weekly report today.",
        "How many hours does that take each week?",
        "Do you use any tools for it?",
    ]
    assert by_category["value_statement"] == [
        "Most teams get those ten hours back in the first month, so it pays for itself quickly."
    ]
    # Categories take turns picking quotes, so each sentence is credited once.
    assert by_category["social_proof"] == [
        "Companies like Globex switched last year and kept their setup.",
        "Our customers cut reporting time by 30% in the first quarter.",
    ]
    assert by_category["closing"] == [
        "Shall we book a demo for Thursday so your team can see it live?"
    ]
    assert by_category["opening"][0].startswith("Hi Dana, this is Sam from Brightwave.")
    assert "The reason for my call" in by_category["opening"][0]


async def test_quote_times_come_from_the_quoted_words() -> None:
    segments = segments_of(CALL)
    patterns = await analyze(CALL)

    question = next(p for p in patterns if p.quote == "Do you use any tools for it?")
    segment = source_segment(question, segments)
    first = segment.text.split().index("Do")
    assert question.start == segment.words[first].start
    assert question.end == segment.words[-1].end
    assert question.start > segment.start


async def test_objection_handling_is_the_reply_right_after_an_objection() -> None:
    segments = segments_of(CALL)
    patterns = await analyze(CALL)
    handled = [p for p in patterns if p.category == "objection_handling"]

    assert [p.context for p in handled] == [
        "About ten hours. Honestly, it sounds expensive and our budget is tight.",
        "We're also pretty happy with our current vendor.",
    ]
    price, vendor = handled
    assert source_segment(price, segments).start == 49.0
    assert source_segment(vendor, segments).start == 65.0
    assert 'price ("expensive")' in price.why and "acknowledges it" in price.why
    assert "value" in price.why
    assert 'existing vendor ("happy with")' in vendor.why
    assert "customers who faced the same" in vendor.why
    assert all(p.context is None for p in patterns if p.category != "objection_handling")


async def test_no_pattern_quotes_the_prospect() -> None:
    # The prospect asks questions, gives numbers and names a next step; none of it counts.
    turns = [
        ("S1", 0.0, "What does your tool cost? We save 20% with our current vendor."),
        ("S0", 6.0, "Good question."),
        ("S1", 8.0, "Customers like us want a demo next week. How do you handle security?"),
    ]
    segments = segments_of(turns)
    patterns = await analyze(turns)

    assert patterns
    assert all(source_segment(p, segments).speaker == CHAMPION for p in patterns)
    assert {p.category for p in patterns} <= {"opening", "objection_handling"}


async def test_an_unpunctuated_lower_case_call_is_analysed() -> None:
    segments = segments_of(RAW_CALL)
    patterns = await analyze(RAW_CALL)
    quotes = {p.category: [q.quote for q in patterns if q.category == p.category] for p in patterns}

    for pattern in patterns:
        assert source_segment(pattern, segments).speaker == CHAMPION
        assert len(pattern.quote.split()) <= MAX_QUOTE_WORDS
    assert "what is the biggest probably ot does right now" in quotes["discovery_question"]
    assert "how do you feel about the reports they give you" in quotes["discovery_question"]
    assert quotes["objection_handling"][0].startswith("i hear you most of our customers")
    handled = [p for p in patterns if p.category == "objection_handling"]
    assert handled[0].context == RAW_CALL[2][2]
    assert "price" in handled[0].why
    assert quotes["closing"] == ["do you have time on thursday for a demo"]
    assert quotes["opening"][0].startswith("hi dana this is sam")


async def test_a_long_unpunctuated_turn_is_quoted_as_a_window_around_the_cue() -> None:
    filler = " ".join(["and then we look at the numbers"] * 8)
    long_turn = f"{filler} our customers save ten hours a week with it {filler}"
    turns = [("S1", 0.0, "hi"), ("S0", 1.0, long_turn)]
    segments = segments_of(turns)
    patterns = await analyze(turns)

    value = [p for p in patterns if p.category in ("value_statement", "social_proof")]
    assert value
    for pattern in value:
        assert "save ten hours" in pattern.quote or "customers" in pattern.quote
        assert len(pattern.quote.split()) <= MAX_QUOTE_WORDS
        segment = source_segment(pattern, segments)
        assert segment.start < pattern.start < pattern.end < segment.end


async def test_categories_are_capped_deduplicated_and_sorted() -> None:
    closed = ["do you use spreadsheets today", "is it a weekly report", "are you the owner of it"]
    opened = [
        "what does your team use today",
        "how do you share the report",
        "why did you pick that process",
        "what happens when it is late",
    ]
    asked_in_call = [*closed, *opened, "do you use spreadsheets today"]
    turns = [("S1", 0.0, "hello"), ("S0", 2.0, "hi this is sam from brightwave")]
    for n, question in enumerate(asked_in_call):
        turns += [("S0", 10.0 + 6 * n, question), ("S1", 13.0 + 6 * n, "yes sure")]
    patterns = await analyze(turns)
    asked = [p.quote for p in patterns if p.category == "discovery_question"]

    assert len(asked) == 5
    assert len({p.quote for p in patterns}) == len(patterns)
    # Every open question outranks the yes/no ones; of those the longest about "you" wins.
    assert set(asked) == {*opened, "are you the owner of it"}
    assert [p.start for p in patterns] == sorted(p.start for p in patterns)


async def test_timings_fall_back_to_the_segment_without_words() -> None:
    segment = Segment(3.0, 9.0, CHAMPION, "What does your team use for reporting today?")
    result = await HeuristicPatternAnalyzer().analyze([segment], champion=CHAMPION)

    assert result.patterns
    assert all((p.start, p.end) == (3.0, 9.0) for p in result.patterns)


def test_word_timings_are_aligned_even_when_words_differ_from_the_text() -> None:
    # The word list has no punctuation or case, and splits "30%" differently.
    words = [
        Word(w, 10.0 + n, 10.5 + n)
        for n, w in enumerate("we cut reporting time by 30 % in a quarter".split())
    ]
    segment = Segment(10.0, 20.0, CHAMPION, "We cut reporting time by 30%, in a quarter!", words)
    text = segment.text
    span = (text.index("reporting"), text.index("quarter") + len("quarter"))

    assert quote_timing(segment, span) == (12.0, 19.5)


async def test_scenario_objections_follow_the_call() -> None:
    segments = segments_of(CALL)
    patterns = await analyze(CALL)
    generator: ScenarioGenerator = TemplateScenarioGenerator()
    (scenario,) = await generator.generate(segments, champion=CHAMPION, patterns=patterns)

    assert scenario.provider == "offline"
    assert [o["kind"] for o in scenario.objections] == ["price", "an existing vendor"]
    assert [o["order"] for o in scenario.objections] == [1, 2]
    assert [o["source"] for o in scenario.objections] == ["call", "call"]
    assert (
        scenario.objections[0]["text"] == "Honestly, it sounds expensive and our budget is tight."
    )
    assert scenario.objections[0]["champion_response"] == CALL[7][2]
    assert scenario.objections[1]["champion_response"] == CALL[9][2]
    for objection in scenario.objections:
        holder = next(s for s in segments if objection["text"] in s.text)
        assert holder.speaker != CHAMPION
        assert holder.start <= objection["start"] <= holder.end
    assert scenario.objections[0]["start"] < scenario.objections[1]["start"]
    assert scenario.goal == "Book a follow-up demo"
    assert scenario.opening_line == "Hello, this is Dana."
    assert scenario.persona["name"] == "Dana"
    assert scenario.persona["role"] == "Head of Operations"
    assert scenario.persona["company"] == "Acme Logistics"
    assert "cost-conscious" in scenario.persona["personality"].lower()
    assert scenario.title.startswith("Price and current-vendor objections")


async def test_difficulty_levels_differ() -> None:
    turns = [
        ("S1", 0.0, "It sounds expensive."),
        ("S0", 3.0, "I understand, it pays for itself."),
        ("S1", 7.0, "We are busy until next quarter."),
        ("S0", 11.0, "Fair, we can start small."),
        ("S1", 15.0, "I would need to talk to my boss."),
        ("S0", 19.0, "Makes sense, let's include them."),
        ("S1", 23.0, "And the contract terms worry me."),
        ("S0", 27.0, "We do month to month."),
    ]
    (scenario,) = await TemplateScenarioGenerator().generate(
        segments_of(turns), champion=CHAMPION, patterns=[]
    )
    levels = scenario.difficulty_levels

    assert set(levels) == set(DIFFICULTIES)
    assert [len(scenario.objections)] == [4]
    assert levels["easy"]["objections_to_raise"] == [1]
    assert levels["medium"]["objections_to_raise"] == [1, 2, 3]
    assert levels["hard"]["objections_to_raise"] == [1, 2, 3, 4]
    assert levels["hard"]["repeat_objections"] and not levels["easy"]["repeat_objections"]
    pushback = [levels[d]["pushback"] for d in DIFFICULTIES]
    assert pushback == sorted(pushback) and len(set(pushback)) == 3
    assert all(0.0 <= p <= 1.0 for p in pushback)
    patience = [levels[d]["patience_turns"] for d in DIFFICULTIES]
    assert patience == sorted(patience, reverse=True) and len(set(patience)) == 3
    assert len({levels[d]["description"] for d in DIFFICULTIES}) == 3
    assert scenario.persona["personality"].startswith("Skeptical")
    assert scenario.goal == "Agree a concrete next step"


async def test_a_call_without_objections_gets_generic_ones_and_a_stable_persona() -> None:
    turns = [
        ("S0", 0.0, "hi there thanks for your time what does your week look like"),
        ("S1", 5.0, "pretty calm actually"),
        ("S0", 8.0, "great so we help teams report faster"),
    ]
    first = await TemplateScenarioGenerator().generate(
        segments_of(turns), champion=CHAMPION, patterns=[]
    )
    again = await TemplateScenarioGenerator().generate(
        segments_of(turns), champion=CHAMPION, patterns=[]
    )
    scenario = first[0]

    assert [o["source"] for o in scenario.objections] == ["generic", "generic"]
    assert [o["kind"] for o in scenario.objections] == ["price", "timing"]
    assert scenario.persona == again[0].persona
    assert scenario.persona["source"] == "default"
    assert scenario.opening_line == "pretty calm actually"
    assert scenario.title.startswith("Discovery call with")
    assert scenario.difficulty_levels["easy"]["objections_to_raise"] == [1]


async def test_persona_and_objections_from_an_unpunctuated_call() -> None:
    turns = [
        ("S1", 0.0, "hello this is priya"),
        ("S0", 2.0, "hi priya thanks for picking up"),
        ("S1", 5.0, "sure i'm the it director here at globex so we are busy right now"),
        ("S0", 11.0, "understood when is a better time"),
    ]
    segments = segments_of(turns)
    (scenario,) = await TemplateScenarioGenerator().generate(
        segments, champion=CHAMPION, patterns=[]
    )

    assert scenario.persona["name"] == "Priya"
    assert scenario.persona["role"] == "IT Director"
    assert scenario.persona["company"] == "Globex"
    assert [o["kind"] for o in scenario.objections] == ["timing"]
    assert scenario.objections[0]["text"] in turns[2][2]
    assert scenario.objections[0]["champion_response"] == "understood when is a better time"


@pytest.mark.parametrize(
    ("closing", "goal"),
    [
        ("Shall we book a demo for Thursday?", "Book a follow-up demo"),
        ("Let's start a two week trial.", "Agree to start a trial"),
        ("I'll send over the proposal tonight.", "Get agreement to review a proposal"),
        ("Talk soon.", "Agree a concrete next step"),
    ],
)
async def test_goal_comes_from_the_closing_patterns(closing: str, goal: str) -> None:
    pattern = PatternDraft("closing", closing, 1.0, 2.0, "Closing: a next step.")
    (scenario,) = await TemplateScenarioGenerator().generate(
        segments_of([("S1", 0.0, "hello")]), champion=CHAMPION, patterns=[pattern]
    )

    assert scenario.goal == goal
