"""The deployment files agree with the code: compose variables, .env.example, the Dockerfile."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from memory.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add((field.alias or name).upper())
    return names


def test_compose_runs_every_service_with_a_health_check() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "worker", "postgres", "redis", "qdrant"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert services["worker"]["command"] == ["champion-clone", "worker"]
    assert services["app"]["command"] == ["champion-clone", "serve"]
    assert "media:/media" in services["worker"]["volumes"]
    assert "media:/media" in services["app"]["volumes"]


def test_compose_sets_only_variables_the_app_reads() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("app", "worker"):
        variables = set(compose["services"][service]["environment"])
        assert variables <= _setting_names(), variables - _setting_names()
        assert {"DATABASE_URL", "REDIS_URL", "QDRANT_URL", "JWT_SECRET"} <= variables


def test_env_example_documents_every_setting() -> None:
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == _setting_names()


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("memory", "ingest", "pipelines", "agents", "web"):
        assert f"COPY {package} ./{package}" in dockerfile
