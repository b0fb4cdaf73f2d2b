"""Whole phone calls over a real websocket on loopback, as Twilio and Telnyx stream them."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import time
import wave
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from websockets.exceptions import InvalidStatus

from memory.dial_in import DialInCodes
from memory.settings import Settings
from tests.support.apps import current_user_id, running_app, sign_up
from tests.support.phone_client import (
    MALFORMED,
    PHONE_RATE,
    PhoneCall,
    TelnyxCall,
    TwilioCall,
)
from tests.support.serving import serving
from tests.support.telephony import stream_of, twilio_signature
from tests.support.training import seed_ready_champion, start_training
from tests.support.voices import require_voice, speak
from tests.support.webrtc_client import wait_for

QUESTION = "what is the biggest problem your team has right now"
CALL_FORM = {"CallSid": "CA" + "3" * 32, "From": "+15550100", "To": "+15550199"}
CALLS: dict[str, type[PhoneCall]] = {"twilio": TwilioCall, "telnyx": TelnyxCall}
DEVELOPMENT = "development"
TWILIO_TOKEN = "token-for-tests"
"""Without phone credentials, unsigned calls are let in only in development."""


class NeverStarts(TelnyxCall):
    """A stream whose ``start`` names no stream."""

    def start_message(self) -> dict[str, Any]:
        return {"event": "start", "start": "nothing useful"}


class Practice:
    """A running app served on loopback, a trainee and one active session."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, base_url: str) -> None:
        self.app = app
        self.client = client
        self.base_url = base_url
        self.auth: dict[str, str] = {}
        self.session_id = ""

    async def prepare(self) -> None:
        self.auth = await sign_up(self.client)
        champion_id = await seed_ready_champion(
            self.app, await current_user_id(self.client, self.auth)
        )
        started = await start_training(self.client, self.auth, champion_id)
        self.session_id = started.json()["session_id"]

    async def code(self) -> str:
        got = await self.client.post(
            f"/training/sessions/{self.session_id}/dial-in", headers=self.auth
        )
        assert got.status_code == 201, got.text
        return str(got.json()["code"])

    async def detail(self) -> dict[str, Any]:
        got = await self.client.get(f"/training/sessions/{self.session_id}", headers=self.auth)
        assert got.status_code == 200
        return dict(got.json())

    async def stream_url(self, provider: str) -> str:
        """Calls the provider's voice webhook, as the provider does, for the stream URL
        (signed when the app has Twilio's auth token)."""
        path = f"/telephony/{provider}/voice"
        headers = {}
        token = self.app.state.services.settings.twilio_auth_token
        if provider == "twilio" and token:
            signature = twilio_signature(self.base_url + path, CALL_FORM, token=token)
            headers["X-Twilio-Signature"] = signature
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            answer = await http.post(path, data=CALL_FORM, headers=headers)
        assert answer.status_code == 200, answer.text
        return str(stream_of(answer.text).get("url"))

    async def dial(self, provider: str) -> PhoneCall:
        call = CALLS[provider]()
        await call.connect(await self.stream_url(provider))
        return call


@asynccontextmanager
async def practice(settings: Settings) -> AsyncIterator[Practice]:
    async with running_app(settings) as (app, client), serving(app) as base_url:
        ready = Practice(app, client, base_url)
        await ready.prepare()
        yield ready


async def welcomed(call: PhoneCall) -> None:
    await wait_for(lambda: call.loud_at, 20, "the spoken welcome")


async def key_in(call: PhoneCall, code: str) -> float:
    """Keys a code while the prompt plays; returns when the prompt was cut (nothing of it is
    heard after that)."""
    clears = call.clears
    await call.press(code)
    await wait_for(lambda: call.clears > clears, 10, "the prompt to be cut short")
    return time.monotonic()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("provider", ["twilio", "telnyx"])
async def test_a_phone_call_from_dial_in_code_to_scorecard(
    provider: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> None:
    overrides: dict[str, Any] = {"environment": DEVELOPMENT}
    if provider == "twilio":  # signed, with codes and tickets in Redis, as in production
        overrides = {
            "twilio_auth_token": TWILIO_TOKEN,
            "redis_url": request.getfixturevalue("redis_url"),
            "redis_prefix": request.getfixturevalue("redis_prefix"),
        }
    require_voice("awb")
    async with practice(make_settings(**overrides)) as ready:
        code = await ready.code()
        call = CALLS[provider]()
        url = await ready.stream_url(provider)
        try:
            await call.connect(url)
            await welcomed(call)
            for junk in MALFORMED:  # unreadable frames are skipped; the call goes on
                await call.send_raw(junk)
            cut = await key_in(call, "98*" + code)  # a slip, "*" to start again, the code

            # The prospect answers the phone: the session's opening line.
            await wait_for(lambda: call.heard_since(cut), 30, "the prospect's greeting")
            await wait_for(lambda: call.quiet_for(1.0), 30, "the greeting to end")
            for junk in MALFORMED:
                await call.send_raw(junk)

            # A natural voice at the phone network's 8 kHz, heard by the default (whisper).
            call.say((speak(QUESTION, "awb", rate=PHONE_RATE) * 0.4).astype(np.int16))
            await wait_for(lambda: call.speech_ended_at, 20, "the question to be sent")
            spoke = call.speech_ended_at
            assert spoke is not None
            await wait_for(lambda: call.heard_since(spoke), 30, "a spoken reply")

            async def scored() -> dict[str, Any] | None:
                detail = await ready.detail()
                turns = detail["turns"]
                trainee = [t for t in turns if t["role"] == "trainee"]
                replies = [t for t in turns[1:] if t["role"] == "ai"]
                done = trainee and trainee[0]["score"] is not None and replies
                return detail if done and replies[0]["latency_ms"] is not None else None

            detail = await wait_for(scored, 30, "the turn to be stored, scored and timed")
            assert [t["role"] for t in detail["turns"][:3]] == ["ai", "trainee", "ai"]
            trainee, reply = detail["turns"][1], detail["turns"][2]
            heard = set(re.findall(r"[a-z']+", trainee["text"].lower()))
            said = QUESTION.split()
            assert sum(word in heard for word in said) >= 0.8 * len(said), trainee["text"]
            assert 0 <= trainee["score"] <= 100
            assert reply["text"].strip()
            assert reply["latency_ms"] > 0
            assert detail["status"] == "active"
            assert (await ready.client.get("/health")).status_code == 200

            # Only the provider's own messages came back (no RTVI or other app messages), and
            # every audio message named this stream (Twilio drops any other).
            assert {m.get("event") for m in call.received} == {"media", "clear"}
            assert all(call.is_ours(m) for m in call.events("media"))

            await call.hang_up()
            await asyncio.wait_for(call.closed.wait(), 20)
        finally:
            await call.close()

        async def ended() -> dict[str, Any] | None:
            detail = await ready.detail()
            return detail if detail["status"] == "ended" else None

        detail = await wait_for(ended, 20, "the session to end")
        assert detail["scorecard"]["turn_count"] >= 1
        assert detail["overall_score"] is not None

        for track in ("trainee", "ai"):
            got = await ready.client.get(
                f"/training/sessions/{ready.session_id}/recording/{track}", headers=ready.auth
            )
            assert got.status_code == 200
            with wave.open(io.BytesIO(got.content)) as reader:
                audio = np.frombuffer(reader.readframes(reader.getnframes()), np.int16)
            assert np.abs(audio).max() > 1000, track

        # The code was used up with the call.
        again = await DialInCodes(store=ready.app.state.services.sessions).redeem(code)
        assert again.status == "used"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_wrong_codes_get_a_spoken_retry_and_the_third_a_goodbye(
    make_settings: Callable[..., Settings],
) -> None:
    async with practice(make_settings(environment=DEVELOPMENT)) as ready:
        real = await ready.code()
        wrong = "1" * 6 if real != "1" * 6 else "2" * 6
        call = await ready.dial("telnyx")
        try:
            await welcomed(call)
            for attempt, keys in enumerate((wrong, "12#", wrong)):  # "#" submits early
                cut = await key_in(call, keys)
                await wait_for(
                    lambda c=cut: call.heard_since(c), 20, f"the answer to try {attempt}"
                )
                if attempt < 2:
                    assert not call.closed.is_set()
            await asyncio.wait_for(call.closed.wait(), 30)
            assert call.close_code == 1000
        finally:
            await call.close()
        # Nothing happened to the session, and its code still works.
        assert (await ready.detail())["status"] == "active"
        redeemed = await DialInCodes(store=ready.app.state.services.sessions).redeem(real)
        assert redeemed.status == "accepted"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", ["used", "expired", "ended"])
async def test_a_code_that_cannot_open_a_call_is_told_and_the_stream_closed(
    case: str, make_settings: Callable[..., Settings]
) -> None:
    async with practice(make_settings(environment=DEVELOPMENT)) as ready:
        sessions = ready.app.state.services.sessions
        if case == "expired":
            past = DialInCodes(store=sessions, ttl_seconds=60, clock=lambda: time.time() - 120)
            code = (await past.issue(session_id=ready.session_id, user_id="any")).code
        else:
            code = await ready.code()
        if case == "used":
            assert (await DialInCodes(store=sessions).redeem(code)).status == "accepted"
        if case == "ended":
            ended = await ready.client.post(
                "/training/end", headers=ready.auth, json={"session_id": ready.session_id}
            )
            assert ended.status_code == 200
        before = await ready.detail()

        call = await ready.dial("twilio")
        try:
            await welcomed(call)
            cut = await key_in(call, code)
            await wait_for(lambda: call.heard_since(cut), 20, "the spoken reason")
            await asyncio.wait_for(call.closed.wait(), 30)
        finally:
            await call.close()
        after = await ready.detail()
        assert after["turns"] == before["turns"]
        assert after["status"] == before["status"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hanging_up_or_garbage_in_the_lobby_leaves_the_server_serving(
    make_settings: Callable[..., Settings],
) -> None:
    async with practice(make_settings(environment=DEVELOPMENT)) as ready:
        # Garbage before the handshake is skipped; a stop in the lobby ends the stream.
        call = TwilioCall()
        bare = f"{ready.base_url.replace('http', 'ws')}/telephony/twilio/stream"
        await call.connect(bare, before_start=MALFORMED)
        try:
            await welcomed(call)
            await call.hang_up()
            await asyncio.wait_for(call.closed.wait(), 20)
        finally:
            await call.close()

        # A stream that never starts properly is closed, and nothing else is hurt.
        broken = NeverStarts()
        await broken.connect(await ready.stream_url("telnyx"))
        try:
            for junk in MALFORMED * 2:
                await broken.send_raw(junk)
            await asyncio.wait_for(broken.closed.wait(), 20)
            assert not broken.loud_at
        finally:
            await broken.close()
        assert (await ready.client.get("/health")).status_code == 200
        assert (await ready.detail())["status"] == "active"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_past_the_code_budget_of_all_callers_a_code_is_not_redeemed(
    make_settings: Callable[..., Settings], redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        environment=DEVELOPMENT,
        rate_limit_dial_in="2/minute",  # two webhooks from this address, two code attempts
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )
    async with practice(settings) as ready:
        real = await ready.code()
        wrong = "1" * 6 if real != "1" * 6 else "2" * 6
        first, second = await ready.dial("twilio"), await ready.dial("telnyx")
        try:
            await welcomed(first)
            await welcomed(second)
            for attempt in range(2):  # the minute's attempts, one call's first two strikes
                cut = await key_in(first, wrong)
                await wait_for(lambda c=cut: first.heard_since(c), 20, f"retry {attempt}")
            assert not first.closed.is_set()
            cut = await key_in(second, real)  # another call, the right code: too late
            await wait_for(lambda: second.heard_since(cut), 20, "the spoken refusal")
            await asyncio.wait_for(second.closed.wait(), 30)
            assert second.close_code == 1000
        finally:
            await first.close()
            await second.close()
        assert (await ready.detail())["status"] == "active"
        redeemed = await DialInCodes(store=ready.app.state.services.sessions).redeem(real)
        assert redeemed.status == "accepted"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("provider", "environment"), [("twilio", "production"), ("telnyx", "test")]
)
async def test_outside_development_a_provider_without_its_credential_is_refused(
    provider: str, environment: str, make_settings: Callable[..., Settings]
) -> None:
    key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    credentials = {
        "twilio": ("TWILIO_AUTH_TOKEN", {"twilio_auth_token": TWILIO_TOKEN}),
        "telnyx": ("TELNYX_PUBLIC_KEY", {"telnyx_public_key": base64.b64encode(key).decode()}),
    }
    other = "telnyx" if provider == "twilio" else "twilio"
    setting, _ = credentials[provider]
    settings = make_settings(environment=environment, **credentials[other][1])
    async with running_app(settings) as (app, client), serving(app) as base_url:
        assert (await client.get("/health")).status_code == 200  # the app itself runs
        refused = await client.post(f"/telephony/{provider}/voice", data=CALL_FORM)
        assert refused.status_code == 503
        assert refused.json()["detail"] == (
            f"phone dial-in via {provider} is not configured: set {setting}"
        )
        ws_base = base_url.replace("http", "ws")
        for path in ("stream", "stream/any-ticket"):
            with pytest.raises(InvalidStatus) as closed:
                await CALLS[provider]().connect(f"{ws_base}/telephony/{provider}/{path}")
            assert closed.value.response.status_code == 403
        # The other provider has its credential: an unsigned request to it is a bad signature.
        assert (await client.post(f"/telephony/{other}/voice", data=CALL_FORM)).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_with_credentials_a_stream_needs_the_ticket_of_a_signed_webhook(
    make_settings: Callable[..., Settings],
) -> None:
    key = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings = make_settings(
        twilio_auth_token=TWILIO_TOKEN, telnyx_public_key=base64.b64encode(key).decode()
    )
    async with practice(settings) as ready:
        ws_base = ready.base_url.replace("http", "ws")
        for provider in ("twilio", "telnyx"):
            for path in ("stream", "stream/made-up-ticket"):
                with pytest.raises(InvalidStatus) as refused:
                    await CALLS[provider]().connect(f"{ws_base}/telephony/{provider}/{path}")
                assert refused.value.response.status_code == 403

        url = f"{ready.base_url}/telephony/twilio/voice"
        signature = twilio_signature(url, CALL_FORM, token=TWILIO_TOKEN)
        async with httpx.AsyncClient() as http:
            answer = await http.post(url, data=CALL_FORM, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200
        stream_url = str(stream_of(answer.text).get("url"))

        call = TwilioCall()
        await call.connect(stream_url)
        try:
            await welcomed(call)
        finally:
            await call.close()
        with pytest.raises(InvalidStatus) as reused:
            await TwilioCall().connect(stream_url)
        assert reused.value.response.status_code == 403
