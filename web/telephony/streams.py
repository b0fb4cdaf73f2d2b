"""The start of a provider's media stream: its handshake, and the serializer for the call.

Twilio and Telnyx both send ``connected`` and then ``start``, which names the stream, the call
and (Telnyx) the audio encoding. The handshake is read here rather than with pipecat's
``parse_telephony_websocket``, which reads exactly two messages: a junk frame before ``start``
is skipped instead of costing the call. The serializer is pipecat's for the provider, with its
REST hang-up only when the provider's credentials are set, wrapped in `PhoneFrameSerializer`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import WebSocket
from pipecat.serializers.telnyx import TelnyxFrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer

from memory.settings import Settings
from pipelines.phone_serializer import PhoneFrameSerializer

Provider = Literal["twilio", "telnyx"]
PROVIDERS: tuple[Provider, ...] = ("twilio", "telnyx")
PHONE_SAMPLE_RATE = 8_000
"""G.711 on the phone network: what the providers stream, both ways."""
CALL_INPUT_SAMPLE_RATE = 16_000
"""The caller's audio inside the pipeline, upsampled by the serializer: pocketsphinx's model
and faster-whisper are 16 kHz, and pocketsphinx recognises upsampled phone audio far better
than phone audio fed to a decoder set up for 8 kHz (see the README)."""
TELNYX_ENCODINGS = ("PCMU", "PCMA")
MAX_HANDSHAKE_MESSAGES = 20


@dataclass(frozen=True)
class StreamStart:
    """What a provider's ``start`` message says about the stream."""

    provider: Provider
    stream_id: str
    call_id: str | None
    account_sid: str | None = None
    encoding: str = "PCMU"


async def read_start(websocket: WebSocket, provider: Provider) -> StreamStart | None:
    """Reads the handshake up to the ``start`` message; None if the socket closes first, or
    no usable ``start`` arrives within `MAX_HANDSHAKE_MESSAGES` messages.

    Args:
        websocket: the accepted media stream.
        provider: who is streaming.
    """
    for _ in range(MAX_HANDSHAKE_MESSAGES):
        received = await websocket.receive()
        if received["type"] == "websocket.disconnect":
            return None
        message = _json_object(received.get("text") or received.get("bytes"))
        if message is None or message.get("event") != "start":
            continue
        return _twilio_start(message) if provider == "twilio" else _telnyx_start(message)
    return None


def serializer_for(start: StreamStart, settings: Settings) -> PhoneFrameSerializer:
    """The provider's serializer for this stream: 8 kHz on the wire, 16 kHz into the call."""
    inner: TwilioFrameSerializer | TelnyxFrameSerializer
    if start.provider == "twilio":
        account_sid = settings.twilio_account_sid or start.account_sid
        hang_up = bool(settings.twilio_account_sid and settings.twilio_auth_token and start.call_id)
        inner = TwilioFrameSerializer(
            stream_sid=start.stream_id,
            call_sid=start.call_id,
            account_sid=account_sid if hang_up else None,
            auth_token=settings.twilio_auth_token if hang_up else None,
            params=TwilioFrameSerializer.InputParams(
                sample_rate=CALL_INPUT_SAMPLE_RATE, auto_hang_up=hang_up
            ),
        )
    else:
        hang_up = bool(settings.telnyx_api_key and start.call_id)
        inner = TelnyxFrameSerializer(
            stream_id=start.stream_id,
            outbound_encoding=start.encoding,
            inbound_encoding=start.encoding,
            call_control_id=start.call_id,
            api_key=settings.telnyx_api_key if hang_up else None,
            params=TelnyxFrameSerializer.InputParams(
                sample_rate=CALL_INPUT_SAMPLE_RATE, auto_hang_up=hang_up
            ),
        )
    return PhoneFrameSerializer(inner)


def _twilio_start(message: dict[str, Any]) -> StreamStart | None:
    start = message.get("start")
    if not isinstance(start, dict):
        return None
    stream_sid = start.get("streamSid") or message.get("streamSid")
    if not isinstance(stream_sid, str) or not stream_sid:
        return None
    return StreamStart(
        "twilio", stream_sid, _text(start.get("callSid")), _text(start.get("accountSid"))
    )


def _telnyx_start(message: dict[str, Any]) -> StreamStart | None:
    start = message.get("start")
    stream_id = message.get("stream_id")
    if not isinstance(start, dict) or not isinstance(stream_id, str) or not stream_id:
        return None
    media_format = start.get("media_format")
    encoding = media_format.get("encoding") if isinstance(media_format, dict) else None
    encoding = (encoding or "PCMU").upper() if isinstance(encoding, str | None) else ""
    if encoding not in TELNYX_ENCODINGS:
        return None
    return StreamStart("telnyx", stream_id, _text(start.get("call_control_id")), None, encoding)


def _json_object(data: str | bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        message = json.loads(data)
    except (ValueError, TypeError, RecursionError):  # RecursionError: nested too deep
        return None
    return message if isinstance(message, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
