"""Which dialogue engine and scorer a session uses, from the configured keys.

With an Anthropic key, Claude (the live model, Sonnet) plays the other side and scores the
turns, each with the offline engine beside it for the opening line and for any turn Claude
cannot serve; without one, the offline engines do everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.training.champion import ChampionDemoEngine
from agents.training.claude_client import DEFAULT_LIVE_MODEL, ClaudeMessages
from agents.training.claude_dialogue import ClaudeDialogueEngine
from agents.training.claude_scoring import ClaudeTurnScorer
from agents.training.prospect import ScenarioProspectEngine
from agents.training.scoring import HeuristicTurnScorer
from agents.training.session import DialogueFactory
from agents.training.types import ChampionLines, DialogueEngine, TurnScorer

if TYPE_CHECKING:
    import httpx2


def dialogue_factory(
    *,
    anthropic_api_key: str = "",
    model: str = DEFAULT_LIVE_MODEL,
    http_client: httpx2.AsyncClient | None = None,
) -> DialogueFactory:
    """Builds the engine for a mode: the prospect (roleplay) or the champion (demo).

    Args:
        anthropic_api_key: the Anthropic key; empty for the offline engines.
        model: the live model id (Sonnet).
        http_client: an ``httpx2.AsyncClient`` for the Anthropic SDK (tests inject a fake).
    """
    prospect = ScenarioProspectEngine()
    key = anthropic_api_key.strip()
    client = ClaudeMessages(api_key=key, model=model, http_client=http_client) if key else None

    def build(mode: str, lines: ChampionLines) -> DialogueEngine:
        offline: DialogueEngine = ChampionDemoEngine(lines=lines) if mode == "demo" else prospect
        if client is None:
            return offline
        return ClaudeDialogueEngine(client=client, offline=offline, lines=lines)

    return build


def turn_scorer(
    *,
    anthropic_api_key: str = "",
    model: str = DEFAULT_LIVE_MODEL,
    http_client: httpx2.AsyncClient | None = None,
) -> TurnScorer:
    """The scorer for trainee turns: Claude with a key, else the offline heuristics.

    Args:
        anthropic_api_key: the Anthropic key; empty for the offline scorer.
        model: the live model id (Sonnet).
        http_client: an ``httpx2.AsyncClient`` for the Anthropic SDK (tests inject a fake).
    """
    offline = HeuristicTurnScorer()
    key = anthropic_api_key.strip()
    if not key:
        return offline
    client = ClaudeMessages(api_key=key, model=model, http_client=http_client)
    return ClaudeTurnScorer(client=client, offline=offline)
