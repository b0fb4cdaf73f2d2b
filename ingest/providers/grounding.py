"""Keeping a language model's answers tied to the transcript it was shown.

The transcript goes to the model as timestamped lines, in chunks when it is long; every quote
that comes back must be a verbatim part of one of the champion's segments, with timestamps
inside that segment, and every scenario must have the shape the practice engine needs.
Nothing here is specific to one model provider.
"""

from __future__ import annotations

from typing import Any

from ingest.types import DIFFICULTIES, PATTERN_CATEGORIES, PatternDraft, ScenarioDraft, Segment

PUSHBACK_LEVELS = ("low", "medium", "high")
LEVEL_KEYS = ("pushback", "objections_to_raise", "patience_turns", "description")


def render_lines(segments: list[Segment]) -> list[str]:
    """The transcript as one ``[start-end] SPEAKER: text`` line per segment."""
    return [
        f"[{s.start:.1f}-{s.end:.1f}] {s.speaker}: {' '.join(s.text.split())}" for s in segments
    ]


def chunk_transcript(lines: list[str], *, budget: int, overlap: int) -> list[str]:
    """Groups whole lines into chunks of at most ``budget`` characters.

    A line longer than the budget is a chunk of its own. Each chunk after the first starts
    with the last lines of the one before (up to ``overlap`` characters), so a technique
    near a boundary keeps the prospect's line it answers.
    """
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        current = chunks[-1]
        if current and size + len(line) + 1 > budget:
            tail: list[str] = []
            tail_size = 0
            for previous in reversed(current):
                if tail_size + len(previous) + 1 > overlap:
                    break
                tail.insert(0, previous)
                tail_size += len(previous) + 1
            chunks.append(tail)
            current, size = tail, tail_size
        current.append(line)
        size += len(line) + 1
    return ["\n".join(chunk) for chunk in chunks if chunk]


def verify_patterns(
    raw: list[dict[str, Any]], segments: list[Segment], champion: str
) -> list[PatternDraft]:
    """Keeps the patterns whose quote is part of one of ``champion``'s segments.

    A quote that differs from the segment only in whitespace or letter case is snapped to the
    segment's own text; any other quote, and any unknown category, is dropped. When the quote
    occurs in several segments, the one nearest the model's ``start`` wins. Timestamps are
    placed inside the segment from the quote's position (word timings when the segment has
    them), and duplicates from overlapping chunks are merged.

    Args:
        raw: the model's patterns (``category``, ``quote``, ``start``, ``end``, ``why``).
        segments: the whole transcript.
        champion: the champion's speaker label.
    """
    kept: dict[tuple[str, int, str], PatternDraft] = {}
    for item in raw:
        category, quote = item.get("category"), str(item.get("quote") or "").strip()
        if category not in PATTERN_CATEGORIES or not quote:
            continue
        hint = item.get("start")
        best: tuple[float, int, int, int] | None = None
        for index, segment in enumerate(segments):
            found = locate_quote(quote, segment.text) if segment.speaker == champion else None
            if found is None:
                continue
            if isinstance(hint, int | float):
                distance = max(segment.start - hint, hint - segment.end, 0.0)
            else:
                distance = float(index)
            if best is None or distance < best[0]:
                best = (distance, index, *found)
        if best is None:
            continue
        _, index, begin, end = best
        segment = segments[index]
        verbatim = segment.text[begin:end]
        key = (str(category), index, verbatim.casefold())
        if key in kept:
            continue
        start, stop = _quote_times(segment, begin, end)
        previous = segments[index - 1] if index > 0 else None
        context = previous.text if previous and previous.speaker != champion else None
        why = str(item.get("why") or "").strip()
        kept[key] = PatternDraft(str(category), verbatim, start, stop, why, context)
    return sorted(kept.values(), key=lambda p: (p.start, p.category))


def locate_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text``, as ``[begin, end)`` character offsets.

    Matches exactly, else ignoring runs of whitespace and letter case; None when absent.
    """
    position = text.find(quote)
    if position >= 0:
        return position, position + len(quote)
    folded_text, offsets = _fold(text)
    folded_quote, _ = _fold(quote)
    position = folded_text.find(folded_quote) if folded_quote else -1
    if position < 0:
        return None
    return offsets[position], offsets[position + len(folded_quote) - 1] + 1


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` lower-cased with each whitespace run as one space, and each character's
    offset in ``text``."""
    lead = len(text) - len(text.lstrip())
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text.strip(), start=lead):
        if char.isspace():
            if out[-1] == " ":
                continue
            char = " "
        for folded in char.lower():
            out.append(folded)
            offsets.append(index)
    return "".join(out), offsets


def _quote_times(segment: Segment, begin: int, end: int) -> tuple[float, float]:
    """The start and end of ``segment.text[begin:end]``, inside the segment."""
    text, span = segment.text, segment.end - segment.start
    if segment.words and len(segment.words) == len(text.split()):
        first = len(text[: begin + 1].split()) - 1
        last = len(text[:end].split()) - 1
        start, stop = segment.words[first].start, segment.words[last].end
    else:
        start = segment.start + span * begin / max(len(text), 1)
        stop = segment.start + span * end / max(len(text), 1)
    start = min(max(start, segment.start), segment.end)
    stop = min(max(stop, start), segment.end)
    return round(start, 2), round(stop, 2)


def validate_scenario(raw: Any, *, provider: str) -> ScenarioDraft | None:
    """A `ScenarioDraft` from a model's answer, or None when a part is missing or malformed.

    The difficulty levels must be exactly easy, medium and hard, each with a known
    ``pushback``, ``objections_to_raise`` >= 0, ``patience_turns`` >= 1 and a
    ``description``. Objections are put in the order they were met and numbered from 1.
    """
    if not isinstance(raw, dict):
        return None
    title, goal, opening = (
        str(raw.get(k) or "").strip() for k in ("title", "goal", "opening_line")
    )
    persona, levels = raw.get("persona"), raw.get("difficulty_levels")
    if not (title and goal and opening and isinstance(persona, dict) and isinstance(levels, dict)):
        return None
    if set(levels) != set(DIFFICULTIES) or not all(_level_ok(levels[d]) for d in DIFFICULTIES):
        return None
    raw_objections = raw.get("objections")
    objections = [
        item
        for item in (raw_objections if isinstance(raw_objections, list) else [])
        if isinstance(item, dict) and str(item.get("text") or "").strip()
    ]
    # Timestamps order objections best; the model's own numbering is the fallback.
    if objections and all(_seconds(item.get("start")) is not None for item in objections):
        objections.sort(key=lambda item: float(item["start"]))
    else:
        objections.sort(
            key=lambda item: item["order"] if isinstance(item.get("order"), int) else 10**6
        )
    cleaned = []
    for order, item in enumerate(objections, start=1):
        objection: dict[str, Any] = {"text": str(item["text"]).strip(), "order": order}
        if str(item.get("champion_response") or "").strip():
            objection["champion_response"] = str(item["champion_response"]).strip()
        if (start := _seconds(item.get("start"))) is not None:
            objection["start"] = start
        cleaned.append(objection)
    return ScenarioDraft(
        title=title,
        goal=goal,
        opening_line=opening,
        persona={k: str(v) for k, v in persona.items() if isinstance(v, str | int | float)},
        objections=cleaned,
        difficulty_levels={d: {k: levels[d][k] for k in LEVEL_KEYS} for d in DIFFICULTIES},
        provider=provider,
    )


def _seconds(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else None


def _level_ok(level: Any) -> bool:
    return (
        isinstance(level, dict)
        and level.get("pushback") in PUSHBACK_LEVELS
        and isinstance(level.get("objections_to_raise"), int)
        and level["objections_to_raise"] >= 0
        and isinstance(level.get("patience_turns"), int)
        and level["patience_turns"] >= 1
        and isinstance(level.get("description"), str)
    )
