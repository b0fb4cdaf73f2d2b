"""ICE servers (STUN and TURN) for the voice calls, parsed from ``ICE_SERVERS``.

A browser on another network reaches the app's WebRTC peer only through the addresses STUN
finds or a TURN relay. ``ICE_SERVERS`` lists them as comma-separated URLs::

    stun:turn.example.com:3478,turn:turn.example.com:3478?transport=udp

A TURN server needs credentials. With ``TURN_SECRET`` (the relay's shared secret, coturn's
``use-auth-secret`` + ``static-auth-secret``) they are minted for each caller and expire:
coturn's "TURN REST API" scheme, see `turn_credentials`. A TURN entry may instead carry a
static username and password before its host (percent-encoded where they hold ``:``, ``@``,
``,`` or ``%``), ``turn:user:pass@turn.example.com:3478``, which every caller then shares.

Both the browser and the app's own peer connections use the list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, replace
from urllib.parse import unquote

_URL = re.compile(
    r"(?P<scheme>stuns?|turns?):"
    r"(?:(?P<username>[^:@/?\s]+):(?P<credential>[^@/?\s]+)@)?"
    r"(?P<host>[A-Za-z0-9.\-]+)"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?:\?transport=(?P<transport>udp|tcp))?"
)
_EXAMPLE = "stun:stun.example.com:3478,turn:user:pass@turn.example.com:3478?transport=udp"

MIN_TURN_SECRET_LENGTH = 16
"""``TURN_SECRET`` signs every minted credential: a short one could be guessed from one."""

TURN_CREDENTIAL_TTL_SECONDS = 3600
"""How long a minted TURN credential is accepted. coturn checks the time when a relay session
first authenticates and keeps its key for the session's refreshes, so a running call outlives
it; it must cover the call's start and any relay the call opens later (an ICE restart). An
hour does, and a leaked credential is soon useless."""


class IceServersError(ValueError):
    """``ICE_SERVERS`` cannot be used; the message says which entry and why (never its
    credentials)."""


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server, in the shape of WebRTC's ``RTCIceServer``.

    Attributes:
        urls: the server's URL without credentials (``turn:host:3478?transport=udp``).
        username: the TURN username (None for STUN, and for TURN before one is minted).
        credential: the TURN password (None for STUN, and for TURN before one is minted).
    """

    urls: str
    username: str | None = None
    credential: str | None = None

    @property
    def is_turn(self) -> bool:
        """Whether this is a TURN relay (whose credentials are secret)."""
        return self.urls.startswith("turn")

    @property
    def needs_credentials(self) -> bool:
        """Whether this is a TURN relay whose credentials are minted per caller."""
        return self.is_turn and self.username is None


def parse_ice_servers(text: str, *, minted: bool = False) -> list[IceServer]:
    """Parses ``ICE_SERVERS``: comma-separated ``stun:``, ``stuns:``, ``turn:`` and ``turns:``
    URLs; TURN ones may carry ``username:password@`` before the host.

    Args:
        text: the variable's value; empty (or only commas and spaces) means no servers.
        minted: whether TURN credentials can be minted (``TURN_SECRET`` is set), so a TURN
            entry may come without them (`IceServer.needs_credentials`).

    Returns:
        The servers in the order given.

    Raises:
        IceServersError: an entry is not such a URL, a TURN entry has no credentials and none
            can be minted, a STUN entry has some, or a transport or port cannot be used.
    """
    servers = []
    entries = [entry.strip() for entry in text.split(",")]
    for number, entry in enumerate((e for e in entries if e), start=1):
        servers.append(_parse_one(entry, number, minted=minted))
    return servers


def turn_credentials(
    secret: str, user_id: str, *, now: float, ttl_seconds: int = TURN_CREDENTIAL_TTL_SECONDS
) -> tuple[str, str]:
    """Time-limited TURN credentials as coturn checks them with ``use-auth-secret``.

    The username is ``<Unix time it expires>:<user id>`` and the password
    ``base64(HMAC-SHA1(secret, username))``; the relay recomputes the password from the
    username with the same secret and refuses a username whose time has passed.

    Args:
        secret: the shared secret (``TURN_SECRET``, coturn's ``static-auth-secret``).
        user_id: whom the relay counts the allocation against (its per-user quota, its log);
            non-empty and without ``:``, which separates it from the time.
        now: the current Unix time.
        ttl_seconds: how long from ``now`` the credentials are accepted.

    Returns:
        ``(username, password)``.

    Raises:
        ValueError: the user id is empty or holds ``:``.
    """
    if not user_id or ":" in user_id:
        raise ValueError("a TURN user id must be non-empty and free of ':'")
    username = f"{int(now) + ttl_seconds}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def with_turn_credentials(
    servers: list[IceServer], *, secret: str, user_id: str, now: float | None = None
) -> list[IceServer]:
    """The servers with freshly minted credentials (`turn_credentials`) on every TURN entry
    that has none; STUN entries and TURN entries with static credentials stay as given.

    Args:
        servers: parsed ``ICE_SERVERS``.
        secret: ``TURN_SECRET``; empty leaves the servers as they are.
        user_id: the caller the credentials are for.
        now: the current Unix time (default: the clock's).

    Returns:
        The servers in the same order.
    """
    if not secret or not any(server.needs_credentials for server in servers):
        return list(servers)
    username, password = turn_credentials(secret, user_id, now=time.time() if now is None else now)
    return [
        replace(server, username=username, credential=password)
        if server.needs_credentials
        else server
        for server in servers
    ]


def _parse_one(entry: str, number: int, *, minted: bool) -> IceServer:
    def problem(why: str) -> IceServersError:
        return IceServersError(f"ICE_SERVERS entry {number} {why} (e.g. {_EXAMPLE})")

    match = _URL.fullmatch(entry)
    if match is None:
        raise problem(
            "is not a stun:, stuns:, turn: or turns: URL of the form "
            "scheme:[username:password@]host[:port][?transport=udp|tcp]"
        )
    scheme, port = match["scheme"], match["port"]
    if port is not None and not 1 <= int(port) <= 65_535:
        raise problem("has a port outside 1-65535")
    if scheme.startswith("stun"):
        if match["username"] is not None:
            raise problem("is a STUN server with credentials; only TURN takes them")
        if match["transport"] is not None:
            raise problem("is a STUN server with a transport; only TURN takes one")
    elif match["username"] is None and not minted:
        raise problem(
            "is a TURN server without credentials: set TURN_SECRET to the relay's shared "
            "secret to mint them per caller, or give username:password@ before its host"
        )
    elif scheme == "turns" and match["transport"] == "udp":
        raise problem("is a turns: (TLS) server with transport=udp; TLS runs on tcp")
    url = f"{scheme}:{match['host']}"
    if port is not None:
        url += f":{int(port)}"
    if match["transport"] is not None:
        url += f"?transport={match['transport']}"
    if scheme.startswith("stun") or match["username"] is None:
        return IceServer(urls=url)
    return IceServer(
        urls=url,
        username=unquote(str(match["username"])),
        credential=unquote(str(match["credential"])),
    )
