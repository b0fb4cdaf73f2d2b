"""`champion-clone ingest FILE`: the job in one process, with a progress bar and a summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COLUMNS": "120"}
    executable = Path(sys.executable).with_name("champion-clone")
    return subprocess.run(
        [str(executable), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ingest_shows_progress_and_a_summary(call_files: dict[str, Path], tmp_path: Path) -> None:
    result = _cli(tmp_path, "ingest", str(call_files["short_mono"]), "--name", "Alex Rivera")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "100%" in out
    assert "Alex Rivera" in out
    assert "status" in out and "ready" in out
    assert "discovery_question" in out
    assert "is ready" in out
    assert (tmp_path / "data" / "champion_clone.db").exists()
    assert "created account local@localhost" in out


def test_ingest_refuses_a_bad_file_with_a_reason(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a recording")
    result = _cli(tmp_path, "ingest", str(bogus))
    assert result.returncode == 1
    assert "file type .txt is not supported" in result.stderr
    disguised = tmp_path / "call.mp4"
    disguised.write_text("not a recording either, just text")
    result = _cli(tmp_path, "ingest", str(disguised))
    assert result.returncode == 1
    assert "does not match its .mp4 extension" in result.stderr
    media = tmp_path / "data" / "media"
    assert not [p for p in media.rglob("*") if p.is_file()]
