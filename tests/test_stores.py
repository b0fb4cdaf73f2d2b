"""Session store (in process and Redis), Qdrant pattern store and lexical vectors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from memory.session_store import RedisSessionStore, SessionStore
from memory.sparse import sparse_vector, terms
from memory.vectors import VectorStore, VectorStoreBusy


async def test_session_store_round_trip_and_expiry(store: SessionStore) -> None:
    state = {"turn": 3, "speaking": "trainee", "transcript": ["hi", "hello"]}
    await store.set("session-1", state, ttl_seconds=1)
    await store.set("session-2", {"turn": 0}, ttl_seconds=60)
    assert await store.get("session-1") == state
    await asyncio.sleep(1.2)
    assert await store.get("session-1") is None
    assert await store.get("session-2") == {"turn": 0}
    await store.delete("session-2")
    assert await store.get("session-2") is None
    await store.ping()


async def test_redis_state_is_visible_to_another_client(redis_url: str, redis_prefix: str) -> None:
    writer = RedisSessionStore(redis=Redis.from_url(redis_url), prefix=redis_prefix)
    reader = RedisSessionStore(redis=Redis.from_url(redis_url), prefix=redis_prefix)
    await writer.set("shared", {"turn": 7}, ttl_seconds=30)
    assert await reader.get("shared") == {"turn": 7}
    await writer.delete("shared")
    await writer.close()
    await reader.close()


def test_terms_drop_stop_words_and_possessives() -> None:
    assert terms("What's the ROI of Marie's pricing approach?") == [
        "roi",
        "marie",
        "pricing",
        "approach",
    ]


def test_sparse_vector_counts_repeated_terms() -> None:
    indices, values = sparse_vector("price price value")
    assert indices == sorted(indices)
    assert sorted(values) == [1.0, 2.0]
    assert sparse_vector("the of and") == ([], [])


@pytest.fixture
async def vectors(tmp_path: Path) -> AsyncIterator[VectorStore]:
    store = VectorStore(path=tmp_path / "qdrant")
    await store.ensure_collection()
    yield store
    await store.close()


PATTERNS = [
    {
        "id": "p1",
        "category": "objection_handling",
        "quote": "I understand the price feels high; what would waiting another quarter cost you?",
    },
    {
        "id": "p2",
        "category": "discovery_question",
        "quote": "Walk me through how your team handles onboarding today.",
    },
    {
        "id": "p3",
        "category": "closing",
        "quote": "Shall we put thirty minutes on the calendar for Thursday with your CFO?",
    },
]


async def test_search_finds_the_champions_closest_line_only(vectors: VectorStore) -> None:
    await vectors.upsert_patterns(champion_id="marie", patterns=PATTERNS)
    await vectors.upsert_patterns(
        champion_id="other",
        patterns=[
            {
                "id": "o1",
                "category": "objection_handling",
                "quote": "The price is the price, take it or leave it.",
            }
        ],
    )
    hits = await vectors.search(champion_id="marie", text="Your price is too high for us")
    assert hits[0].pattern_id == "p1"
    assert all(hit.payload["champion_id"] == "marie" for hit in hits)
    onboarding = await vectors.search(
        champion_id="marie", text="how does onboarding work?", category="discovery_question"
    )
    assert [hit.pattern_id for hit in onboarding] == ["p2"]
    assert await vectors.search(champion_id="marie", text="the and of") == []


async def test_upsert_replaces_and_delete_removes_one_champion(vectors: VectorStore) -> None:
    await vectors.upsert_patterns(champion_id="marie", patterns=PATTERNS)
    await vectors.upsert_patterns(champion_id="marie", patterns=PATTERNS[:1])
    await vectors.upsert_patterns(champion_id="other", patterns=[{**PATTERNS[0], "id": "o1"}])
    assert await vectors.count(champion_id="marie") == 3
    await vectors.delete_champion(champion_id="marie")
    assert await vectors.count(champion_id="marie") == 0
    assert await vectors.count(champion_id="other") == 1


async def test_a_locked_local_folder_gives_a_clear_error(
    vectors: VectorStore, tmp_path: Path
) -> None:
    with pytest.raises(VectorStoreBusy, match="QDRANT_URL"):
        VectorStore(path=tmp_path / "qdrant")
