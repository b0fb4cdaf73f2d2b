"""faster-whisper models on this machine: where they are, and the one loaded copy of each.

Ingest and the live calls both find models here. Nothing here touches the network. A model
counts as present when it is a local folder holding a CTranslate2 ``model.bin``, a model the
product installs from the package registries (`ingest.packaged_models`: "base", "tiny.en"),
verified against its pinned digests, or a model name / Hugging Face repo id whose files are
already in the local Hugging Face cache.

A loaded model costs seconds of CPU and hundreds of MB, so `WhisperModelCache` loads each
(folder, device, compute type) once per process and hands the same object to every caller
(the live calls use `shared_whisper_models`). Sharing it between threads is safe:
``WhisperModel.transcribe`` keeps no per-call state on the model (the one exception is its
``chunk_length`` argument, which rewrites the feature extractor's window, so callers sharing a
model must all leave it alone or pass the same value), and CTranslate2 takes concurrent calls
from several Python threads, releasing the GIL, on its worker queue (``num_workers`` workers,
1 by default, sharing one copy of the weights).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.packaged_models import find_packaged, installed_model

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ModelKey = tuple[str, str, str]
"""(model folder, device, compute type): what makes two loaded models differ."""


def local_whisper_model(
    model: str, *, models_dir: Path | None = None, cache_dir: str | Path | None = None
) -> Path | None:
    """The local folder holding ``model``, or None when it would have to be downloaded.

    Loading faster-whisper from the returned folder never reaches the network. A name the
    product installs from the registries ("base", "tiny.en") resolves to its verified folder
    under ``models_dir`` first, then, as any other name, through the Hugging Face cache.

    Args:
        model: a faster-whisper model name ("small"), a repo id, or a folder path.
        models_dir: the folder `champion-clone models` installs into; None is the default.
        cache_dir: the Hugging Face cache to look in; None uses the default one.

    Returns:
        The model folder (the given one, or its snapshot in the cache), or None.
    """
    if not model:
        return None
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder if (folder / "model.bin").is_file() else None
    packaged = find_packaged(model)
    if packaged is not None and packaged.kind == "whisper":
        found_packaged = installed_model(packaged.name, models_dir=models_dir)
        if found_packaged is not None:
            return found_packaged
    repo_id = model if "/" in model else _repo_for(model)
    if repo_id is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "model.bin", cache_dir=cache_dir)
    except Exception:  # a malformed repo id is "not present", not a crash
        return None
    return Path(found).parent if isinstance(found, str) else None


def whisper_available(
    model: str, *, models_dir: Path | None = None, cache_dir: str | Path | None = None
) -> bool:
    """Whether ``model`` can be loaded without a download (see `local_whisper_model`).

    Args:
        model: a faster-whisper model name ("small"), a repo id, or a folder path.
        models_dir: the folder `champion-clone models` installs into; None is the default.
        cache_dir: the Hugging Face cache to look in; None uses the default one.
    """
    return local_whisper_model(model, models_dir=models_dir, cache_dir=cache_dir) is not None


def first_whisper_model(
    candidates: list[str], *, models_dir: Path | None = None
) -> tuple[str, Path] | None:
    """The first of ``candidates`` that is on this machine, with its folder, or None.

    Used to fail over from the configured model to the other packaged one when a package
    went missing or a file was damaged.
    """
    for name in dict.fromkeys(c for c in candidates if c):
        folder = local_whisper_model(name, models_dir=models_dir)
        if folder is not None:
            return name, folder
    return None


def _repo_for(name: str) -> str | None:
    # faster-whisper maps its short names ("small", "large-v3") to repo ids in this table;
    # it has no public accessor for it.
    from faster_whisper import utils

    table: dict[str, str] = getattr(utils, "_MODELS", {})
    return table.get(name)


def load_whisper_model(folder: str, *, device: str, compute_type: str) -> WhisperModel:
    """Loads faster-whisper from ``folder``, refusing to download anything (blocking, seconds).

    Args:
        folder: a local model folder, as `local_whisper_model` returns it.
        device: where CTranslate2 runs the model ("cpu", "cuda", "auto").
        compute_type: the CTranslate2 compute type ("int8" suits a CPU).
    """
    from faster_whisper import WhisperModel

    return WhisperModel(folder, device=device, compute_type=compute_type, local_files_only=True)


class WhisperModelCache:
    """Loaded faster-whisper models, one per (folder, device, compute type), kept for reuse.

    Safe to share between threads and event loops. Callers asking for a model that is being
    loaded wait for that load instead of starting their own; callers asking for another model
    are not held up by it. A load that fails is not remembered, so the next caller tries again.
    Models stay loaded for the life of the cache (the process, for `shared_whisper_models`).

    Args:
        factory: loads one model, called as ``factory(folder, device=..., compute_type=...)``
            in the caller's thread; the default is `load_whisper_model`.
    """

    def __init__(self, *, factory: Callable[..., Any] = load_whisper_model) -> None:
        self._factory = factory
        self._models: dict[ModelKey, Any] = {}
        self._loading: dict[ModelKey, threading.Lock] = {}
        self._lock = threading.Lock()  # guards the two dicts, never held while loading

    def get(
        self, model: str, *, device: str, compute_type: str, models_dir: Path | None = None
    ) -> WhisperModel:
        """The loaded ``model``, loading it first if no caller has yet (blocking, seconds).

        Args:
            model: a faster-whisper model name ("small"), a repo id, or a folder path; it must
                already be on this machine (see `local_whisper_model`).
            device: where CTranslate2 runs the model ("cpu", "cuda", "auto").
            compute_type: the CTranslate2 compute type ("int8" suits a CPU).
            models_dir: the folder `champion-clone models` installs into; None is the default.

        Raises:
            FileNotFoundError: ``model`` is not on this machine; it is never downloaded.
            Exception: whatever faster-whisper or CTranslate2 raise for a model that does not load.
        """
        folder = local_whisper_model(model, models_dir=models_dir)
        if folder is None:
            raise FileNotFoundError(f"whisper model {model!r} is not on this machine")
        # A name and its cache snapshot, or two spellings of one folder, share one model.
        key = (str(folder.resolve()), device, compute_type)
        with self._lock:
            loaded = self._models.get(key)
            if loaded is not None:
                return loaded
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                loaded = self._models.get(key)
            if loaded is None:
                loaded = self._factory(str(folder), device=device, compute_type=compute_type)
                with self._lock:
                    self._models[key] = loaded
            return loaded

    def loaded(self) -> list[ModelKey]:
        """The keys of the models loaded so far, in load order."""
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        """Forgets every loaded model; callers that still hold one keep it."""
        with self._lock:
            # The per-key locks stay: a load under way keeps excluding a second one.
            self._models.clear()


_shared = WhisperModelCache()


def shared_whisper_models() -> WhisperModelCache:
    """The process-wide `WhisperModelCache` that live calls load their models from."""
    return _shared
