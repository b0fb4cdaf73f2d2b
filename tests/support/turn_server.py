"""A loopback STUN/TURN server for tests (UDP), built on aioice's STUN messages.

It answers a Binding request with the mapped address it was given, and an Allocate request,
after the long-term-credential challenge (401 with realm and nonce), with the relayed
address it was given, but only when the request's MESSAGE-INTEGRITY proves the expected
username and password. With a ``secret`` it checks credentials as coturn does with
``use-auth-secret``: the username is ``<expiry>:<user id>``, the password must be
base64(HMAC-SHA1(secret, username)) and the expiry must not have passed; a forged or expired
credential gets 401, as from coturn. It records what it saw so a test can assert who used it
and how.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, cast

from aioice import stun
from aioice.turn import make_integrity_key

REALM = "test.realm"
NONCE = b"0123456789abcdef"


@dataclass
class TurnServer(asyncio.DatagramProtocol):
    """Answers STUN/TURN requests on a loopback UDP port (see the module docstring).

    Attributes:
        mapped: the address a Binding or Allocate says the client is seen as.
        relayed: the address an Allocate grants.
        username: the static account's username (unused with ``secret``).
        password: the static account's password (unused with ``secret``).
        secret: the shared secret of time-limited credentials; empty: the static account.
    """

    mapped: tuple[str, int]
    relayed: tuple[str, int]
    username: str = ""
    password: str = ""
    secret: str = ""
    bindings: int = 0
    allocations: list[str] = field(default_factory=list)  # usernames of granted allocations
    refused: int = 0  # authenticated requests whose integrity did not check out
    expired: int = 0  # time-limited credentials refused for their expiry alone
    transport: asyncio.DatagramTransport | None = None

    @property
    def port(self) -> int:
        """The UDP port it listens on."""
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    async def start(self) -> TurnServer:
        """Starts listening on 127.0.0.1 (a free port)."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        return self

    def close(self) -> None:
        """Stops listening."""
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return  # channel data or media: nothing to answer
        if request.message_class != stun.Class.REQUEST:
            return
        if request.message_method == stun.Method.BINDING:
            self.bindings += 1
            self._send(request, addr, {"XOR-MAPPED-ADDRESS": self.mapped})
            return
        challenge = {"ERROR-CODE": (401, "Unauthorized"), "REALM": REALM, "NONCE": NONCE}
        if "USERNAME" not in request.attributes:
            self._send(request, addr, challenge, error=True)
            return
        username = request.attributes["USERNAME"]
        if self.secret:
            key = make_integrity_key(username, REALM, self._rest_password(username))
            if not request.check_message_integrity(key):
                self.refused += 1
                self._send(request, addr, challenge, error=True)
                return
            if _expiry(username) < time.time():
                self.expired += 1
                self._send(request, addr, challenge, error=True)
                return
        else:
            key = make_integrity_key(self.username, REALM, self.password)
            if username != self.username or not request.check_message_integrity(key):
                self.refused += 1
                self._send(request, addr, {"ERROR-CODE": (441, "Wrong Credentials")}, error=True)
                return
        attributes: dict[str, Any] = {}
        if request.message_method == stun.Method.ALLOCATE:
            self.allocations.append(request.attributes["USERNAME"])
            attributes = {
                "XOR-RELAYED-ADDRESS": self.relayed,
                "XOR-MAPPED-ADDRESS": self.mapped,
                "LIFETIME": 600,
            }
        elif request.message_method == stun.Method.REFRESH:
            attributes = {"LIFETIME": request.attributes.get("LIFETIME", 600)}
        self._send(request, addr, attributes, key=key)

    def _rest_password(self, username: str) -> str:
        digest = hmac.new(self.secret.encode(), username.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")

    def _send(
        self,
        request: stun.Message,
        addr: tuple[str, int],
        attributes: dict[str, Any],
        *,
        error: bool = False,
        key: bytes | None = None,
    ) -> None:
        response = stun.Message(
            message_method=request.message_method,
            message_class=stun.Class.ERROR if error else stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
            attributes=attributes,
        )
        if key is not None:
            response.add_message_integrity(key)
        assert self.transport is not None
        self.transport.sendto(bytes(response), addr)


def _expiry(username: str) -> int:
    """The expiry of a time-limited username (``<expiry>:<user id>``, or the time alone)."""
    stamp = username.split(":", 1)[0]
    return int(stamp) if stamp.isdigit() else 0
