"""Receives a champion recording (and the form's other fields) from a streaming multipart
request.

The file is checked while it streams (type, magic bytes, size) into a temporary name,
probed when complete, and only then moved under a generated name beside its rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from ingest.intake import SPEAKER_LABEL, store_recording
from ingest.validate import (
    MediaInfo,
    UploadRejected,
    UploadValidator,
    check_extension,
    printable_text,
    safe_display_name,
)
from memory.files import MediaStore
from memory.models import Champion, IngestJob
from web.multipart import MultipartRejected, boundary_of, read_form
from web.services import Services

MULTIPART_OVERHEAD_BYTES = 1024 * 1024
MAX_NAME_LENGTH = 200


@dataclass
class ReceivedUpload:
    """A checked upload waiting in the incoming folder."""

    path: Path
    info: MediaInfo
    display_name: str
    champion_name: str
    champion_speaker: str | None

    def discard(self) -> None:
        """Removes the waiting file (the request was refused after all)."""
        self.path.unlink(missing_ok=True)


@dataclass
class ReceivedForm:
    """A form's text fields and, when one was sent, its checked file."""

    fields: dict[str, str]
    upload: ReceivedUpload | None


def champion_name(name: str, display_name: str) -> str:
    """The champion's name: ``name`` made printable, else the file's stem.

    Raises:
        UploadRejected: the name is longer than 200 characters.
    """
    name = printable_text(name)
    if len(name) > MAX_NAME_LENGTH:
        raise UploadRejected(422, f"name must be at most {MAX_NAME_LENGTH} characters")
    return name or Path(display_name).stem[:MAX_NAME_LENGTH] or "Champion"


async def receive_upload(request: Request, *, media: MediaStore, max_bytes: int) -> ReceivedUpload:
    """Streams the request's ``file`` field to disk with every check applied.

    Raises:
        UploadRejected: with the status and message for the client; nothing is left on disk.
    """
    form = await receive_form(request, media=media, max_bytes=max_bytes)
    if form.upload is None:
        raise UploadRejected(422, "form field 'file' is required")
    return form.upload


async def receive_form(
    request: Request,
    *,
    media: MediaStore,
    max_bytes: int,
    on_file: Callable[[], Awaitable[None]] | None = None,
) -> ReceivedForm:
    """Streams a multipart form: its ``file`` field (optional) to disk with every check
    applied (extension, magic bytes, size, probe, ``name`` and ``champion_speaker``), its
    other fields into memory.

    Args:
        request: the multipart request.
        media: where the file waits while it is checked.
        max_bytes: the file's size limit.
        on_file: awaited once when a file part starts, whether the file is then refused or
            not, before more than the chunk that opened it is read; it may raise to refuse
            the request (a rate limit on uploads does).

    Raises:
        UploadRejected: with the status and message for the client; nothing is left on disk.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise UploadRejected(413, f"file is larger than the {max_bytes // (1024 * 1024)} MB limit")
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except MultipartRejected as exc:
        raise UploadRejected(exc.status_code, exc.message) from exc

    validator: UploadValidator | None = None
    file_started = admitted = False

    async def admit_file() -> None:
        nonlocal admitted
        if on_file is not None and file_started and not admitted:
            admitted = True
            await on_file()

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            yield chunk
            await admit_file()

    def open_file(filename: str) -> Callable[[bytes], None]:
        nonlocal validator, file_started
        file_started = True
        extension = check_extension(filename)
        validator = UploadValidator(
            path=media.new_incoming_path(), extension=extension, max_bytes=max_bytes
        )
        return validator.feed

    try:
        form = await read_form(chunks(), boundary=boundary, file_field="file", open_file=open_file)
        if validator is None or form.filename is None:
            return ReceivedForm(fields=form.fields, upload=None)
        info = await asyncio.to_thread(validator.finish)
    except (MultipartRejected, UploadRejected) as exc:
        if validator is not None:
            validator.discard()
        await admit_file()  # a refused file counts as much as an accepted one
        if isinstance(exc, UploadRejected):
            raise
        raise UploadRejected(exc.status_code, exc.message) from exc
    except BaseException:
        if validator is not None:
            validator.discard()
        raise

    display_name = safe_display_name(form.filename)
    try:
        name = champion_name(form.fields.get("name", ""), display_name)
    except UploadRejected:
        validator.discard()
        raise
    speaker = form.fields.get("champion_speaker", "").strip().upper() or None
    if speaker is not None and not SPEAKER_LABEL.match(speaker):
        validator.discard()
        raise UploadRejected(422, "champion_speaker must be a speaker label such as S0 or S1")
    upload = ReceivedUpload(
        path=validator.path,
        info=info,
        display_name=display_name,
        champion_name=name,
        champion_speaker=speaker,
    )
    return ReceivedForm(fields=form.fields, upload=upload)


async def store_upload(
    services: Services, *, owner_id: str, received: ReceivedUpload, name: str | None = None
) -> tuple[Champion, IngestJob]:
    """Stores a checked upload as the owner's new champion and queues its ingest job.

    Args:
        services: the app's services.
        owner_id: the signed-in user.
        received: from `receive_upload` or `receive_form`.
        name: the champion's name instead of the form's (already checked with
            `champion_name`).
    """
    champion, job = await store_recording(
        db=services.db,
        media=services.media,
        owner_id=owner_id,
        incoming=received.path,
        info=received.info,
        name=name or received.champion_name,
        display_name=received.display_name,
        champion_speaker=received.champion_speaker,
    )
    await services.submit_job(job.id)
    return champion, job
