"""Phone dial-in: Twilio and Telnyx numbers and SIP trunks reach the roleplay bot.

A provider's voice webhook (`web.routers.telephony`) answers the call with markup that opens
a media stream to the app (`markup`), after checking the provider's signature (`signatures`).
The stream (`streams`) first runs the dial-in lobby (`lobby`), where the caller keys the
session's code, and then the roleplay bot (`call`).

A provider is *signed* when its signing credential is set: its webhooks must carry a valid
signature and its streams the ticket of a signed webhook. An unsigned provider is a
development convenience only; in any other environment its webhook and stream are refused.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import HTTPConnection

from memory.dial_in import DialInCodes, StreamTickets
from memory.settings import Settings
from web.services import Services

CREDENTIALS = {"twilio": "TWILIO_AUTH_TOKEN", "telnyx": "TELNYX_PUBLIC_KEY"}
"""The setting that signs each provider's webhooks."""
DIAL_IN_LIMIT: Final = "dial_in"
"""The rate limit (``RATE_LIMIT_DIAL_IN``) on code attempts and on voice webhooks."""
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def dial_in_codes(services: Services) -> DialInCodes:
    """The app's dial-in codes, kept in its session store."""
    return DialInCodes(
        store=services.sessions, ttl_seconds=services.settings.dial_in_code_ttl_seconds
    )


def stream_tickets(services: Services) -> StreamTickets:
    """The app's stream tickets, kept in its session store."""
    return StreamTickets(store=services.sessions)


def signed(settings: Settings, provider: str) -> bool:
    """Whether the provider's webhooks must be signed (its signing credential is set); its
    media streams then need a ticket from a signed webhook."""
    if provider == "twilio":
        return bool(settings.twilio_auth_token)
    return bool(settings.telnyx_public_key)


def not_configured(settings: Settings, provider: str) -> str | None:
    """Why the provider's calls are refused, or None when they may come in: outside
    development a provider needs its signing credential."""
    if signed(settings, provider) or settings.environment == "development":
        return None
    return f"phone dial-in via {provider} is not configured: set {CREDENTIALS[provider]}"


def app_base_url(connection: HTTPConnection, settings: Settings) -> str | None:
    """The app's address for the media stream URLs a webhook answers with.

    ``PUBLIC_BASE_URL`` when set. Without it, the address the request came to, but only when
    its host is this machine (a loopback name, any port) or the configured ``HOST`` and
    ``PORT``: any other ``Host`` header may be forged, and would send the call's audio to
    whatever address it names. None then: the app cannot tell its own public address.
    """
    if settings.public_base_url:
        return settings.public_base_url
    url = connection.url
    host = (url.hostname or "").lower()
    port = url.port or _DEFAULT_PORTS.get(url.scheme)
    configured = settings.host.strip().lower()
    if host in LOOPBACK_NAMES or (host == configured and port == settings.port):
        return str(connection.base_url).rstrip("/")
    return None


async def spend_code_attempt(services: Services) -> bool:
    """Counts one code keyed on any call against ``RATE_LIMIT_DIAL_IN``, shared by every
    caller (and, with Redis, every app process); False once the budget is spent."""
    limit = services.settings.rate_limit(DIAL_IN_LIMIT)
    return await services.limiter.hit(f"{DIAL_IN_LIMIT}:all", limit) is None
