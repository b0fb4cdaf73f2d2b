"""A phone call, from the provider's first message to the session's scorecard.

1. The handshake names the stream; the provider's serializer is built for it.
2. The lobby asks for the dial-in code (`web.telephony.lobby`) and redeems it, within the
   budget of code attempts all callers share (``RATE_LIMIT_DIAL_IN``).
3. The session must still be active; the roleplay bot then runs over a
   `FastAPIWebsocketTransport` on the same socket, exactly as a browser call runs
   (`pipelines.calls.run_call`): turns, scores, latency and the recording are stored the same way.
4. When the call ends (the caller hangs up, ``stop``, or the bot idles out) the session ends
   with its scorecard, as ``POST /training/end`` would.

Phone calls run in the API process (their websocket arrives here), also when browser calls
run in call processes.
"""

from __future__ import annotations

from fastapi import WebSocket
from loguru import logger
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)

from agents.training.session import TrainingError
from memory.models import TrainingSession
from pipelines.calls import run_call
from web.services import Services
from web.telephony import dial_in_codes, spend_code_attempt
from web.telephony.lobby import ENDED, DialInLobby
from web.telephony.streams import (
    CALL_INPUT_SAMPLE_RATE,
    PHONE_SAMPLE_RATE,
    Provider,
    read_start,
    serializer_for,
)


async def run_phone_call(websocket: WebSocket, provider: Provider, services: Services) -> None:
    """Runs one phone call on an accepted media stream until it ends.

    Args:
        websocket: the provider's media stream, accepted.
        provider: who is streaming.
        services: the app's services.
    """
    start = await read_start(websocket, provider)
    if start is None:
        logger.warning("a media stream closed or never started properly")
        return
    serializer = serializer_for(start, services.settings)
    lobby = DialInLobby(
        websocket=websocket,
        serializer=serializer,
        codes=dial_in_codes(services),
        budget=lambda: spend_code_attempt(services),
    )
    code = await lobby.admit()
    if code is None:
        return
    try:
        training = await services.training.active(user_id=code.user_id, session_id=code.session_id)
    except TrainingError:
        await lobby.hang_up(ENDED)
        return
    transport = FastAPIWebsocketTransport(
        websocket,
        FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
            allowed_origins=[],  # providers send no Origin; the stream ticket vouches for them
        ),
    )
    logger.info(f"phone call ({provider}) joined a training session")
    try:
        await run_call(
            services,
            training,
            transport,
            audio_in_sample_rate=CALL_INPUT_SAMPLE_RATE,
            audio_out_sample_rate=PHONE_SAMPLE_RATE,
        )
    except Exception:
        logger.exception("a phone call ended with an error")
    finally:
        await _end_session(services, training)


async def _end_session(services: Services, training: TrainingSession) -> None:
    """Ends the session with its scorecard; the trainee can still end it later if this
    fails (the scorecard is rebuilt from SQL)."""
    try:
        await services.training.end(user_id=training.user_id, session_id=training.id)
    except Exception:
        logger.exception("a phone call's session could not be ended")
    else:
        logger.info("phone call ended; its session has a scorecard")
