"""A call process: runs live calls for the API process that started it (``CALL_PROCESSES``).

It listens on a loopback port only and answers only requests that carry the token its
parent gave it; the parent has already checked who owns the session. Its settings and token
come on standard input (never the command line or the environment), and it prints
``READY <port>`` when it can take calls. Its own pattern index lives in memory, filled from
SQL per champion at the start of a call, unless a Qdrant server is configured.
"""

from __future__ import annotations

import hmac
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException, Request, status
from pipecat.transports.smallwebrtc.request_handler import IceCandidate
from pydantic import BaseModel, Field

from memory.db import Database
from memory.files import MediaStore
from memory.models import TrainingSession
from memory.settings import Settings
from memory.vectors import VectorStore
from pipelines.call_host import CALL_TOKEN_HEADER, CallError, CallOffer, LocalCalls
from web.log_config import configure_logging
from web.services import training_service


class ForwardedOffer(BaseModel):
    """An offer the API process accepted for one of its user's sessions."""

    session_id: str
    sdp: str = Field(min_length=1)
    type: str
    pc_id: str | None = None
    restart_pc: bool | None = None


class ForwardedCandidate(BaseModel):
    """One trickled ICE candidate."""

    candidate: str
    sdp_mid: str
    sdp_mline_index: int


class ForwardedIce(BaseModel):
    """Trickled ICE candidates for a call of this process."""

    session_id: str
    pc_id: str
    candidates: list[ForwardedCandidate]


def create_call_server(settings: Settings, token: str) -> FastAPI:
    """The call process's app: offers, ICE candidates and its load, behind ``token``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(url=settings.resolved_database_url)
        vectors = (
            VectorStore(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
            if settings.qdrant_url
            else VectorStore.in_memory()
        )
        await vectors.ensure_collection()
        training = training_service(settings, db, vectors)
        app.state.calls = LocalCalls(settings, db, training, MediaStore(root=settings.media_dir))
        try:
            yield
        finally:
            await app.state.calls.close()
            await vectors.close()
            await db.close()

    def authorised(token_header: Annotated[str, Header(alias=CALL_TOKEN_HEADER)] = "") -> None:
        if not hmac.compare_digest(token_header.encode(), token.encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not the API process")

    app = FastAPI(lifespan=lifespan, dependencies=[Depends(authorised)], docs_url=None)

    @app.post("/calls/offer")
    async def offer(body: ForwardedOffer, request: Request) -> dict[str, str]:
        calls: LocalCalls = request.app.state.calls
        async with calls.db.session() as session:
            training = await session.get(TrainingSession, body.session_id)
        if training is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "training session not found")
        if training.status != "active":
            raise HTTPException(status.HTTP_409_CONFLICT, "this session has ended")
        offer = CallOffer(body.sdp, body.type, body.pc_id, body.restart_pc)
        try:
            return await calls.offer(training, offer)
        except CallError as exc:
            raise HTTPException(exc.status, exc.message) from exc

    @app.patch("/calls/ice", status_code=status.HTTP_204_NO_CONTENT)
    async def ice(body: ForwardedIce, request: Request) -> None:
        calls: LocalCalls = request.app.state.calls
        candidates = [
            IceCandidate(c.candidate, c.sdp_mid, c.sdp_mline_index) for c in body.candidates
        ]
        try:
            await calls.ice(body.session_id, body.pc_id, candidates)
        except CallError as exc:
            raise HTTPException(exc.status, exc.message) from exc

    @app.get("/calls/load")
    async def load(request: Request) -> dict[str, Any]:
        return {"pid": os.getpid(), "calls": request.app.state.calls.active()}

    return app


def main() -> None:
    """Reads settings and token from stdin, binds a loopback port, says READY, serves."""
    handoff = json.loads(sys.stdin.readline())
    settings = Settings(_env_file=None, **handoff["settings"])  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app = create_call_server(settings, handoff["token"])
    print(f"READY {sock.getsockname()[1]}", flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the parent reads only that line
    config = uvicorn.Config(app, log_level="warning", log_config=None, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
