"""The live dialogue engine on Claude (Sonnet): the prospect in roleplay, the champion in demo.

The conversation goes to the Messages API as alternating turns, the AI's lines as the
assistant's; the system prompt carries the scenario (roleplay) or the champion's closest real
lines (demo; see `claude_prompts`). The opening line is the offline engine's, so starting a
session needs no request. A call must never go silent: when Claude fails for a turn, the
offline engine answers that turn instead.
"""

from __future__ import annotations

import logging
import re

from anthropic.types import MessageParam

from agents.training.champion import wanted_category
from agents.training.claude_client import PROVIDER, CallPolicy, ClaudeMessages
from agents.training.claude_prompts import champion_system, prospect_system
from agents.training.types import (
    ChampionLine,
    ChampionLines,
    DialogueEngine,
    DialogueTurn,
    TrainingContext,
)
from ingest.provider_errors import ProviderError

logger = logging.getLogger(__name__)

CALL_CONNECTS = "(The call connects.)"
CALL_CONTINUES = "(The call continues.)"
MAX_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?:(?<=[.?!])|(?<=[.?!][\"')\]]))\s+")
_QUOTES = '"\u201c\u201d'
_MARKUP = re.compile(r"[*_#`>]+|\([^)]*\)|\[[^\]]*\]")


class ClaudeDialogueEngine:
    """`DialogueEngine` on Claude, with an offline engine for the opening and for failures.

    Args:
        client: the Messages API client (its model is Sonnet, from the settings).
        offline: the offline engine for the same mode: it says the opening line and answers
            any turn Claude cannot.
        lines: the champion's real lines (demo mode grounds the champion in them).
        max_tokens: the reply's token limit (replies are one to three sentences).
        timeout: seconds to wait for one request (the reply is on the audio path).
        attempts: how many times a retryable failure is tried in all.
        retry_base_delay: the first backoff delay in seconds.
        max_messages: how many of the latest turns are sent (bounds cost and latency).
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        client: ClaudeMessages,
        offline: DialogueEngine,
        lines: ChampionLines | None = None,
        max_tokens: int = 200,
        timeout: float = 8.0,
        attempts: int = 2,
        retry_base_delay: float = 0.5,
        max_messages: int = 40,
    ) -> None:
        self.client = client
        self.offline = offline
        self.lines = lines
        self.policy = CallPolicy(max_tokens, timeout, attempts, retry_base_delay)
        self.max_messages = max_messages

    def first_message(self, ctx: TrainingContext) -> str:
        """The offline engine's opening line (deterministic, no request)."""
        return self.offline.first_message(ctx)

    async def reply(self, ctx: TrainingContext, history: list[DialogueTurn]) -> str:
        """Claude's next line as the prospect (roleplay) or the champion (demo).

        Falls back to the offline engine for this turn when the trainee said nothing, or
        when the request fails (a `ProviderError`) or the answer has nothing speakable.
        """
        said = latest_trainee_run(history)
        messages = to_messages(history, limit=self.max_messages)
        if not said or not messages or messages[-1]["role"] != "user":
            return await self.offline.reply(ctx, history)
        if ctx.mode == "demo":
            system = champion_system(ctx, await self._champion_lines(said, history))
        else:
            system = prospect_system(ctx)
        try:
            text = await self.client.text(system=system, messages=messages, policy=self.policy)
        except ProviderError as exc:
            logger.warning(
                "claude reply failed (%s); the offline engine answers this turn",
                type(exc).__name__,
            )
            return await self.offline.reply(ctx, history)
        reply = spoken(text, speakers=speakers(ctx))
        if not reply:
            logger.warning("claude reply had nothing to say; the offline engine answers")
            return await self.offline.reply(ctx, history)
        return reply

    async def _champion_lines(self, said: str, history: list[DialogueTurn]) -> list[ChampionLine]:
        """The champion's closest lines of the kind the moment calls for, then any but
        openings; at most three, best first."""
        if self.lines is None:
            return []
        category = wanted_category(said, prospect_turns(history))
        try:
            found = await self.lines.closest(said, category=category, limit=3) if category else []
            if len(found) < 3:
                seen = {line.quote for line in found}
                anywhere = await self.lines.closest(said, limit=3)
                found += [h for h in anywhere if h.category != "opening" and h.quote not in seen]
        except Exception:  # a retrieval failure must not silence the champion
            logger.warning("champion line retrieval failed; the champion answers without them")
            return []
        return found[:3]


def to_messages(history: list[DialogueTurn], *, limit: int) -> list[MessageParam]:
    """The conversation as Messages API turns: the AI is the assistant, the trainee the user.

    Consecutive turns of one side are merged and empty ones dropped; only the latest
    ``limit`` turns are kept. The API wants the user first, so when the AI spoke first (its
    opening line) a short stage cue stands before it.
    """
    merged: list[tuple[str, str]] = []
    for turn in history:
        text = " ".join(turn.text.split())
        if not text:
            continue
        role = "assistant" if turn.role == "ai" else "user"
        if merged and merged[-1][0] == role:
            merged[-1] = (role, f"{merged[-1][1]} {text}")
        else:
            merged.append((role, text))
    kept = merged[-max(1, limit) :]
    if kept and kept[0][0] == "assistant":
        kept.insert(0, ("user", CALL_CONNECTS if len(kept) == len(merged) else CALL_CONTINUES))
    return [{"role": "user" if r == "user" else "assistant", "content": t} for r, t in kept]


def speakers(ctx: TrainingContext) -> tuple[str, ...]:
    """Labels Claude might put before its line: the AI's name (full and first) and role."""
    persona = ctx.scenario.get("persona") or {}
    name = str(persona.get("name") if ctx.mode == "roleplay" else ctx.champion_name).strip()
    role = "Prospect" if ctx.mode == "roleplay" else "Champion"
    return tuple(n for n in (name, name.split()[0] if name else "", role) if n)


def latest_trainee_run(history: list[DialogueTurn]) -> str:
    """What the trainee said since the AI last spoke ("" when the AI spoke last)."""
    run: list[str] = []
    for turn in reversed(history):
        if turn.role != "trainee":
            break
        run.insert(0, " ".join(turn.text.split()))
    return " ".join(t for t in run if t)


def prospect_turns(history: list[DialogueTurn]) -> int:
    """How many runs of trainee turns ``history`` has (in demo mode, the prospect's turns)."""
    return sum(
        1
        for n, turn in enumerate(history)
        if turn.role == "trainee" and (n == 0 or history[n - 1].role != "trainee")
    )


def spoken(text: str, *, speakers: tuple[str, ...] = ()) -> str:
    """Claude's answer as a line to speak: markup, stage directions, a leading speaker label
    (one of ``speakers``) and wrapping quotes removed, at most `MAX_SENTENCES` sentences,
    and a sentence cut off mid-way dropped."""
    text = " ".join(_MARKUP.sub(" ", text).split())
    text = re.sub(r"\s+([,.?!:])", r"\1", text)
    for name in speakers:
        if name and text.lower().startswith(f"{name.lower()}:"):
            text = text[len(name) + 1 :].strip()
            break
    if text[:1] in _QUOTES and (text[-1:] in _QUOTES or _quotes(text) % 2):
        text = text[1:].strip()
    if text[-1:] in _QUOTES and _quotes(text) % 2:
        text = text[:-1].strip()
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    if len(sentences) > 1 and not re.search(r"[.?!…][\"')\]]*$", sentences[-1]):
        sentences = sentences[:-1]
    return " ".join(sentences[:MAX_SENTENCES]).strip()


def _quotes(text: str) -> int:
    return sum(text.count(q) for q in _QUOTES)
