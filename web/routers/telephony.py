"""Phone providers' endpoints: voice webhooks that answer calls, and the media streams.

``POST /telephony/twilio/voice`` (TwiML) and ``POST /telephony/telnyx/voice`` (TeXML) answer
an incoming call with a ``<Connect><Stream>`` to ``/telephony/{provider}/stream/{ticket}``.
With the provider's signing credential set, a webhook without a valid signature gets 403, and
a stream is accepted only with an unused ticket from a signed webhook. Without it, in
development only, no ticket is issued and the bare ``/telephony/{provider}/stream`` is
accepted; in any other environment the webhook answers 503 and the stream is refused.

The stream URL is built on ``PUBLIC_BASE_URL``; without it, on the address the webhook came
to only when that is this machine or ``HOST:PORT`` (a forged ``Host`` would otherwise name
where the call's audio goes), else the webhook answers 503 asking for ``PUBLIC_BASE_URL``.

The webhooks are rate-limited per client address with ``RATE_LIMIT_DIAL_IN`` (429 with
``Retry-After``), the budget that also bounds the codes keyed on all calls together.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket, status
from loguru import logger
from starlette.websockets import WebSocketState

from web.deps import ServicesDep, limit_per_client
from web.services import Services
from web.telephony import DIAL_IN_LIMIT, app_base_url, not_configured, signed, stream_tickets
from web.telephony.call import run_phone_call
from web.telephony.markup import XML_MEDIA_TYPE, stream_url, texml_stream, twiml_stream
from web.telephony.signatures import public_url, telnyx_signature_valid, twilio_signature_valid
from web.telephony.streams import Provider

router = APIRouter(prefix="/telephony", tags=["telephony"])
MAX_WEBHOOK_BYTES = 64 * 1024
REFUSED = "request signature missing or invalid"
UNKNOWN_HOST = (
    "set PUBLIC_BASE_URL to the app's public address (such as your tunnel's https URL): "
    "without it the app answers calls only for requests to this machine or to HOST:PORT"
)


# Every legitimate call makes one webhook request: the dial-in budget, per client address.
_webhook_limit = [limit_per_client(DIAL_IN_LIMIT)]


@router.post("/twilio/voice", response_class=Response, dependencies=_webhook_limit)
async def twilio_voice(request: Request, services: ServicesDep) -> Response:
    """Answers a call to a Twilio number or SIP domain with a media stream (TwiML)."""
    settings = services.settings
    _refuse_unconfigured(services, "twilio")
    body = await _body(request)
    if signed(settings, "twilio"):
        params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        url = public_url(request, settings.public_base_url)
        signature = request.headers.get("x-twilio-signature", "")
        if not twilio_signature_valid(settings.twilio_auth_token, signature, url, params):
            logger.warning("refused a Twilio webhook with a missing or invalid signature")
            raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED)
    url = await _stream_url(request, services, "twilio")
    return Response(twiml_stream(url), media_type=XML_MEDIA_TYPE)


@router.post("/telnyx/voice", response_class=Response, dependencies=_webhook_limit)
async def telnyx_voice(request: Request, services: ServicesDep) -> Response:
    """Answers a call to a Telnyx number or SIP connection with a media stream (TeXML)."""
    settings = services.settings
    _refuse_unconfigured(services, "telnyx")
    body = await _body(request)
    if signed(settings, "telnyx"):
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
    if not await _admitted(services, provider, ticket):
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


async def _admitted(services: Services, provider: Provider, ticket: str) -> bool:
    """A signed provider's stream needs an unused ticket; an unsigned one's is let in bare,
    in development only."""
    settings = services.settings
    if signed(settings, provider):
        if await stream_tickets(services).redeem(ticket, provider):
            return True
        logger.warning("refused a media stream without a valid ticket")
        return False
    if not_configured(settings, provider) is not None:
        logger.warning("refused a media stream: its provider has no signing credential")
        return False
    if ticket:
        logger.warning("refused a media stream with a ticket its unsigned provider never issues")
        return False
    return True


def _refuse_unconfigured(services: Services, provider: Provider) -> None:
    reason = not_configured(services.settings, provider)
    if reason is not None:
        logger.warning("refused a voice webhook: its provider has no signing credential")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, reason)


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "webhook body too large")
    return body


async def _stream_url(request: Request, services: Services, provider: Provider) -> str:
    """The stream URL for the answer: with a fresh ticket when the provider is signed, bare
    otherwise (an unsigned provider's stream needs none, so none is left in the store)."""
    base = app_base_url(request, services.settings)
    if base is None:
        logger.warning("refused a voice webhook: PUBLIC_BASE_URL unset and Host not this app")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNKNOWN_HOST)
    ticket = (
        await stream_tickets(services).issue(provider)
        if signed(services.settings, provider)
        else None
    )
    return stream_url(base, provider, ticket)
