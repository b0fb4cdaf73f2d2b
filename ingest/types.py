"""The data that flows between ingest steps, and the provider interfaces each step uses.

Every model-backed step has a production provider and an offline one behind the same
`Protocol`; the step code never knows which it has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

PatternCategory = Literal[
    "opening",
    "discovery_question",
    "objection_handling",
    "value_statement",
    "social_proof",
    "closing",
]
PATTERN_CATEGORIES: tuple[str, ...] = get_args(PatternCategory)
DIFFICULTIES = ("easy", "medium", "hard")
ProgressCallback = Callable[[float], Awaitable[None]]


@dataclass
class Word:
    """One recognised word with its timing in seconds from the start of the recording."""

    word: str
    start: float
    end: float


@dataclass
class Segment:
    """One stretch of speech by one speaker."""

    start: float
    end: float
    speaker: str
    text: str
    words: list[Word] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in `transcripts.segments`."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """Reads the stored JSON form."""
        words = [Word(**w) for w in data.get("words", [])]
        return cls(data["start"], data["end"], data["speaker"], data["text"], words)


@dataclass
class ExtractedAudio:
    """The recording as 16 kHz 16-bit PCM files, one per channel kept.

    ``channels`` has one file when the recording is mono (or its channels were mixed), two
    when a stereo call recording has one speaker per channel.
    """

    sample_rate: int
    duration_seconds: float
    channels: list[Path]


@dataclass
class TranscriptResult:
    """What a transcriber returns."""

    segments: list[Segment]
    provider: str
    language: str | None = None


@dataclass
class PatternDraft:
    """A technique found in the transcript, quoted verbatim (a substring of a segment)."""

    category: str
    quote: str
    start: float
    end: float
    why: str
    context: str | None = None


@dataclass
class AnalysisResult:
    """The champion's patterns, and who found them."""

    patterns: list[PatternDraft]
    provider: str


@dataclass
class ScenarioDraft:
    """A practice scenario before it is stored.

    ``persona``: name, role, company, personality. ``objections``: dicts with ``text`` (what
    the prospect said), ``order`` (1-based, as met in the call) and, when known,
    ``champion_response`` and ``start``. ``difficulty_levels``: for each of easy/medium/hard
    a dict describing how the prospect behaves (``pushback``, ``objections_to_raise``,
    ``patience_turns``, ``description``).
    """

    title: str
    goal: str
    opening_line: str
    persona: dict[str, Any]
    objections: list[dict[str, Any]]
    difficulty_levels: dict[str, dict[str, Any]]
    provider: str


@dataclass
class VoiceProfile:
    """How a speaker sounds, measured from the audio; the offline TTS applies it.

    ``provider`` is "offline" for a measured profile; a cloned voice also has ``voice_id``.
    """

    speaker: str
    provider: str
    median_pitch_hz: float | None
    speaking_rate_wpm: float | None
    energy_db: float | None
    voice_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored on the champion."""
        return asdict(self)


class Transcriber(Protocol):
    """Speech to timed, speaker-labelled text for a whole recording."""

    name: str

    async def transcribe(
        self, audio: ExtractedAudio, *, on_progress: ProgressCallback | None = None
    ) -> TranscriptResult:
        """Transcribes every channel; speakers come from diarization, channels, or one.

        ``on_progress`` (when given) receives the fraction done, 0..1, as work proceeds.
        """
        ...


class PatternAnalyzer(Protocol):
    """Finds the champion's techniques in a transcript."""

    name: str

    async def analyze(self, segments: list[Segment], *, champion: str) -> AnalysisResult:
        """Patterns spoken by ``champion`` (a speaker label), each quoted verbatim."""
        ...


class ScenarioGenerator(Protocol):
    """Builds practice scenarios from what the champion faced."""

    name: str

    async def generate(
        self, segments: list[Segment], *, champion: str, patterns: list[PatternDraft]
    ) -> list[ScenarioDraft]:
        """At least one scenario, with the objections in the order the champion met them."""
        ...


class VoiceCloner(Protocol):
    """Makes a reusable voice from clean samples of one speaker."""

    name: str

    async def clone(self, *, name: str, samples: list[Path]) -> str:
        """Returns the provider's voice id for ``samples`` (WAV files)."""
        ...
