"""What every request meets before a route: body size and JSON depth limits, security
headers. (Filled in by the hardening work; `install` is called by the app factory.)"""

from __future__ import annotations

from fastapi import FastAPI

from memory.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Wraps ``app`` in the edge checks."""
    del app, settings
