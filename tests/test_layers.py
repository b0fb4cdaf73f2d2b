"""The layers are a strict stack: each package imports only the packages below it.

``web → pipelines → agents → ingest → memory``. Every import counts: at module level, inside
functions and under ``if TYPE_CHECKING:``; relative imports are resolved against their package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom: a package may import itself and any package after it, never one before it.
LAYERS = ("web", "pipelines", "agents", "ingest", "memory")


def imported_modules(
    source: str, *, module: str, is_package: bool = False
) -> list[tuple[int, str]]:
    """Every module that ``source`` imports, with its line, relative imports resolved.

    Args:
        source: Python source text.
        module: The dotted name of the module the text belongs to.
        is_package: Whether the text is a package's ``__init__.py``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, target] if target else base)
            if target:
                found.append((node.lineno, target))
            else:
                found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def back_edges() -> list[str]:
    """Each import of a higher layer, as ``file:line imports module``."""
    offending: list[str] = []
    for rank, layer in enumerate(LAYERS):
        higher = set(LAYERS[:rank])
        for path in sorted((ROOT / layer).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
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
