"""Real WebRTC calls on loopback, the trainee spoken by a natural voice and heard by whisper:
the prospect answers, all is stored; a two-sentence answer with a pause stays one turn; a
"yeah" while the prospect talks does not interrupt it."""

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
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.training import seed_ready_champion, start_training
from tests.support.voices import require_voice, speak
from tests.support.webrtc_client import CallClient, wait_for

AppClient = tuple[FastAPI, httpx.AsyncClient]
QUESTION = "What is the biggest problem your team has right now?"
RATE = 16_000
MIC_PEAK = 8000  # a microphone's level, not the synthesizer's full scale
VOICE = "piper"


def words_of(text: str) -> set[str]:
    return {w.strip(".,?!").lower() for w in text.split()}


def spoken(*sentences: str, pause_secs: float = 0.6) -> np.ndarray:
    """The sentences in the natural test voice, one pause between each, at a mic's level."""
    parts: list[np.ndarray] = []
    for index, sentence in enumerate(sentences):
        audio = speak(sentence, VOICE, rate=RATE).astype(np.float32)
        loud = np.flatnonzero(np.abs(audio) > 300)  # the synthesizer's own silences off
        parts.append(audio[loud[0] : loud[-1] + 1])
        if index < len(sentences) - 1:
            parts.append(np.zeros(int(pause_secs * RATE), np.float32))
    audio = np.concatenate(parts)
    return (audio * (MIC_PEAK / np.abs(audio).max())).astype(np.int16)


def of_type(call: CallClient, kind: str) -> list[int]:
    """Where RTVI messages of ``kind`` are in what the client received."""
    return [i for i, m in enumerate(call.messages) if m.get("type") == kind]


@pytest.fixture(scope="module")
def natural_voice(whisper_models: dict[str, Any]) -> None:
    """Calls hear the trainee with whisper, who speaks with the Piper voice (fail under CI)."""
    require_voice(VOICE)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_spoken_turn_is_answered_scored_and_stored(
    make_settings: Callable[..., Settings], natural_voice: None
) -> None:
    async with running_app(make_settings()) as (app, client):
        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        session_id = (await start_training(client, auth, champion_id)).json()["session_id"]

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

            call.mic.say(spoken(QUESTION), RATE)
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
            # whisper heard what was said (a word or two may differ)
            assert len(words_of(trainee["text"]) & words_of(QUESTION)) >= len(QUESTION.split()) - 2
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
    champion_id = await seed_ready_champion(app, await current_user_id(client, owner))
    session_id = (await start_training(client, owner, champion_id)).json()["session_id"]
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


async def test_a_pause_between_sentences_keeps_one_turn_and_a_yeah_does_not_interrupt(
    make_settings: Callable[..., Settings], natural_voice: None
) -> None:
    first = "We help teams like yours save time on scheduling."
    second = "How many drivers do you have today?"
    async with running_app(make_settings()) as (app, client):
        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        session_id = (await start_training(client, auth, champion_id)).json()["session_id"]

        async def turns() -> list[dict[str, Any]]:
            detail = (await client.get(f"/training/sessions/{session_id}", headers=auth)).json()
            return list(detail["turns"])

        call = CallClient()
        try:
            answer = await client.post(
                f"/training/sessions/{session_id}/offer", headers=auth, json=await call.offer()
            )
            assert answer.status_code == 200, answer.text
            await call.answer(answer.json())

            # A backchannel while the prospect greets (two words: a lone 0.3 s "yeah" is
            # below what the VAD takes for speech): heard, but the greeting goes on.
            await wait_for(lambda: of_type(call, "bot-started-speaking"), 30, "the greeting")
            call.mic.say(spoken("Yeah, sure."), RATE)
            heard = await wait_for(
                lambda: [
                    i
                    for i in of_type(call, "user-input") + of_type(call, "user-transcription")
                    if call.messages[i]["data"].get("final")
                ],
                20,
                "the server to hear the backchannel",
            )
            stopped = await wait_for(
                lambda: of_type(call, "bot-stopped-speaking"), 30, "the greeting to end"
            )
            assert heard[0] < stopped[0]  # it was heard while the prospect spoke
            seen = [m.get("type") for m in call.messages]
            assert not of_type(call, "bot-interrupted"), seen
            assert not of_type(call, "user-started-speaking"), seen
            await wait_for(
                lambda: time.monotonic() - call.loud_at[-1] > 1.0, 30, "the greeting's audio"
            )

            # Two sentences with a pause people make between them: one turn, one reply.
            call.mic.say(spoken(first, second, pause_secs=0.6), RATE)
            await wait_for(lambda: call.mic.speech_ended_at, 20, "the answer to be sent")

            async def answered() -> list[dict[str, Any]] | None:
                stored = await turns()
                ends = [i for i, t in enumerate(stored) if "drivers" in t["text"].lower()]
                replied = ends and any(t["role"] == "ai" for t in stored[ends[0] + 1 :])
                return stored if replied else None

            stored = await wait_for(answered, 30, "the answer to be stored and answered")
        finally:
            await call.close()

        trainee = [t["text"] for t in stored if t["role"] == "trainee"]
        assert len(trainee) == 1, trainee  # neither the "yeah" nor half an answer
        heard = words_of(trainee[0])  # both sentences, a word or two may differ
        assert len(heard & words_of(first)) >= len(first.split()) - 3, trainee
        assert len(heard & words_of(second)) >= len(second.split()) - 2, trainee
        await client.post("/training/end", headers=auth, json={"session_id": session_id})
