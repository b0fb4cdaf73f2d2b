"""Phone providers' endpoints: voice webhooks that answer calls, and the media streams.

``POST /telephony/twilio/voice`` (TwiML) and ``POST /telephony/telnyx/voice`` (TeXML) answer
an incoming call with a ``<Connect><Stream>`` to ``/telephony/{provider}/stream/{ticket}``.
With the provider's signing credential set, a webhook without a valid signature gets 403, and
a stream is accepted only with an unused ticket from a signed webhook; without it (local
development) the bare ``/telephony/{provider}/stream`` is accepted too.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket, status
from loguru import logger
from starlette.websockets import WebSocketState

from web.deps import ServicesDep
from web.services import Services
from web.telephony import signed, stream_tickets
from web.telephony.call import run_phone_call
from web.telephony.markup import XML_MEDIA_TYPE, stream_url, texml_stream, twiml_stream
from web.telephony.signatures import public_url, telnyx_signature_valid, twilio_signature_valid
from web.telephony.streams import Provider

router = APIRouter(prefix="/telephony", tags=["telephony"])
MAX_WEBHOOK_BYTES = 64 * 1024
REFUSED = "request signature missing or invalid"


@router.post("/twilio/voice", response_class=Response)
async def twilio_voice(request: Request, services: ServicesDep) -> Response:
    """Answers a call to a Twilio number or SIP domain with a media stream (TwiML)."""
    body = await _body(request)
    settings = services.settings
    if settings.twilio_auth_token:
        params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        url = public_url(request, settings.public_base_url)
        signature = request.headers.get("x-twilio-signature", "")
        if not twilio_signature_valid(settings.twilio_auth_token, signature, url, params):
            logger.warning("refused a Twilio webhook with a missing or invalid signature")
            raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED)
    url = await _stream_url(request, services, "twilio")
    return Response(twiml_stream(url), media_type=XML_MEDIA_TYPE)


@router.post("/telnyx/voice", response_class=Response)
async def telnyx_voice(request: Request, services: ServicesDep) -> Response:
    """Answers a call to a Telnyx number or SIP connection with a media stream (TeXML)."""
    body = await _body(request)
    settings = services.settings
    if settings.telnyx_public_key:
        valid = telnyx_signature_valid(
            settings.telnyx_public_key,
            request.headers.get("telnyx-signature-ed25519", ""),
            request.headers.get("telnyx-timestamp", ""),
            body,
            now=time.time(),
        )
        if not valid:
            logger.warning("refused a Telnyx webhook with a missing or invalid signature")
            raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED)
    url = await _stream_url(request, services, "telnyx")
    return Response(texml_stream(url), media_type=XML_MEDIA_TYPE)


@router.websocket("/twilio/stream")
@router.websocket("/twilio/stream/{ticket}")
async def twilio_stream(websocket: WebSocket, ticket: str = "") -> None:
    """A Twilio Media Stream: the dial-in lobby, then the roleplay bot."""
    await _stream(websocket, "twilio", ticket)


@router.websocket("/telnyx/stream")
@router.websocket("/telnyx/stream/{ticket}")
async def telnyx_stream(websocket: WebSocket, ticket: str = "") -> None:
    """A Telnyx media stream: the dial-in lobby, then the roleplay bot."""
    await _stream(websocket, "telnyx", ticket)


async def _stream(websocket: WebSocket, provider: Provider, ticket: str) -> None:
    services: Services = websocket.app.state.services
    if ticket:
        admitted = await stream_tickets(services).redeem(ticket, provider)
    else:
        admitted = not signed(services.settings, provider)
    if not admitted:
        logger.warning("refused a media stream without a valid ticket")
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)  # before accept: 403
        return
    await websocket.accept()
    try:
        await run_phone_call(websocket, provider, services)
    except Exception:
        logger.exception("a media stream failed")
    finally:
        if websocket.application_state == WebSocketState.CONNECTED:
            try:
                await websocket.close()
            except Exception:
                logger.debug("a media stream was already closed")


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "webhook body too large")
    return body


async def _stream_url(request: Request, services: Services, provider: Provider) -> str:
    base = services.settings.public_base_url or str(request.base_url).rstrip("/")
    ticket = await stream_tickets(services).issue(provider)
    return stream_url(base, provider, ticket)
