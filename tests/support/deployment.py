"""The compose stack as its files describe it: the app's environment, the runtime user."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

RUNTIME_UID = 10001
SAMPLE_ENV = {
    "JWT_SECRET": "x" * 48,
    "TURN_HOST": "203.0.113.10",
    "TURN_SECRET": "Q2hhbXBpb24tdHVybi1zZWNyZXQ",
}


def compose_file() -> dict[str, Any]:
    """docker-compose.yml, parsed."""
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value).replace("$$", "$")


def compose_app_env(env: dict[str, str]) -> dict[str, str]:
    """The app's environment as `docker compose` would set it, given the shell's ``env``."""
    variables = compose_file()["services"]["app"]["environment"]
    return {name: interpolate(str(value), env) for name, value in variables.items()}
