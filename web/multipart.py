"""Streaming multipart/form-data reader: file bytes go to a sink as they arrive.

Starlette's form parser spools a whole file before a route sees it; an upload limit must
be enforced while the body streams, so the route reads the body itself through this.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

logger = logging.getLogger(__name__)

MAX_TEXT_FIELD_BYTES = 10_000


def multipart_request_body(
    properties: dict[str, Any], *, required: list[str], json_fields: tuple[str, ...] = ()
) -> dict[str, Any]:
    """OpenAPI ``openapi_extra`` for a route that reads its multipart form itself.

    Args:
        properties: each field's schema.
        required: the fields the form must have.
        json_fields: fields sent as JSON text (their part's content type is
            ``application/json``; their schema describes the decoded value).
    """
    form: dict[str, Any] = {
        "schema": {"type": "object", "required": required, "properties": properties}
    }
    if json_fields:
        form["encoding"] = {name: {"contentType": "application/json"} for name in json_fields}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": form}}}


class MultipartRejected(Exception):
    """The body is not a usable multipart form; ``status_code`` and message go to the client."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass
class FormContents:
    """Text fields read from the form, and the uploaded file's client-side name."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary from a Content-Type header; raises `MultipartRejected`."""
    media_type, options = parse_options_header(content_type or "")
    if media_type != b"multipart/form-data":
        raise MultipartRejected(
            415, "send a multipart/form-data form (a recording goes in its 'file' field)"
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise MultipartRejected(400, "multipart body has no boundary")
    return boundary


async def read_form(
    chunks: AsyncIterator[bytes],
    *,
    boundary: bytes,
    file_field: str,
    open_file: Callable[[str], Callable[[bytes], None]],
) -> FormContents:
    """Reads a multipart body, handing the file part to a writer as it streams.

    Args:
        chunks: the request body.
        boundary: from `boundary_of`.
        file_field: the form field holding the file.
        open_file: called with the client's filename when the file part starts (it may raise
            to refuse the file before any of its bytes are read); returns a chunk writer.

    Returns:
        The text fields and the file's client-side name (None if no file part came).

    Raises:
        MultipartRejected: the body is malformed, a part is refused, or the client went away
            before the body ended (the caller cleans up as for any refused form).
    """
    contents = FormContents()
    state: dict[str, object] = {}
    header_field = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}

    def on_part_begin() -> None:
        headers.clear()
        state.update(name=None, writer=None, text=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _disposition, options = parse_options_header(headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        if name == file_field:
            if b"filename" not in options:
                raise MultipartRejected(422, f"form field '{file_field}' must be a file")
            if contents.filename is not None:
                raise MultipartRejected(422, "send exactly one file per upload")
            contents.filename = options[b"filename"].decode("utf-8", "replace")
            state["writer"] = open_file(contents.filename)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        writer = state.get("writer")
        if callable(writer):
            writer(data[start:end])
            return
        text = state["text"]
        assert isinstance(text, bytearray)
        text.extend(data[start:end])
        if len(text) > MAX_TEXT_FIELD_BYTES:
            raise MultipartRejected(422, f"form field '{state['name']}' is too long")

    def on_part_end() -> None:
        name, text = state.get("name"), state.get("text")
        if isinstance(name, str) and name != file_field and isinstance(text, bytearray):
            contents.fields[name] = text.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise MultipartRejected(400, "multipart body is malformed") from exc
    except ClientDisconnect as exc:
        # Nobody is left to answer: an ordinary end of the request, not a server error.
        logger.info("the client disconnected before its multipart body ended")
        raise MultipartRejected(400, "the upload was cut off before its end") from exc
    return contents
