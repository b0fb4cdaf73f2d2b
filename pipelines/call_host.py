"""Where live calls run: in this process, or in call processes that this one routes to.

SmallWebRTC keeps each peer connection in the memory of the process that answered its offer,
so every follow-up request of a call (trickled ICE candidates, a renegotiation) must reach
that same process. `LocalCalls` runs calls here; `pipelines.call_processes.CallProcesses` runs them
in child processes and remembers which one holds each call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipecat.transports.smallwebrtc.connection import IceServer, SmallWebRTCConnection
from pipecat.transports.smallwebrtc.request_handler import (
    IceCandidate,
    SmallWebRTCPatchRequest,
    SmallWebRTCRequest,
    SmallWebRTCRequestHandler,
)

from agents.training.session import TrainingService
from memory.db import Database
from memory.files import MediaStore
from memory.models import TrainingSession
from memory.settings import Settings

CALL_TOKEN_HEADER = "x-call-token"  # noqa: S105 - a header name; the token is per run
"""The header carrying the token a call process checks on every request."""


class CallError(Exception):
    """A call request that cannot be served; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def peer_ice_servers(settings: Settings, user_id: str) -> list[IceServer]:
    """The configured STUN/TURN servers as the server's peer connections take them, with TURN
    credentials minted for the call of ``user_id`` when ``TURN_SECRET`` is set."""
    return [
        IceServer(urls=server.urls, username=server.username, credential=server.credential)
        for server in settings.ice_servers_for(user_id)
    ]


@dataclass(frozen=True)
class CallOffer:
    """An SDP offer for a session's call (``pc_id`` renegotiates an existing one)."""

    sdp: str
    type: str
    pc_id: str | None = None
    restart_pc: bool | None = None


class Calls(Protocol):
    """Answers offers and routes each call's follow-up requests to the process holding it."""

    async def offer(self, training: TrainingSession, offer: CallOffer) -> dict[str, str]:
        """Starts (or renegotiates) the session's call; returns ``{sdp, type, pc_id}``."""
        ...

    async def ice(self, session_id: str, pc_id: str, candidates: list[IceCandidate]) -> None:
        """Adds trickled ICE candidates to the session's call."""
        ...

    def holds(self, pc_id: str, session_id: str) -> bool:
        """Whether ``pc_id`` is a running call of the session."""
        ...

    async def close(self) -> None:
        """Hangs up every call."""
        ...


@dataclass
class LocalCalls:
    """Runs calls as tasks of this process.

    Args:
        settings: the configuration (providers for the call's speech services).
        db: the SQL database.
        training: the training service (engines, storage, scoring).
        media: where recordings are written.
    """

    settings: Settings
    db: Database
    training: TrainingService
    media: MediaStore
    webrtc: SmallWebRTCRequestHandler = field(init=False)
    sessions: dict[str, str] = field(default_factory=dict)  # pc_id -> training session id
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    warm_up: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        # Every peer connection gathers candidates through ICE_SERVERS' STUN and TURN servers,
        # given to the handler per offer (`offer`), with TURN credentials minted for that call.
        self.webrtc = SmallWebRTCRequestHandler()
        # The speech models load while the first trainee is still choosing a scenario.
        from pipelines.calls import prepare_live_speech

        self.warm_up = asyncio.create_task(
            asyncio.to_thread(prepare_live_speech, self.settings), name="warm-up-speech"
        )

    async def offer(self, training: TrainingSession, offer: CallOffer) -> dict[str, str]:
        """Answers the offer here; a new peer connection starts the bot after the answer."""
        from pipelines.calls import run_browser_call  # the bot pulls in the whole pipeline

        if offer.pc_id is not None:
            self._own(offer.pc_id, training.id)

        async def on_connection(connection: SmallWebRTCConnection) -> None:
            self.sessions[connection.pc_id] = training.id
            self._start(run_browser_call(self, training, connection), connection.pc_id)

        request = SmallWebRTCRequest(
            sdp=offer.sdp, type=offer.type, pc_id=offer.pc_id, restart_pc=offer.restart_pc
        )
        # Credentials for this call's relay, counted against its trainee's quota at the relay.
        # The handler reads them when it creates the connection, before its first await, so a
        # concurrent offer cannot swap them in between.
        self.webrtc.update_ice_servers(peer_ice_servers(self.settings, training.user_id))
        try:
            answer = await self.webrtc.handle_web_request(
                request=request, webrtc_connection_callback=on_connection
            )
        except Exception as exc:
            raise CallError(400, "the SDP offer could not be used; send a valid offer") from exc
        if not answer:
            raise CallError(400, "no answer could be made for this offer")
        return {"sdp": answer["sdp"], "type": answer["type"], "pc_id": answer["pc_id"]}

    async def ice(self, session_id: str, pc_id: str, candidates: list[IceCandidate]) -> None:
        """Adds the candidates to the call's peer connection."""
        self._own(pc_id, session_id)
        try:
            await self.webrtc.handle_patch_request(
                SmallWebRTCPatchRequest(pc_id=pc_id, candidates=candidates)
            )
        except Exception as exc:
            raise CallError(400, "an ICE candidate is malformed") from exc

    def active(self) -> int:
        """How many calls this process runs."""
        return len(self.tasks)

    def ended(self, pc_id: str) -> None:
        """Forgets a call that has ended."""
        self.sessions.pop(pc_id, None)

    async def close(self) -> None:
        """Cancels every call and closes the peer connections."""
        if self.warm_up is not None:
            # A thread cannot be cancelled: the warm-up finishes (it is bounded) first.
            await asyncio.gather(self.warm_up, return_exceptions=True)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.webrtc.close()

    def holds(self, pc_id: str, session_id: str) -> bool:
        """Whether ``pc_id`` is a running call of the session in this process."""
        return self.sessions.get(pc_id) == session_id

    def _own(self, pc_id: str, session_id: str) -> None:
        if not self.holds(pc_id, session_id):
            raise CallError(404, "call not found for this session")

    def _start(self, call: Coroutine[Any, Any, None], pc_id: str) -> None:
        task = asyncio.create_task(call, name=f"call-{pc_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
