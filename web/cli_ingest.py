"""`champion-clone ingest FILE`: the whole ingest job in this process, with a progress bar."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from ingest.intake import SPEAKER_LABEL, store_recording
from ingest.progress import LocalProgressBus
from ingest.validate import UploadRejected, UploadValidator, check_extension, safe_display_name
from memory.models import Champion, IngestJob, Pattern, Scenario, Transcript
from memory.queries.users import create_user, get_user_by_email
from memory.settings import Settings
from web.security import hash_password
from web.services import Storage

CHUNK_BYTES = 1024 * 1024


class IngestError(Exception):
    """The file was refused or the job failed; the message says why."""


def check_file(path: Path, storage: Storage, max_bytes: int) -> UploadValidator:
    """Applies the upload checks to a local file, copying it to the incoming folder."""
    if not path.is_file():
        raise IngestError(f"{path} is not a file")
    try:
        extension = check_extension(path.name)
        validator = UploadValidator(
            path=storage.media.new_incoming_path(), extension=extension, max_bytes=max_bytes
        )
        try:
            with path.open("rb") as source:
                while chunk := source.read(CHUNK_BYTES):
                    validator.feed(chunk)
        except BaseException:
            validator.discard()
            raise
    except UploadRejected as exc:
        raise IngestError(exc.message) from exc
    return validator


async def run_ingest(
    settings: Settings,
    console: Console,
    *,
    file: Path,
    name: str | None,
    owner_email: str,
    champion_speaker: str | None,
) -> str:
    """Stores ``file`` as a champion owned by ``owner_email`` and runs its ingest job.

    Returns:
        The champion id. Raises `IngestError` when the file is refused or the job fails.
    """
    if champion_speaker is not None and not SPEAKER_LABEL.match(champion_speaker):
        raise IngestError("--champion-speaker must be a speaker label such as S0 or S1")
    storage = await Storage.open(settings)
    try:
        owner_id = await _owner(storage, settings, owner_email, console)
        validator = await asyncio.to_thread(check_file, file, storage, settings.max_upload_bytes)
        try:
            info = await asyncio.to_thread(validator.finish)
        except UploadRejected as exc:
            validator.discard()
            raise IngestError(exc.message) from exc
        champion, job = await store_recording(
            db=storage.db,
            media=storage.media,
            owner_id=owner_id,
            incoming=validator.path,
            info=info,
            name=name or file.stem,
            display_name=safe_display_name(file.name),
            champion_speaker=champion_speaker,
        )
        await _run_with_progress(storage, settings, job.id, champion.id, console)
        await _summarise(storage, champion.id, console)
        return champion.id
    finally:
        await storage.close()


async def _owner(storage: Storage, settings: Settings, email: str, console: Console) -> str:
    async with storage.db.session() as session:
        user = await get_user_by_email(session, email=email.strip().lower())
        if user is not None:
            return user.id
        password_hash = await hash_password(
            secrets.token_urlsafe(32), rounds=settings.bcrypt_rounds
        )
        user = await create_user(session, email=email.strip().lower(), password_hash=password_hash)
    console.print(f"created account {user.email} (no usable password) to own the champion")
    return user.id


async def _run_with_progress(
    storage: Storage, settings: Settings, job_id: str, champion_id: str, console: Console
) -> None:
    bus = LocalProgressBus()
    runner = storage.job_runner(bus, settings)
    subscription = await bus.subscribe(champion_id)
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task_id = bar.add_task("queued", total=100)
        job = asyncio.create_task(runner.run_job(job_id))
        while not job.done():
            event = await subscription.get(wait_seconds=0.2)
            if event is not None and event.get("status") == "running":
                bar.update(task_id, description=event["step"], completed=event["progress"])
        await job
        await subscription.close()
        async with storage.db.session() as session:
            row = await session.get(IngestJob, job_id)
        assert row is not None
        bar.update(task_id, description=row.status, completed=row.progress)
    if row.status != "completed":
        raise IngestError(f"ingest failed at the {row.step} step: {row.error}")


async def _summarise(storage: Storage, champion_id: str, console: Console) -> None:
    async with storage.db.session() as session:
        champion = await session.get(Champion, champion_id)
        transcript = await session.scalar(
            select(Transcript).where(Transcript.champion_id == champion_id)
        )
        categories = (
            await session.execute(
                select(Pattern.category, func.count())
                .where(Pattern.champion_id == champion_id)
                .group_by(Pattern.category)
            )
        ).all()
        scenarios = (
            await session.scalars(select(Scenario.title).where(Scenario.champion_id == champion_id))
        ).all()
    assert champion is not None
    table = Table(title=f"{champion.name} ({champion.id})", show_header=False)
    table.add_row("status", champion.status)
    table.add_row("duration", f"{champion.duration_seconds or 0:.1f} s")
    if transcript is not None:
        table.add_row("transcript", f"{len(transcript.segments)} segments ({transcript.provider})")
    metrics = champion.metrics or {}
    for key in ("talk_ratio", "words_per_minute", "questions_total", "longest_monologue_seconds"):
        if metrics.get(key) is not None:
            table.add_row(key.replace("_", " "), f"{metrics[key]:.2f}".rstrip("0").rstrip("."))
    table.add_row("patterns", ", ".join(f"{c} {n}" for c, n in categories) or "none")
    table.add_row("scenarios", "; ".join(scenarios) or "none")
    voice = (champion.voice_profile or {}).get("champion") or {}
    if voice:
        table.add_row("voice", f"{voice.get('median_pitch_hz')} Hz, {voice.get('provider')}")
    console.print(table)
