"""Dial-in secrets: how a phone call reaches the training session it practises.

*Dial-in codes*: a trainee asks for a code for one of their sessions and keys it on the phone.
A code is six digits (easy to key), single-use, and expires. Redeeming is atomic: two calls
keying the same code at the same moment get one session between them. A code that was used or
has expired is remembered for a while after, so the caller can be told so.

*Stream tickets*: a signed voice webhook hands one to the media stream it opens (in the stream
URL), so that once a provider's credentials are set only calls that came through its signed
webhook reach the stream.

Both live in the session store. With Redis, issuing uses ``SET NX`` and redeeming ``GETDEL``,
atomic across every app process. The in-process store completes each operation without
suspending, so a read and the write after it never interleave with another task's.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from memory.session_store import RedisSessionStore, SessionStore

CODE_DIGITS = 6
DEFAULT_CODE_TTL_SECONDS = 600
SPENT_KEPT_SECONDS = 3600
"""How long a used or expired code is remembered after it stops working."""
TICKET_TTL_SECONDS = 120
"""A provider opens the stream within a second of the webhook's answer; two minutes is ample."""
_ISSUE_ATTEMPTS = 20
_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")

RedemptionStatus = Literal["accepted", "unknown", "used", "expired"]


class DialInError(Exception):
    """No code could be issued (the code space is crowded or the store refused)."""


@dataclass(frozen=True)
class DialInCode:
    """A code and the session it opens."""

    code: str
    session_id: str
    user_id: str
    expires_at: datetime


@dataclass(frozen=True)
class Redemption:
    """What keying a code gave: the code's session when ``status`` is "accepted"."""

    status: RedemptionStatus
    code: DialInCode | None = None


async def _put_new(store: SessionStore, key: str, value: dict[str, Any], ttl: int) -> bool:
    """Stores ``value`` unless ``key`` exists; whether it was stored."""
    if isinstance(store, RedisSessionStore):
        stored = await store.redis.set(store.prefix + key, json.dumps(value), ex=ttl, nx=True)
        return bool(stored)
    if await store.get(key) is not None:
        return False
    await store.set(key, value, ttl_seconds=ttl)
    return True


async def _take(store: SessionStore, key: str) -> dict[str, Any] | None:
    """Reads and deletes ``key`` in one step; None when it is absent."""
    if isinstance(store, RedisSessionStore):
        raw = await store.redis.getdel(store.prefix + key)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value
    found = await store.get(key)
    if found is not None:
        await store.delete(key)
    return found


class DialInCodes:
    """Issues and redeems dial-in codes in the session store.

    Args:
        store: the session store (Redis when configured).
        ttl_seconds: how long a code works after it is issued.
        clock: the wall clock (Unix seconds); tests move it.
    """

    def __init__(
        self,
        *,
        store: SessionStore,
        ttl_seconds: int = DEFAULT_CODE_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    async def issue(self, *, session_id: str, user_id: str) -> DialInCode:
        """A fresh code for the session.

        Raises:
            DialInError: no unused code was found after several tries.
        """
        expires = self.clock() + self.ttl_seconds
        record = {"session_id": session_id, "user_id": user_id, "expires_at": expires}
        for _ in range(_ISSUE_ATTEMPTS):
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            kept = self.ttl_seconds + SPENT_KEPT_SECONDS
            if await self.store.get(_spent_key(code)) is None and await _put_new(
                self.store, _code_key(code), record, kept
            ):
                return DialInCode(code, session_id, user_id, datetime.fromtimestamp(expires, UTC))
        raise DialInError("no dial-in code is free right now; try again")

    async def redeem(self, code: str) -> Redemption:
        """Uses up ``code``: "accepted" with its session once, then "used"; "expired" after
        its time; "unknown" for anything never issued (or forgotten since)."""
        if not _CODE.fullmatch(code):
            return Redemption("unknown")
        record = await _take(self.store, _code_key(code))
        if record is None:
            spent = await self.store.get(_spent_key(code))
            return Redemption(spent["status"] if spent else "unknown")
        expires = float(record["expires_at"])
        status: RedemptionStatus = "expired" if self.clock() >= expires else "used"
        await self.store.set(_spent_key(code), {"status": status}, ttl_seconds=SPENT_KEPT_SECONDS)
        if status == "expired":
            return Redemption("expired")
        found = DialInCode(
            code,
            str(record["session_id"]),
            str(record["user_id"]),
            datetime.fromtimestamp(expires, UTC),
        )
        return Redemption("accepted", found)


class StreamTickets:
    """Single-use tickets from a provider's voice webhook to the media stream it opens.

    Args:
        store: the session store (Redis when configured, so any app process can take it).
        ttl_seconds: how long a ticket waits for its stream.
    """

    def __init__(self, *, store: SessionStore, ttl_seconds: int = TICKET_TTL_SECONDS) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def issue(self, provider: str) -> str:
        """A new ticket for one stream of ``provider``."""
        ticket = secrets.token_urlsafe(24)
        await self.store.set(
            _ticket_key(ticket), {"provider": provider}, ttl_seconds=self.ttl_seconds
        )
        return ticket

    async def redeem(self, ticket: str, provider: str) -> bool:
        """Whether ``ticket`` was issued for ``provider`` and not used yet; it is used now."""
        if not ticket or len(ticket) > 64:
            return False
        found = await _take(self.store, _ticket_key(ticket))
        return found is not None and found.get("provider") == provider


def _code_key(code: str) -> str:
    return f"dial-in:code:{code}"


def _spent_key(code: str) -> str:
    return f"dial-in:spent:{code}"


def _ticket_key(ticket: str) -> str:
    return f"dial-in:ticket:{ticket}"
