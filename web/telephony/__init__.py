"""Phone dial-in: Twilio and Telnyx numbers and SIP trunks reach the roleplay bot.

A provider's voice webhook (`web.routers.telephony`) answers the call with markup that opens
a media stream to the app (`markup`), after checking the provider's signature when its
credentials are set (`signatures`). The stream (`streams`) first runs the dial-in lobby
(`lobby`), where the caller keys the session's code, and then the roleplay bot (`call`).
"""

from __future__ import annotations

from memory.dial_in import DialInCodes, StreamTickets
from memory.settings import Settings
from web.services import Services


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
