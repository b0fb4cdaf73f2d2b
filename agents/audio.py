"""`AudioAgent`: the audio of the user's champions, through the code ingest and the calls use.

Every tool takes a champion id (never a path): the recording, its extracted channels, the
transcript, metrics and voice profiles are the ones ingest stored for that champion, and a
champion of another user is "not found". Files the agent writes go into the media store under
generated names and are reported by their path relative to it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import wave
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from agents.base import BaseAgent
from agents.champions import owned_champion
from agents.tools.spec import ToolError, tool
from ingest import extract
from ingest.espeak import (
    DEFAULT_VOICE,
    SAMPLE_RATE,
    EspeakError,
    EspeakVoice,
    synthesize_async,
    voice_from_profile,
)
from ingest.extract import ExtractionFailed
from ingest.providers.setup import IngestProviders
from ingest.steps import (
    audio_dir,
    load_extracted,
    measured_profile,
    pick_champion_speaker,
    voice_roles,
)
from ingest.types import ExtractedAudio, Segment
from memory.db import Database
from memory.files import MediaStore
from memory.models import Champion
from memory.queries import champions as champion_queries
from memory.queries import jobs as job_queries
from memory.schemas import TranscriptPublic

MAX_TTS_CHARS = 500
MAX_WAIT_SECONDS = 3600
POLL_SECONDS = 0.5
Speaker = Literal["champion", "prospect"]
_VOICE_FIELDS = ("speaker", "provider", "median_pitch_hz", "speaking_rate_wpm", "energy_db")


class AudioUnavailable(LookupError):
    """What the tool needs is not there (yet): no metrics, no speech, no second speaker."""


class IngestFailed(RuntimeError):
    """The champion's ingest job ended in failure; the message is the job's reason."""


class AudioAgent(BaseAgent):
    """Extracts, transcribes, measures and speaks the audio of one user's champions.

    Args:
        db: the database (champions, transcripts).
        media: the media store (recordings, extracted audio, spoken text).
        providers: the ingest providers (the transcriber is used when nothing is stored yet).
        user_id: the user the agent acts for (every champion it touches must be theirs).
        provider: the speech-to-text provider behind ``transcribe``.
    """

    name: ClassVar[str] = "audio"
    purpose: ClassVar[str] = (
        "Works on the audio of the user's champions: extracts a recording's 16 kHz audio, "
        "gives its transcript, the champion's and prospect's voice profiles and the call's "
        "audio metrics, and speaks text in a champion's voice (offline, with espeak-ng)."
    )
    expected_errors = (*BaseAgent.expected_errors, ExtractionFailed, EspeakError, IngestFailed)

    def __init__(
        self,
        *,
        db: Database,
        media: MediaStore,
        providers: IngestProviders,
        user_id: str,
        provider: str,
    ) -> None:
        super().__init__(provider=provider)
        self._db = db
        self._media = media
        self._providers = providers
        self._user_id = user_id

    @tool
    async def process_recording(
        self,
        champion_id: str,
        wait_seconds: Annotated[int, Field(ge=0, le=MAX_WAIT_SECONDS)] = 600,
    ) -> dict[str, Any]:
        """Wait for the ingest of a champion's uploaded recording (extract, transcribe,
        analyse, scenarios, voice) to finish and say how it ended: at once when the champion
        is already ready, an error with the job's reason when ingest failed.

        Args:
            champion_id: one of the user's champions.
            wait_seconds: how long to wait for a queued or running job (0 to 3600).
        """
        started = time.monotonic()
        waited = False
        while True:
            # The job is read before the champion: a job's end and the champion's new status
            # commit together, so a finished job is never seen beside a stale status.
            async with self._db.session() as session:
                job = await job_queries.latest_job(session, champion_id=champion_id)
            champion = await self._champion(champion_id)
            if job is None or job.status not in job_queries.ACTIVE_JOB_STATUSES:
                break
            elapsed = time.monotonic() - started
            if elapsed >= wait_seconds:
                raise AudioUnavailable(
                    f"the recording is still being ingested after {elapsed:.0f} s "
                    f"(job {job.status}, step {job.step or 'not started'}, "
                    f"{job.progress:.0f}%); try again later"
                )
            waited = True
            await asyncio.sleep(min(POLL_SECONDS, wait_seconds - elapsed))
        if champion.status == "failed" or (job is not None and job.status == "failed"):
            raise IngestFailed(
                (job.error if job is not None else None)
                or champion.error
                or "the recording's ingest failed"
            )
        return {
            "champion_id": champion.id,
            "status": champion.status,
            "already_processed": not waited,
            "job_id": job.id if job is not None else None,
            "job_status": job.status if job is not None else None,
            "step": job.step if job is not None else None,
            "completed_steps": list(job.completed_steps) if job is not None else [],
            "error": None,
            "waited_seconds": round(time.monotonic() - started, 3),
        }

    @tool
    async def extract_audio(self, champion_id: str) -> dict[str, Any]:
        """Extract the 16 kHz audio of a champion's recording (or report the audio ingest
        already extracted): duration, channels and where the files are.

        Args:
            champion_id: one of the user's champions.
        """
        champion = await self._champion(champion_id)
        already = self._extracted(champion) is not None
        audio = await self._audio(champion)
        return {
            "champion_id": champion.id,
            "already_extracted": already,
            "sample_rate": audio.sample_rate,
            "duration_seconds": round(audio.duration_seconds, 3),
            "channels": len(audio.channels),
            "files": [self._media.relative(path) for path in audio.channels],
        }

    @tool
    async def transcribe(self, champion_id: str) -> dict[str, Any]:
        """A champion's transcript: speaker-labelled segments with word timings (the stored
        one, or a fresh transcription of the recording when ingest has not stored one).

        Args:
            champion_id: one of the user's champions.
        """
        transcript, stored = await self._transcript(await self._champion(champion_id))
        return {**transcript.model_dump(mode="json"), "stored": stored}

    @tool
    async def clone_voice(self, champion_id: str, speaker: Speaker = "champion") -> dict[str, Any]:
        """The voice profile of the champion or the prospect in a champion's call (pitch,
        speaking rate, energy, and the cloned voice's id when ingest cloned it).

        Args:
            champion_id: one of the user's champions.
            speaker: whose voice: the champion's or the prospect's.
        """
        champion = await self._champion(champion_id)
        profile, stored = await self._voice_profile(champion, speaker)
        return {
            "champion_id": champion.id,
            "role": speaker,
            "stored": stored,
            "profile": profile,
        }

    @tool
    async def text_to_speech(
        self,
        text: Annotated[str, Field(min_length=1, max_length=MAX_TTS_CHARS)],
        champion_id: str | None = None,
        speaker: Speaker = "champion",
    ) -> dict[str, Any]:
        """Speak text with espeak-ng (offline), in the voice of a champion's call when one is
        given, into a WAV file in the media store.

        Args:
            text: what to say (1 to 500 characters).
            champion_id: one of the user's champions whose voice to use; the default voice
                when omitted.
            speaker: whose voice in that champion's call: the champion's or the prospect's.
        """
        if not text.strip():
            raise ToolError("invalid_input", "bad input for text_to_speech: text must not be empty")
        voice, folder, profile = DEFAULT_VOICE, self._media.user_dir(self._user_id), None
        if champion_id is not None:
            champion = await self._champion(champion_id)
            profile, _stored = await self._voice_profile(champion, speaker)
            voice = voice_from_profile(profile)
            folder = self._media.champion_dir(champion.id)
        samples = await synthesize_async(text, voice)
        if samples.size == 0:
            raise AudioUnavailable("espeak-ng produced no audio for this text")
        path = folder / "tts" / f"{uuid.uuid4().hex}.wav"
        await asyncio.to_thread(_write_wav, path, samples, SAMPLE_RATE)
        return {
            "path": self._media.relative(path),
            "sample_rate": SAMPLE_RATE,
            "duration_seconds": round(samples.size / SAMPLE_RATE, 3),
            "provider": "offline",
            "voice": _voice_summary(voice),
            "champion_id": champion_id,
            "role": speaker if champion_id is not None else None,
            "profile": profile,
        }

    @tool
    async def analyze_audio(self, champion_id: str) -> dict[str, Any]:
        """A champion's call as ingest measured it: talk ratio, words per minute, questions,
        monologues, fillers, and each voice's pitch, speaking rate and energy.

        Args:
            champion_id: one of the user's champions.
        """
        champion = await self._champion(champion_id)
        if not champion.metrics:
            raise AudioUnavailable(
                f"the champion has no audio analysis yet (status: {champion.status}); "
                "it appears when ingest has analysed the recording"
            )
        voices = {
            role: {key: profile.get(key) for key in _VOICE_FIELDS}
            | {"cloned": bool(profile.get("voice_id"))}
            for role, profile in (champion.voice_profile or {}).items()
        }
        return {
            "champion_id": champion.id,
            "status": champion.status,
            "duration_seconds": champion.duration_seconds,
            "champion_speaker": champion.champion_speaker,
            "metrics": champion.metrics,
            "voices": voices,
        }

    async def _champion(self, champion_id: str) -> Champion:
        """The acting user's champion, or `ChampionNotFound`."""
        return await owned_champion(self._db, user_id=self._user_id, champion_id=champion_id)

    def _extracted(self, champion: Champion) -> ExtractedAudio | None:
        """The audio ingest (or this agent) already extracted, if any."""
        folder = audio_dir(self._media, champion.id)
        return load_extracted(folder) if (folder / "channel0.wav").exists() else None

    async def _audio(self, champion: Champion) -> ExtractedAudio:
        """The champion's extracted audio, extracting it now when it is not there yet."""
        extracted = self._extracted(champion)
        if extracted is not None:
            return extracted
        if champion.status == "processing":
            raise AudioUnavailable(
                "the recording is being ingested right now; try again when it is ready"
            )
        source = self._media.path_of(champion.id, champion.media_file)
        if not source.exists():
            raise ExtractionFailed(
                "the uploaded recording is missing from storage; upload it again"
            )
        return await asyncio.to_thread(
            extract.extract_audio, source, audio_dir(self._media, champion.id)
        )

    async def _transcript(self, champion: Champion) -> tuple[TranscriptPublic, bool]:
        """The stored transcript (and True), or a fresh, unstored transcription (and False)."""
        async with self._db.session() as session:
            stored = await champion_queries.transcript_public(session, champion=champion)
        if stored is not None:
            return stored, True
        audio = await self._audio(champion)
        result = await self._providers.transcriber.transcribe(audio)
        speaker = (
            pick_champion_speaker(result.segments, chosen=champion.champion_speaker)
            if result.segments
            else None
        )
        fresh = TranscriptPublic.model_validate(
            {
                "champion_id": champion.id,
                "provider": result.provider,
                "language": result.language,
                "champion_speaker": speaker,
                "segments": [s.to_dict() for s in result.segments],
            }
        )
        return fresh, False

    async def _voice_profile(
        self, champion: Champion, role: Speaker
    ) -> tuple[dict[str, Any], bool]:
        """The stored profile of ``role`` (and True), or one measured now, offline (and False).

        Cloning a voice is the ingest voice step's work (it stores the clone's id, so a clone
        is made once); a profile measured here is returned, not stored.
        """
        profile = (champion.voice_profile or {}).get(role)
        if profile:
            return dict(profile), True
        transcript, _stored = await self._transcript(champion)
        segments = [Segment.from_dict(s.model_dump()) for s in transcript.segments]
        if not segments or transcript.champion_speaker is None:
            raise AudioUnavailable("no speech was recognised in the recording")
        roles = voice_roles(segments, champion_speaker=transcript.champion_speaker)
        if role not in roles:
            raise AudioUnavailable(f"the recording has no {role}'s voice (one speaker only)")
        audio = await self._audio(champion)
        measured = await asyncio.to_thread(measured_profile, audio, segments, speaker=roles[role])
        return measured.to_dict(), False


def _voice_summary(voice: EspeakVoice) -> dict[str, Any]:
    return {
        "espeak_voice": voice.full_name,
        "pitch": voice.pitch,
        "rate_wpm": voice.rate_wpm,
    }


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Writes mono int16 samples as a WAV, under a temporary name renamed when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    try:
        with wave.open(str(partial), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(rate)
            writer.writeframes(samples.astype(np.int16, copy=False).tobytes())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
