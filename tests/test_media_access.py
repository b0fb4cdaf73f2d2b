"""Recordings stream to `<audio>` elements with the media cookie, which opens nothing else."""

from __future__ import annotations

import wave

import httpx
from fastapi import FastAPI

from pipelines.recording import track_path
from tests.support.apps import current_user_id, sign_up
from tests.support.training import seed_ready_champion, start_training

AppClient = tuple[FastAPI, httpx.AsyncClient]


async def _recorded_session(app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    champion_id = await seed_ready_champion(app, await current_user_id(client, auth))
    session_id = str((await start_training(client, auth, champion_id)).json()["session_id"])
    folder = app.state.services.media.session_dir(session_id)
    for track in ("trainee", "ai"):
        path = track_path(folder, track)
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(16_000)
            writer.writeframes(b"\x01\x00" * 16_000)
    return session_id


async def test_the_media_cookie_streams_your_recordings_and_nothing_else(
    app_client: AppClient,
) -> None:
    app, client = app_client
    auth = await sign_up(client)
    session_id = await _recorded_session(app, client, auth)
    path = f"/training/sessions/{session_id}/recording/ai"
    assert (await client.get(path)).status_code == 401

    given = await client.post("/auth/media-cookie", headers=auth)
    assert given.status_code == 204
    cookie = given.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    media_token = given.cookies["championclone_media"]

    # With only the cookie, as an <audio> element asks: whole, and by range for seeking.
    jar = {"championclone_media": media_token}
    whole = await client.get(path, cookies=jar)
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
    part = await client.get(path, cookies=jar, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]

    # The media token is no bearer token, and the bearer token is no media cookie.
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {media_token}"})
    assert me.status_code == 401
    bearer = auth["Authorization"].removeprefix("Bearer ")
    swapped = await client.get(path, cookies={"championclone_media": bearer})
    assert swapped.status_code == 401

    # Another user's cookie finds nothing of yours.
    other = await sign_up(client)
    theirs = (await client.post("/auth/media-cookie", headers=other)).cookies
    assert (await client.get(path, cookies=dict(theirs))).status_code == 404

    forgotten = await client.delete("/auth/media-cookie")
    assert forgotten.status_code == 204
    assert 'championclone_media=""' in forgotten.headers["set-cookie"]
    assert "max-age=0" in forgotten.headers["set-cookie"].lower()
