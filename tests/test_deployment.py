"""The deployment files agree with the code: compose variables, .env.example, the Dockerfile."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from memory.settings import Settings
from tests.support.deployment import (
    RUNTIME_UID,
    SAMPLE_ENV,
    compose_app_env,
    compose_file,
    interpolate,
)

ROOT = Path(__file__).resolve().parent.parent


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add((field.alias or name).upper())
    return names


def test_compose_runs_every_service_with_a_health_check() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"app", "worker", "postgres", "redis", "qdrant", "turn"}
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


# The compose stack as its files describe it ---------------------------------------------


def _dockerfile_runtime() -> str:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return text[text.rindex("\nFROM ") :]


def test_compose_app_environment_is_a_valid_production_configuration() -> None:
    env = compose_app_env(SAMPLE_ENV)
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})  # type: ignore[call-arg,arg-type]
    assert settings.environment == "production"
    turn = [s for s in settings.ice_server_list if s.is_turn]
    assert {s.urls for s in turn} == {
        "turn:203.0.113.10:3478?transport=udp",
        "turn:203.0.113.10:3478?transport=tcp",
    }
    # No static TURN account: credentials are minted per caller from the relay's secret.
    assert all(s.needs_credentials for s in turn)
    assert settings.turn_secret == SAMPLE_ENV["TURN_SECRET"]
    minted = [s for s in settings.ice_servers_for("u-1") if s.is_turn]
    assert {s.username for s in minted} == {minted[0].username}
    assert str(minted[0].username).endswith(":u-1")
    for required in ("JWT_SECRET", "TURN_HOST", "TURN_SECRET"):
        with pytest.raises(KeyError, match=required):
            compose_app_env({k: v for k, v in SAMPLE_ENV.items() if k != required})


def test_every_app_volume_is_created_owned_by_the_runtime_user_and_declared() -> None:
    runtime = _dockerfile_runtime()
    assert f"useradd --create-home --uid {RUNTIME_UID} champion" in runtime
    assert re.search(r"^USER champion$", runtime, re.M)
    made = {p for m in re.findall(r"mkdir -p ([^&\n]+)", runtime) for p in m.split()}
    owned = {p for m in re.findall(r"chown champion(?::champion)? ([^&\n]+)", runtime)
             for p in m.split()}  # fmt: skip
    declared = set(json.loads(re.search(r"^VOLUME (\[.*\])$", runtime, re.M).group(1)))  # type: ignore[union-attr]
    services = compose_file()["services"]
    for name in ("app", "worker"):
        for mount in services[name]["volumes"]:
            target = mount.split(":")[1]
            assert target in made and target in owned and target in declared, (name, target)
    # The app and its workers find their folders where compose mounts them.
    env = compose_app_env(SAMPLE_ENV)
    assert f"{env['DATA_DIR']}" in declared and f"{env['MEDIA_DIR']}" in declared


def test_the_image_installs_the_speech_models_where_the_app_looks() -> None:
    runtime = _dockerfile_runtime()
    models_dir = re.search(r"^ENV MODELS_DIR=(\S+)$", runtime, re.M)
    assert models_dir is not None and "MODELS_DIR" in _setting_names()
    install = runtime.index("champion-clone models install")
    assert runtime.index("ENV MODELS_DIR=") < install < runtime.index("USER champion")
    assert f"chmod -R a+rX {Path(models_dir.group(1)).parent}" in runtime


def test_health_checks_use_only_what_their_images_have() -> None:
    services = compose_file()["services"]
    for name in ("app", "worker"):  # python:3.11-slim has no curl or wget
        assert services[name]["healthcheck"]["test"][:2] == ["CMD", "python"], name
    assert services["turn"]["healthcheck"]["test"][1] == "turnutils_stunclient"
    assert "apt-get install -y --no-install-recommends coturn" in (
        ROOT / "deploy" / "turn" / "Dockerfile"
    ).read_text().replace("\\\n", " ").replace("    ", " ")
    assert services["redis"]["healthcheck"]["test"][1] == "redis-cli"
    assert services["postgres"]["healthcheck"]["test"][1].startswith("pg_isready ")


class _Ready(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.mark.parametrize("status", [200, 503])
def test_the_qdrant_health_check_asks_readyz_with_bash_alone(status: int) -> None:
    test = compose_file()["services"]["qdrant"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"]
    handler = type("Ready", (_Ready,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = test[3].replace("$$", "$").replace("6333", str(server.server_port))
        # No PATH: only bash's builtins (as in the qdrant image, which has no curl or wget).
        result = subprocess.run(["/bin/bash", "-c", script], env={}, timeout=30, check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) == (status == 200)


def test_the_turn_relay_ports_match_what_compose_publishes() -> None:
    conf = (ROOT / "deploy" / "turn" / "turnserver.conf").read_text()
    low = re.search(r"^min-port=(\d+)$", conf, re.M).group(1)  # type: ignore[union-attr]
    high = re.search(r"^max-port=(\d+)$", conf, re.M).group(1)  # type: ignore[union-attr]
    turn = compose_file()["services"]["turn"]
    assert f"{low}-{high}:{low}-{high}/udp" in turn["ports"]
    assert {"3478:3478/udp", "3478:3478/tcp"} <= set(turn["ports"])


def test_the_relay_checks_the_time_limited_credentials_the_app_mints() -> None:
    conf = (ROOT / "deploy" / "turn" / "turnserver.conf").read_text()
    options = set(re.findall(r"^([a-z-]+)", conf, re.M))
    # use-auth-secret alone: coturn's docs say not to combine it with lt-cred-mech or user=.
    assert "use-auth-secret" in options
    assert not options & {"lt-cred-mech", "user", "no-auth", "static-auth-secret"}
    turn = compose_file()["services"]["turn"]
    assert set(turn["environment"]) == {"TURN_HOST", "TURN_SECRET"}
    # The relay and the app are given the same secret, and it must be set.
    app_env = compose_file()["services"]["app"]["environment"]
    assert interpolate(turn["environment"]["TURN_SECRET"], SAMPLE_ENV) == interpolate(
        app_env["TURN_SECRET"], SAMPLE_ENV
    )
    entrypoint = (ROOT / "deploy" / "turn" / "entrypoint.sh").read_text()
    assert '--static-auth-secret "$TURN_SECRET"' in entrypoint
    assert ': "${TURN_SECRET:?' in entrypoint
    assert "--user" not in entrypoint
