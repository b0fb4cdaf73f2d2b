"""The AudioAgent's tools through `execute_tool`, on the default providers and real storage:
a generated call ingested end to end, a recording only uploaded (the agent extracts,
transcribes and measures it itself), other users' champions, bad input and the spoken files."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from agents.audio import AudioAgent
from agents.registry import agents_for
from agents.tools.spec import ToolError
from memory.models import Transcript
from memory.settings import Settings
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.services import truncate_all

AppClient = tuple[FastAPI, httpx.AsyncClient]
TOOLS = ("process_recording", "extract_audio", "transcribe", "clone_voice", "analyze_audio")


@pytest.fixture
def database_url(postgres_url: str) -> Any:
    """PostgreSQL only: the ingest these tests run is tested on both databases elsewhere."""
    yield postgres_url
    asyncio.run(truncate_all(postgres_url))


@pytest.fixture
async def ingest_app(
    make_settings: Callable[..., Settings], whisper_models: dict[str, Path]
) -> AsyncIterator[AppClient]:
    async with running_app(make_settings(), full_ingest=True) as pair:
        yield pair


async def _agent(app: FastAPI, client: httpx.AsyncClient) -> tuple[AudioAgent, dict[str, str]]:
    auth = await sign_up(client)
    agents = agents_for(app.state.services.agent_deps(), await current_user_id(client, auth))
    agent = agents["audio"]
    assert isinstance(agent, AudioAgent)
    return agent, auth


async def _upload(app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str], path: Path) -> str:
    files = {"file": (path.name, path.read_bytes())}
    response = await client.post("/upload", headers=auth, files=files)
    assert response.status_code == 202, response.text
    await app.state.services.jobs.wait(response.json()["job_id"])
    return str(response.json()["champion_id"])


def _read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as reader:
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        return reader.getframerate(), np.frombuffer(reader.readframes(-1), np.int16)


async def test_an_ingested_call_through_every_tool(
    ingest_app: AppClient, call_files: dict[str, Path], short_call: Any
) -> None:
    app, client = ingest_app
    agent, auth = await _agent(app, client)
    champion_id = await _upload(app, client, auth, call_files["short_stereo"])
    detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
    assert detail["status"] == "ready", detail["error"]
    media_root = app.state.settings.media_dir

    extracted = await agent.execute_tool("extract_audio", {"champion_id": champion_id})
    assert extracted["already_extracted"] is True
    assert extracted["sample_rate"] == 16_000 and extracted["channels"] == 2
    assert extracted["duration_seconds"] == pytest.approx(short_call.duration, abs=0.5)
    assert extracted["files"] == [f"{champion_id}/audio/channel{i}.wav" for i in (0, 1)]
    assert all((media_root / name).is_file() for name in extracted["files"])

    transcript = await agent.execute_tool("transcribe", {"champion_id": champion_id})
    api = (await client.get(f"/champions/{champion_id}/transcript", headers=auth)).json()
    assert transcript == {**api, "stored": True}  # the same shaping as the API's
    assert transcript["champion_speaker"] == "S0" and transcript["segments"]

    champion = await agent.execute_tool("clone_voice", {"champion_id": champion_id})
    assert champion["stored"] is True and champion["role"] == "champion"
    assert champion["profile"] == detail["voice_profile"]["champion"]
    assert champion["profile"]["provider"] == "offline"
    prospect = await agent.execute_tool(
        "clone_voice", {"champion_id": champion_id, "speaker": "prospect"}
    )
    assert prospect["profile"]["speaker"] == "S1"
    # flite's slt (~165 Hz) against Piper's joe (~100 Hz).
    assert prospect["profile"]["median_pitch_hz"] > 140 > champion["profile"]["median_pitch_hz"]

    analysis = await agent.execute_tool("analyze_audio", {"champion_id": champion_id})
    assert analysis["metrics"] == detail["metrics"]
    assert 0.4 < analysis["metrics"]["talk_ratio"] < 0.8
    assert 100 < analysis["metrics"]["words_per_minute"] < 300
    assert set(analysis["voices"]) == {"champion", "prospect"}
    voices = analysis["voices"]
    assert voices["champion"]["median_pitch_hz"] == champion["profile"]["median_pitch_hz"]
    assert voices["prospect"]["cloned"] is False

    # Spoken in each voice of the call: the profile picks the espeak-ng variant.
    for role, variant in (("champion", "+m3"), ("prospect", "+f2")):
        spoken = await agent.execute_tool(
            "text_to_speech",
            {"text": "Shall we book the pilot?", "champion_id": champion_id, "speaker": role},
        )
        assert spoken["path"].startswith(f"{champion_id}/tts/") and spoken["path"].endswith(".wav")
        assert spoken["voice"]["espeak_voice"].endswith(variant)
        rate, samples = _read_wav(media_root / spoken["path"])
        assert rate == spoken["sample_rate"] == 22_050
        assert samples.size / rate == pytest.approx(spoken["duration_seconds"], abs=0.01)
        assert 0.5 < spoken["duration_seconds"] < 5 and np.abs(samples).max() > 1000

    # Another user gets "not found" for this champion, from every tool.
    stranger, _ = await _agent(app, client)
    calls = [(name, {"champion_id": champion_id}) for name in TOOLS]
    calls.append(("text_to_speech", {"text": "hello", "champion_id": champion_id}))
    for name, args in calls:
        with pytest.raises(ToolError) as refused:
            await stranger.execute_tool(name, args)
        assert refused.value.kind == "failed"
        assert refused.value.message == f"{name} failed: champion not found"
    assert not (media_root / "users").exists()  # the refused speech wrote nothing


async def test_an_uploaded_recording_is_extracted_transcribed_and_measured_on_demand(
    app_client: AppClient, call_files: dict[str, Path], whisper_models: dict[str, Path]
) -> None:
    app, client = app_client  # its jobs only verify the upload: nothing else is stored
    agent, auth = await _agent(app, client)
    champion_id = await _upload(app, client, auth, call_files["short_stereo"])
    media_root = app.state.settings.media_dir

    with pytest.raises(ToolError) as nothing_yet:
        await agent.execute_tool("analyze_audio", {"champion_id": champion_id})
    assert "no audio analysis yet" in nothing_yet.value.message

    extracted = await agent.execute_tool("extract_audio", {"champion_id": champion_id})
    assert extracted["already_extracted"] is False and extracted["channels"] == 2
    assert all((media_root / name).is_file() for name in extracted["files"])
    again = await agent.execute_tool("extract_audio", {"champion_id": champion_id})
    assert again == {**extracted, "already_extracted": True}

    transcript = await agent.execute_tool("transcribe", {"champion_id": champion_id})
    assert transcript["stored"] is False and transcript["provider"] == "whisper"
    assert {s["speaker"] for s in transcript["segments"]} == {"S0", "S1"}
    assert transcript["champion_speaker"] == "S0"  # who talks most
    async with app.state.services.storage.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Transcript)) == 0

    measured = await agent.execute_tool(
        "clone_voice", {"champion_id": champion_id, "speaker": "prospect"}
    )
    assert measured["stored"] is False
    assert measured["profile"]["provider"] == "offline" and measured["profile"]["speaker"] == "S1"
    assert measured["profile"]["median_pitch_hz"] > 140
    detail = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
    assert detail["voice_profile"] is None  # measured for the caller, not stored


async def test_speech_without_a_champion_goes_to_the_users_folder(app_client: AppClient) -> None:
    app, client = app_client
    agent, auth = await _agent(app, client)
    user_id = await current_user_id(client, auth)

    spoken = await agent.execute_tool("text_to_speech", {"text": "Hello there."})
    assert spoken["path"].startswith(f"users/{user_id}/tts/")
    assert spoken["voice"]["espeak_voice"] == "en-us" and spoken["champion_id"] is None
    rate, samples = _read_wav(app.state.settings.media_dir / spoken["path"])
    assert rate == 22_050 and samples.size > rate // 2 and np.abs(samples).max() > 1000


@pytest.mark.parametrize(
    ("tool", "args", "problem"),
    [
        ("text_to_speech", {"text": ""}, "text: String should have at least 1 character"),
        ("text_to_speech", {"text": "x" * 501}, "text: String should have at most 500"),
        ("text_to_speech", {"text": " \n "}, "text must not be empty"),
        (
            "text_to_speech",
            {"text": "hi", "speaker": "narrator"},
            "speaker: Input should be 'champion' or 'prospect'",
        ),
        ("clone_voice", {"champion_id": "c", "speaker": "agent"}, "speaker: Input should be"),
        ("extract_audio", {}, "champion_id: Field required"),
        ("transcribe", {"champion_id": "c", "path": "/etc/passwd"}, "path: Extra inputs"),
    ],
)
async def test_bad_input_gets_a_clear_error_and_writes_nothing(
    app_client: AppClient, tool: str, args: dict[str, Any], problem: str
) -> None:
    app, client = app_client
    agent, _auth = await _agent(app, client)

    with pytest.raises(ToolError) as caught:
        await agent.execute_tool(tool, args)

    assert caught.value.kind == "invalid_input"
    assert caught.value.message.startswith(f"bad input for {tool}: ")
    assert problem in caught.value.message
    assert not (app.state.settings.media_dir / "users").exists()


async def test_unknown_champions_are_not_found(app_client: AppClient) -> None:
    app, client = app_client
    agent, _auth = await _agent(app, client)
    for champion_id in ("00000000-0000-4000-8000-000000000000", "../../etc", "x"):
        with pytest.raises(ToolError) as caught:
            await agent.execute_tool("extract_audio", {"champion_id": champion_id})
        assert caught.value.message == "extract_audio failed: champion not found"


def test_the_schemas_come_from_the_signatures() -> None:
    specs = {spec.name: spec for spec in AudioAgent.tool_specs()}
    assert set(specs) == {*TOOLS, "text_to_speech"}
    speak = specs["text_to_speech"].input_schema
    assert speak["required"] == ["text"]
    text = speak["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, 500)
    assert speak["properties"]["speaker"]["enum"] == ["champion", "prospect"]
    assert specs["clone_voice"].input_schema["properties"]["speaker"]["default"] == "champion"
