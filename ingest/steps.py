"""The ingest steps that turn a stored recording into a ready champion.

Each step is idempotent: run again (after a crash, or on re-analysis) it replaces what it
stored before, in one transaction, so nothing is ever stored twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from ingest.analysis.metrics import conversation_metrics
from ingest.extract import ExtractionFailed, extract_audio
from ingest.runner import Step, StepContext, StepFailed
from ingest.types import (
    ExtractedAudio,
    PatternAnalyzer,
    PatternDraft,
    ScenarioGenerator,
    Segment,
    Transcriber,
    VoiceCloner,
    VoiceProfile,
)
from ingest.validate import UploadRejected, probe_media
from ingest.voice import measure_voice, write_samples
from memory.files import MediaStore
from memory.models import Champion, Pattern, Scenario, Transcript
from memory.pattern_index import index_patterns
from memory.vectors import VectorStore

FINAL_STATUS = "ready"


async def _champion(ctx: StepContext) -> Champion:
    async with ctx.db.session() as session:
        champion = await session.get(Champion, ctx.champion_id)
    if champion is None:
        raise StepFailed("the champion was deleted")
    return champion


def audio_dir(media: MediaStore, champion_id: str) -> Path:
    """The folder the extract step writes a champion's 16 kHz channels to."""
    return media.champion_dir(champion_id) / "audio"


def _audio_dir(ctx: StepContext) -> Path:
    return audio_dir(ctx.resources["media"], ctx.champion_id)


def load_extracted(folder: Path) -> ExtractedAudio:
    """The extracted channels in ``folder`` (written by the extract step)."""
    import wave

    channels = [p for p in (folder / "channel0.wav", folder / "channel1.wav") if p.exists()]
    if not channels:
        raise StepFailed("the extracted audio is missing; analyse the champion again")
    with wave.open(str(channels[0]), "rb") as reader:
        rate, frames = reader.getframerate(), reader.getnframes()
    return ExtractedAudio(rate, frames / rate, channels)


async def _segments(ctx: StepContext) -> tuple[list[Segment], str]:
    async with ctx.db.session() as session:
        transcript = await session.scalar(
            select(Transcript).where(Transcript.champion_id == ctx.champion_id)
        )
        champion = await session.get(Champion, ctx.champion_id)
    if transcript is None or champion is None or not champion.champion_speaker:
        raise StepFailed("the transcript is missing; analyse the champion again")
    return [Segment.from_dict(s) for s in transcript.segments], champion.champion_speaker


class VerifyMediaStep:
    """Checks that the stored recording is still there and readable."""

    name = "verify"

    async def run(self, ctx: StepContext) -> None:
        media: MediaStore = ctx.resources["media"]
        champion = await _champion(ctx)
        path = media.path_of(champion.id, champion.media_file)
        if not path.exists():
            raise StepFailed("the uploaded recording is missing from storage; upload it again")
        try:
            await asyncio.to_thread(
                probe_media,
                path,
                extension="." + champion.media_format,
                size_bytes=path.stat().st_size,
            )
        except UploadRejected as exc:
            raise StepFailed(exc.message) from exc
        await ctx.report(1.0)


class ExtractStep:
    """Decodes the recording to 16 kHz PCM, one file per speaker channel."""

    name = "extract"

    async def run(self, ctx: StepContext) -> None:
        media: MediaStore = ctx.resources["media"]
        champion = await _champion(ctx)
        source = media.path_of(champion.id, champion.media_file)
        try:
            audio = await asyncio.to_thread(extract_audio, source, _audio_dir(ctx))
        except ExtractionFailed as exc:
            raise StepFailed(exc.reason) from exc
        async with ctx.db.session() as session:
            row = await session.get(Champion, ctx.champion_id)
            if row is not None:
                row.duration_seconds = round(audio.duration_seconds, 3)
                await session.commit()
        await ctx.report(1.0)


def most_talk(segments: list[Segment]) -> str:
    """The speaker with the most speaking time."""
    talk: dict[str, float] = {}
    for segment in segments:
        talk[segment.speaker] = talk.get(segment.speaker, 0.0) + segment.end - segment.start
    return max(talk, key=lambda speaker: talk[speaker])


def pick_champion_speaker(segments: list[Segment], *, chosen: str | None) -> str:
    """The champion's speaker: the one the upload chose if they speak, else who talks most."""
    if chosen is not None and any(s.speaker == chosen for s in segments):
        return chosen
    return most_talk(segments)


class TranscribeStep:
    """Transcribes every channel and decides which speaker is the champion."""

    name = "transcribe"

    async def run(self, ctx: StepContext) -> None:
        transcriber: Transcriber = ctx.resources["transcriber"]
        audio = load_extracted(_audio_dir(ctx))
        result = await transcriber.transcribe(audio, on_progress=ctx.report)
        if not result.segments:
            raise StepFailed("no speech was recognised in the recording")
        champion = await _champion(ctx)
        speaker = pick_champion_speaker(result.segments, chosen=champion.champion_speaker)
        async with ctx.db.session() as session:
            await session.execute(delete(Transcript).where(Transcript.champion_id == champion.id))
            session.add(
                Transcript(
                    champion_id=champion.id,
                    provider=result.provider,
                    language=result.language,
                    segments=[s.to_dict() for s in result.segments],
                )
            )
            row = await session.get(Champion, champion.id)
            assert row is not None
            row.champion_speaker = speaker
            await session.commit()


class AnalyseStep:
    """Conversation metrics and the champion's patterns, in SQL and in Qdrant."""

    name = "analyse"

    async def run(self, ctx: StepContext) -> None:
        analyzer: PatternAnalyzer = ctx.resources["analyzer"]
        vectors: VectorStore = ctx.resources["vectors"]
        segments, speaker = await _segments(ctx)
        metrics = conversation_metrics(segments, champion=speaker)
        await ctx.report(0.2)
        result = await analyzer.analyze(segments, champion=speaker)
        await ctx.report(0.8)
        rows = [
            Pattern(
                champion_id=ctx.champion_id,
                category=p.category,
                quote=p.quote,
                start=p.start,
                end=p.end,
                why=p.why,
                context=p.context,
                provider=result.provider,
            )
            for p in result.patterns
        ]
        async with ctx.db.session() as session:
            await session.execute(delete(Pattern).where(Pattern.champion_id == ctx.champion_id))
            session.add_all(rows)
            champion = await session.get(Champion, ctx.champion_id)
            assert champion is not None
            champion.metrics = {**metrics, "speaker": speaker}
            await session.commit()
        await vectors.delete_champion(champion_id=ctx.champion_id)
        await index_patterns(vectors=vectors, champion_id=ctx.champion_id, patterns=rows)


class ScenariosStep:
    """Practice scenarios built from what the champion faced."""

    name = "scenarios"

    async def run(self, ctx: StepContext) -> None:
        generator: ScenarioGenerator = ctx.resources["scenario_generator"]
        segments, speaker = await _segments(ctx)
        async with ctx.db.session() as session:
            stored = (
                await session.scalars(select(Pattern).where(Pattern.champion_id == ctx.champion_id))
            ).all()
        patterns = [
            PatternDraft(p.category, p.quote, p.start, p.end, p.why, p.context) for p in stored
        ]
        drafts = await generator.generate(segments, champion=speaker, patterns=patterns)
        if not drafts:
            raise StepFailed("no practice scenario could be built from this recording")
        async with ctx.db.session() as session:
            await session.execute(delete(Scenario).where(Scenario.champion_id == ctx.champion_id))
            session.add_all(
                Scenario(
                    champion_id=ctx.champion_id,
                    title=d.title,
                    goal=d.goal,
                    opening_line=d.opening_line,
                    persona=d.persona,
                    objections=d.objections,
                    difficulty_levels=d.difficulty_levels,
                    provider=d.provider,
                )
                for d in drafts
            )
            await session.commit()


def voice_roles(segments: list[Segment], *, champion_speaker: str) -> dict[str, str]:
    """The speaker behind each voice role: the champion, and (when someone else speaks) the
    prospect, who is whoever else talks most."""
    roles = {"champion": champion_speaker}
    others = [s for s in segments if s.speaker != champion_speaker]
    if others:
        roles["prospect"] = most_talk(others)
    return roles


def speaker_channel(audio: ExtractedAudio, speaker: str) -> Path:
    """The extracted channel that carries ``speaker`` (``S1`` is channel 1 of a stereo call)."""
    return audio.channels[int(speaker[1:])] if len(audio.channels) > 1 else audio.channels[0]


def measured_profile(
    audio: ExtractedAudio, segments: list[Segment], *, speaker: str
) -> VoiceProfile:
    """The speaker's offline voice profile, measured from their channel (blocking)."""
    pitch, rate, energy = measure_voice(speaker_channel(audio, speaker), segments, speaker=speaker)
    return VoiceProfile(speaker, "offline", pitch, rate, energy)


class VoiceStep:
    """The champion's (and the prospect's) voice: measured profile, cloned when configured."""

    name = "voice"

    async def run(self, ctx: StepContext) -> None:
        cloner: VoiceCloner | None = ctx.resources.get("voice_cloner")
        segments, champion_speaker = await _segments(ctx)
        audio = load_extracted(_audio_dir(ctx))
        champion = await _champion(ctx)
        previous: dict[str, Any] = champion.voice_profile or {}
        roles = voice_roles(segments, champion_speaker=champion_speaker)
        profiles: dict[str, Any] = {}
        for role, speaker in roles.items():
            channel = speaker_channel(audio, speaker)
            profile = await asyncio.to_thread(measured_profile, audio, segments, speaker=speaker)
            earlier = previous.get(role) or {}
            if cloner is not None and earlier.get("speaker") == speaker and earlier.get("voice_id"):
                profile.provider, profile.voice_id = cloner.name, earlier["voice_id"]
            elif cloner is not None:
                profile.voice_id = await self._clone(
                    ctx, cloner, champion.name, role, channel, segments, speaker
                )
                profile.provider = cloner.name
            profiles[role] = profile.to_dict()
            await ctx.report(len(profiles) / len(roles))
        async with ctx.db.session() as session:
            row = await session.get(Champion, ctx.champion_id)
            assert row is not None
            row.voice_profile = profiles
            await session.commit()

    async def _clone(
        self,
        ctx: StepContext,
        cloner: VoiceCloner,
        name: str,
        role: str,
        channel: Path,
        segments: list[Segment],
        speaker: str,
    ) -> str:
        from ingest.providers.elevenlabs_clone import select_clone_samples

        ranges = select_clone_samples(segments, speaker=speaker)
        if not ranges:
            raise StepFailed(f"no clean stretch of the {role}'s speech to clone the voice from")
        sample = await asyncio.to_thread(
            write_samples, channel, ranges, _audio_dir(ctx) / f"{role}-clone-sample.wav"
        )
        return await cloner.clone(name=f"{name} ({role})", samples=[sample])


def default_steps() -> list[Step]:
    """The steps every ingest job runs, in order."""
    return [
        VerifyMediaStep(),
        ExtractStep(),
        TranscribeStep(),
        AnalyseStep(),
        ScenariosStep(),
        VoiceStep(),
    ]
