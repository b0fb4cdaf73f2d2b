"""The browser app's page and bundle are served by the API (the screens are tested in tests/e2e)."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
from fastapi import FastAPI

from web.routers import ui


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_the_built_app_is_served_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<script src="/ui/app.js?v=abc"></script>')
    (tmp_path / "app.js").write_text("console.log('app')")
    app = FastAPI()
    ui.install(app, dist=tmp_path)

    page = await _get(app, "/")
    assert page.status_code == 200
    assert "/ui/app.js?v=abc" in page.text
    assert page.headers["cache-control"] == "no-cache"
    bundle = await _get(app, "/ui/app.js?v=abc")
    assert bundle.status_code == 200
    assert bundle.text == "console.log('app')"
    assert (await _get(app, "/ui/missing.js")).status_code == 404


async def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    ui.install(app, dist=tmp_path / "not-built")
    page = await _get(app, "/")
    assert page.status_code == 503
    assert "make ui" in page.text
    assert (await _get(app, "/ui/app.js")).status_code == 404


def test_the_repository_bundle_is_what_the_app_serves() -> None:
    # `make test` builds the bundle first; the page must name the files the build wrote.
    page = (ui.UI_DIST / "index.html").read_text()
    for name in ("app.js", "app.css"):
        assert f"/ui/{name}?v=" in page
        assert (ui.UI_DIST / name).stat().st_size > 0


async def test_the_api_docs_use_the_bundled_swagger_ui(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None)
    ui.install(app, dist=tmp_path / "not-built")
    assert "cdn.jsdelivr.net" in (await _get(app, "/docs")).text  # nothing bundled: the default

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "swagger-ui-bundle.js").write_text("// swagger")
    app = FastAPI(docs_url=None)
    ui.install(app, dist=tmp_path)
    page = (await _get(app, "/docs")).text
    assert "/ui/docs/swagger-ui-bundle.js" in page and "cdn." not in page
    assert (await _get(app, "/ui/docs/swagger-ui-bundle.js")).text == "// swagger"


async def test_browsers_that_accept_gzip_get_the_bundle_compressed(tmp_path: Path) -> None:
    source = "console.log('a bundle');" * 200
    (tmp_path / "app.js").write_text(source)
    (tmp_path / "app.js.gz").write_bytes(gzip.compress(source.encode()))
    app = FastAPI()
    ui.install(app, dist=tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        packed = await client.get("/ui/app.js", headers={"Accept-Encoding": "gzip"})
        plain = await client.get("/ui/app.js", headers={"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(source) / 4
    assert packed.headers["content-type"].startswith("text/javascript")
    assert packed.text == source  # decoded by the client
    assert "content-encoding" not in plain.headers and plain.text == source
    assert packed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"

    # The twin goes through StaticFiles' own checks.
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        gzip_ok = {"Accept-Encoding": "gzip"}
        again = await client.get(
            "/ui/app.js", headers=gzip_ok | {"If-None-Match": packed.headers["etag"]}
        )
        assert again.status_code == 304
        assert (await client.get("/ui/a%00b", headers=gzip_ok)).status_code == 404
        assert (await client.get("/ui/" + "x" * 300, headers=gzip_ok)).status_code == 404
        assert (await client.post("/ui/app.js", headers=gzip_ok)).status_code == 405
        refused = await client.get("/ui/app.js", headers={"Accept-Encoding": "gzip;q=0"})
        assert "content-encoding" not in refused.headers
