"""Application settings, read once at each entry point and passed down.

Library code never reads the environment: `Settings()` is built by the CLI or the app
factory, validated here, and handed to constructors as keyword arguments.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from memory.files import models_folder
from memory.ice_servers import (
    MIN_TURN_SECRET_LENGTH,
    IceServer,
    parse_ice_servers,
    with_turn_credentials,
)

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "your-secret-here", "dev-secret"}
MIN_SECRET_LENGTH = 32
_RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class SettingsError(ValueError):
    """A setting is missing or unusable; the message names the variable to fix."""


class RateLimit:
    """A parsed rate limit such as ``10/hour`` or ``5/30s``."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window_seconds = window_seconds

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parses ``N/period`` where period is second|minute|hour|day or a number of seconds."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)?\s*([a-z]*)\s*", text.lower())
        if not match:
            raise SettingsError(f"rate limit {text!r} is not of the form N/minute or N/30s")
        limit, count, unit = int(match.group(1)), match.group(2), match.group(3).rstrip("s")
        if unit in ("", "sec", "second") and count:
            window = int(count)
        elif unit in _RATE_PERIODS:
            window = _RATE_PERIODS[unit] * (int(count) if count else 1)
        else:
            raise SettingsError(f"rate limit {text!r} has an unknown period {unit!r}")
        if limit < 1 or window < 1:
            raise SettingsError(f"rate limit {text!r} must allow at least 1 request per second")
        return cls(limit, window)

    def __repr__(self) -> str:
        return f"RateLimit({self.limit}/{self.window_seconds}s)"


def normalise_database_url(url: str) -> str:
    """Maps user-friendly database URLs onto the async drivers we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise SettingsError(
            "DATABASE_URL must be a postgresql:// or sqlite:/// URL "
            f"(got a URL starting {url.split(':', 1)[0]!r})"
        )
    return url


RateLimitName = Literal["upload", "analyze", "training", "login", "mcp", "dial_in", "register"]


class Settings(BaseSettings):
    """Every environment variable the app reads; each one is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
        # A refused value may be a secret (a key, a TURN password): errors name the
        # variable and the rule, never the value.
        hide_input_in_errors=True,
    )

    environment: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("data")
    media_dir_override: Path | None = Field(default=None, alias="media_dir")

    database_url: str = ""
    qdrant_url: str = ""
    qdrant_api_key: str = ""
    redis_url: str = ""
    redis_prefix: str = "cc:"
    job_heartbeat_seconds: int = Field(default=30, ge=1)
    call_processes: int = Field(default=0, ge=0, le=64)

    jwt_secret: str = ""
    jwt_expires_minutes: int = Field(default=60 * 12, ge=1)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    cors_origins: str = ""

    max_upload_mb: int = Field(default=500, ge=1)
    pass_threshold: float = Field(default=70.0, ge=0, le=100)
    rate_limit_upload: str = "10/hour"
    rate_limit_analyze: str = "20/hour"
    rate_limit_training: str = "60/minute"
    rate_limit_login: str = "10/minute"
    rate_limit_mcp: str = "120/minute"
    rate_limit_dial_in: str = "30/minute"
    rate_limit_register: str = "5/hour"
    max_json_body_kb: int = Field(default=256, ge=1, le=65_536)
    forwarded_allow_ips: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    turn_secret: str = Field(default="", repr=False)  # before ice_servers, which reads it
    ice_servers: str = ""

    anthropic_api_key: str = ""
    deepgram_api_key: str = ""
    elevenlabs_api_key: str = ""
    elevenlabs_tts_model: str = "eleven_flash_v2_5"
    stt_provider: Literal["auto", "deepgram", "whisper", "offline"] = "auto"
    whisper_model: str = "base"
    whisper_live_model: str = "tiny.en"
    models_dir: Path | None = None
    anthropic_live_model: str = "claude-sonnet-4-5"
    anthropic_analysis_model: str = "claude-opus-4-1"

    public_base_url: str = ""
    dial_in_code_ttl_seconds: int = Field(default=600, ge=60, le=86_400)
    dial_in_number: str = Field(default="", max_length=40)
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    telnyx_api_key: str = ""
    telnyx_public_key: str = ""

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        return normalise_database_url(value) if value else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("turn_secret")
    @classmethod
    def _check_turn_secret(cls, value: str) -> str:
        if value and len(value) < MIN_TURN_SECRET_LENGTH:
            raise SettingsError(
                f"TURN_SECRET must be at least {MIN_TURN_SECRET_LENGTH} characters "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return value

    @field_validator("ice_servers")
    @classmethod
    def _check_ice_servers(cls, value: str, info: ValidationInfo) -> str:
        try:
            parse_ice_servers(value, minted=bool(info.data.get("turn_secret")))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return value.strip()

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
            raise SettingsError(
                "PUBLIC_BASE_URL must be the app's public http(s) address, such as "
                "https://practice.example.com (no query string)"
            )
        return value

    @field_validator("telnyx_public_key")
    @classmethod
    def _check_telnyx_public_key(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise SettingsError(
                "TELNYX_PUBLIC_KEY must be the base64 Ed25519 public key from the Telnyx "
                "portal (Keys & Credentials > Public Key)"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for name in ("upload", "analyze", "training", "login", "mcp", "dial_in", "register"):
            RateLimit.parse(getattr(self, f"rate_limit_{name}"))
        if self.environment != "development":
            if self.jwt_secret.strip().lower() in PLACEHOLDER_SECRETS:
                raise SettingsError(
                    "JWT_SECRET must be set to a random value outside development "
                    '(e.g. python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            if len(self.jwt_secret) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters "
                    "outside development"
                )
        return self

    # Derived values -------------------------------------------------------------------

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'champion_clone.db').resolve()}"

    @property
    def qdrant_path(self) -> Path:
        """Folder for embedded Qdrant when no server is configured."""
        return self.data_dir / "qdrant"

    @property
    def media_dir(self) -> Path:
        """Folder that holds uploaded recordings (shared by the app and its workers)."""
        return self.media_dir_override or self.data_dir / "media"

    @property
    def models_folder(self) -> Path:
        """Where `champion-clone models` installs the packaged speech models."""
        return models_folder(self.models_dir)

    @property
    def max_upload_bytes(self) -> int:
        """The upload size limit in bytes."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_json_body_bytes(self) -> int:
        """The size limit of every request body but the uploads', in bytes."""
        return self.max_json_body_kb * 1024

    @property
    def forwarded_allow_ip_list(self) -> list[str]:
        """Proxy addresses whose X-Forwarded-For / X-Forwarded-Proto are believed (comma
        separated in the environment; empty: none, the peer's address is the client's)."""
        return [ip.strip() for ip in self.forwarded_allow_ips.split(",") if ip.strip()]

    @property
    def ice_server_list(self) -> list[IceServer]:
        """The STUN/TURN servers for calls' peer connections, browser and server side
        (``ICE_SERVERS``, comma-separated URLs; see `memory.ice_servers`). TURN ones without
        credentials get them per caller from ``TURN_SECRET`` (`ice_servers_for`)."""
        return parse_ice_servers(self.ice_servers, minted=bool(self.turn_secret))

    def ice_servers_for(self, user_id: str) -> list[IceServer]:
        """`ice_server_list` with time-limited TURN credentials minted for ``user_id``."""
        return with_turn_credentials(self.ice_server_list, secret=self.turn_secret, user_id=user_id)

    @property
    def cors_origin_list(self) -> list[str]:
        """The CORS allow-list, comma separated in the environment."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def rate_limit(self, name: RateLimitName) -> RateLimit:
        """The parsed rate limit for one of the limited route groups."""
        return RateLimit.parse(getattr(self, f"rate_limit_{name}"))

    def effective_jwt_secret(self) -> str:
        """The signing secret; in development a random one is kept in the data folder."""
        if self.jwt_secret.strip().lower() not in PLACEHOLDER_SECRETS:
            return self.jwt_secret
        secret_file = self.data_dir / "jwt_secret"
        if secret_file.exists():
            return secret_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        secret_file.write_text(secret)
        secret_file.chmod(0o600)
        return secret
