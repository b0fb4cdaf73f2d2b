"""POST /upload: every accepted format, and every way an upload can be refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from memory.settings import Settings
from tests.support.apps import running_app, sign_up, stored_files

AppClient = tuple[FastAPI, httpx.AsyncClient]


async def _upload(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    path: Path,
    *,
    filename: str | None = None,
    name: str | None = None,
) -> httpx.Response:
    data = {"name": name} if name is not None else None
    files = {"file": (filename or path.name, path.read_bytes(), "application/octet-stream")}
    return await client.post("/upload", headers=auth, files=files, data=data)


async def _assert_nothing_stored(app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]):
    listing = await client.get("/champions", headers=auth)
    assert listing.json() == []
    assert stored_files(app) == []


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a", "mp4", "mov", "avi"])
async def test_each_accepted_format_is_stored_and_its_job_runs(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path], fmt: str
) -> None:
    app, client = app_client
    response = await _upload(client, auth, media_files[fmt], name="  Marie   Dupont ")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    await app.state.services.jobs.wait(body["job_id"])

    champion = (await client.get(f"/champions/{body['champion_id']}", headers=auth)).json()
    assert champion["name"] == "Marie Dupont"
    assert champion["media_format"] == fmt
    assert champion["media_kind"] == ("audio" if fmt in ("wav", "mp3", "m4a") else "video")
    assert champion["duration_seconds"] == pytest.approx(2.0, abs=0.1)
    assert champion["latest_job"]["status"] == "completed"
    assert champion["latest_job"]["completed_steps"] == ["verify"]
    assert champion["status"] == "ready"
    files = stored_files(app)
    assert [f.name for f in files] == [f"source.{fmt}"]
    assert files[0].parent.name == body["champion_id"]
    assert files[0].read_bytes() == media_files[fmt].read_bytes()


async def test_control_characters_never_reach_the_database(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    _app, client = app_client
    response = await _upload(
        client, auth, media_files["wav"], filename="a\x00b\tc.wav", name="Ma\x00rie\x07 D\nupont"
    )
    assert response.status_code == 202, response.text
    champion_id = response.json()["champion_id"]
    champion = (await client.get(f"/champions/{champion_id}", headers=auth)).json()
    assert champion["name"] == "Ma rie D upont"
    assert "\x00" not in champion["source_filename"]


async def test_the_client_file_name_never_becomes_a_path(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    app, client = app_client
    response = await _upload(client, auth, media_files["wav"], filename="../../etc/evil call.wav")
    assert response.status_code == 202
    champion = (
        await client.get(f"/champions/{response.json()['champion_id']}", headers=auth)
    ).json()
    assert champion["source_filename"] == "evil call.wav"
    assert champion["name"] == "evil call"
    assert all(app.state.settings.media_dir in f.parents for f in stored_files(app))


@pytest.mark.parametrize(
    ("make", "filename", "status", "message"),
    [
        (lambda m: m["wav"].read_bytes(), "call.exe", 415, "not supported"),
        (lambda m: m["wav"].read_bytes(), "noextension", 415, "not supported"),
        (lambda m: m["wav"].read_bytes(), "disguised.mp4", 415, "does not match"),
        (lambda m: b"\x89PNG\r\n\x1a\n" + bytes(2000), "image.mov", 415, "does not match"),
        (lambda m: b"MZ" + bytes(100), "program.avi", 415, "does not match"),
        (lambda m: b"", "empty.mp4", 400, "empty"),
        (lambda m: b"RIFF", "tiny.wav", 415, "does not match"),
        (lambda m: m["cut"].read_bytes(), "cut.mp4", 422, "damaged or truncated"),
        (lambda m: m["cut_faststart"].read_bytes(), "cut.mp4", 422, "truncated"),
        (lambda m: b"\x00\x00\x00\x18ftypisom" + bytes(5000), "fake.mp4", 422, "damaged"),
    ],
)
async def test_bad_files_are_refused_and_leave_nothing_behind(
    app_client: AppClient,
    auth: dict[str, str],
    media_files: dict[str, Path],
    make: Callable[[dict[str, Path]], bytes],
    filename: str,
    status: int,
    message: str,
) -> None:
    app, client = app_client
    files = {"file": (filename, make(media_files), "application/octet-stream")}
    response = await client.post("/upload", headers=auth, files=files)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    await _assert_nothing_stored(app, client, auth)


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        (
            {"data": {"name": "no file"}, "files": {"other": ("a.txt", b"x")}},
            422,
            "'file' is required",
        ),
        ({"json": {"file": "call.wav"}}, 415, "multipart/form-data"),
        (
            {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data"}},
            400,
            "no boundary",
        ),
        ({"data": {"file": "not a file"}, "files": {"x": ("a.txt", b"x")}}, 422, "must be a file"),
        ({"data": {"name": "n" * 201}, "files": {"file": ("c.wav", None)}}, 422, "200 characters"),
    ],
)
async def test_malformed_forms_are_refused(
    app_client: AppClient,
    auth: dict[str, str],
    media_files: dict[str, Path],
    kwargs: dict,
    status: int,
    message: str,
) -> None:
    app, client = app_client
    kwargs = dict(kwargs)
    if "files" in kwargs and kwargs["files"].get("file") == ("c.wav", None):
        kwargs["files"] = {"file": ("c.wav", media_files["wav"].read_bytes())}
    headers = {**auth, **kwargs.pop("headers", {})}
    response = await client.post("/upload", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    await _assert_nothing_stored(app, client, auth)


async def test_two_files_in_one_upload_are_refused(
    app_client: AppClient, auth: dict[str, str], media_files: dict[str, Path]
) -> None:
    app, client = app_client
    wav = media_files["wav"].read_bytes()
    files = [("file", ("a.wav", wav)), ("file", ("b.wav", wav))]
    response = await client.post("/upload", headers=auth, files=files)
    assert response.status_code == 422
    assert "exactly one file" in response.json()["detail"]
    await _assert_nothing_stored(app, client, auth)


async def test_upload_needs_a_signed_in_user(
    client: httpx.AsyncClient, media_files: dict[str, Path]
) -> None:
    response = await _upload(client, {}, media_files["wav"])
    assert response.status_code == 401


class _CountingBody(httpx.AsyncByteStream):
    """A streamed (chunked) multipart body that records how much of it was read."""

    def __init__(self, boundary: str, header: bytes, size: int) -> None:
        self.boundary, self.header, self.size, self.sent = boundary, header, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        prefix = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        yield prefix + self.header
        chunk = bytes(64 * 1024)
        while self.sent < self.size:
            self.sent += len(chunk)
            yield chunk
        yield f"\r\n--{self.boundary}--\r\n".encode()


async def test_oversize_upload_is_413_before_the_rest_is_read(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    async with running_app(make_settings(max_upload_mb=1)) as (app, client):
        auth = await sign_up(client)
        header = media_files["wav"].read_bytes()[:44]
        body = _CountingBody("cc-boundary", header, size=50 * 1024 * 1024)
        request = client.build_request(
            "POST",
            "/upload",
            headers={**auth, "content-type": "multipart/form-data; boundary=cc-boundary"},
        )
        request.stream = body
        response = await client.send(request)
        assert response.status_code == 413
        assert "1 MB limit" in response.json()["detail"]
        assert body.sent < 3 * 1024 * 1024, "the server kept reading past the limit"
        await _assert_nothing_stored(app, client, auth)


async def test_declared_oversize_length_is_413_at_once(
    make_settings: Callable[..., Settings], media_files: dict[str, Path]
) -> None:
    async with running_app(make_settings(max_upload_mb=1)) as (app, client):
        auth = await sign_up(client)
        big = media_files["wav"].read_bytes() + bytes(3 * 1024 * 1024)
        response = await client.post("/upload", headers=auth, files={"file": ("big.wav", big)})
        assert response.status_code == 413
        await _assert_nothing_stored(app, client, auth)
