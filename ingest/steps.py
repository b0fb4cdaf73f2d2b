"""The ingest steps that turn a stored upload into a champion."""

from __future__ import annotations

import asyncio

from ingest.runner import Step, StepContext, StepFailed
from ingest.validate import UploadRejected, probe_media
from memory.files import MediaStore
from memory.models import Champion


class VerifyMediaStep:
    """Checks that the stored recording is still there and readable before work starts."""

    name = "verify"

    async def run(self, ctx: StepContext) -> None:
        media: MediaStore = ctx.resources["media"]
        async with ctx.db.session() as session:
            champion = await session.get(Champion, ctx.champion_id)
            if champion is None:
                raise StepFailed("the champion was deleted")
            path = media.path_of(champion.id, champion.media_file)
            extension = "." + champion.media_format
        if not path.exists():
            raise StepFailed("the uploaded recording is missing from storage; upload it again")
        try:
            await asyncio.to_thread(
                probe_media, path, extension=extension, size_bytes=path.stat().st_size
            )
        except UploadRejected as exc:
            raise StepFailed(exc.message) from exc
        await ctx.report(1.0)


def default_steps() -> list[Step]:
    """The steps every ingest job runs, in order."""
    return [VerifyMediaStep()]


# Until the transcription and analysis steps exist, a finished job leaves the champion
# stored and verified ("uploaded"), never claiming to be ready for practice.
FINAL_STATUS = "uploaded"
