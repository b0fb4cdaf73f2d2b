"""Live calls: builds the transport for a session and runs the roleplay bot on it."""

from __future__ import annotations

import asyncio
from typing import Protocol

from loguru import logger
from pipecat.services.stt_service import STTService
from pipecat.transports.base_transport import BaseTransport, TransportParams
from pipecat.transports.smallwebrtc.connection import SmallWebRTCConnection
from pipecat.transports.smallwebrtc.transport import SmallWebRTCTransport

from agents.training.session import TrainingService, history_of
from memory.db import Database
from memory.files import MediaStore
from memory.models import Champion, TrainingSession
from memory.pattern_index import ensure_indexed
from memory.queries import training as training_queries
from memory.settings import Settings
from pipelines.roleplay_bot import run_bot
from pipelines.services.live import make_live_stt, make_live_tts, warm_up_live_speech
from pipelines.webrtc_audio import tighten_input_buffer, use_quiet_output_tracks


class CallResources(Protocol):
    """What a call needs from the process that runs it (`LocalCalls`, or the app's services
    for phone calls)."""

    @property
    def settings(self) -> Settings:
        """The configuration (providers for the call's speech services)."""
        ...

    @property
    def db(self) -> Database:
        """The SQL database."""
        ...

    @property
    def training(self) -> TrainingService:
        """The training service (engines, storage, scoring)."""
        ...

    @property
    def media(self) -> MediaStore:
        """Where recordings are written."""
        ...


class BrowserCallHost(CallResources, Protocol):
    """What runs browser calls (`pipelines.call_host.LocalCalls`): their resources, and it
    forgets each call when it ends."""

    def ended(self, pc_id: str) -> None:
        """Forgets a call that has ended."""
        ...


async def voice_for(db: Database, training: TrainingSession) -> dict[str, object]:
    """The voice profile the AI speaks with: the prospect's in roleplay, the champion's in demo."""
    async with db.session() as session:
        champion = await session.get(Champion, training.champion_id)
    profiles = (champion.voice_profile if champion else None) or {}
    role = "champion" if training.mode == "demo" else "prospect"
    return dict(profiles.get(role) or profiles.get("champion") or {})


def prepare_live_speech(settings: Settings) -> None:
    """Loads the live speech models of ``settings`` before the first call (blocking)."""
    warm_up_live_speech(
        deepgram_api_key=settings.deepgram_api_key,
        stt_provider=settings.stt_provider,
        whisper_model=settings.whisper_live_model,
        whisper_fallbacks=(settings.whisper_model,),
        elevenlabs_api_key=settings.elevenlabs_api_key,
        models_dir=settings.models_folder,
    )


async def run_browser_call(
    host: BrowserCallHost, training: TrainingSession, connection: SmallWebRTCConnection
) -> None:
    """Runs a browser (SmallWebRTC) call for a session until it ends."""
    use_quiet_output_tracks()
    transport = SmallWebRTCTransport(
        webrtc_connection=connection,
        # 20 ms output chunks instead of 40: the first bot audio leaves sooner.
        params=TransportParams(
            audio_in_enabled=True, audio_out_enabled=True, audio_out_10ms_chunks=2
        ),
    )
    tighten_input_buffer(connection.pc)

    @connection.event_handler("connected")
    async def on_connected(conn: SmallWebRTCConnection) -> None:  # after an ICE restart too
        tighten_input_buffer(conn.pc)

    try:
        await run_call(host, training, transport)
    except Exception:
        logger.exception("a call ended with an error")
    finally:
        host.ended(connection.pc_id)


async def run_call(
    host: CallResources,
    training: TrainingSession,
    transport: BaseTransport,
    *,
    audio_in_sample_rate: int = 16_000,
    audio_out_sample_rate: int = 24_000,
) -> None:
    """Runs the roleplay bot for a session over any transport until the call ends: the
    conversation so far from SQL, the champion's lines indexed, the live speech services
    chosen from the settings, and both sides recorded in the session's media folder."""
    service = host.training
    ctx = await service.context(training)
    # A call process has its own (in-memory) index of the champion's lines.
    await ensure_indexed(db=host.db, vectors=service.vectors, champion_id=ctx.champion_id)
    engine = service.dialogue(training.mode, service.lines(ctx.champion_id))
    async with host.db.session() as session:
        turns = await training_queries.turns_of(session, session_id=training.id)
    first = turns[0].text if turns else engine.first_message(ctx)
    voice = await voice_for(host.db, training)
    settings = host.settings
    stt: STTService | None = None
    try:
        # A whisper model loads for seconds: off the event loop.
        stt, stt_name = await asyncio.to_thread(
            make_live_stt,
            deepgram_api_key=settings.deepgram_api_key,
            stt_provider=settings.stt_provider,
            whisper_model=settings.whisper_live_model,
            whisper_fallbacks=(settings.whisper_model,),
            models_dir=settings.models_folder,
        )
    except ValueError:  # a forced STT_PROVIDER that cannot work: the trainee is still heard
        logger.error("STT_PROVIDER cannot serve calls (see the start-up log); using pocketsphinx")
        stt_name = "offline"
    # The first call in a process checks the voice file's digest: off the event loop too.
    tts, tts_name = await asyncio.to_thread(
        make_live_tts,
        elevenlabs_api_key=settings.elevenlabs_api_key,
        voice_profile=voice,
        elevenlabs_model=settings.elevenlabs_tts_model,
        models_dir=settings.models_folder,
    )
    logger.info(f"call providers: stt {stt_name}, tts {tts_name}")
    await run_bot(
        transport,
        service=service,
        training=training,
        ctx=ctx,
        engine=engine,
        first_message=first,
        voice_profile=voice,
        stt=stt,
        tts=tts,
        recording_dir=host.media.session_dir(training.id),
        audio_in_sample_rate=audio_in_sample_rate,
        audio_out_sample_rate=audio_out_sample_rate,
        history=history_of(list(turns)) or None,
    )
