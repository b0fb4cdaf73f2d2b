"""The answers to a provider's voice webhook: open a bidirectional media stream to the app.

Twilio reads TwiML and Telnyx reads TeXML (its TwiML-compatible dialect); both answer an
incoming call with ``<Connect><Stream url="wss://...">``, which keeps the call on the stream
until either side closes it. Telnyx streams one way unless ``bidirectionalMode="rtp"`` is
set, and its codecs are pinned to PCMU (8 kHz mu-law, what the serializers speak).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

XML_MEDIA_TYPE = "application/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml_stream(stream_url: str) -> str:
    """TwiML that connects the call to a Twilio Media Stream at ``stream_url``."""
    return (
        f"{_DECLARATION}<Response><Connect>"
        f"<Stream url={quoteattr(stream_url)}/>"
        "</Connect></Response>"
    )


def texml_stream(stream_url: str) -> str:
    """TeXML that connects the call to a bidirectional Telnyx media stream at ``stream_url``."""
    return (
        f"{_DECLARATION}<Response><Connect>"
        f'<Stream url={quoteattr(stream_url)} bidirectionalMode="rtp" '
        'bidirectionalCodec="PCMU" codec="PCMU"/>'
        "</Connect></Response>"
    )


def stream_url(base_url: str, provider: str, ticket: str | None) -> str:
    """The websocket URL of a provider's media stream, carrying the stream's ticket.

    Args:
        base_url: the app's public http(s) address, without a trailing slash.
        provider: "twilio" or "telnyx".
        ticket: the stream ticket (URL-safe); it rides in the path because Twilio drops
            query strings from stream URLs. None for an unsigned provider (development).
    """
    scheme, rest = base_url.split("://", 1)
    ws_scheme = "wss" if scheme == "https" else "ws"
    url = f"{ws_scheme}://{rest}/telephony/{provider}/stream"
    return f"{url}/{ticket}" if ticket else url
