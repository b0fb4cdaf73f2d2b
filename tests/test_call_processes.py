"""Calls in several processes: each call placed in one, its follow-up requests routed there."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import numpy as np
import pytest

from ingest.espeak import SAMPLE_RATE, EspeakVoice, synthesize
from memory.settings import Settings
from pipelines.call_processes import CallProcesses
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.training import seed_ready_champion, start_training
from tests.support.webrtc_client import CallClient, wait_for

END_OF_CANDIDATES = [{"candidate": "", "sdp_mid": "0", "sdp_mline_index": 0}]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_calls_are_spread_over_processes_and_follow_ups_reach_theirs(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings(call_processes=2)) as (app, client):
        calls = app.state.services.calls
        assert isinstance(calls, CallProcesses)
        pids = {load["pid"] for load in await calls.loads()}
        assert len(pids) == 2 and os.getpid() not in pids

        auth = await sign_up(client)
        champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
        first, second = [
            (await start_training(client, auth, champion_id)).json()["session_id"] for _ in range(2)
        ]
        callers = {first: CallClient(), second: CallClient()}
        pc_ids: dict[str, str] = {}
        try:
            for session_id, caller in callers.items():
                answer = await client.post(
                    f"/training/sessions/{session_id}/offer",
                    headers=auth,
                    json=await caller.offer(),
                )
                assert answer.status_code == 200, answer.text
                pc_ids[session_id] = answer.json()["pc_id"]
                await caller.answer(answer.json())

            # One call in each process.
            homes = {calls.placement[pc][0] for pc in pc_ids.values()}
            assert len(homes) == 2
            assert sorted(load["calls"] for load in await calls.loads()) == [1, 1]
            for caller in callers.values():
                await wait_for(lambda c=caller: c.loud_at, 30, "the greeting")

            # Trickled ICE reaches the process holding the call (any other would answer 404);
            # a call id under another session is not found.
            for session_id, pc_id in pc_ids.items():
                patched = await client.patch(
                    f"/training/sessions/{session_id}/offer",
                    headers=auth,
                    json={"pc_id": pc_id, "candidates": END_OF_CANDIDATES},
                )
                assert patched.status_code == 204, patched.text
            crossed = await client.patch(
                f"/training/sessions/{second}/offer",
                headers=auth,
                json={"pc_id": pc_ids[first], "candidates": END_OF_CANDIDATES},
            )
            assert crossed.status_code == 404

            # A renegotiation is answered by the same peer connection, in its process.
            renegotiated = await client.post(
                f"/training/sessions/{first}/offer",
                headers=auth,
                json={**(await callers[first].offer()), "pc_id": pc_ids[first]},
            )
            assert renegotiated.status_code == 200, renegotiated.text
            assert renegotiated.json()["pc_id"] == pc_ids[first]
            await callers[first].answer(renegotiated.json())

            # The call in its process hears, answers and stores a turn in the shared database.
            caller = callers[first]
            await wait_for(
                lambda: time.monotonic() - caller.loud_at[-1] > 1.0, 30, "the greeting to end"
            )
            speech = synthesize(
                "what is the biggest problem your team has right now",
                EspeakVoice(variant="m3", pitch=40),
            )
            caller.mic.say((speech * 0.25).astype(np.int16), SAMPLE_RATE)
            await wait_for(lambda: caller.mic.speech_ended_at, 20, "the question to be sent")
            spoke_at = caller.mic.speech_ended_at
            await wait_for(lambda: caller.heard_since(spoke_at), 20, "a spoken reply")

            async def stored() -> bool:
                detail = (await client.get(f"/training/sessions/{first}", headers=auth)).json()
                return [t["role"] for t in detail["turns"]][:3] == ["ai", "trainee", "ai"]

            await wait_for(stored, 20, "the turn to be stored")
        finally:
            for caller in callers.values():
                await caller.close()

        # A call process that dies is replaced, and its calls are forgotten.
        victim = calls.processes[calls.placement[pc_ids[second]][0]].pid
        os.kill(victim, signal.SIGKILL)

        async def replaced() -> bool:
            pids_now = {load["pid"] for load in await calls.loads()}
            return len(pids_now) == 2 and victim not in pids_now

        await wait_for(replaced, 60, "the call process to be replaced")
        gone = await client.patch(
            f"/training/sessions/{second}/offer",
            headers=auth,
            json={"pc_id": pc_ids[second], "candidates": END_OF_CANDIDATES},
        )
        assert gone.status_code == 404
        ended = await client.post("/training/end", headers=auth, json={"session_id": first})
        assert ended.status_code == 200
        assert ended.json()["scorecard"]["turn_count"] >= 1
