"""The whole ingest job, for real, on the default local providers (whisper base, offline
analysis): a call spoken by two natural voices in, a ready champion out.

Each recording is ingested once per test that needs a new champion; transcription dominates
the time, so tests that can share a champion check several things on it."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from memory.models import Pattern, Scenario, Transcript
from memory.settings import Settings
from tests.support.apps import running_app, sign_up
from tests.support.services import truncate_all
from tests.support.wer import wer

AppClient = tuple[FastAPI, httpx.AsyncClient]
STEPS = ["verify", "extract", "transcribe", "analyse", "scenarios", "voice"]


@pytest.fixture
def database_url(postgres_url: str) -> Any:
    """Ingest runs on PostgreSQL here (the SQL layer is tested on both databases elsewhere)."""
    yield postgres_url
    asyncio.run(truncate_all(postgres_url))


@pytest.fixture
async def ingest_app(
    make_settings: Callable[..., Settings], whisper_models: dict[str, Path]
) -> AsyncIterator[AppClient]:
    async with running_app(make_settings(), full_ingest=True) as pair:
        yield pair


def _said(call: Any, speaker: str | None = None) -> str:
    return " ".join(t.text for t in call.turns if speaker is None or t.speaker == speaker)


def _heard(segments: list[dict[str, Any]], speaker: str | None = None) -> str:
    return " ".join(s["text"] for s in segments if speaker is None or s["speaker"] == speaker)


async def _ingest(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str], path: Path, **fields: str
) -> dict[str, Any]:
    files = {"file": (path.name, path.read_bytes())}
    response = await client.post("/upload", headers=auth, files=files, data=fields)
    assert response.status_code == 202, response.text
    await app.state.services.jobs.wait(response.json()["job_id"])
    detail = await client.get(f"/champions/{response.json()['champion_id']}", headers=auth)
    return dict(detail.json())


async def _transcript(client: httpx.AsyncClient, auth: dict[str, str], champion_id: str):
    response = await client.get(f"/champions/{champion_id}/transcript", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_two_speaker_video_becomes_a_ready_champion(
    ingest_app: AppClient, call_files: dict[str, Path], sales_call: Any
) -> None:
    app, client = ingest_app
    auth = await sign_up(client)
    champion = await _ingest(app, client, auth, call_files["mp4"], name="Alex")
    assert champion["status"] == "ready", champion["error"]
    assert champion["latest_job"]["completed_steps"] == STEPS
    assert champion["duration_seconds"] == pytest.approx(sales_call.duration, abs=0.5)

    transcript = await _transcript(client, auth, champion["id"])
    segments = transcript["segments"]
    assert transcript["provider"] == "whisper"
    assert {s["speaker"] for s in segments} == {"S0", "S1"}  # diarized from one channel
    assert transcript["champion_speaker"] == champion["champion_speaker"] == "S0"
    own = [s for s in segments if s["speaker"] == "S0"]
    # The two voices are told apart word by word: the champion's words fall in their turns.
    words = [w for s in own for w in s["words"]]
    in_turn = [sales_call.speaking((w["start"] + w["end"]) / 2) != "prospect" for w in words]
    assert sum(in_turn) >= 0.97 * len(in_turn)
    assert all(w["start"] <= w["end"] for s in segments for w in s["words"])
    # What was said is what the transcript says, for the whole call and for each speaker.
    assert wer(_said(sales_call), _heard(segments)) < 0.1
    assert wer(_said(sales_call, "champion"), _heard(segments, "S0")) < 0.1
    assert wer(_said(sales_call, "prospect"), _heard(segments, "S1")) < 0.1

    metrics = champion["metrics"]
    assert 0.4 < metrics["talk_ratio"] < 0.8
    assert metrics["longest_monologue_seconds"] < 20
    assert metrics["questions_total"] >= 2
    assert 100 < metrics["words_per_minute"] < 300

    patterns = champion["patterns"]
    categories = {p["category"] for p in patterns}
    assert {"opening", "discovery_question", "value_statement"} <= categories
    assert len(categories) >= 4
    for pattern in patterns:
        quoted = [s for s in own if pattern["quote"] in s["text"]]
        assert quoted, f"quote not in the champion's transcript: {pattern['quote']!r}"
        assert any(
            s["start"] - 0.01 <= pattern["start"] <= pattern["end"] <= s["end"] + 0.01
            for s in quoted
        )
        assert pattern["provider"] == "offline"
        assert pattern["why"]
    vectors = app.state.services.vectors
    assert await vectors.count(champion_id=champion["id"]) == len(patterns)

    scenarios = (await client.get(f"/scenarios/{champion['id']}", headers=auth)).json()
    assert len(scenarios) >= 1
    scenario = scenarios[0]
    assert set(scenario["difficulty_levels"]) == {"easy", "medium", "hard"}
    assert scenario["opening_line"] and scenario["goal"]
    orders = [o["order"] for o in scenario["objections"]]
    assert orders == sorted(orders) and orders[0] == 1

    voice = champion["voice_profile"]
    assert voice["champion"]["provider"] == "offline"
    assert 80 < voice["champion"]["median_pitch_hz"] < 130  # Piper's joe: ~100 Hz
    assert voice["prospect"]["median_pitch_hz"] > 140  # flite's slt: ~165 Hz


async def test_a_stereo_call_keeps_one_speaker_per_channel(
    ingest_app: AppClient, call_files: dict[str, Path], short_call: Any
) -> None:
    app, client = ingest_app
    auth = await sign_up(client)
    champion = await _ingest(app, client, auth, call_files["short_stereo"])
    assert champion["status"] == "ready", champion["error"]
    segments = (await _transcript(client, auth, champion["id"]))["segments"]
    assert {s["speaker"] for s in segments} == {"S0", "S1"}
    for segment in segments:
        who = short_call.speaking((segment["start"] + segment["end"]) / 2)
        assert (who == "champion") == (segment["speaker"] == "S0"), segment
    assert wer(_said(short_call, "champion"), _heard(segments, "S0")) < 0.1
    assert wer(_said(short_call, "prospect"), _heard(segments, "S1")) < 0.1

    # It plays back on the transcript's timeline with one speaker per channel, as uploaded.
    response = await client.get(f"/champions/{champion['id']}/audio", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as reader:
        assert reader.getnchannels() == 2
        seconds = reader.getnframes() / reader.getframerate()
    assert abs(seconds - champion["duration_seconds"]) < 0.1
    other = await sign_up(client)
    response = await client.get(f"/champions/{champion['id']}/audio", headers=other)
    assert response.status_code == 404


async def test_the_upload_may_say_which_speaker_is_the_champion(
    ingest_app: AppClient, call_files: dict[str, Path], sales_call: Any
) -> None:
    app, client = ingest_app
    auth = await sign_up(client)
    chosen = await _ingest(app, client, auth, call_files["opening_stereo"], champion_speaker="S1")
    assert chosen["status"] == "ready", chosen["error"]
    assert chosen["champion_speaker"] == "S1"
    assert chosen["voice_profile"]["champion"]["median_pitch_hz"] > 140  # the prospect's voice
    opening = sales_call.turns[:4]
    prospect = sum(t.end - t.start for t in opening if t.speaker == "prospect")
    share = prospect / sum(t.end - t.start for t in opening)
    assert chosen["metrics"]["talk_ratio"] == pytest.approx(share, abs=0.1)


async def test_a_mixed_mono_call_is_diarized_and_analysing_again_stores_nothing_twice(
    ingest_app: AppClient, call_files: dict[str, Path], short_call: Any
) -> None:
    app, client = ingest_app
    services = app.state.services
    auth = await sign_up(client)
    first = await _ingest(app, client, auth, call_files["short_mono"])
    assert first["status"] == "ready", first["error"]
    segments = (await _transcript(client, auth, first["id"]))["segments"]
    # Both voices are on one channel: diarization still finds two speakers, the right words.
    assert {s["speaker"] for s in segments} == {"S0", "S1"}
    assert first["champion_speaker"] == "S0"
    assert wer(_said(short_call, "champion"), _heard(segments, "S0")) < 0.1
    assert wer(_said(short_call, "prospect"), _heard(segments, "S1")) < 0.1
    response = await client.get(f"/champions/{first['id']}/audio", headers=auth)
    with wave.open(io.BytesIO(response.content)) as reader:
        assert reader.getnchannels() == 1

    async def counts() -> tuple[int, ...]:
        async with services.db.session() as session:
            rows = [
                await session.scalar(
                    select(func.count()).select_from(model).where(model.champion_id == first["id"])
                )
                for model in (Transcript, Pattern, Scenario)
            ]
        return (*rows, await services.vectors.count(champion_id=first["id"]))

    before = await counts()
    response = await client.post(f"/analyze/{first['id']}", headers=auth)
    await services.jobs.wait(response.json()["job_id"])
    again = (await client.get(f"/champions/{first['id']}", headers=auth)).json()
    assert again["status"] == "ready"
    assert await counts() == before
    assert before[0] == 1 and before[1] == before[3] > 0
    assert sorted(p["quote"] for p in again["patterns"]) == sorted(
        p["quote"] for p in first["patterns"]
    )


@pytest.mark.parametrize("fixture", ["opening_mov", "opening_avi"])
async def test_mov_and_avi_are_transcribed(
    ingest_app: AppClient, call_files: dict[str, Path], fixture: str
) -> None:
    app, client = ingest_app
    auth = await sign_up(client)
    champion = await _ingest(app, client, auth, call_files[fixture])
    assert champion["status"] == "ready", champion["error"]
    transcript = await _transcript(client, auth, champion["id"])
    assert len(transcript["segments"]) >= 3


async def test_failures_give_a_reason_and_store_nothing_half_done(
    ingest_app: AppClient, call_files: dict[str, Path], media_files: dict[str, Path]
) -> None:
    app, client = ingest_app
    auth = await sign_up(client)
    silent = await _ingest(app, client, auth, call_files["silent_video"])
    assert silent["status"] == "failed"
    assert silent["latest_job"]["step"] == "extract"
    assert silent["error"] == "the recording has no audio track"

    tone = await _ingest(app, client, auth, media_files["wav"])  # a sine tone, no speech
    assert tone["status"] == "failed"
    assert tone["latest_job"]["step"] == "transcribe"
    assert "no speech" in tone["error"]
    for champion in (silent, tone):
        response = await client.get(f"/champions/{champion['id']}/transcript", headers=auth)
        assert response.status_code == 404
        assert champion["patterns"] == [] and champion["scenario_count"] == 0
    response = await client.get(f"/champions/{silent['id']}/audio", headers=auth)
    assert response.status_code == 404
    assert "no audio yet" in response.json()["detail"]


async def test_progress_streams_as_server_sent_events(
    ingest_app: AppClient, call_files: dict[str, Path]
) -> None:
    _app, client = ingest_app
    auth = await sign_up(client)
    upload = await client.post(
        "/upload",
        headers=auth,
        files={"file": ("call.mp4", call_files["opening_mp4"].read_bytes())},
    )
    champion_id = upload.json()["champion_id"]
    events = []
    async with client.stream("GET", f"/champions/{champion_id}/events", headers=auth) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert events[-1]["status"] == "completed"
    steps = [e["step"] for e in events if e.get("status") == "running" and e.get("step")]
    assert [s for s in STEPS if s in steps] == sorted(set(steps), key=STEPS.index)
    assert {"transcribe", "analyse", "voice"} <= set(steps)
    progress = [e["progress"] for e in events if e.get("progress") is not None]
    assert progress == sorted(progress)

    # Once the job has ended, the stream says so at once and closes.
    again = await client.get(f"/champions/{champion_id}/events", headers=auth)
    lines = [json.loads(x[6:]) for x in again.text.splitlines() if x.startswith("data: ")]
    assert [e["status"] for e in lines] == ["completed"]

    other = await sign_up(client)
    assert (await client.get(f"/champions/{champion_id}/events", headers=other)).status_code == 404
    assert (
        await client.get(f"/champions/{champion_id}/transcript", headers=other)
    ).status_code == 404


async def test_a_recording_damaged_in_storage_fails_the_job_at_verify(
    ingest_app: AppClient, call_files: dict[str, Path]
) -> None:
    app, client = ingest_app
    auth = await sign_up(client)
    champion = await _ingest(app, client, auth, call_files["opening_mp4"])
    assert champion["status"] == "ready", champion["error"]
    stored = app.state.services.media.path_of(champion["id"], "source.mp4")
    stored.write_bytes(stored.read_bytes()[: stored.stat().st_size // 3])
    response = await client.post(f"/analyze/{champion['id']}", headers=auth)
    await app.state.services.jobs.wait(response.json()["job_id"])
    failed = (await client.get(f"/champions/{champion['id']}", headers=auth)).json()
    assert failed["status"] == "failed"
    assert failed["latest_job"]["step"] == "verify"
    assert "damaged or truncated" in failed["error"]
