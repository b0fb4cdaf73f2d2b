"""Step 1 of ingest: check an upload while it streams to disk, before anything is stored.

Extension allow-list, magic bytes, size limit, then a PyAV probe that reads every packet
so a truncated or damaged file is refused at upload time rather than halfway through a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

import av

# extension -> (media kind, container family the magic bytes must show)
ALLOWED_EXTENSIONS: dict[str, tuple[str, str]] = {
    ".mp4": ("video", "isobmff"),
    ".mov": ("video", "isobmff"),
    ".avi": ("video", "avi"),
    ".wav": ("audio", "wav"),
    ".mp3": ("audio", "mp3"),
    ".m4a": ("audio", "isobmff"),
}
_ISOBMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
MAGIC_BYTES_NEEDED = 12


class UploadRejected(Exception):
    """The upload is refused; ``status_code`` and ``message`` go back to the client."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class MediaInfo:
    """What the probe learned about an accepted recording."""

    kind: str
    format: str
    extension: str
    size_bytes: int
    duration_seconds: float | None
    audio_streams: int
    video_streams: int


def printable_text(text: str) -> str:
    """``text`` without control characters (NUL included), its white space folded to spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def safe_display_name(filename: str) -> str:
    """The file's base name, for display only: no folders, no control characters."""
    base = PureWindowsPath(PurePosixPath(filename).name).name
    return printable_text(base)[:255] or "upload"


def check_extension(filename: str) -> str:
    """Returns the lower-cased extension if it is allowed; raises `UploadRejected` (415)."""
    extension = PurePosixPath(safe_display_name(filename)).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        allowed = " ".join(sorted(ALLOWED_EXTENSIONS))
        shown = extension or "no extension"
        raise UploadRejected(415, f"file type {shown} is not supported; upload one of: {allowed}")
    return extension


def sniff_family(head: bytes) -> str | None:
    """The container family the first bytes show, or None if none we accept."""
    if len(head) >= 12 and head[:4] == b"RIFF":
        if head[8:12] == b"AVI ":
            return "avi"
        if head[8:12] == b"WAVE":
            return "wav"
    if len(head) >= 8 and head[4:8] in _ISOBMFF_BOXES:
        return "isobmff"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


class UploadValidator:
    """Receives an upload chunk by chunk, writing it to ``path`` and checking as it goes.

    Args:
        path: where the bytes go while they are checked (removed on rejection).
        extension: the allowed extension already checked with `check_extension`.
        max_bytes: the size limit; one byte more raises `UploadRejected` (413).
    """

    def __init__(self, *, path: Path, extension: str, max_bytes: int) -> None:
        self.path = path
        self.extension = extension
        self.kind, self.family = ALLOWED_EXTENSIONS[extension]
        self.max_bytes = max_bytes
        self.size = 0
        self._head = b""
        self._file: BinaryIO | None = path.open("wb")

    def feed(self, chunk: bytes) -> None:
        """Checks and writes one chunk."""
        if self._file is None:
            raise RuntimeError("upload already finished")
        self.size += len(chunk)
        if self.size > self.max_bytes:
            limit_mb = self.max_bytes // (1024 * 1024)
            raise UploadRejected(413, f"file is larger than the {limit_mb} MB limit")
        if len(self._head) < MAGIC_BYTES_NEEDED:
            self._head += chunk[: MAGIC_BYTES_NEEDED - len(self._head)]
            if len(self._head) >= MAGIC_BYTES_NEEDED:
                self._check_magic()
        self._file.write(chunk)

    def _check_magic(self) -> None:
        found = sniff_family(self._head)
        if found != self.family:
            raise UploadRejected(
                415,
                f"file content does not match its {self.extension} extension "
                "(it is not a recording of that type)",
            )

    def close(self) -> None:
        """Closes the file without checking it."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        """Closes and removes the partial file."""
        self.close()
        self.path.unlink(missing_ok=True)

    def finish(self) -> MediaInfo:
        """Closes the file and probes it; raises `UploadRejected` if it is not usable."""
        self.close()
        if self.size == 0:
            raise UploadRejected(400, "file is empty (0 bytes)")
        if len(self._head) < MAGIC_BYTES_NEEDED:
            self._check_magic()
        return probe_media(self.path, extension=self.extension, size_bytes=self.size)


def probe_media(path: Path, *, extension: str, size_bytes: int) -> MediaInfo:
    """Opens the file with PyAV and reads every packet; raises `UploadRejected` (422) on damage.

    Demuxing without decoding is fast (hundreds of MB per second) and catches files that
    were cut short or whose index points past the end.
    """
    kind, _family = ALLOWED_EXTENSIONS[extension]
    try:
        with av.open(str(path), mode="r") as container:
            audio = len(container.streams.audio)
            video = len(container.streams.video)
            if audio + video == 0:
                raise UploadRejected(422, "file holds no audio or video stream")
            packets = 0
            last_time = 0.0
            for packet in container.demux():
                if packet.size == 0:
                    continue
                packets += 1
                if packet.pts is not None and packet.time_base is not None:
                    last_time = max(last_time, float(packet.pts * packet.time_base))
            if packets == 0:
                raise UploadRejected(422, "file holds no media data (it may be truncated)")
            duration = float(container.duration / av.time_base) if container.duration else None
    except UploadRejected:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UploadRejected(
            422, "file could not be read as a recording; it may be damaged or truncated"
        ) from exc
    if duration and last_time < duration * 0.9 - 1.0:
        raise UploadRejected(
            422,
            f"file is truncated: media stops at {last_time:.1f} s of a {duration:.1f} s recording",
        )
    return MediaInfo(
        kind=kind,
        format=extension.lstrip("."),
        extension=extension,
        size_bytes=size_bytes,
        duration_seconds=duration or (last_time or None),
        audio_streams=audio,
        video_streams=video,
    )
