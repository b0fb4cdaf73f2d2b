"""Checks that a webhook really comes from the phone provider.

- Twilio: ``X-Twilio-Signature`` is base64(HMAC-SHA1(auth token, URL + each POST parameter's
  name and value, sorted by name)). The URL is the one Twilio requested, i.e. the app's public
  URL, not the address a proxy forwarded to; `public_url` builds it.
- Telnyx: ``telnyx-signature-ed25519`` is base64(Ed25519 signature of ``"{timestamp}|{raw
  body}"``), checked with the account's public key; ``telnyx-timestamp`` must be recent, so a
  captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.requests import HTTPConnection

TELNYX_TOLERANCE_SECONDS = 300
_DEFAULT_PORTS = {"https": 443, "wss": 443, "http": 80, "ws": 80}


def public_url(connection: HTTPConnection, public_base_url: str) -> str:
    """The URL the provider used to reach this request.

    Args:
        connection: the request (or websocket).
        public_base_url: ``PUBLIC_BASE_URL``; empty for the address the request arrived at
            (which is right when no proxy rewrites the host or scheme).
    """
    url = connection.url
    if not public_base_url:
        return str(url)
    query = f"?{url.query}" if url.query else ""
    return f"{public_base_url}{url.path}{query}"


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's signature of a request to ``url`` with these POST parameters."""
    payload = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    auth_token: str, signature: str, url: str, params: list[tuple[str, str]]
) -> bool:
    """Whether ``signature`` is Twilio's for ``url`` and ``params``.

    The URL is tried as given and with its default port added or removed, as Twilio's own
    validators do (Twilio may sign either form).
    """
    if not signature:
        return False
    return any(
        hmac.compare_digest(twilio_signature(auth_token, candidate, params), signature)
        for candidate in _port_variants(url)
    )


def telnyx_signature_valid(
    public_key: str, signature: str, timestamp: str, body: bytes, *, now: float
) -> bool:
    """Whether ``signature`` is Telnyx's Ed25519 signature of ``timestamp|body``, made
    within `TELNYX_TOLERANCE_SECONDS` of ``now``.

    Args:
        public_key: the account's public key, base64 (``TELNYX_PUBLIC_KEY``).
        signature: the ``telnyx-signature-ed25519`` header.
        timestamp: the ``telnyx-timestamp`` header (Unix seconds).
        body: the raw request body.
        now: the current Unix time.
    """
    try:
        sent_at = int(timestamp)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        raw_signature = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        return False
    if abs(now - sent_at) > TELNYX_TOLERANCE_SECONDS:
        return False
    try:
        key.verify(raw_signature, f"{timestamp}|".encode() + body)
    except InvalidSignature:
        return False
    return True


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or not host or "@" in parts.netloc:
        return [url]
    if ":" in host:  # IPv6
        host = f"[{host}]"
    with_port = parts._replace(netloc=f"{host}:{parts.port or default}")
    without_port = parts._replace(netloc=host)
    variants = [url]
    if parts.port in (None, default):
        variants += [urlunsplit(with_port), urlunsplit(without_port)]
    return list(dict.fromkeys(variants))
