"""The browser harness itself: Chromium, the fake microphone, permissions, server restarts."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import soxr
from playwright.sync_api import BrowserContext, Error, Page, expect

from tests.e2e.browser import console_log, shot
from tests.e2e.recordings import read_wav, similarity
from tests.e2e.server import AppServer
from tests.support.apps import PASSWORD

MIC_PAGE = "/e2e-harness/microphone"
LISTEN_SECONDS = 4  # the file's first second is silence, then the trainee speaks
RATE = 16_000

# A page on the app's own origin (http://127.0.0.1 is a secure context, which getUserMedia
# needs), served by the test: it records the microphone raw through an AudioWorklet.
_MIC_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Microphone check</title></head>
<body>
<h1>Microphone check</h1>
<button type="button" id="listen">Listen</button>
<p>Status: <output id="status">idle</output></p>
<p>Peak level: <output id="level">none</output></p>
<script>
const RECORDER = `registerProcessor("recorder", class extends AudioWorkletProcessor {{
  process(inputs) {{
    if (inputs[0].length) this.port.postMessage(inputs[0][0].slice());
    return true;
  }}
}});`;
window.recorded = null;
document.getElementById("listen").addEventListener("click", async () => {{
  const status = document.getElementById("status");
  status.textContent = "listening";
  try {{
    const stream = await navigator.mediaDevices.getUserMedia({{
      audio: {{echoCancellation: false, autoGainControl: false, noiseSuppression: false}},
    }});
    const context = new AudioContext({{sampleRate: {RATE}}});
    const module = new Blob([RECORDER], {{type: "text/javascript"}});
    await context.audioWorklet.addModule(URL.createObjectURL(module));
    const recorder = new AudioWorkletNode(context, "recorder");
    const samples = [];
    await new Promise((resolve) => {{
      recorder.port.onmessage = (event) => {{
        samples.push(...event.data);
        if (samples.length >= {LISTEN_SECONDS * RATE}) resolve();
      }};
      context.createMediaStreamSource(stream).connect(recorder);
      recorder.connect(context.destination);
    }});
    stream.getTracks().forEach((track) => track.stop());
    await context.close();
    const peak = samples.reduce((most, value) => Math.max(most, Math.abs(value)), 0);
    document.getElementById("level").textContent =
      peak > 0 ? `${{(20 * Math.log10(peak)).toFixed(1)}} dBFS` : "silent";
    window.recorded = samples;
    status.textContent = "recorded";
  }} catch (error) {{
    status.textContent = error.name;
  }}
}});
</script>
</body></html>
"""


def _open_microphone_page(page: Page) -> None:
    page.route(
        f"**{MIC_PAGE}", lambda route: route.fulfill(body=_MIC_HTML, content_type="text/html")
    )
    page.goto(MIC_PAGE)
    assert page.evaluate("window.isSecureContext")


def _microphone_permission(page: Page) -> str:
    return str(
        page.evaluate("async () => (await navigator.permissions.query({name: 'microphone'})).state")
    )


def test_chromium_renders_the_api_docs(ui_built: Path, page: Page, app_server: AppServer) -> None:
    response = page.goto("/docs")
    assert response is not None and response.ok
    expect(page).to_have_title("Champion Clone - Swagger UI")
    # Swagger UI comes from the app's own bundle (this network reaches no CDN): it renders
    # the spec's operations.
    expect(page.get_by_text("/training/start").first).to_be_visible()
    path = shot(page, "harness-api-docs")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_app_page_renders_without_script_errors(ui_built: Path, page: Page) -> None:
    response = page.goto("/")
    assert response is not None and response.ok
    expect(page.locator("#app > *").first).to_be_visible()
    shot(page, "harness-app-start")
    assert not [line for line in console_log(page) if line.startswith("[pageerror]")]


def test_the_fake_microphone_plays_the_speech_file(page: Page, speech_wav: Path) -> None:
    _open_microphone_page(page)
    assert _microphone_permission(page) == "granted"
    page.get_by_role("button", name="Listen").click()
    expect(page.locator("#status")).to_have_text("recorded", timeout=30_000)
    expect(page.locator("#level")).to_contain_text("dBFS")
    shot(page, "harness-microphone-granted")

    recorded = np.array(page.evaluate("window.recorded"), dtype=np.float64)
    samples, rate = read_wav(speech_wav)
    speech = soxr.resample(samples.astype(np.float64) / 32768, rate, RATE)
    assert np.abs(recorded).max() > 0.1  # not silence: a missing file would give silence
    # Two seconds from the middle of the spoken line, found in what the page heard.
    assert similarity(recorded, speech[round(1.5 * RATE) : round(3.5 * RATE)]) > 0.8


@pytest.mark.parametrize("microphone", ["denied", "prompt"])
def test_a_refused_microphone_rejects_with_not_allowed(
    make_context: Callable[..., BrowserContext], microphone: str
) -> None:
    page = make_context(microphone).new_page()
    _open_microphone_page(page)
    assert _microphone_permission(page) == microphone
    page.get_by_role("button", name="Listen").click()
    expect(page.locator("#status")).to_have_text("NotAllowedError")
    shot(page, f"harness-microphone-{microphone}")


def test_the_denied_context_fixture_refuses_the_microphone(
    denied_context: BrowserContext,
) -> None:
    page = denied_context.new_page()
    _open_microphone_page(page)
    error = page.evaluate(
        "() => navigator.mediaDevices.getUserMedia({audio: true})"
        ".then(() => 'granted', (error) => error.name)"
    )
    assert error == "NotAllowedError"


def test_restart_brings_the_server_back_with_its_data(page: Page, app_server: AppServer) -> None:
    email = f"restart-{uuid.uuid4().hex[:8]}@example.com"
    token = app_server.sign_up(email, PASSWORD)
    before = app_server.pid
    assert before is not None

    app_server.restart()

    assert app_server.pid not in (None, before)
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)
    response = page.goto("/health")
    assert response is not None and response.status == 200
    assert response.json()["status"] == "ok"
    with app_server.client(token) as api:  # same data folder and signing secret
        assert api.get("/auth/me").json()["email"] == email

    app_server.kill()
    with pytest.raises(Error, match="ERR_CONNECTION_REFUSED"):
        page.goto("/health")
    app_server.start()
    response = page.goto("/health")
    assert response is not None and response.status == 200
    assert not [line for line in console_log(page) if line.startswith("[pageerror]")]


def test_a_server_of_its_own_has_its_own_data_and_settings(
    app_server: AppServer, app_server_factory: Callable[..., AppServer]
) -> None:
    email = f"shared-{uuid.uuid4().hex[:8]}@example.com"
    app_server.sign_up(email, PASSWORD)
    own = app_server_factory("strict", RATE_LIMIT_LOGIN="1/minute")
    assert own.port != app_server.port and own.data_dir != app_server.data_dir
    with own.client() as api:
        credentials = {"email": email, "password": PASSWORD}
        assert api.post("/auth/login", json=credentials).status_code == 401
        assert api.post("/auth/login", json=credentials).status_code == 429


def test_the_champion_video_is_a_two_stream_recording(champion_video: Path) -> None:
    with av.open(str(champion_video)) as container:
        assert container.streams.audio and container.streams.video
        assert container.duration is not None and container.duration / av.time_base > 60
