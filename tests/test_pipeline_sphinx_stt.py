"""SphinxSTTService in a real Pipecat pipeline (Pipecat's `run_test`): frames in, frames out.

The speech is espeak-ng's, scaled from its near-full-scale output to a typical microphone
level. pocketsphinx recognises synthetic speech poorly, so the checks count the content words
it gets rather than expect the whole sentence; where exactness matters they count the
decoder's frames instead (100 per second of 16 kHz audio decoded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytest
import soxr
from pipecat.frames.frames import (
    EndWorkerFrame,
    Frame,
    InputAudioRawFrame,
    InterimTranscriptionFrame,
    MetricsFrame,
    SystemFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import SleepFrame, run_test

from ingest.espeak import SAMPLE_RATE, synthesize
from pipelines.services.sphinx.pool import DecoderPool, create_live_decoder
from pipelines.services.sphinx.stt import SphinxSTTService, clean_words

SENTENCE = "what is the biggest problem your team has right now"
CONTENT_WORDS = {"what", "biggest", "problem", "team", "right", "now"}
MIC_LEVEL = 0.25  # espeak-ng peaks near -3 dBFS; a microphone is nearer -15 dBFS
LEAD_SECS, TAIL_SECS = 0.3, 0.5  # silence before and after the sentence
VAD_LAG_SECS = 0.2  # the VAD's start_secs: it reports the start this far into the speech
FRAMES_PER_SEC = 100  # pocketsphinx decodes 10 ms frames


@cache
def sentence_audio(rate: int) -> np.ndarray:
    """The sentence with its silences, as int16 samples at ``rate``."""
    speech = soxr.resample(synthesize(SENTENCE), SAMPLE_RATE, rate) * MIC_LEVEL
    return np.concatenate(
        [
            np.zeros(int(LEAD_SECS * rate), np.int16),
            speech.astype(np.int16),
            np.zeros(int(TAIL_SECS * rate), np.int16),
        ]
    )


def audio_frames(samples: np.ndarray, rate: int) -> list[InputAudioRawFrame]:
    """The samples cut into 20 ms input frames, as a transport delivers them."""
    pcm, step = samples.tobytes(), rate // 50 * 2
    return [InputAudioRawFrame(pcm[i : i + step], rate, 1) for i in range(0, len(pcm), step)]


def utterance(samples: np.ndarray, rate: int) -> list[Frame]:
    """Audio frames with the VAD's start after 200 ms of speech and its stop at the end."""
    frames: list[Frame] = list(audio_frames(samples, rate))
    frames.insert(int((LEAD_SECS + VAD_LAG_SECS) * 50), VADUserStartedSpeakingFrame())
    frames.append(VADUserStoppedSpeakingFrame(stop_secs=0.2))
    return frames


class CountingFactory:
    """Builds live decoders and keeps them, so tests can count and inspect them."""

    def __init__(self) -> None:
        self.decoders: list[Any] = []

    def __call__(self) -> Any:
        self.decoders.append(create_live_decoder())
        return self.decoders[-1]


@pytest.fixture(scope="module")
def pool() -> DecoderPool:
    """A pool shared by the tests that do not look at decoders, so they build one only."""
    return DecoderPool(max_idle=2)


@pytest.fixture
def factory() -> CountingFactory:
    return CountingFactory()


@pytest.fixture
def own_pool(factory: CountingFactory) -> DecoderPool:
    """A fresh pool whose decoders ``factory`` counts."""
    return DecoderPool(max_idle=2, factory=factory)


async def run_stt(
    processor: FrameProcessor, frames: Sequence[Frame], rate: int = 16000, **params: Any
) -> tuple[Sequence[Frame], Sequence[Frame]]:
    # Building the pool's first decoder takes ~0.3-0.5 s at start.
    return await run_test(
        processor,
        frames_to_send=[*frames, SleepFrame(0.2)],
        pipeline_params=PipelineParams(audio_in_sample_rate=rate, **params),
        start_timeout=10,
    )


class EndAfterTranscripts(FrameProcessor):
    """Ends the test's pipeline once ``count`` transcripts have passed downstream (and, when
    given, ``hold`` is set), so a test waits for the decoder's work, however long the
    machine takes, instead of guessing at it with sleeps."""

    def __init__(self, count: int, hold: asyncio.Event | None = None) -> None:
        super().__init__()
        self.count = count
        self.done = asyncio.Event()
        self._hold = hold
        self._seen = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, TranscriptionFrame) and direction == FrameDirection.DOWNSTREAM:
            self._seen += 1
            if self._seen == self.count:
                self.done.set()
                self.create_task(self._end())

    async def _end(self) -> None:
        if self._hold is not None:
            await self._hold.wait()
        await self.push_frame(EndWorkerFrame(), FrameDirection.UPSTREAM)


async def run_stt_until(
    processor: FrameProcessor, frames: Sequence[Frame], end: EndAfterTranscripts
) -> list[Frame]:
    """Runs ``frames`` through ``processor`` until ``end`` ends the pipeline; the frames
    that came out downstream (a stall fails after a minute instead of hanging)."""
    down, _up = await asyncio.wait_for(
        run_test(
            Pipeline([processor, end]),
            frames_to_send=list(frames),
            pipeline_params=PipelineParams(audio_in_sample_rate=16000),
            start_timeout=10,
            send_end_frame=False,
        ),
        timeout=60,
    )
    return list(down)


def transcripts(frames: Sequence[Frame]) -> list[TranscriptionFrame]:
    return [f for f in frames if isinstance(f, TranscriptionFrame)]


def content_words(text: str) -> set[str]:
    return CONTENT_WORDS & set(text.split())


async def test_an_utterance_gives_one_finalized_transcript(pool: DecoderPool) -> None:
    frames = utterance(sentence_audio(16000), 16000)

    down, _up = await run_stt(SphinxSTTService(pool=pool), frames)

    [transcript] = transcripts(down)
    assert transcript.finalized
    assert len(content_words(transcript.text)) >= 3, transcript.text
    # Audio and VAD frames pass through, in order, ahead of the transcript.
    sent_audio = [f for f in frames if isinstance(f, InputAudioRawFrame)]
    assert [f for f in down if isinstance(f, InputAudioRawFrame)] == sent_audio
    kinds = [
        type(f) for f in down if isinstance(f, VADUserStartedSpeakingFrame | TranscriptionFrame)
    ]
    assert kinds[0] is VADUserStartedSpeakingFrame and kinds[-1] is TranscriptionFrame
    assert down.index(transcript) > down.index(frames[-1])


async def test_the_preroll_recovers_the_speech_before_the_vad_start(
    own_pool: DecoderPool, factory: CountingFactory
) -> None:
    frames = utterance(sentence_audio(16000), 16000)
    speech_frames = sum(isinstance(f, InputAudioRawFrame) for f in frames) * 2  # 20 ms each

    with_preroll, _ = await run_stt(SphinxSTTService(pool=own_pool, preroll_secs=0.6), frames)
    [decoder] = factory.decoders
    decoded_with = decoder.n_frames()
    without_preroll, _ = await run_stt(SphinxSTTService(pool=own_pool, preroll_secs=0), frames)
    decoded_without = decoder.n_frames()

    # 0.5 s of audio came before the VAD start: all of it decoded with the pre-roll, none without.
    assert abs(decoded_with - speech_frames) <= 3
    assert abs(decoded_without - (speech_frames - 50)) <= 3
    [first] = transcripts(with_preroll)
    [clipped] = transcripts(without_preroll)
    assert first.text.split()[0] == "what", first.text
    assert clipped.text.split()[0] != "what", clipped.text


class UpstreamVAD(FrameProcessor):
    """Stands in for a user aggregator with the VAD: turns markers into VAD broadcasts."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, VADMarker):
            kind = VADUserStartedSpeakingFrame if frame.started else VADUserStoppedSpeakingFrame
            await self.broadcast_frame(kind)
        else:
            await self.push_frame(frame, direction)


@dataclass
class VADMarker(SystemFrame):
    started: bool = True


async def test_vad_frames_arriving_upstream_drive_it(pool: DecoderPool) -> None:
    frames: list[Frame] = []
    for frame in utterance(sentence_audio(16000), 16000):
        if isinstance(frame, VADUserStartedSpeakingFrame | VADUserStoppedSpeakingFrame):
            started = isinstance(frame, VADUserStartedSpeakingFrame)
            # The broadcast comes back up before the next audio, as it would in real time.
            frames += [VADMarker(started=started), SleepFrame(0.1)]
        else:
            frames.append(frame)
    stt = SphinxSTTService(pool=pool)

    down, up = await run_stt(Pipeline([stt, UpstreamVAD()]), frames)

    [transcript] = transcripts(down)
    assert len(content_words(transcript.text)) >= 3, transcript.text
    # The upstream copies went on upstream through the service.
    up_kinds = [
        type(f)
        for f in up
        if isinstance(f, VADUserStartedSpeakingFrame | VADUserStoppedSpeakingFrame)
    ]
    assert up_kinds == [VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame]


@pytest.mark.parametrize("seconds", [1.0, 0.0])
async def test_silence_or_no_audio_gives_no_transcript(pool: DecoderPool, seconds: float) -> None:
    silence = audio_frames(np.zeros(int(seconds * 16000), np.int16), 16000)
    frames = [VADUserStartedSpeakingFrame(), *silence, VADUserStoppedSpeakingFrame(stop_secs=0.2)]

    down, _up = await run_stt(SphinxSTTService(pool=pool), frames)

    assert transcripts(down) == []
    assert sum(isinstance(f, VADUserStoppedSpeakingFrame) for f in down) == 1


async def test_a_stop_without_a_start_is_passed_on_and_ignored(pool: DecoderPool) -> None:
    frames = [*audio_frames(sentence_audio(16000), 16000), VADUserStoppedSpeakingFrame()]

    down, _up = await run_stt(SphinxSTTService(pool=pool), frames)

    assert transcripts(down) == []
    assert isinstance(down[-1], VADUserStoppedSpeakingFrame)


async def test_8khz_input_is_resampled_for_the_decoder(
    own_pool: DecoderPool, factory: CountingFactory
) -> None:
    samples = sentence_audio(8000)
    frames = utterance(samples, 8000)

    down, _up = await run_stt(SphinxSTTService(pool=own_pool), frames, rate=8000)

    [transcript] = transcripts(down)
    assert transcript.finalized and transcript.text
    # The decoder saw the whole utterance as 16 kHz audio (at 8 kHz it would count half).
    [decoder] = factory.decoders
    assert abs(decoder.n_frames() - len(samples) / 8000 * FRAMES_PER_SEC) <= 4
    passed = [f for f in down if isinstance(f, InputAudioRawFrame)]
    assert passed and all(f.sample_rate == 8000 for f in passed)


async def test_the_pool_lends_one_decoder_to_consecutive_sessions(
    own_pool: DecoderPool, factory: CountingFactory
) -> None:
    frames = utterance(sentence_audio(16000), 16000)

    first, _ = await run_stt(SphinxSTTService(pool=own_pool), frames)
    second, _ = await run_stt(SphinxSTTService(pool=own_pool), frames)

    assert len(factory.decoders) == own_pool.created == 1
    assert own_pool.idle == 1
    assert len(transcripts(first)) == len(transcripts(second)) == 1


class FakeDecoder:
    """Just enough of a decoder for the pool's bookkeeping."""

    def __init__(self) -> None:
        self.cmn = "40,3,-1"

    def get_cmn(self) -> str:
        return self.cmn

    def set_cmn(self, cmn: str) -> None:
        self.cmn = cmn


async def test_the_pool_builds_only_for_overlapping_loans_and_keeps_at_most_max_idle() -> None:
    pool = DecoderPool(max_idle=2, factory=FakeDecoder)

    lent = [await pool.acquire() for _ in range(3)]
    lent[0].cmn = "58,7,-4"  # adapted to its caller
    for decoder in lent:
        pool.release(decoder)
    again = [await pool.acquire() for _ in range(2)]

    assert pool.created == 3
    assert pool.idle == 0
    assert all(decoder in lent for decoder in again)
    assert lent[0].cmn == "40,3,-1"  # reset to the initial cepstral mean on return


async def test_interim_transcripts_precede_the_final_one(pool: DecoderPool) -> None:
    frames = utterance(sentence_audio(16000), 16000)

    down, _up = await run_stt(SphinxSTTService(pool=pool, interim_interval_secs=0.0), frames)

    texts = [f for f in down if isinstance(f, InterimTranscriptionFrame | TranscriptionFrame)]
    assert len(texts) >= 3
    assert all(isinstance(f, InterimTranscriptionFrame) for f in texts[:-1])
    assert isinstance(texts[-1], TranscriptionFrame)


async def test_reports_ttfb_from_vad_stop_to_transcript(pool: DecoderPool) -> None:
    stt = SphinxSTTService(pool=pool)

    down, _up = await run_stt(stt, utterance(sentence_audio(16000), 16000), enable_metrics=True)

    ttfb = [
        d
        for f in down
        if isinstance(f, MetricsFrame)
        for d in f.data
        if isinstance(d, TTFBMetricsData) and d.processor == stt.name
    ]
    # The first is the empty report every processor sends at start.
    assert [d.value for d in ttfb][:1] == [0.0] and len(ttfb) == 2
    assert 0.2 <= ttfb[1].value < 5  # from speech end, i.e. VAD stop minus stop_secs


def test_clean_words_drops_fillers_and_alternate_markers() -> None:
    words = ["<s>", "what", "<sil>", "Probably(2)", "[NOISE]", "++garbage++", "right", "</s>"]

    assert clean_words(words) == "what probably right"


async def test_sessions_share_one_decoder_when_their_trainees_speak_in_turn(
    own_pool: DecoderPool, factory: CountingFactory
) -> None:
    frames = utterance(sentence_audio(16000), 16000)

    # The second trainee speaks once the first one's words are transcribed; the first call
    # stays open until the second's are.
    second_heard = asyncio.Event()
    first_end = EndAfterTranscripts(1, hold=second_heard)

    async def second_call() -> list[Frame]:
        await first_end.done.wait()
        second_end = EndAfterTranscripts(1)
        second = asyncio.create_task(
            run_stt_until(SphinxSTTService(pool=own_pool), frames, second_end)
        )
        await second_end.done.wait()
        second_heard.set()
        return await second

    first, second = await asyncio.gather(
        run_stt_until(SphinxSTTService(pool=own_pool), frames, first_end), second_call()
    )

    # Two calls at once, one decoder: each utterance borrows it and gives it back.
    assert len(factory.decoders) == own_pool.created == 1
    assert own_pool.idle == 1
    texts = [t.text for t in transcripts(first) + transcripts(second)]
    assert len(texts) == 2 and texts[0] == texts[1]


async def test_speech_arriving_while_a_decoder_is_built_is_decoded_in_order(
    own_pool: DecoderPool, factory: CountingFactory
) -> None:
    frames = utterance(sentence_audio(16000), 16000)
    (alone, _) = await run_stt(SphinxSTTService(pool=own_pool), frames)

    # Both trainees speak at once: the second utterance needs a decoder of its own, built
    # while its audio keeps coming; the audio waits and is decoded in order.
    first, second = await asyncio.gather(
        run_stt_until(SphinxSTTService(pool=own_pool), frames, EndAfterTranscripts(1)),
        run_stt_until(SphinxSTTService(pool=own_pool), frames, EndAfterTranscripts(1)),
    )

    assert own_pool.created == 2
    expected = [t.text for t in transcripts(alone)]
    assert len(expected) == 1 and len(content_words(expected[0])) >= 3
    assert [t.text for t in transcripts(first)] == expected
    assert [t.text for t in transcripts(second)] == expected
