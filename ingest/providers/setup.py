"""The providers an ingest job uses, chosen once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.analysis.offline_patterns import HeuristicPatternAnalyzer
from ingest.analysis.offline_scenarios import TemplateScenarioGenerator
from ingest.offline_stt import SphinxBatchTranscriber
from ingest.providers.factory import (
    make_pattern_analyzer,
    make_scenario_generator,
    make_transcriber,
    make_voice_cloner,
)
from ingest.types import PatternAnalyzer, ScenarioGenerator, Transcriber, VoiceCloner
from memory.settings import Settings


@dataclass
class IngestProviders:
    """One provider per model-backed step (offline where no key is set)."""

    transcriber: Transcriber
    analyzer: PatternAnalyzer
    scenario_generator: ScenarioGenerator
    voice_cloner: VoiceCloner | None
    offline_transcriber: SphinxBatchTranscriber

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestProviders:
        """Picks each provider from the keys and choices in ``settings``."""
        offline_stt = SphinxBatchTranscriber()
        return cls(
            transcriber=make_transcriber(
                deepgram_api_key=settings.deepgram_api_key,
                stt_provider=settings.stt_provider,
                whisper_model=settings.whisper_model,
                whisper_fallbacks=(settings.whisper_live_model,),
                models_dir=settings.models_folder,
                offline=offline_stt,
            ),
            analyzer=make_pattern_analyzer(
                anthropic_api_key=settings.anthropic_api_key,
                model=settings.anthropic_analysis_model,
                offline=HeuristicPatternAnalyzer(),
            ),
            scenario_generator=make_scenario_generator(
                anthropic_api_key=settings.anthropic_api_key,
                model=settings.anthropic_analysis_model,
                offline=TemplateScenarioGenerator(),
            ),
            voice_cloner=make_voice_cloner(elevenlabs_api_key=settings.elevenlabs_api_key),
            offline_transcriber=offline_stt,
        )

    def resources(self) -> dict[str, Any]:
        """The providers as job resources, by the names the steps look them up."""
        return {
            "transcriber": self.transcriber,
            "analyzer": self.analyzer,
            "scenario_generator": self.scenario_generator,
            "voice_cloner": self.voice_cloner,
        }

    def names(self) -> dict[str, str]:
        """The provider actually chosen for each ingest step."""
        return {
            "stt": self.transcriber.name,
            "analysis": self.analyzer.name,
            "scenarios": self.scenario_generator.name,
            "voice_clone": self.voice_cloner.name if self.voice_cloner else "offline",
        }

    def close(self) -> None:
        """Stops the offline transcriber's worker processes, if it started any."""
        self.offline_transcriber.close()
