"""The roleplay bot: a live voice call between a trainee and the AI prospect (or champion).

Any transport can run it: `web/` builds a SmallWebRTC transport for the browser, or a
websocket transport for a phone call, and calls `run_bot`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loguru import logger
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import TTSSpeakFrame
from pipecat.observers.user_bot_latency_observer import LatencyBreakdown, UserBotLatencyObserver
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.services.stt_service import STTService
from pipecat.services.tts_service import TTSService
from pipecat.transports.base_transport import BaseTransport
from pipecat.turns.user_start.min_words_user_turn_start_strategy import (
    MinWordsUserTurnStartStrategy,
)
from pipecat.turns.user_stop import (
    BaseUserTurnStopStrategy,
    SpeechTimeoutUserTurnStopStrategy,
)
from pipecat.turns.user_turn_strategies import UserTurnStrategies
from pipecat.workers.runner import WorkerRunner

from agents.training.session import TrainingService
from agents.training.types import DialogueEngine, DialogueTurn, TrainingContext
from memory.models import TrainingSession
from pipelines.inbound_lag import InboundLagMeter
from pipelines.latency import server_breakdown
from pipelines.recording import CallRecorder
from pipelines.services.espeak.tts import EspeakTTSService
from pipelines.services.sphinx.stt import SphinxSTTService
from pipelines.services.whisper.stt import FasterWhisperSTTService
from pipelines.training_processor import TrainingAgentProcessor
from pipelines.turn_start import QuietBotVADUserTurnStartStrategy
from pipelines.turn_stop import (
    PunctuationUserTurnStopStrategy,
    SentenceEndUserTurnStopStrategy,
)
from pipelines.vad import InlineSileroVADAnalyzer

# End of speech: 0.2 s of VAD silence, then the words decide (`pipelines.turn_stop`). With
# whisper (punctuated) a question ends the turn 0.2 s after the VAD's stop, a finished
# statement 1.0 s after it (people pause 0.3-0.8 s between sentences), anything unfinished
# 1.5 s after it; measured against pipecat's speech timeout and smart-turn v3 on natural
# voices in bench/turn_taking.py. With pocketsphinx a turn ending on "and", "the", "um"...
# is held open for 0.7 s more. An STT whose final transcript can lag the VAD (a cloud
# service) keeps pipecat's speech timeout. While the bot talks, the trainee must say three
# words to interrupt it, so "yeah" or "ok" does not cut it off.
VAD_STOP_SECS = 0.2
QUESTION_WAIT_SECS = 0.2
STATEMENT_WAIT_SECS = 1.0
UNFINISHED_WAIT_SECS = 1.5
UNFINISHED_HOLD_SECS = 0.7
SPEECH_TIMEOUT_SECS = 0.4
INTERRUPT_MIN_WORDS = 3
IDLE_TIMEOUT_SECS = 300


async def run_bot(
    transport: BaseTransport,
    *,
    service: TrainingService,
    training: TrainingSession,
    ctx: TrainingContext,
    engine: DialogueEngine,
    first_message: str,
    voice_profile: dict[str, Any] | None,
    recording_dir: Path | None = None,
    audio_in_sample_rate: int = 16_000,
    audio_out_sample_rate: int = 24_000,
    stt: STTService | None = None,
    tts: TTSService | None = None,
    history: list[DialogueTurn] | None = None,
) -> None:
    """Runs one call until the trainee hangs up (or the call idles out); with
    ``recording_dir``, each side of the call is recorded there as a WAV file. ``stt`` and
    ``tts`` default to the offline services (pocketsphinx, espeak with the voice profile);
    ``history`` is the conversation so far (the agent reads it from SQL when None)."""
    stt = stt or SphinxSTTService()
    tts = tts or EspeakTTSService.from_profile(voice_profile or {})
    context = LLMContext([{"role": "assistant", "content": first_message}])
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context, user_params=user_aggregator_params(stt)
    )
    agent = TrainingAgentProcessor(
        service=service, training=training, ctx=ctx, engine=engine, history=history
    )
    recorder = CallRecorder(folder=recording_dir)
    inbound = InboundLagMeter()

    pipeline = Pipeline(
        [
            transport.input(),  # the trainee's audio
            inbound,  # how late it arrives; late pauses dropped so the call catches up
            stt,  # the trainee's words: whisper per stretch of speech (or a streaming STT)
            user_aggregator,  # Silero VAD + end-of-turn strategy -> the trainee's turn
            recorder.trainee,  # the trainee's side to its WAV file; their audio stops here
            agent,  # the prospect (or champion) answers; storing and scoring beside
            tts,  # the reply in the prospect's (or champion's) voice
            transport.output(),  # audio back to the trainee
            recorder.ai,  # the AI's side, as sent, to its WAV file
            assistant_aggregator,  # what was actually spoken goes into the context
        ]
    )

    latency = UserBotLatencyObserver()

    @latency.event_handler("on_latency_breakdown")
    async def on_latency(_observer: Any, breakdown: LatencyBreakdown) -> None:
        parts = server_breakdown(breakdown, inbound_secs=inbound.lag_at_speech_end)
        if parts is not None:
            await agent.record_latency(parts, speech_ended_at=breakdown.user_turn_start_time)

    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            audio_in_sample_rate=audio_in_sample_rate,
            audio_out_sample_rate=audio_out_sample_rate,
            enable_metrics=True,
        ),
        observers=[latency],
        idle_timeout_secs=IDLE_TIMEOUT_SECS,
    )

    @transport.event_handler("on_client_connected")
    async def on_connected(_transport: Any, _client: Any) -> None:
        await recorder.start()
        await worker.queue_frames([TTSSpeakFrame(first_message)])

    @transport.event_handler("on_client_disconnected")
    async def on_disconnected(_transport: Any, _client: Any) -> None:
        logger.info("trainee hung up")
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    try:
        await runner.run()
    finally:
        recorder.close()


def user_aggregator_params(stt: STTService) -> LLMUserAggregatorParams:
    """How the trainee's turns start and end: Silero VAD; a turn starts when the trainee
    speaks while the bot is quiet, and takes three words to interrupt the bot; the end of
    turn is decided by the words (whisper, pocketsphinx) or a speech timeout."""
    stop: BaseUserTurnStopStrategy
    if isinstance(stt, FasterWhisperSTTService):
        stop = PunctuationUserTurnStopStrategy(
            question_secs=QUESTION_WAIT_SECS,
            statement_secs=STATEMENT_WAIT_SECS,
            unfinished_secs=UNFINISHED_WAIT_SECS,
        )
    elif isinstance(stt, SphinxSTTService):
        stop = SentenceEndUserTurnStopStrategy(hold_secs=UNFINISHED_HOLD_SECS)
    else:
        stop = SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=SPEECH_TIMEOUT_SECS)
    return LLMUserAggregatorParams(
        vad_analyzer=InlineSileroVADAnalyzer(params=VADParams(stop_secs=VAD_STOP_SECS)),
        user_turn_strategies=UserTurnStrategies(
            start=[
                QuietBotVADUserTurnStartStrategy(),
                MinWordsUserTurnStartStrategy(min_words=INTERRUPT_MIN_WORDS),
            ],
            stop=[stop],
        ),
    )
