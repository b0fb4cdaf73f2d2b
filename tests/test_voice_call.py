"""A real WebRTC call on loopback: the trainee speaks, the prospect answers, all is stored."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from memory.settings import Settings
from pipelines.services.espeak.synth import SAMPLE_RATE, EspeakVoice, synthesize
from tests.conftest import running_app, sign_up
from tests.test_training_api import _start, _user_id, seed_ready_champion
from tests.webrtc_client import CallClient, wait_for

AppClient = tuple[FastAPI, httpx.AsyncClient]
QUESTION = "what is the biggest problem your team has right now"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_spoken_turn_is_answered_scored_and_stored(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings()) as (app, client):
        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await _user_id(client, auth))
        session_id = (await _start(client, auth, champion_id)).json()["session_id"]

        call = CallClient()
        try:
            answer = await client.post(
                f"/training/sessions/{session_id}/offer", headers=auth, json=await call.offer()
            )
            assert answer.status_code == 200, answer.text
            await call.answer(answer.json())

            # The prospect speaks first (the scenario's opening line).
            await wait_for(lambda: call.loud_at, 20, "the greeting")
            await wait_for(
                lambda: time.monotonic() - call.loud_at[-1] > 1.0, 30, "the greeting to end"
            )

            # Bad requests during the call are refused and leave the call as it was.
            path = f"/training/sessions/{session_id}/offer"
            broken = {"sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "type": "offer"}
            assert (await client.post(path, headers=auth, json=broken)).status_code == 400
            garbage = [{"candidate": "candidate:not a candidate", "sdp_mid": "0",
                        "sdp_mline_index": 0}]  # fmt: skip
            bad_ice = await client.patch(
                path, headers=auth, json={"pc_id": answer.json()["pc_id"], "candidates": garbage}
            )
            assert bad_ice.status_code == 400

            speech = synthesize(QUESTION, EspeakVoice(variant="m3", pitch=40))
            call.mic.say((speech * 0.25).astype(np.int16), SAMPLE_RATE)
            await wait_for(lambda: call.mic.speech_ended_at, 20, "the question to be sent")
            spoke_at = call.mic.speech_ended_at
            await wait_for(lambda: call.heard_since(spoke_at), 20, "a spoken reply")

            async def scored() -> Any:
                detail = (await client.get(f"/training/sessions/{session_id}", headers=auth)).json()
                trainee = [t for t in detail["turns"] if t["role"] == "trainee"]
                return detail if trainee and trainee[0]["score"] is not None else None

            detail = await wait_for(scored, 20, "the turn to be scored")
            roles = [t["role"] for t in detail["turns"]]
            assert roles[:3] == ["ai", "trainee", "ai"]
            trainee = detail["turns"][1]
            assert len(set(trainee["text"].split()) & set(QUESTION.split())) >= 2
            assert detail["turns"][2]["text"]
            await wait_for(
                lambda: any(
                    m.get("type") == "server-message" and m["data"].get("type") == "turn-score"
                    for m in call.messages
                ),
                10,
                "the live score",
            )
            latency = await wait_for(
                lambda: next(
                    (
                        m["data"]
                        for m in call.messages
                        if m.get("type") == "server-message"
                        and m["data"].get("type") == "turn-latency"
                    ),
                    None,
                ),
                10,
                "the turn's latency",
            )
            assert 0 < latency["latency_ms"] < 5000
            parts = latency["breakdown"]
            for part in ("end_of_turn_ms", "stt_ms", "llm_first_token_ms", "tts_first_audio_ms"):
                assert parts[part] >= 0, part
            assert parts["end_of_turn_ms"] >= 150  # the VAD's 0.2 s of silence, less jitter
            assert sum(v for k, v in parts.items() if k != "server_ms") == pytest.approx(
                parts["server_ms"], abs=1.0
            )

            # The client's own figure completes the stored breakdown.
            heard_ms = (next(t for t in call.loud_at if t > spoke_at) - spoke_at) * 1000
            call.report_latency(heard_ms)

            async def reported() -> Any:
                detail = (await client.get(f"/training/sessions/{session_id}", headers=auth)).json()
                stored = (detail["turns"][2].get("latency_breakdown") or {}).get("client_ms")
                return detail["turns"][2] if stored is not None else None

            reply_turn = await wait_for(reported, 10, "the client's latency to be stored")
            assert reply_turn["latency_ms"] == pytest.approx(heard_ms, abs=0.1)
            stored = reply_turn["latency_breakdown"]
            assert stored["server_ms"] == latency["latency_ms"]
            assert stored["transport_ms"] == pytest.approx(
                max(0.0, heard_ms - stored["server_ms"]), abs=0.2
            )
        finally:
            await call.close()

        ended = await client.post("/training/end", headers=auth, json={"session_id": session_id})
        assert ended.status_code == 200
        assert ended.json()["scorecard"]["turn_count"] >= 1

        # Both sides of the call were recorded, each to its own WAV file.
        async def recorded(track: str) -> tuple[np.ndarray] | None:
            response = await client.get(
                f"/training/sessions/{session_id}/recording/{track}", headers=auth
            )
            if response.status_code != 200:
                return None
            with wave.open(io.BytesIO(response.content)) as reader:
                if reader.getnframes() == 0:  # still being written
                    return None
                assert reader.getframerate() == 16_000
                return (np.frombuffer(reader.readframes(reader.getnframes()), np.int16),)

        (trainee,) = await wait_for(lambda: recorded("trainee"), 20, "the trainee's recording")
        (ai,) = await wait_for(lambda: recorded("ai"), 20, "the AI's recording")
        assert np.abs(trainee).max() > 1000  # the question
        assert np.abs(ai).max() > 1000  # the greeting and the reply
        other = await sign_up(client)
        stranger = await client.get(f"/training/sessions/{session_id}/recording/ai", headers=other)
        assert stranger.status_code == 404


async def test_only_the_owner_of_an_active_session_may_connect(app_client: AppClient) -> None:
    app, client = app_client
    owner, other = await sign_up(client), await sign_up(client)
    champion_id = await seed_ready_champion(app, await _user_id(client, owner))
    session_id = (await _start(client, owner, champion_id)).json()["session_id"]
    offer = {"sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "type": "offer"}
    path = f"/training/sessions/{session_id}/offer"

    assert (await client.post(path, headers=other, json=offer)).status_code == 404
    bad = await client.post(path, headers=owner, json={"sdp": "hello", "type": "offer"})
    assert bad.status_code == 400 and "SDP" in bad.json()["detail"]
    no_audio = await client.post(path, headers=owner, json=offer)
    assert no_audio.status_code == 400 and "no audio" in no_audio.json()["detail"]
    broken = await client.post(path, headers=owner, json={**offer, "sdp": offer["sdp"] + "m=audio"})
    assert broken.status_code == 400
    assert (
        await client.post(path, headers=owner, json={"sdp": "", "type": "offer"})
    ).status_code == 422
    foreign = await client.post(path, headers=owner, json={**offer, "pc_id": "someone-elses"})
    assert foreign.status_code == 404
    ice = await client.patch(path, headers=owner, json={"pc_id": "nope", "candidates": []})
    assert ice.status_code == 404

    await client.post("/training/end", headers=owner, json={"session_id": session_id})
    assert (await client.post(path, headers=owner, json=offer)).status_code == 409
    health = await client.get("/health")
    assert health.status_code == 200
