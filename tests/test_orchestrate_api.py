"""POST /orchestrate: a recording uploaded and processed end to end (ingest, then the four
readers in parallel), the training and question flows, and every way a request is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from memory.settings import Settings
from tests.support.apps import current_user_id, running_app, sign_up, stored_files
from tests.support.services import truncate_all
from tests.support.training import seed_ready_champion

AppClient = tuple[FastAPI, httpx.AsyncClient]
INGEST_STEPS = ["verify", "extract", "transcribe", "analyse", "scenarios", "voice"]
READERS = {
    "patterns": ("pattern", "extract_patterns"),
    "scenarios": ("pattern", "generate_scenarios"),
    "voice": ("audio", "clone_voice"),
    "analysis": ("audio", "analyze_audio"),
}


@pytest.fixture
def database_url(postgres_url: str) -> Any:
    """PostgreSQL only: the ingest these tests run is tested on both databases elsewhere."""
    yield postgres_url
    asyncio.run(truncate_all(postgres_url))


@pytest.fixture
async def ingest_app(make_settings: Callable[..., Settings]) -> AsyncIterator[AppClient]:
    async with running_app(make_settings(), full_ingest=True) as pair:
        yield pair


@pytest.fixture(scope="module")
def champion_mp4(tmp_path_factory: pytest.TempPathFactory, short_call: Any) -> Path:
    """The short generated call (two voices, one objection) as a small video."""
    from tests.support.dialogue import write_video

    return write_video(short_call, tmp_path_factory.mktemp("orchestrate") / "champion.mp4")


async def _orchestrate(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    task: str | None,
    *,
    context: dict[str, Any] | str | None = None,
    file: tuple[str, bytes] | None = None,
) -> httpx.Response:
    data: dict[str, str] = {}
    if task is not None:
        data["task"] = task
    if context is not None:
        data["context"] = context if isinstance(context, str) else json.dumps(context)
    # Always multipart, as a browser's form sends it: a file-less form gets an empty text part.
    files = {"file": file} if file is not None else {"note": (None, b"")}
    return await client.post("/orchestrate", headers=auth, data=data, files=files)


async def test_an_uploaded_video_is_ingested_then_read_in_parallel(
    ingest_app: AppClient, champion_mp4: Path
) -> None:
    _app, client = ingest_app
    auth = await sign_up(client)

    response = await _orchestrate(
        client,
        auth,
        "Upload and analyze video champion.mp4",
        context={"name": "Alex"},
        file=("champion.mp4", champion_mp4.read_bytes()),
    )

    assert response.status_code == 200, response.text
    report = response.json()
    upload = report["upload"]
    champion_id = upload["champion_id"]
    assert report["intent"] == "process_recording" and report["planner"] == "offline"
    assert report["status"] == "done", report["steps"]
    plan = {step["id"]: step for step in report["plan"]}
    assert plan["ingest"]["needs"] == []
    assert all(plan[step]["needs"] == ["ingest"] for step in READERS)  # parallel after ingest

    steps = {step["id"]: step for step in report["steps"]}
    ingest = steps["ingest"]
    assert (ingest["agent"], ingest["tool"]) == ("audio", "process_recording")
    assert ingest["status"] == "done"
    assert ingest["result"]["status"] == "ready"
    assert ingest["result"]["job_id"] == upload["job_id"]
    assert ingest["result"]["completed_steps"] == INGEST_STEPS
    assert ingest["result"]["already_processed"] is False  # it waited for the job
    for step_id, (agent, tool) in READERS.items():
        step = steps[step_id]
        assert (step["agent"], step["tool"], step["status"]) == (agent, tool, "done"), step
        assert step["args"]["champion_id"] == champion_id  # taken from the ingest step

    result = report["result"]
    assert set(result) == {"ingest", *READERS}
    patterns = result["patterns"]
    assert patterns["name"] == "Alex" and patterns["pattern_count"] > 0
    assert patterns["patterns"]["opening"] and patterns["patterns"]["discovery_question"]
    scenarios = result["scenarios"]["scenarios"]
    assert scenarios and scenarios[0]["opening_line"] and scenarios[0]["objections"]
    voice = result["voice"]
    assert voice["stored"] is True and voice["profile"]["provider"] == "offline"
    assert 0.3 < result["analysis"]["metrics"]["talk_ratio"] < 0.9

    detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
    assert detail["name"] == "Alex" and detail["status"] == "ready"
    assert len(detail["patterns"]) == patterns["pattern_count"]


async def test_a_recording_whose_ingest_fails_says_why_and_skips_the_rest(
    ingest_app: AppClient, media_files: dict[str, Path]
) -> None:
    _app, client = ingest_app
    auth = await sign_up(client)

    response = await _orchestrate(
        client, auth, "Process this call", file=("tone.wav", media_files["wav"].read_bytes())
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["intent"] == "process_recording" and report["status"] == "failed"
    steps = {step["id"]: step for step in report["steps"]}
    assert steps["ingest"]["status"] == "failed"
    assert "no speech" in steps["ingest"]["error"]  # the job's own reason
    assert all(steps[step]["status"] == "skipped" for step in READERS)


async def test_the_training_flow_starts_a_session(app_client: AppClient) -> None:
    app, client = app_client
    auth = await sign_up(client)
    await seed_ready_champion(app, await current_user_id(client, auth))

    response = await _orchestrate(client, auth, "Start training with Alex on hard")

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["intent"] == "start_training" and report["status"] == "done"
    assert report["upload"] is None
    start, tips = report["steps"]
    assert start["args"]["difficulty"] == "hard" and tips["result"]["tips"]
    session_id = report["result"]["session_id"]
    session = await client.get(f"/training/sessions/{session_id}", headers=auth)
    assert session.status_code == 200 and session.json()["difficulty"] == "hard"


async def test_a_question_is_answered_from_the_champions_patterns(app_client: AppClient) -> None:
    app, client = app_client
    auth = await sign_up(client)
    champion_id = await seed_ready_champion(app, await current_user_id(client, auth))

    response = await _orchestrate(
        client, auth, "How do they handle price objections?", context={"champion_id": champion_id}
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["intent"] == "ask_about_champion" and report["status"] == "done"
    lines = report["result"]["lines"]
    assert lines and all(line["category"] == "objection_handling" for line in lines)


@pytest.mark.parametrize(
    ("task", "context", "message"),
    [
        (None, {"champion_id": "x"}, "'task' is required"),
        ("   ", None, "'task' is required"),
        ("x" * 1001, None, "at most 1000 characters"),
        ("Start training", "{not json", "not valid JSON"),
        ("Start training", "[1, 2]", "must be a JSON object"),
        ("Make me a sandwich", None, "I can start a training session"),
        ("Start training with champion 2", None, "there is no champion 2"),
    ],
)
async def test_bad_requests_get_a_clear_422(
    app_client: AppClient, task: str | None, context: str | dict[str, Any] | None, message: str
) -> None:
    app, client = app_client
    auth = await sign_up(client)
    await seed_ready_champion(app, await current_user_id(client, auth))

    response = await _orchestrate(client, auth, task, context=context)

    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


async def test_a_user_without_champions_is_told_to_upload_first(client: httpx.AsyncClient) -> None:
    auth = await sign_up(client)
    response = await _orchestrate(client, auth, "Start training")
    assert response.status_code == 422
    assert "upload a recording first" in response.json()["detail"]


@pytest.mark.parametrize(
    ("filename", "context", "status", "message"),
    [
        ("call.exe", None, 415, "not supported"),
        ("disguised.mp4", None, 415, "does not match"),
        ("call.wav", "{broken", 422, "not valid JSON"),
        ("call.wav", {"name": "n" * 201}, 422, "200 characters"),
    ],
)
async def test_a_refused_request_with_a_file_stores_nothing(
    app_client: AppClient,
    media_files: dict[str, Path],
    filename: str,
    context: str | dict[str, Any] | None,
    status: int,
    message: str,
) -> None:
    app, client = app_client
    auth = await sign_up(client)

    response = await _orchestrate(
        client,
        auth,
        "Upload and analyze this call",
        context=context,
        file=(filename, media_files["wav"].read_bytes()),
    )

    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert (await client.get("/champions", headers=auth)).json() == []
    assert stored_files(app) == []


async def test_a_json_body_is_refused(client: httpx.AsyncClient) -> None:
    auth = await sign_up(client)
    response = await client.post("/orchestrate", headers=auth, json={"task": "Start training"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


async def test_orchestrate_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/orchestrate", data={"task": "Start training"})
    assert response.status_code == 401


async def test_a_file_counts_against_the_upload_limit_and_a_refused_one_is_not_kept(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    async with running_app(make_settings(rate_limit_upload="1/hour")) as (app, client):
        auth = await sign_up(client)
        wav = ("call.wav", media_files["wav"].read_bytes())
        first = await _orchestrate(client, auth, "Process this call", file=wav)
        assert first.status_code == 200, first.text
        kept = stored_files(app)

        second = await _orchestrate(client, auth, "Process this call", file=wav)

        assert second.status_code == 429 and "too many requests" in second.json()["detail"]
        assert len((await client.get("/champions", headers=auth)).json()) == 1
        assert stored_files(app) == kept  # the refused file was not kept


async def test_refused_files_count_against_the_upload_limit_shared_with_upload(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    wav = media_files["wav"].read_bytes()
    async with running_app(make_settings(rate_limit_upload="2/hour")) as (app, client):
        auth = await sign_up(client)
        for refused in (("call.exe", wav), ("disguised.mp4", wav)):
            response = await _orchestrate(client, auth, "Process this call", file=refused)
            assert response.status_code == 415, response.text

        limited = await _orchestrate(client, auth, "Process this call", file=("call.wav", wav))
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["retry-after"]) > 3000
        upload = await client.post("/upload", headers=auth, files={"file": ("call.wav", wav)})
        assert upload.status_code == 429
        # A task without a file is no upload: it is still answered.
        training = await _orchestrate(client, auth, "Start training")
        assert training.status_code == 422 and "upload a recording first" in training.text
        assert stored_files(app) == []


async def test_a_file_over_the_upload_limit_is_not_read_on(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    wav = media_files["wav"].read_bytes()
    boundary = "limit-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="task"\r\n\r\nProcess this call\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="call.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    rest_requested = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield head + wav[:4096]
        rest_requested.set()
        yield wav[4096:] + f"\r\n--{boundary}--\r\n".encode()

    async with running_app(make_settings(rate_limit_upload="1/hour")) as (app, client):
        auth = await sign_up(client)
        spent = await _orchestrate(client, auth, "Process this call", file=("call.exe", wav))
        assert spent.status_code == 415

        response = await client.post(
            "/orchestrate",
            headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=body(),
        )

        assert response.status_code == 429, response.text
        assert not rest_requested.is_set()
        assert stored_files(app) == []
