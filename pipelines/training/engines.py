"""Which dialogue engine and scorer a session uses, from the configured keys."""

from __future__ import annotations

from pipelines.training.champion import ChampionDemoEngine
from pipelines.training.prospect import ScenarioProspectEngine
from pipelines.training.scoring import HeuristicTurnScorer
from pipelines.training.session import DialogueFactory
from pipelines.training.types import ChampionLines, DialogueEngine, TurnScorer


def dialogue_factory() -> DialogueFactory:
    """Builds the engine for a mode: the prospect (roleplay) or the champion (demo)."""
    prospect = ScenarioProspectEngine()

    def build(mode: str, lines: ChampionLines) -> DialogueEngine:
        if mode == "demo":
            return ChampionDemoEngine(lines=lines)
        return prospect

    return build


def turn_scorer() -> TurnScorer:
    """The scorer for trainee turns."""
    return HeuristicTurnScorer()
