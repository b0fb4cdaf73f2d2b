"""The test tree's layout: no module imports a test module, and shared helpers live in support.

A test module (``test_*.py``) or a ``conftest.py`` is loaded by pytest, not imported: a
helper that two test files need lives in ``tests/support/`` (or, if it is a fixture, in a
conftest). The benchmarks, which reuse the test helpers, follow the same rule.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.imports import import_statements, python_files

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"

# What may sit at the top of tests/: the package marker, pytest's files, and two packages.
ALLOWED_TOP_LEVEL = {"__init__.py", "conftest.py", "e2e", "support"}


def imported_names(source: str, *, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module, or name in a module, that ``source`` imports, with its line: ``from a
    import b`` yields ``a.b`` (``b`` may be a module)."""
    return [
        (line, f"{target}.{name}" if target and names else target or name)
        for line, target, names in import_statements(source, module=module, is_package=is_package)
        for name in (names or ("",))
    ]


def names_a_test_module(name: str) -> bool:
    """Whether the dotted ``name`` is, or is inside, a test module or a conftest of tests/."""
    parts = name.split(".")
    if parts[0] != "tests":
        return False
    return any(part == "conftest" or part.startswith("test_") for part in parts[1:])


def imports_of_test_modules() -> list[str]:
    """Each import of a test module or conftest, as ``file:line imports name``."""
    offending: list[str] = []
    for folder in ("tests", "bench"):
        for path, module, is_package in python_files(ROOT, folder):
            source = path.read_text(encoding="utf-8")
            for line, name in imported_names(source, module=module, is_package=is_package):
                if names_a_test_module(name):
                    offending.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return offending


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    offending = imports_of_test_modules()
    assert not offending, "import shared helpers from tests/support/ instead:\n" + "\n".join(
        offending
    )


def test_the_tests_folder_holds_only_tests_conftest_e2e_and_support() -> None:
    strays = sorted(
        path.name
        for path in TESTS.iterdir()
        if path.name != "__pycache__"
        and path.name not in ALLOWED_TOP_LEVEL
        and not (path.is_file() and path.name.startswith("test_") and path.suffix == ".py")
    )
    assert not strays, f"move these into tests/support/ (helpers) or tests/e2e/: {strays}"


def test_the_check_sees_every_form_of_import() -> None:
    source = "\n".join(
        [
            "import tests.test_auth",
            "from tests.test_auth import helper",
            "from tests import conftest",
            "from tests.conftest import running_app",
            "from tests.e2e.conftest import fixture",
            "from .test_auth import helper",
            "from . import test_auth",
            "from tests.support.apps import running_app",
            "from tests.e2e.server import AppServer",
            "import testing_tools.test_x",
        ]
    )
    flagged = [
        line
        for line, name in imported_names(source, module="tests.test_x")
        if names_a_test_module(name)
    ]
    assert flagged == [1, 2, 3, 4, 5, 6, 7]
