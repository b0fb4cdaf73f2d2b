"""Files on disk: uploaded recordings, under generated names only (no user path touches the
disk), and where the packaged speech models are kept."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

DEFAULT_MODELS_DIR = Path.home() / ".cache" / "champion-clone" / "models"
"""Where the packaged speech models go when ``MODELS_DIR`` is not set: shared by every checkout
of one user."""


def models_folder(models_dir: Path | None = None) -> Path:
    """The models folder: ``models_dir`` when given, else `DEFAULT_MODELS_DIR`."""
    return Path(models_dir).expanduser() if models_dir else DEFAULT_MODELS_DIR


class MediaStore:
    """One folder per champion under ``root``; file names are generated here.

    Args:
        root: the media folder.
    """

    def __init__(self, *, root: Path) -> None:
        self.root = root
        self.incoming = root / ".incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)

    def new_incoming_path(self) -> Path:
        """A fresh temporary path for an upload that is still being checked."""
        return self.incoming / f"{uuid.uuid4().hex}.part"

    def champion_dir(self, champion_id: str) -> Path:
        """The folder that holds a champion's files."""
        uuid.UUID(champion_id)  # ids are UUIDs; anything else never becomes a path
        return self.root / champion_id

    def adopt(self, incoming: Path, *, champion_id: str, extension: str) -> str:
        """Moves a checked upload into the champion's folder; returns its stored name."""
        folder = self.champion_dir(champion_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"source{extension}"
        incoming.replace(folder / name)
        return name

    def path_of(self, champion_id: str, name: str) -> Path:
        """The path of one of a champion's stored files."""
        return self.champion_dir(champion_id) / Path(name).name

    def discard(self, incoming: Path, *, champion_id: str) -> None:
        """Removes an upload that could not be stored, wherever it had got to."""
        incoming.unlink(missing_ok=True)
        self.delete_champion(champion_id)

    def user_dir(self, user_id: str) -> Path:
        """The folder that holds files made for a user outside any champion."""
        uuid.UUID(user_id)
        return self.root / "users" / user_id

    def relative(self, path: Path) -> str:
        """A stored file's path relative to the media folder (what callers are shown)."""
        return path.relative_to(self.root).as_posix()

    def session_dir(self, session_id: str) -> Path:
        """The folder that holds a training session's call recording."""
        uuid.UUID(session_id)
        return self.root / "sessions" / session_id

    def delete_champion(self, champion_id: str) -> None:
        """Removes every file of a champion."""
        shutil.rmtree(self.champion_dir(champion_id), ignore_errors=True)

    def clear_incoming(self) -> None:
        """Removes uploads left half-written by a process that stopped."""
        for leftover in self.incoming.glob("*.part"):
            leftover.unlink(missing_ok=True)
