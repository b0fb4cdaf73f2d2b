"""Qdrant store for champion patterns: a local folder by default, a server via QDRANT_URL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdrant_client import AsyncQdrantClient, models

from memory.sparse import sparse_vector

PATTERNS_COLLECTION = "champion_patterns"
LEXICAL = "lexical"


class VectorStoreBusy(RuntimeError):
    """The embedded Qdrant folder is locked by another process."""


@dataclass(frozen=True)
class PatternHit:
    """A stored pattern found by similarity."""

    pattern_id: str
    score: float
    payload: dict[str, Any]


class VectorStore:
    """Stores and finds champion lines by meaning (dense, when configured) and by words.

    Args:
        url: a Qdrant server URL; when empty, ``path`` is used in embedded mode.
        path: folder for embedded Qdrant.
        api_key: the server's API key, if it needs one.
        collection: collection name (tests use their own).
    """

    def __init__(
        self,
        *,
        url: str = "",
        path: Path | None = None,
        api_key: str = "",
        collection: str = PATTERNS_COLLECTION,
    ) -> None:
        if url:
            self.backend = "qdrant-server"
            self.client = AsyncQdrantClient(url=url, api_key=api_key or None)
        else:
            if path is None:
                raise ValueError("VectorStore needs a server url or a local path")
            path.mkdir(parents=True, exist_ok=True)
            self.backend = "qdrant-local"
            try:
                self.client = AsyncQdrantClient(path=str(path))
            except RuntimeError as exc:
                raise VectorStoreBusy(
                    f"the embedded Qdrant folder {path} is in use by another process; "
                    "run one app per data folder, or set QDRANT_URL to share a Qdrant server"
                ) from exc
        self.collection = collection

    @classmethod
    def in_memory(cls, *, collection: str = PATTERNS_COLLECTION) -> VectorStore:
        """A store in this process's memory (a call process fills it from SQL)."""
        store = cls.__new__(cls)
        store.backend = "qdrant-memory"
        store.client = AsyncQdrantClient(location=":memory:")
        store.collection = collection
        return store

    async def ensure_collection(self) -> None:
        """Creates the collection and its payload index if they do not exist."""
        if await self.client.collection_exists(self.collection):
            return
        await self.client.create_collection(
            self.collection,
            vectors_config={},
            sparse_vectors_config={
                LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
        )
        if self.backend == "qdrant-server":
            await self.client.create_payload_index(
                self.collection, "champion_id", models.PayloadSchemaType.KEYWORD
            )

    async def upsert_patterns(
        self, *, champion_id: str, patterns: Sequence[dict[str, Any]]
    ) -> None:
        """Stores patterns (each with ``id`` and ``quote``); re-storing one replaces it."""
        points = []
        for pattern in patterns:
            # A line is found by its own words and by what it answered (e.g. the objection).
            indices, values = sparse_vector(f"{pattern['quote']} {pattern.get('context') or ''}")
            points.append(
                models.PointStruct(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, pattern["id"])),
                    vector={LEXICAL: models.SparseVector(indices=indices, values=values)},
                    payload={**pattern, "champion_id": champion_id, "pattern_id": pattern["id"]},
                )
            )
        if points:
            await self.client.upsert(self.collection, points=points)

    async def search(
        self, *, champion_id: str, text: str, limit: int = 3, category: str | None = None
    ) -> list[PatternHit]:
        """The champion's stored lines closest to ``text``."""
        indices, values = sparse_vector(text)
        if not indices:
            return []
        conditions: list[models.Condition] = [_match("champion_id", champion_id)]
        if category:
            conditions.append(_match("category", category))
        result = await self.client.query_points(
            self.collection,
            query=models.SparseVector(indices=indices, values=values),
            using=LEXICAL,
            query_filter=models.Filter(must=conditions),
            limit=limit,
            with_payload=True,
        )
        return [
            PatternHit(
                pattern_id=str((p.payload or {}).get("pattern_id")),
                score=p.score,
                payload=dict(p.payload or {}),
            )
            for p in result.points
        ]

    async def count(self, *, champion_id: str) -> int:
        """How many points belong to a champion."""
        result = await self.client.count(
            self.collection, count_filter=models.Filter(must=[_match("champion_id", champion_id)])
        )
        return result.count

    async def delete_champion(self, *, champion_id: str) -> None:
        """Removes every point of a champion."""
        await self.client.delete(
            self.collection,
            points_selector=models.FilterSelector(
                filter=models.Filter(must=[_match("champion_id", champion_id)])
            ),
        )

    async def ping(self) -> None:
        """Raises if Qdrant cannot list its collections."""
        await self.client.get_collections()

    async def close(self) -> None:
        """Closes the client (and releases the local folder's lock)."""
        await self.client.close()


def _match(key: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))
