"""LOG_LEVEL: loguru (Pipecat's lines), stdlib logging and uvicorn write one stream, in one
format, from the level up. Each case runs in its own interpreter, as an entry point does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import logging, sys
import uvicorn
from loguru import logger
from memory.settings import Settings
from web.cli import server_options
from web.log_config import configure_logging

settings = Settings(_env_file=None, log_level=sys.argv[1])
configure_logging(settings.log_level)
uvicorn.Config("web.app:create_app", **server_options(settings))
for level in ("debug", "info", "warning"):
    getattr(logger, level)(f"loguru-{level}")
    getattr(logging.getLogger("champion"), level)(f"stdlib-{level}")
    getattr(logging.getLogger("uvicorn.error"), level)(f"uvicorn-{level}")
"""
LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING) (\S+): (\S+)")
SOURCES = ("loguru", "stdlib", "uvicorn")


def _logged(level: str) -> list[tuple[str, str, str]]:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, level],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lines = [
        line
        for line in done.stderr.splitlines()
        if "-debug" in line or "-info" in line or "-warning" in line
    ]
    matches = [LINE.fullmatch(line) for line in lines]
    assert all(matches), lines  # one format for every source
    return [m.groups() for m in matches if m]


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("info", {"info", "warning"}),
        ("WARNING", {"warning"}),
        ("debug", {"debug", "info", "warning"}),
    ],
)
def test_every_source_logs_from_log_level_up_in_one_format(level: str, shown: set[str]) -> None:
    logged = _logged(level)
    assert sorted(message for _, _, message in logged) == sorted(
        f"{source}-{name}" for source in SOURCES for name in shown
    )
    for levelname, _name, message in logged:
        assert message.endswith(levelname.lower())
    names = {message.split("-")[0]: name for _, name, message in logged}
    assert names["uvicorn"] == "uvicorn.error" and names["stdlib"] == "champion"
