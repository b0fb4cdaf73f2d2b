"""The `champion-clone` command: serve the app, run migrations."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from ingest.providers.choices import provider_choices
from memory.db import Database
from memory.settings import Settings
from web.cli_models import models_app
from web.log_config import configure_logging

app = typer.Typer(
    help="Champion Clone: practise selling against a clone of your best seller.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
tools_app = typer.Typer(help="The agents' tool definitions.", no_args_is_help=True)
app.add_typer(tools_app, name="tools")
app.add_typer(models_app, name="models")
console = Console(stderr=True)


def load_settings() -> Settings:
    """Reads settings from the environment, exiting with a clear message if one is wrong."""
    try:
        return Settings()
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"msg": str(exc)}]
        for error in errors:
            message = str(error.get("msg", error)).removeprefix("Value error, ")
            console.print(f"[red]configuration error:[/red] {message}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default: HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default: PORT)."),
) -> None:
    """Runs the API (and, without REDIS_URL, the ingest jobs) in this process."""
    import uvicorn

    from web.app import create_app

    settings = load_settings()
    configure_logging(settings.log_level)
    host = host or settings.host
    port = port or settings.port
    mode = (
        "offline providers"
        if set(provider_choices(settings).values()) <= {"offline", "sparse"}
        else "cloud providers where keys are set"
    )
    console.print(
        f"[bold]Champion Clone[/bold] on [link]http://{host}:{port}[/link]  "
        f"(API docs: http://{host}:{port}/docs; {mode}; data in {settings.data_dir.resolve()})"
    )
    uvicorn.run(create_app(settings), host=host, port=port, **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the app, besides its address.

    Forwarded headers are the app's own call (``FORWARDED_ALLOW_IPS``, `web.proxies`):
    uvicorn's default would believe any loopback peer's ``X-Forwarded-For``. Its loggers
    write through the shared handler (`web.log_config`) at ``LOG_LEVEL``.
    """
    return {"proxy_headers": False, "log_config": None, "log_level": settings.log_level.lower()}


@app.command()
def worker(
    concurrency: int = typer.Option(1, min=1, help="Ingest jobs this process runs at once."),
) -> None:
    """Runs ingest jobs from the Redis queue (needs REDIS_URL; scale out by starting more)."""
    settings = load_settings()
    if not settings.redis_url:
        console.print(
            "[red]configuration error:[/red] the worker takes jobs from Redis: set REDIS_URL "
            "(without it, `champion-clone serve` runs ingest jobs itself)"
        )
        raise typer.Exit(2)
    configure_logging(settings.log_level)
    asyncio.run(_run_worker(settings, concurrency))


async def _run_worker(settings: Settings, concurrency: int) -> None:
    from redis.asyncio import Redis

    from ingest.progress import RedisProgressBus
    from ingest.resubmit import RESUBMIT_SECONDS
    from ingest.worker import SWEEP_SECONDS, build_worker
    from web.services import Storage, log_provider_choices

    storage = await Storage.open(settings)
    redis = Redis.from_url(settings.redis_url)
    progress = RedisProgressBus(redis=redis, prefix=f"{settings.redis_prefix}progress:")
    worker = build_worker(
        runner=storage.job_runner(progress, settings),
        redis_url=settings.redis_url,
        prefix=settings.redis_prefix,
        concurrency=concurrency,
        sweep_seconds=max(1, min(SWEEP_SECONDS, settings.job_heartbeat_seconds // 2)),
        heartbeat_seconds=settings.job_heartbeat_seconds,
        resubmit_seconds=min(RESUBMIT_SECONDS, settings.job_heartbeat_seconds),
    )
    log_provider_choices(settings)
    if not settings.qdrant_url:
        logging.getLogger(__name__).warning(
            "QDRANT_URL is not set: this worker indexes patterns in its own embedded Qdrant, "
            "which the app cannot search; point app and workers at one Qdrant server"
        )
    # Unfinished jobs are handed to the queue by the worker's resubmitter, at start and
    # then periodically: a worker started while Redis is down waits for it.
    console.print(f"worker taking ingest jobs from Redis (concurrency {concurrency})")
    try:
        await worker.start()  # returns on SIGINT/SIGTERM, which SAQ handles
    finally:
        await redis.aclose()
        await storage.close()


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="A recording: .mp4 .mov .avi .wav .mp3 .m4a"),
    name: str | None = typer.Option(None, help="The champion's name (default: the file name)."),
    owner: str = typer.Option("local@localhost", help="E-mail of the account that owns it."),
    champion_speaker: str | None = typer.Option(
        None, help="Which speaker is the champion (S0, S1, ...); default: whoever talks most."
    ),
) -> None:
    """Learns a champion from FILE here and now, showing each step's progress."""
    from web.cli_ingest import IngestError, run_ingest

    settings = load_settings()
    configure_logging(settings.log_level)
    out = Console()
    try:
        champion_id = asyncio.run(
            run_ingest(
                settings,
                out,
                file=file,
                name=name,
                owner_email=owner,
                champion_speaker=champion_speaker,
            )
        )
    except IngestError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    out.print(f"champion {champion_id} is ready")


@app.command()
def mcp(
    user: str = typer.Option(..., "--user", help="E-mail of the account the tools act for."),
) -> None:
    """Serves the agents' tools to an MCP client (e.g. Claude Desktop) over stdio."""
    from web.cli_mcp import UnknownUser, run_mcp_stdio

    settings = load_settings()
    configure_logging(settings.log_level)  # to stderr: stdout carries the protocol
    try:
        asyncio.run(run_mcp_stdio(settings, user_email=user))
    except UnknownUser as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@tools_app.command("write")
def tools_write() -> None:
    """Writes agents/tools/definitions/<agent>_tools.json from the agents' code."""
    from agents.registry import write_definitions

    for path in write_definitions():
        console.print(f"wrote {path}")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Applies migrations up to REVISION."""
    settings = load_settings()
    asyncio.run(_migrate(settings, revision, up=True))
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Reverts migrations down to REVISION."""
    settings = load_settings()
    asyncio.run(_migrate(settings, revision, up=False))
    console.print(f"database at {revision}")


async def _migrate(settings: Settings, revision: str, *, up: bool) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(url=settings.resolved_database_url)
    try:
        await (db.migrate(revision) if up else db.downgrade(revision))
    finally:
        await db.close()


if __name__ == "__main__":
    app()
