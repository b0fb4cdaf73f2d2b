"""Receives a champion recording from a streaming multipart request.

The file is checked while it streams (type, magic bytes, size) into a temporary name,
probed when complete, and only then moved under a generated name beside its rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from ingest.intake import SPEAKER_LABEL
from ingest.validate import (
    MediaInfo,
    UploadRejected,
    UploadValidator,
    check_extension,
    printable_text,
    safe_display_name,
)
from memory.files import MediaStore
from web.multipart import MultipartRejected, boundary_of, read_form

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


async def receive_upload(request: Request, *, media: MediaStore, max_bytes: int) -> ReceivedUpload:
    """Streams the request's ``file`` field to disk with every check applied.

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

    def open_file(filename: str) -> Callable[[bytes], None]:
        nonlocal validator
        extension = check_extension(filename)
        validator = UploadValidator(
            path=media.new_incoming_path(), extension=extension, max_bytes=max_bytes
        )
        return validator.feed

    try:
        form = await read_form(
            request.stream(), boundary=boundary, file_field="file", open_file=open_file
        )
        if validator is None or form.filename is None:
            raise UploadRejected(422, "form field 'file' is required")
        info = await asyncio.to_thread(validator.finish)
    except MultipartRejected as exc:
        if validator is not None:
            validator.discard()
        raise UploadRejected(exc.status_code, exc.message) from exc
    except BaseException:
        if validator is not None:
            validator.discard()
        raise

    display_name = safe_display_name(form.filename)
    name = printable_text(form.fields.get("name", ""))
    if len(name) > MAX_NAME_LENGTH:
        validator.discard()
        raise UploadRejected(422, f"name must be at most {MAX_NAME_LENGTH} characters")
    speaker = form.fields.get("champion_speaker", "").strip().upper() or None
    if speaker is not None and not SPEAKER_LABEL.match(speaker):
        validator.discard()
        raise UploadRejected(422, "champion_speaker must be a speaker label such as S0 or S1")
    return ReceivedUpload(
        path=validator.path,
        info=info,
        display_name=display_name,
        champion_name=name or Path(display_name).stem[:MAX_NAME_LENGTH] or "Champion",
        champion_speaker=speaker,
    )
