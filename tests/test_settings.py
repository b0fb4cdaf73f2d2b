"""Settings validation at start-up, and the CLI's handling of bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from ingest.providers.choices import provider_choices
from memory.settings import Settings, normalise_database_url
from web.cli import app as cli


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("secret", ["", "change-me", "secret", "short-but-real"])
def test_production_refuses_a_missing_placeholder_or_short_jwt_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        _settings(environment="production", jwt_secret=secret)


def test_production_accepts_a_real_secret() -> None:
    settings = _settings(environment="production", jwt_secret="k" * 48)
    assert settings.effective_jwt_secret() == "k" * 48


def test_development_keeps_one_random_secret_in_the_data_folder(tmp_path: Path) -> None:
    first = _settings(data_dir=tmp_path).effective_jwt_secret()
    again = _settings(data_dir=tmp_path).effective_jwt_secret()
    assert first == again
    assert len(first) >= 48
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h:5433/db", "postgresql+asyncpg://u@h:5433/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_an_unsupported_database_is_named_in_the_error() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL must be"):
        _settings(database_url="mysql://root@localhost/db")


def test_without_models_the_defaults_are_embedded_and_offline(tmp_path: Path) -> None:
    # An empty models folder, and names that are not in this machine's Hugging Face cache.
    settings = _settings(
        data_dir=tmp_path,
        models_dir=tmp_path / "models",
        whisper_model=str(tmp_path / "no-model"),
        whisper_live_model=str(tmp_path / "no-model-either"),
    )
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.qdrant_url == ""
    assert settings.redis_url == ""
    assert set(provider_choices(settings).values()) == {"offline", "sparse"}


def test_keys_switch_providers() -> None:
    settings = _settings(anthropic_api_key="a", deepgram_api_key="d", elevenlabs_api_key="e")
    assert provider_choices(settings) == {
        "stt": "deepgram",
        "stt_live": "deepgram",
        "llm": "anthropic",
        "tts": "elevenlabs",
        "voice_clone": "elevenlabs",
        "embeddings": "sparse",
    }
    assert provider_choices(_settings(stt_provider="whisper"))["stt"] == "whisper"
    assert provider_choices(_settings(stt_provider="offline"))["stt_live"] == "offline"


def test_auto_stt_counts_a_whisper_model_on_this_machine(tmp_path: Path) -> None:
    folder = tmp_path / "whisper-small"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\0")
    empty = tmp_path / "models"
    chosen = provider_choices(_settings(whisper_model=str(folder), models_dir=empty))
    assert (chosen["stt"], chosen["stt_model"]) == ("whisper", str(folder))
    # The live model is missing, so calls fail over to the ingest one.
    assert (chosen["stt_live"], chosen["stt_live_model"]) == ("whisper", str(folder))
    keyed = _settings(whisper_model=str(folder), deepgram_api_key="d")
    assert provider_choices(keyed)["stt"] == "deepgram"
    absent = _settings(
        whisper_model=str(tmp_path / "absent"), whisper_live_model="", models_dir=empty
    )
    assert provider_choices(absent)["stt"] == "offline"
    assert provider_choices(absent)["tts"] == "offline"


def test_the_live_elevenlabs_model_is_read_from_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ELEVENLABS_TTS_MODEL", raising=False)
    assert _settings().elevenlabs_tts_model == "eleven_flash_v2_5"
    monkeypatch.setenv("ELEVENLABS_TTS_MODEL", "eleven_turbo_v2_5")
    assert _settings().elevenlabs_tts_model == "eleven_turbo_v2_5"


def test_cli_serve_exits_with_the_configuration_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "JWT_SECRET must be set" in result.output


def test_a_refused_value_is_not_repeated_in_the_error() -> None:
    with pytest.raises(ValidationError) as short_secret:
        _settings(environment="production", jwt_secret="tooshort-s3cret")
    with pytest.raises(ValidationError) as bad_turn:
        _settings(ice_servers="turn:al:pw9x@h:99999")
    assert "JWT_SECRET" in str(short_secret.value)
    assert "tooshort-s3cret" not in str(short_secret.value)
    assert "ICE_SERVERS" in str(bad_turn.value)
    assert "pw9x" not in str(bad_turn.value)
