"""ICE servers (STUN and TURN) for the voice calls, parsed from ``ICE_SERVERS``.

A browser on another network reaches the app's WebRTC peer only through the addresses STUN
finds or a TURN relay. ``ICE_SERVERS`` lists them as comma-separated URLs, with a TURN
server's username and password before its host, percent-encoded where they hold ``:``,
``@``, ``,`` or ``%``::

    stun:stun.example.com:3478,turn:user:pass@turn.example.com:3478?transport=udp

Both the browser and the app's own peer connections use the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_URL = re.compile(
    r"(?P<scheme>stuns?|turns?):"
    r"(?:(?P<username>[^:@/?\s]+):(?P<credential>[^@/?\s]+)@)?"
    r"(?P<host>[A-Za-z0-9.\-]+)"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?:\?transport=(?P<transport>udp|tcp))?"
)
_EXAMPLE = "stun:stun.example.com:3478,turn:user:pass@turn.example.com:3478?transport=udp"


class IceServersError(ValueError):
    """``ICE_SERVERS`` cannot be used; the message says which entry and why (never its
    credentials)."""


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server, in the shape of WebRTC's ``RTCIceServer``.

    Attributes:
        urls: the server's URL without credentials (``turn:host:3478?transport=udp``).
        username: the TURN username (None for STUN).
        credential: the TURN password (None for STUN).
    """

    urls: str
    username: str | None = None
    credential: str | None = None

    @property
    def is_turn(self) -> bool:
        """Whether this is a TURN relay (whose credentials are secret)."""
        return self.urls.startswith("turn")


def parse_ice_servers(text: str) -> list[IceServer]:
    """Parses ``ICE_SERVERS``: comma-separated ``stun:``, ``stuns:``, ``turn:`` and ``turns:``
    URLs; TURN ones carry ``username:password@`` before the host.

    Args:
        text: the variable's value; empty (or only commas and spaces) means no servers.

    Returns:
        The servers in the order given.

    Raises:
        IceServersError: an entry is not such a URL, a TURN entry has no credentials, a STUN
            entry has some, or a transport or port cannot be used.
    """
    servers = []
    entries = [entry.strip() for entry in text.split(",")]
    for number, entry in enumerate((e for e in entries if e), start=1):
        servers.append(_parse_one(entry, number))
    return servers


def _parse_one(entry: str, number: int) -> IceServer:
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
    elif match["username"] is None:
        raise problem("is a TURN server without username:password@ before its host")
    elif scheme == "turns" and match["transport"] == "udp":
        raise problem("is a turns: (TLS) server with transport=udp; TLS runs on tcp")
    url = f"{scheme}:{match['host']}"
    if port is not None:
        url += f":{int(port)}"
    if match["transport"] is not None:
        url += f"?transport={match['transport']}"
    if scheme.startswith("stun"):
        return IceServer(urls=url)
    return IceServer(
        urls=url,
        username=unquote(str(match["username"])),
        credential=unquote(str(match["credential"])),
    )
