"""Voice webhooks: signatures checked when credentials are set, markup that opens a stream."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import ValidationError
from redis.asyncio import Redis

from memory.settings import Settings
from tests.support.apps import running_app
from tests.support.telephony import stream_of, twilio_signature

PUBLIC = "https://practice.example.com"
TOKEN = "twilio-auth-token-for-tests"
CALL = {
    "AccountSid": "AC" + "1" * 32,
    "ApiVersion": "2010-04-01",
    "CallSid": "CA" + "2" * 32,
    "CallStatus": "ringing",
    "Direction": "inbound",
    "From": "+15550100",
    "To": "sip:practice@example.sip.twilio.com",
}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# The test client's address (http://testserver) as the app's HOST and PORT: without
# PUBLIC_BASE_URL, only a request to this app's own address gets a stream URL built from it.
TEST_ADDRESS = {"host": "testserver", "port": 80}

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
async def test_twilio_webhooks_need_the_signature_of_the_public_url(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(twilio_auth_token=TOKEN, public_base_url=PUBLIC + "/")
    async with running_app(settings) as (_app, client):
        path = "/telephony/twilio/voice"
        body = urlencode(CALL)

        async def post(signature: str | None, content: str = body) -> int:
            headers = dict(FORM)
            if signature is not None:
                headers["X-Twilio-Signature"] = signature
            return (await client.post(path, content=content, headers=headers)).status_code

        assert await post(None) == 403
        assert await post("") == 403
        assert await post("bm90IGEgc2lnbmF0dXJl") == 403
        assert await post(twilio_signature(PUBLIC + path, CALL, token="another-token")) == 403
        # Signed for the address the app sees behind the proxy, not the one Twilio called.
        assert await post(twilio_signature("http://testserver" + path, CALL, token=TOKEN)) == 403
        # A parameter changed after signing.
        tampered = urlencode({**CALL, "From": "+15550999"})
        assert await post(twilio_signature(PUBLIC + path, CALL, token=TOKEN), tampered) == 403

        signature = twilio_signature(PUBLIC + path, CALL, token=TOKEN)
        answer = await client.post(
            path, content=body, headers={**FORM, "X-Twilio-Signature": signature}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        url = stream_of(answer.text).get("url") or ""
        assert url.startswith("wss://practice.example.com/telephony/twilio/stream/")
        assert len(url.rsplit("/", 1)[1]) >= 24  # the stream's ticket
        # Twilio may sign the URL with its default port spelled out.
        with_port = twilio_signature("https://practice.example.com:443" + path, CALL, token=TOKEN)
        assert await post(with_port) == 200
        # Each answer carries its own ticket.
        again = await client.post(
            path, content=body, headers={**FORM, "X-Twilio-Signature": signature}
        )
        assert stream_of(again.text).get("url") != url


@sqlite_only
async def test_without_credentials_in_development_webhooks_answer_with_the_bare_stream(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(environment="development", **TEST_ADDRESS)
    async with running_app(settings) as (_app, client):
        twilio = await client.post("/telephony/twilio/voice", content=urlencode(CALL), headers=FORM)
        assert twilio.status_code == 200
        # Unsigned, the stream needs no ticket, so none is issued.
        assert stream_of(twilio.text).get("url") == "ws://testserver/telephony/twilio/stream"
        telnyx = await client.post("/telephony/telnyx/voice", content=urlencode(CALL), headers=FORM)
        assert telnyx.status_code == 200
        stream = stream_of(telnyx.text)
        assert stream.get("url") == "ws://testserver/telephony/telnyx/stream"
        assert stream.get("bidirectionalMode") == "rtp"
        assert stream.get("bidirectionalCodec") == "PCMU"


@sqlite_only
async def test_only_signed_webhooks_leave_a_stream_ticket_in_the_store(
    make_settings: Callable[..., Settings], redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        environment="development",
        twilio_auth_token=TOKEN,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        **TEST_ADDRESS,
    )
    async with running_app(settings) as (_app, client):
        path = "/telephony/twilio/voice"
        signature = twilio_signature("http://testserver" + path, CALL, token=TOKEN)
        twilio = await client.post(
            path, content=urlencode(CALL), headers={**FORM, "X-Twilio-Signature": signature}
        )
        assert twilio.status_code == 200
        for _ in range(3):  # Telnyx is unsigned here: its stream needs no ticket
            telnyx = await client.post(
                "/telephony/telnyx/voice", content=urlencode(CALL), headers=FORM
            )
            assert stream_of(telnyx.text).get("url") == "ws://testserver/telephony/telnyx/stream"
    redis = Redis.from_url(redis_url)
    try:
        tickets = await redis.keys(f"{redis_prefix}*dial-in:ticket:*")
        written = await redis.keys(f"{redis_prefix}*")
        if written:
            await redis.delete(*written)
    finally:
        await redis.aclose()
    assert len(tickets) == 1


@sqlite_only
async def test_voice_webhooks_are_rate_limited_per_client_address(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        environment="development", rate_limit_dial_in="3/minute", **TEST_ADDRESS
    )
    async with running_app(settings) as (app, client):

        async def post(http: httpx.AsyncClient, provider: str) -> httpx.Response:
            path = f"/telephony/{provider}/voice"
            return await http.post(path, content=urlencode(CALL), headers=FORM)

        answered = [(await post(client, p)).status_code for p in ("twilio", "telnyx", "twilio")]
        assert answered == [200, 200, 200]
        limited = await post(client, "telnyx")  # both providers' webhooks count together
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "try again in" in limited.json()["detail"]

        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40_000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            assert (await post(other, "twilio")).status_code == 200


@sqlite_only
async def test_telnyx_webhooks_need_a_fresh_ed25519_signature(
    make_settings: Callable[..., Settings],
) -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings = make_settings(
        telnyx_public_key=base64.b64encode(public).decode(), public_base_url=PUBLIC
    )
    body = urlencode(CALL).encode()

    def signed(
        content: bytes, at: int, signer: Ed25519PrivateKey = key, stamp: str | None = None
    ) -> dict[str, str]:
        signature = signer.sign(f"{at}|".encode() + content)
        return {
            **FORM,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": stamp if stamp is not None else str(at),
        }

    async with running_app(settings) as (_app, client):
        path = "/telephony/telnyx/voice"

        async def post(headers: dict[str, str], content: bytes = body) -> int:
            return (await client.post(path, content=content, headers=headers)).status_code

        now = int(time.time())
        assert await post(FORM) == 403
        assert await post(signed(body, now, signer=Ed25519PrivateKey.generate())) == 403
        assert await post(signed(body, now - 3600)) == 403  # a replayed old request
        assert await post(signed(body, now, stamp=str(now + 1))) == 403
        assert await post(signed(body, now), body + b"&To=%2B15550999") == 403
        broken = {**signed(body, now), "telnyx-signature-ed25519": "%%% not base64"}
        assert await post(broken) == 403
        assert await post({**signed(body, now), "telnyx-timestamp": "soon"}) == 403

        answer = await client.post(path, content=body, headers=signed(body, now))
        assert answer.status_code == 200, answer.text
        stream = stream_of(answer.text)
        assert (stream.get("url") or "").startswith(
            "wss://practice.example.com/telephony/telnyx/stream/"
        )
        assert stream.get("bidirectionalMode") == "rtp"
        # A JSON body is signed the same way.
        json_body = b'{"CallSid": "v3:abc", "From": "+15550100"}'
        json_headers = {**signed(json_body, now), "Content-Type": "application/json"}
        assert await post(json_headers, json_body) == 200


@sqlite_only
@pytest.mark.parametrize(
    ("configured", "host", "stream"),
    [
        ({}, "localhost:9123", "ws://localhost:9123/telephony/twilio/stream"),
        ({}, "127.0.0.1:8000", "ws://127.0.0.1:8000/telephony/twilio/stream"),
        ({}, "[::1]:8000", "ws://[::1]:8000/telephony/twilio/stream"),
        (
            {"host": "practice.lan"},
            "practice.lan:8000",
            "ws://practice.lan:8000/telephony/twilio/stream",
        ),
        (
            {"host": "Practice.LAN"},
            "practice.lan:8000",
            "ws://practice.lan:8000/telephony/twilio/stream",
        ),
        ({"host": "practice.lan"}, "practice.lan:9999", None),
        ({}, "attacker.example.com", None),
        (
            {"public_base_url": PUBLIC},
            "attacker.example.com",
            f"wss://{PUBLIC[8:]}/telephony/twilio/stream",
        ),
    ],
)
async def test_without_public_base_url_a_stream_url_only_names_this_app(
    make_settings: Callable[..., Settings],
    configured: dict[str, str],
    host: str,
    stream: str | None,
) -> None:
    async with running_app(make_settings(environment="development", **configured)) as (_, client):
        answer = await client.post(
            "/telephony/twilio/voice", content=urlencode(CALL), headers={**FORM, "Host": host}
        )
    if stream is None:
        assert answer.status_code == 503
        assert "set PUBLIC_BASE_URL" in answer.json()["detail"]
        assert host not in answer.text  # the forged name is not echoed either
    else:
        assert answer.status_code == 200, answer.text
        assert stream_of(answer.text).get("url") == stream


@sqlite_only
async def test_a_signed_webhook_to_a_foreign_host_gets_no_ticket(
    make_settings: Callable[..., Settings],
) -> None:
    """A signed request proves Twilio sent it, not that its Host is this app's (Telnyx does
    not even sign the URL): without PUBLIC_BASE_URL, no stream ticket goes to that host."""
    settings = make_settings(environment="development", twilio_auth_token=TOKEN)
    async with running_app(settings) as (app, client):
        path = "/telephony/twilio/voice"
        headers = {
            **FORM,
            "Host": "attacker.example.com",
            "X-Twilio-Signature": twilio_signature(
                "http://attacker.example.com" + path, CALL, token=TOKEN
            ),
        }
        answer = await client.post(path, content=urlencode(CALL), headers=headers)
        assert answer.status_code == 503
        assert app.state.services.sessions._items == {}  # no ticket was stored


def test_phone_settings_are_checked_at_start_up() -> None:
    def settings(**values: object) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    assert settings(public_base_url="https://a.example.com/app/").public_base_url == (
        "https://a.example.com/app"
    )
    for bad in ("a.example.com", "ftp://a.example.com", "https://a.example.com/?x=1"):
        with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
            settings(public_base_url=bad)
    for bad in ("not-base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValidationError, match="TELNYX_PUBLIC_KEY"):
            settings(telnyx_public_key=bad)
    with pytest.raises(ValidationError):
        settings(dial_in_code_ttl_seconds=5)
    budget = settings().rate_limit("dial_in")
    assert (budget.limit, budget.window_seconds) == (30, 60)
    with pytest.raises(ValidationError, match="rate limit"):
        settings(rate_limit_dial_in="lots")
