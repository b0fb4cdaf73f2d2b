"""The browser app: `/` serves its page, `/ui/*` its bundle (built from `web/ui/` by `make ui`),
`/docs` the API's Swagger UI from that bundle (no CDN), and `/favicon.ico` the app's icon."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from web.edge import page_policy

UI_DIST = Path(__file__).resolve().parent.parent / "ui" / "dist"

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Champion Clone</title>
<body>
<h1>The browser app is not built</h1>
<p>Run <code>make ui</code> (or <code>make run</code>, which builds it) and reload this page.
The API is running: see <a href="/docs">/docs</a>.</p></body></html>"""


class PrecompressedStaticFiles(StaticFiles):
    """Static files that answer with the build's ``.gz`` twin when the browser accepts gzip
    (the bundle shrinks to about a quarter; nothing is compressed per request). The twin goes
    through StaticFiles' own checks: methods, path safety, ETag and 304s."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if _accepts_gzip(Headers(scope=scope).get("accept-encoding", "")):
            try:
                packed = await super().get_response(path + ".gz", scope)
            except HTTPException:
                packed = None  # no twin (or a bad path, which the plain lookup refuses too)
            if packed is not None:
                if packed.status_code in (200, 206):
                    packed.headers["Content-Type"] = _media_type(path)
                    packed.headers["Content-Encoding"] = "gzip"
                packed.headers["Vary"] = "Accept-Encoding"
                return packed
        plain = await super().get_response(path, scope)
        plain.headers["Vary"] = "Accept-Encoding"
        return plain


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip;q=0`` refuses it)."""
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            try:
                return params.strip() == "" or float(quality) > 0
            except ValueError:
                return False
    return False


def _media_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


FAVICON = "favicon.svg"
_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def with_script_hashes(page: HTMLResponse, *, sources: tuple[str, ...] = ()) -> HTMLResponse:
    """Gives a page the Content-Security-Policy that lets its own inline scripts run (by
    their SHA-256, so no other inline script can) and loads from ``sources`` besides this
    origin.

    Args:
        page: an HTML page (Swagger UI's starts itself with an inline script).
        sources: further origins of scripts, style sheets and images.
    """
    text = bytes(page.body).decode()
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(text)
    ]
    page.headers["Content-Security-Policy"] = page_policy(
        scripts=(*sources, *hashes), styles=sources, images=" ".join(sources)
    )
    return page


def install(app: FastAPI, dist: Path = UI_DIST) -> None:
    """Adds the app's page at `/`, the API docs at `/docs`, the icon at `/favicon.ico` and,
    when the bundle is built, its assets under `/ui`. Build the app with ``FastAPI(docs_url=None)``.

    Args:
        app: the API.
        dist: the built bundle (`index.html`, `app.js`, `app.css`, `favicon.svg`).
    """

    @app.get("/", include_in_schema=False, response_model=None)
    async def index() -> FileResponse | HTMLResponse:
        page = dist / "index.html"
        if not page.exists():
            return HTMLResponse(NOT_BUILT, status_code=503)
        # The page names its bundle by content hash; the page itself is always revalidated.
        return FileResponse(page, headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        title = f"{app.title} - Swagger UI"
        if not (dist / "docs" / "swagger-ui-bundle.js").exists():
            page = get_swagger_ui_html(
                openapi_url="/openapi.json", title=title, swagger_favicon_url="/favicon.ico"
            )
            return with_script_hashes(page, sources=(_CDN,))
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url="/ui/docs/swagger-ui-bundle.js",
            swagger_css_url="/ui/docs/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
        )
        return with_script_hashes(page)

    @app.get("/favicon.ico", include_in_schema=False, response_model=None)
    async def favicon() -> FileResponse | Response:
        icon = dist / FAVICON
        if not icon.exists():
            return Response(status_code=204)  # not built: nothing to show, nothing to log
        # The same SVG as the page's icon link, under the name browsers try by themselves.
        return FileResponse(
            icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    if dist.is_dir():
        app.mount("/ui", PrecompressedStaticFiles(directory=dist), name="ui")
