"""`PatternAgent`: a champion's patterns and scenarios, searched, added to and scored against.

It reads and writes through the same queries, pattern index and scorer the API, ingest and
training sessions use: SQL holds the patterns, Qdrant indexes them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from agents.base import BaseAgent
from agents.champions import ChampionNotFound, owned_champion
from agents.tools.spec import tool
from agents.training.session import TrainingService, context_for
from agents.training.types import DialogueTurn
from ingest.types import PATTERN_CATEGORIES, PatternCategory
from memory.db import Database
from memory.models import Champion, Pattern, Scenario
from memory.pattern_index import add_patterns, ensure_indexed
from memory.queries import champions as champion_queries
from memory.queries import training as training_queries
from memory.training_schemas import MAX_MESSAGE_CHARS
from memory.vectors import VectorStore

MAX_QUOTE_CHARS = 1000
MAX_NOTE_CHARS = 1000
MAX_QUERY_CHARS = 500
MAX_PATTERNS_PER_CALL = 50
MAX_FOUND = 20
STORED_BY = "agent"  # the provider recorded on patterns added through `store_patterns`


def _clean(value: str) -> str:
    """The text on one line without control characters; refuses text that is only blanks."""
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    if not cleaned:
        raise PydanticCustomError("blank", "must not be empty")
    return cleaned


Quote = Annotated[str, Field(min_length=1, max_length=MAX_QUOTE_CHARS), AfterValidator(_clean)]
Note = Annotated[str, Field(min_length=1, max_length=MAX_NOTE_CHARS), AfterValidator(_clean)]
Query = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS), AfterValidator(_clean)]
Message = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS), AfterValidator(_clean)]


class PatternIn(BaseModel):
    """A technique the champion used, to be stored with their other patterns."""

    model_config = ConfigDict(extra="forbid")

    category: PatternCategory = Field(description="the kind of technique")
    quote: Quote = Field(description="the champion's words, verbatim")
    why: Note = Field(description="why it works")
    start: float = Field(ge=0, description="where the quote starts in the recording (seconds)")
    end: float = Field(ge=0, description="where it ends (seconds)")
    context: Note | None = Field(
        None, description="what it answered (e.g. the prospect's objection), if anything"
    )

    @model_validator(mode="after")
    def _ordered(self) -> PatternIn:
        if self.end < self.start:
            raise PydanticCustomError("time_order", "end must not be before start")
        return self


class PatternAgent(BaseAgent):
    """Finds, stores and searches one user's champions' patterns and scores sales responses
    against the rubric; its memory is SQL (the truth) and the Qdrant pattern index.

    Args:
        db: the SQL database.
        vectors: the pattern index.
        training: the training service (its scorer and the champion's lines).
        user_id: the user the agent acts for (every champion it touches must be theirs).
        provider: the provider of the scorer.
    """

    name: ClassVar[str] = "pattern"
    purpose: ClassVar[str] = (
        "Knows what makes a champion good: lists their patterns by category with quotes and "
        "timestamps, stores new ones, finds their closest lines for a moment, lists their "
        "practice scenarios, and scores a sales response against the rubric."
    )
    expected_errors = (*BaseAgent.expected_errors, ChampionNotFound)

    def __init__(
        self,
        *,
        db: Database,
        vectors: VectorStore,
        training: TrainingService,
        user_id: str,
        provider: str,
    ) -> None:
        super().__init__(provider=provider)
        self._db = db
        self._vectors = vectors
        self._training = training
        self._user_id = user_id

    async def _champion(self, champion_id: str) -> Champion:
        """The acting user's champion, or `ChampionNotFound`."""
        return await owned_champion(self._db, user_id=self._user_id, champion_id=champion_id)

    @tool
    async def extract_patterns(self, champion_id: str) -> dict[str, Any]:
        """The champion's stored patterns by category, with verbatim quotes, timestamps and
        why each works.

        Args:
            champion_id: the champion.
        """
        async with self._db.session() as session:
            public = await champion_queries.champion_public(
                session, owner_id=self._user_id, champion_id=champion_id
            )
        if public is None:
            raise ChampionNotFound()
        by_category: dict[str, list[dict[str, Any]]] = {c: [] for c in PATTERN_CATEGORIES}
        for pattern in sorted(public.patterns, key=lambda p: (p.start, p.end)):
            found = pattern.model_dump(mode="json", exclude={"category"})
            by_category.setdefault(pattern.category, []).append(found)
        return {
            "champion_id": public.id,
            "name": public.name,
            "status": public.status,
            "pattern_count": len(public.patterns),
            "patterns": by_category,
        }

    @tool
    async def generate_scenarios(self, champion_id: str) -> dict[str, Any]:
        """The champion's practice scenarios (prospect persona, objections in the order the
        champion met them, goal, opening line, difficulty levels), as ingest built them.

        Args:
            champion_id: the champion.
        """
        async with self._db.session() as session:
            scenarios = await champion_queries.scenarios_public(
                session, owner_id=self._user_id, champion_id=champion_id
            )
        if scenarios is None:
            raise ChampionNotFound()
        return {
            "champion_id": champion_id,
            "scenarios": [s.model_dump(mode="json") for s in scenarios],
        }

    @tool
    async def store_patterns(
        self,
        champion_id: str,
        patterns: Annotated[list[PatternIn], Field(min_length=1, max_length=MAX_PATTERNS_PER_CALL)],
    ) -> dict[str, Any]:
        """Add new patterns to the champion: stored in SQL and indexed for search.

        Args:
            champion_id: the champion.
            patterns: the patterns to add (1 to 50), each with category, verbatim quote, why
                it works, start and end in seconds, and optionally what it answered.
        """
        champion = await self._champion(champion_id)
        rows = [
            Pattern(champion_id=champion.id, provider=STORED_BY, **p.model_dump()) for p in patterns
        ]
        await add_patterns(
            db=self._db, vectors=self._vectors, champion_id=champion.id, patterns=rows
        )
        return {
            "champion_id": champion.id,
            "stored": [
                {"id": r.id, **p.model_dump(mode="json")}
                for r, p in zip(rows, patterns, strict=True)
            ],
        }

    @tool
    async def find_patterns(
        self,
        champion_id: str,
        query: Query,
        category: PatternCategory | None = None,
        limit: Annotated[int, Field(ge=1, le=MAX_FOUND)] = 5,
    ) -> dict[str, Any]:
        """The champion's real lines closest to a moment (what the prospect said, or what
        the trainee wants to say), best first.

        Args:
            champion_id: the champion.
            query: the moment, in words (1 to 500 characters).
            category: only lines of this kind, when given.
            limit: how many lines at most (1 to 20).
        """
        champion = await self._champion(champion_id)
        await ensure_indexed(db=self._db, vectors=self._vectors, champion_id=champion.id)
        found = await self._training.lines(champion.id).closest(
            query, category=category, limit=limit
        )
        return {
            "champion_id": champion.id,
            "query": query,
            "lines": [asdict(line) for line in found],
        }

    @tool
    async def analyze_response(
        self, champion_id: str, response: Message, objection: Message | None = None
    ) -> dict[str, Any]:
        """Score a sales response against the rubric, in the champion's first scenario, with
        feedback, a suggestion and the champion's own way of saying it.

        Args:
            champion_id: the champion whose scenario and lines to score against.
            response: what the seller says (1 to 2000 characters).
            objection: what the prospect said just before; the scenario's opening line when
                omitted.
        """
        champion = await self._champion(champion_id)
        async with self._db.session() as session:
            scenario: Scenario | None = await training_queries.get_scenario(
                session, champion_id=champion.id, scenario_id=None
            )
        await ensure_indexed(db=self._db, vectors=self._vectors, champion_id=champion.id)
        ctx = context_for(champion, scenario, mode="roleplay", difficulty="medium")
        answering = objection or (scenario.opening_line if scenario else None)
        history = [DialogueTurn("ai", answering)] if answering else []
        history.append(DialogueTurn("trainee", response))
        score = await self._training.scorer.score(ctx, history, self._training.lines(champion.id))
        return {
            "champion_id": champion.id,
            "scenario_id": scenario.id if scenario else None,
            "answering": answering,
            "score": score.score,
            "criteria": score.criteria,
            "feedback": score.feedback,
            "suggestion": score.suggestion,
            "champion_way": score.champion_way,
            "champion_way_source": score.champion_way_source,
            "provider": score.provider,
        }
