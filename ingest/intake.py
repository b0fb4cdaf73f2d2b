"""Turns a checked recording into a stored champion with a queued ingest job."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from ingest.validate import MediaInfo
from memory.db import Database
from memory.files import MediaStore
from memory.models import Champion, IngestJob
from memory.queries import champions as champion_queries

SPEAKER_LABEL = re.compile(r"^S\d{1,2}$")


async def store_recording(
    *,
    db: Database,
    media: MediaStore,
    owner_id: str,
    incoming: Path,
    info: MediaInfo,
    name: str,
    display_name: str,
    champion_speaker: str | None = None,
) -> tuple[Champion, IngestJob]:
    """Moves ``incoming`` under a generated name and inserts the champion and its job.

    Either both the file and the rows exist afterwards, or neither does.
    """
    champion_id = str(uuid.uuid4())
    try:
        stored_name = media.adopt(incoming, champion_id=champion_id, extension=info.extension)
        async with db.session() as session:
            return await champion_queries.create_champion(
                session,
                champion_id=champion_id,
                owner_id=owner_id,
                name=name,
                source_filename=display_name,
                media_file=stored_name,
                media_kind=info.kind,
                media_format=info.format,
                size_bytes=info.size_bytes,
                duration_seconds=info.duration_seconds,
                champion_speaker=champion_speaker,
            )
    except BaseException:
        media.discard(incoming, champion_id=champion_id)
        raise
