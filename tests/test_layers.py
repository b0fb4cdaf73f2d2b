"""The layers are a strict stack: each package imports only the packages below it.

``web → pipelines → agents → ingest → memory``. Every import counts: at module level, inside
functions and under ``if TYPE_CHECKING:``; relative imports are resolved against their package.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.imports import import_statements, python_files

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom: a package may import itself and any package after it, never one before it.
LAYERS = ("web", "pipelines", "agents", "ingest", "memory")


def imported_modules(
    source: str, *, module: str, is_package: bool = False
) -> list[tuple[int, str]]:
    """Every module that ``source`` imports, with its line (``from . import x`` counts as
    the package's module ``x``)."""
    found: list[tuple[int, str]] = []
    for line, target, names in import_statements(source, module=module, is_package=is_package):
        if target:
            found.append((line, target))
        else:
            found.extend((line, name) for name in names)
    return found


def back_edges() -> list[str]:
    """Each import of a higher layer, as ``file:line imports module``."""
    offending: list[str] = []
    for rank, layer in enumerate(LAYERS):
        higher = set(LAYERS[:rank])
        for path, module, is_package in python_files(ROOT, layer):
            source = path.read_text(encoding="utf-8")
            for line, target in imported_modules(source, module=module, is_package=is_package):
                if target.split(".")[0] in higher:
                    offending.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return offending


def test_each_layer_imports_only_the_layers_below_it() -> None:
    offending = back_edges()
    assert not offending, f"{len(offending)} imports of a higher layer:\n" + "\n".join(offending)


def test_every_kind_of_import_is_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import pipelines.bot, json\n"
        "if TYPE_CHECKING:\n"
        "    from web.app import create_app\n"
        "def f():\n"
        "    from .engines import Engine\n"
        "    from .. import pattern\n"
        "    from ...pipelines import vad\n"
    )
    found = imported_modules(source, module="agents.training.session")
    assert found == [
        (1, "typing"),
        (2, "pipelines.bot"),
        (2, "json"),
        (4, "web.app"),
        (6, "agents.training.engines"),
        (7, "agents"),
        (8, "pipelines"),
    ]


def test_a_package_resolves_relative_imports_against_itself() -> None:
    found = imported_modules(
        "from . import x\nfrom .y import z\n", module="ingest", is_package=True
    )
    assert found == [(1, "ingest"), (2, "ingest.y")]
