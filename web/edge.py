"""What every request meets before a route: body size and JSON depth limits, security headers,
and redirects that never echo the client's Host header.

`EdgeMiddleware` is plain ASGI (Starlette's ``BaseHTTPMiddleware`` would buffer streamed
answers). It reads each request body itself, up to ``MAX_JSON_BODY_KB``, before the app sees
it: a body declared larger is refused from its Content-Length before a byte is read, and a
chunked one the moment it passes the limit, each with 413 and ``Connection: close`` (the
server then drops the rest rather than reading it). A JSON body nested deeper than
`MAX_JSON_DEPTH` gets 422. The body is then handed to the app as if it had just arrived.
Multipart forms sent to an upload route stream past untouched: those routes enforce
``MAX_UPLOAD_MB`` as the file streams to disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from email.message import Message
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from memory.settings import Settings
from web.errors import FieldError, error_body
from web.json_depth import MAX_JSON_DEPTH, json_too_deep


def page_policy(
    *, scripts: Iterable[str] = (), styles: Iterable[str] = (), images: str = ""
) -> str:
    """A page's Content-Security-Policy: everything from this origin only, plus the sources
    given (inline scripts' ``'sha256-...'`` hashes, a CDN's origin).

    Args:
        scripts: further sources of scripts.
        styles: further sources of style sheets.
        images: a further source of images.
    """
    return "; ".join(
        (
            "default-src 'self'",
            " ".join(("script-src 'self'", *scripts)),
            " ".join(("style-src 'self'", *styles)),
            f"img-src 'self' data: {images}".rstrip(),
            "media-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


PAGE_POLICY = page_policy(scripts=("blob:",))
"""The policy of an HTML page that does not set its own. The app's bundle loads only from
this origin, but for the audio worklets the Pipecat client makes from ``blob:`` URLs of its
own (a worklet is a script); its WebRTC media is not governed by ``connect-src``."""

SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)
"""Headers on every answer, unless a route set its own."""

UPLOAD_PATHS = frozenset({"/upload", "/orchestrate"})
"""The routes that stream a multipart form with a recording to disk, each bounded by
``MAX_UPLOAD_MB`` (web/uploads.py); the API's spec lists them (tests/test_edge.py checks)."""

UploadRoute = Callable[[Scope], bool]


class EdgeMiddleware:
    """Bounds request bodies and adds the security headers (see the module's docstring).

    Args:
        app: the app to wrap.
        max_body_bytes: the largest body but an upload's.
        is_upload: whether a request is a multipart form sent to an upload route.
        max_depth: the deepest JSON nesting allowed.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        is_upload: UploadRoute,
        max_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.is_upload = is_upload
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _secured(scope, send)
        if self.is_upload(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        try:
            body = await _read_body(receive, self.max_body_bytes)
        except _ClientLeft:
            return  # the client left before its body arrived: there is no one to answer
        if body is None:
            await self._too_large(scope, receive, send)
            return
        if _is_json(headers.get("content-type")) and json_too_deep(body, self.max_depth):
            message = f"request body nests deeper than {self.max_depth} levels"
            body_error = FieldError(field="body", message=message)
            response = JSONResponse(error_body(message, [body_error]), 422)
            await response(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_kb = self.max_body_bytes // 1024
        response = JSONResponse(
            error_body(f"request body is larger than the {limit_kb} KB limit"),
            413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class _ClientLeft(Exception):
    """The client disconnected before its body was read."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes.

    Raises:
        _ClientLeft: the client disconnected first.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientLeft
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then whatever the server sends next
    (the disconnect a streaming answer waits for)."""
    pending = True

    async def replay() -> AsgiMessage:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI would parse a body of this type as JSON (it does when none is given)."""
    if not content_type:
        return True
    header = Message()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    return header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _secured(scope: Scope, send: Send) -> Send:
    """A ``send`` that adds the security headers and makes the router's redirects relative."""

    async def send_secured(message: AsgiMessage) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS:
                headers.setdefault(name, value)
            if headers.get("content-type", "").startswith("text/html"):
                headers.setdefault("content-security-policy", PAGE_POLICY)
            location = headers.get("location")
            if location is not None and 300 <= message["status"] < 400:
                headers["location"] = own_location(scope, location)
        await send(message)

    return send_secured


def own_location(scope: Scope, location: str) -> str:
    """A redirect's target without the scheme and host when they are the request's own.

    Starlette's trailing-slash redirect spells out the URL from the request's Host header,
    which a client may forge; a path-only target sends the browser back to wherever it was.

    Args:
        scope: the request.
        location: the Location header the app answered with.
    """
    target = urlsplit(location)
    here = URL(scope=scope)
    if (target.scheme, target.netloc.lower()) != (here.scheme, here.netloc.lower()):
        return location
    path = "/" + target.path.lstrip("/")  # never "//host": that would name another site
    return path + (f"?{target.query}" if target.query else "")


def is_upload(scope: Scope) -> bool:
    """Whether a request is a multipart form posted to an upload route (`UPLOAD_PATHS`)."""
    if scope["method"] != "POST" or scope["path"] not in UPLOAD_PATHS:
        return False
    content_type = Headers(scope=scope).get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def install(app: FastAPI, settings: Settings) -> None:
    """Wraps ``app`` in `EdgeMiddleware`.

    Args:
        app: the API.
        settings: gives ``max_json_body_bytes``.
    """
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_json_body_bytes,
        is_upload=is_upload,
    )
