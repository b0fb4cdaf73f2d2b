"""The import statements of Python files, read with `ast` (relative imports resolved), for
the tests that hold the code's and the tests' structure to their rules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple


class ImportStatement(NamedTuple):
    """One import: ``import target`` (no names) or ``from target import names``."""

    line: int
    target: str
    names: tuple[str, ...]


def import_statements(
    source: str, *, module: str, is_package: bool = False
) -> list[ImportStatement]:
    """Every import in ``source``, at any depth (functions, ``if TYPE_CHECKING:``), with
    ``from .x import y`` resolved against the module's package.

    Args:
        source: Python source text.
        module: The dotted name of the module the text belongs to.
        is_package: Whether the text is a package's ``__init__.py``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[ImportStatement] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(ImportStatement(node.lineno, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, target] if target else base)
            names = tuple(alias.name for alias in node.names)
            found.append(ImportStatement(node.lineno, target, names))
    return found


def python_files(root: Path, folder: str) -> Iterator[tuple[Path, str, bool]]:
    """Each ``.py`` file under ``root/folder`` (bundled ``node_modules`` aside), with its
    dotted module name and whether it is a package's ``__init__.py``."""
    for path in sorted((root / folder).rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        yield path, ".".join(parts[:-1] if is_package else parts), is_package
