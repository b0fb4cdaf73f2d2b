"""Live calls: builds the transport for a session and runs the roleplay bot on it."""

from __future__ import annotations

from loguru import logger
from pipecat.transports.base_transport import TransportParams
from pipecat.transports.smallwebrtc.connection import SmallWebRTCConnection
from pipecat.transports.smallwebrtc.transport import SmallWebRTCTransport

from memory.models import Champion, TrainingSession
from memory.queries import training as training_queries
from pipelines.roleplay_bot import run_bot
from web.services import Services


async def voice_for(services: Services, training: TrainingSession) -> dict[str, object]:
    """The voice profile the AI speaks with: the prospect's in roleplay, the champion's in demo."""
    async with services.db.session() as session:
        champion = await session.get(Champion, training.champion_id)
    profiles = (champion.voice_profile if champion else None) or {}
    role = "champion" if training.mode == "demo" else "prospect"
    return dict(profiles.get(role) or profiles.get("champion") or {})


async def run_browser_call(
    services: Services, training: TrainingSession, connection: SmallWebRTCConnection
) -> None:
    """Runs a browser (SmallWebRTC) call for a session until it ends."""
    transport = SmallWebRTCTransport(
        webrtc_connection=connection,
        params=TransportParams(audio_in_enabled=True, audio_out_enabled=True),
    )
    ctx = await services.training.context(training)
    engine = services.training.dialogue(training.mode, services.training.lines(ctx.champion_id))
    async with services.db.session() as session:
        turns = await training_queries.turns_of(session, session_id=training.id)
    first = turns[0].text if turns else engine.first_message(ctx)
    try:
        await run_bot(
            transport,
            service=services.training,
            training=training,
            ctx=ctx,
            engine=engine,
            first_message=first,
            voice_profile=await voice_for(services, training),
            recording_dir=services.media.session_dir(training.id),
        )
    except Exception:
        logger.exception("a call ended with an error")
    finally:
        services.calls.pop(connection.pc_id, None)
