"""Every package the app's code imports is declared in pyproject.toml, not merely present
because another dependency happens to bring it."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("web", "pipelines", "agents", "ingest", "memory")


def _imported_top_level_modules() -> dict[str, str]:
    """Each third-party top-level module the app imports, with one place that imports it."""
    found: dict[str, str] = {}
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in APP_PACKAGES:
                        continue
                    found.setdefault(top, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        for requirement in project["dependencies"]
    }


def test_every_imported_package_is_declared() -> None:
    distributions = packages_distributions()
    declared = _declared()
    undeclared = []
    for module, where in sorted(_imported_top_level_modules().items()):
        providers = {_normalise(d) for d in distributions.get(module, [])}
        if not providers:
            undeclared.append(f"{module} (no installed distribution provides it; {where})")
        elif not providers & declared:
            undeclared.append(f"{module} from {sorted(providers)} ({where})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)
