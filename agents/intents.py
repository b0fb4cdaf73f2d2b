"""The offline planner: a deterministic intent router from a task in plain words to a plan.

It knows the seed's flows: processing a champion's uploaded recording ("Upload and analyze
video champion.mp4", or any task with an ``upload`` marker in the context), starting a
training session with a champion, and a question about how a champion sells ("How does Marie
handle price objections?"). The champion is taken from
the context (``champion_id``), or found in the task by name or as "champion N" (the user's
N-th champion, oldest first). A task it cannot place gets a clear error naming what it can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.tools.spec import ToolError
from agents.workflow import Step

# Words in a question that point at one category of the champion's patterns.
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("objection_handling", ("objection", "pushback", "price", "expensive", "budget", "cost")),
    ("closing", ("close", "closing", "next step", "commit", "sign")),
    ("opening", ("open", "opening", "start the call", "introduce", "greet")),
    ("discovery_question", ("discovery", "question", "qualify", "pain")),
    ("value_statement", ("value", "roi", "benefit", "pitch")),
    ("social_proof", ("proof", "case study", "reference", "customer story")),
)
_TRAINING = re.compile(r"\b(start|begin|practi[cs]e|train(ing)?|roleplay|role-play)\b", re.I)
_QUESTION = re.compile(
    r"\b(how|what|when|why)\b.*\b(does|do|did|would|is|are)\b|\?\s*$", re.I | re.DOTALL
)
_PROCESS = re.compile(r"\b(upload|analy[sz]|process)", re.I)
_RECORDING = re.compile(r"\b(video|recording|call)s?\b", re.I)
MAX_QUERY_CHARS = 500
_NUMBERED = re.compile(r"\bchampion\s*#?\s*(\d+)\b", re.I)


@dataclass(frozen=True)
class ChampionRef:
    """One of the user's champions, as the router may name it."""

    id: str
    name: str


@dataclass
class Plan:
    """What the router made of a task: the flow it chose and its steps."""

    intent: str
    steps: list[Step]
    # The id of the step whose result answers the task, or several ids whose results
    # together answer it (the report's result is then keyed by step id).
    answer: str | tuple[str, ...]


def _champion(task: str, context: dict[str, object], champions: list[ChampionRef]) -> ChampionRef:
    wanted = context.get("champion_id")
    if isinstance(wanted, str):
        for champion in champions:
            if champion.id == wanted:
                return champion
        raise ToolError("failed", "champion not found")
    numbered = _NUMBERED.search(task)
    if numbered:
        index = int(numbered.group(1))
        if 1 <= index <= len(champions):
            return champions[index - 1]
        raise ToolError(
            "failed", f"you have {len(champions)} champions; there is no champion {index}"
        )
    lowered = task.lower()
    named = [c for c in champions if re.search(rf"\b{re.escape(c.name.lower())}\b", lowered)]
    if len(named) == 1:
        return named[0]
    if len(champions) == 1:
        return champions[0]
    raise ToolError(
        "invalid_input",
        "say which champion: by name, as 'champion N', or with champion_id in the context",
    )


def _category(task: str) -> str | None:
    lowered = task.lower()
    for category, words in CATEGORY_WORDS:
        if any(re.search(rf"\b{re.escape(word)}", lowered) for word in words):
            return category
    return None


def is_video_task(task: str, context: dict[str, object]) -> bool:
    """Whether the task is to process a champion's recording: an ``upload`` marker in the
    context, or words such as upload/analyse/process with video/recording/call."""
    return bool(context.get("upload")) or bool(_PROCESS.search(task) and _RECORDING.search(task))


def video_plan(champion: ChampionRef) -> Plan:
    """Wait for the recording's ingest, then read its results in parallel."""
    ingest = Step("ingest", "audio", "process_recording", {"champion_id": champion.id})
    ready = {"champion_id": "$ingest.champion_id"}  # each waits for the ingest step
    steps = [
        ingest,
        Step("patterns", "pattern", "extract_patterns", dict(ready)),
        Step("scenarios", "pattern", "generate_scenarios", dict(ready)),
        Step("voice", "audio", "clone_voice", {**ready, "speaker": "champion"}),
        Step("analysis", "audio", "analyze_audio", dict(ready)),
    ]
    return Plan("process_recording", steps, answer=tuple(step.id for step in steps))


def route(task: str, context: dict[str, object], champions: list[ChampionRef]) -> Plan:
    """Plans a task offline.

    Args:
        task: what the user asked, in plain words.
        context: extra facts (``champion_id``, ``mode``, ``difficulty``, ``upload``).
        champions: the user's champions, oldest first.

    Raises:
        ToolError: the task is not one the router knows, or names no usable champion.
    """
    if not champions:
        raise ToolError("failed", "you have no champions yet; upload a recording first")
    if is_video_task(task, context):
        return video_plan(_champion(task, context, champions))
    if _TRAINING.search(task):
        champion = _champion(task, context, champions)
        mode = "demo" if re.search(r"\bdemo\b", task, re.I) else context.get("mode", "roleplay")
        difficulty = next(
            (d for d in ("easy", "medium", "hard") if re.search(rf"\b{d}\b", task, re.I)),
            context.get("difficulty", "medium"),
        )
        start = Step(
            "start",
            "training",
            "start_session",
            {"champion_id": champion.id, "mode": mode, "difficulty": difficulty},
        )
        tips = Step("tips", "training", "generate_tips", {"session_id": "$start.session_id"})
        return Plan("start_training", [start, tips], answer="start")
    if _QUESTION.search(task):
        champion = _champion(task, context, champions)
        query = task[:MAX_QUERY_CHARS]  # the search takes at most this much text
        args: dict[str, object] = {"champion_id": champion.id, "query": query, "limit": 3}
        category = _category(task)
        if category:
            args["category"] = category
        return Plan("ask_about_champion", [Step("find", "pattern", "find_patterns", args)], "find")
    raise ToolError(
        "invalid_input",
        "I can start a training session ('Start training with Marie'), process a champion's "
        "recording ('Upload and analyze video champion.mp4', with the file) or answer how a "
        "champion sells ('How does Marie handle price objections?')",
    )
