"""Champions, scenarios and analysis: success paths, unknown ids and ownership."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from memory.models import IngestJob, Pattern, Scenario
from tests.support.apps import sign_up, stored_files

AppClient = tuple[FastAPI, httpx.AsyncClient]


async def _champion(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str], wav: Path, name: str = "Marie"
) -> str:
    files = {"file": ("call.wav", wav.read_bytes())}
    response = await client.post("/upload", headers=auth, files=files, data={"name": name})
    assert response.status_code == 202, response.text
    await app.state.services.jobs.wait(response.json()["job_id"])
    return str(response.json()["champion_id"])


async def _add_learned_rows(app: FastAPI, champion_id: str) -> None:
    """Stores what ingest would learn, so delete has rows and vectors to remove."""
    services = app.state.services
    async with services.db.session() as session:
        pattern = Pattern(
            champion_id=champion_id,
            category="objection_handling",
            quote="I hear you on price; let's look at what waiting costs you.",
            start=12.0,
            end=15.5,
            why="reframes cost",
            provider="offline",
        )
        session.add(pattern)
        session.add(
            Scenario(
                champion_id=champion_id,
                title="Price pushback",
                goal="book a demo",
                opening_line="We're happy with our vendor.",
                persona={"name": "Sam"},
                objections=["price"],
                difficulty_levels={"easy": {}},
                provider="offline",
            )
        )
        await session.commit()
        await services.vectors.upsert_patterns(
            champion_id=champion_id,
            patterns=[{"id": pattern.id, "quote": pattern.quote, "category": pattern.category}],
        )


async def test_list_get_and_scenarios(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    app, client = app_client
    first = await _champion(app, client, auth, media_files["wav"], "First")
    second = await _champion(app, client, auth, media_files["wav"], "Second")
    await _add_learned_rows(app, first)

    listing = (await client.get("/champions", headers=auth)).json()
    assert [c["id"] for c in listing] == [second, first]
    detail = (await client.get(f"/champions/{first}", headers=auth)).json()
    assert detail["patterns"][0]["category"] == "objection_handling"
    assert detail["patterns"][0]["quote"].startswith("I hear you on price")
    assert detail["scenario_count"] == 1
    scenarios = (await client.get(f"/scenarios/{first}", headers=auth)).json()
    assert [s["title"] for s in scenarios] == ["Price pushback"]
    assert (await client.get(f"/scenarios/{second}", headers=auth)).json() == []


async def test_delete_removes_rows_files_and_vectors(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    app, client = app_client
    services = app.state.services
    doomed = await _champion(app, client, auth, media_files["wav"], "Doomed")
    kept = await _champion(app, client, auth, media_files["wav"], "Kept")
    await _add_learned_rows(app, doomed)
    await _add_learned_rows(app, kept)
    assert await services.vectors.count(champion_id=doomed) == 1

    response = await client.delete(f"/champions/{doomed}", headers=auth)
    assert response.status_code == 204
    assert (await client.get(f"/champions/{doomed}", headers=auth)).status_code == 404
    assert await services.vectors.count(champion_id=doomed) == 0
    assert await services.vectors.count(champion_id=kept) == 1
    assert {f.parent.name for f in stored_files(app)} == {kept}
    async with services.db.session() as session:
        for model in (Pattern, Scenario, IngestJob):
            rows = await session.scalar(
                select(func.count()).select_from(model).where(model.champion_id == doomed)
            )
            assert rows == 0, model.__name__
    assert (await client.delete(f"/champions/{doomed}", headers=auth)).status_code == 404


async def test_analyze_queues_a_new_job_and_refuses_while_one_runs(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    app, client = app_client
    champion_id = await _champion(app, client, auth, media_files["wav"])
    jobs = app.state.services.jobs
    async with jobs._slots:  # hold the queue's only slot so the new job stays queued
        response = await client.post(f"/analyze/{champion_id}", headers=auth)
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        again = await client.post(f"/analyze/{champion_id}", headers=auth)
        assert again.status_code == 409
        assert "already being analysed" in again.json()["detail"]
    await app.state.services.jobs.wait(job_id)
    detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
    assert detail["latest_job"]["id"] == job_id
    assert detail["latest_job"]["kind"] == "analyze"
    assert detail["latest_job"]["status"] == "completed"


async def test_analyze_fails_the_job_with_a_reason_when_the_file_is_gone(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    app, client = app_client
    champion_id = await _champion(app, client, auth, media_files["wav"])
    for path in stored_files(app):
        path.unlink()
    response = await client.post(f"/analyze/{champion_id}", headers=auth)
    await app.state.services.jobs.wait(response.json()["job_id"])
    detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
    assert detail["status"] == "failed"
    assert "missing from storage" in detail["error"]
    assert detail["latest_job"]["status"] == "failed"
    assert detail["latest_job"]["error"] == detail["error"]


def _champion_routes(champion_id: str) -> list[tuple[str, str]]:
    """Every route that takes a champion id."""
    return [
        ("GET", f"/champions/{champion_id}"),
        ("DELETE", f"/champions/{champion_id}"),
        ("POST", f"/analyze/{champion_id}"),
        ("GET", f"/scenarios/{champion_id}"),
    ]


@pytest.mark.parametrize("unknown", [str(uuid.uuid4()), "not-a-uuid", "1"])
async def test_unknown_ids_are_404(
    client: httpx.AsyncClient, auth: dict[str, str], unknown: str
) -> None:
    for method, path in _champion_routes(unknown):
        response = await client.request(method, path, headers=auth)
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"] == "champion not found"


async def test_another_users_champion_is_404_and_untouched(
    app_client: AppClient, media_files: dict[str, Path]
) -> None:
    app, client = app_client
    owner = await sign_up(client)
    intruder = await sign_up(client)
    champion_id = await _champion(app, client, owner, media_files["wav"])
    await _add_learned_rows(app, champion_id)

    assert (await client.get("/champions", headers=intruder)).json() == []
    for method, path in _champion_routes(champion_id):
        response = await client.request(method, path, headers=intruder)
        assert response.status_code == 404, (method, path)
        assert "Marie" not in response.text
    detail = await client.get(f"/champions/{champion_id}", headers=owner)
    assert detail.status_code == 200
    assert detail.json()["latest_job"]["kind"] == "ingest"
    assert await app.state.services.vectors.count(champion_id=champion_id) == 1
