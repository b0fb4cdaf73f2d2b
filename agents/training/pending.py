"""Turns a live call is still writing, per session, so that ending the session waits for them.

A call stores each turn (and then scores it) beside the audio path. When the trainee hangs up
right after a reply and the app ends the session at once, those writes may still be running;
the scorecard must not be built without them.
"""

from __future__ import annotations

import asyncio


class PendingWrites:
    """Open writes per session in this process; `settled` waits for a session's to finish."""

    def __init__(self) -> None:
        self._open: dict[str, set[asyncio.Future[None]]] = {}

    def begin(self, session_id: str) -> asyncio.Future[None]:
        """Marks a write as started; pass the result to `finish` when it is done."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._open.setdefault(session_id, set()).add(done)
        return done

    def finish(self, session_id: str, done: asyncio.Future[None]) -> None:
        """Marks the write as finished (whether it succeeded or not)."""
        if not done.done():
            done.set_result(None)
        writes = self._open.get(session_id)
        if writes is not None:
            writes.discard(done)
            if not writes:
                del self._open[session_id]

    async def settled(self, session_id: str, *, within_secs: float) -> bool:
        """Waits (at most ``within_secs``) for the session's open writes; True when none
        is left."""
        writes = list(self._open.get(session_id, ()))
        if not writes:
            return True
        _done, pending = await asyncio.wait(writes, timeout=within_secs)
        return not pending
