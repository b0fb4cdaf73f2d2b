"""Where a faster-whisper model is on this machine, if it is: shared by ingest and the live calls.

Nothing here touches the network. A model counts as present when it is a local folder holding
a CTranslate2 ``model.bin``, or a model name / Hugging Face repo id whose files are already in
the local Hugging Face cache.
"""

from __future__ import annotations

from pathlib import Path


def local_whisper_model(model: str, *, cache_dir: str | Path | None = None) -> Path | None:
    """The local folder holding ``model``, or None when it would have to be downloaded.

    Loading faster-whisper from the returned folder never reaches the network.

    Args:
        model: a faster-whisper model name ("small"), a repo id, or a folder path.
        cache_dir: the Hugging Face cache to look in; None uses the default one.

    Returns:
        The model folder (the given one, or its snapshot in the cache), or None.
    """
    if not model:
        return None
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder if (folder / "model.bin").is_file() else None
    repo_id = model if "/" in model else _repo_for(model)
    if repo_id is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "model.bin", cache_dir=cache_dir)
    except Exception:  # a malformed repo id is "not present", not a crash
        return None
    return Path(found).parent if isinstance(found, str) else None


def whisper_available(model: str, *, cache_dir: str | Path | None = None) -> bool:
    """Whether ``model`` can be loaded without a download (see `local_whisper_model`).

    Args:
        model: a faster-whisper model name ("small"), a repo id, or a folder path.
        cache_dir: the Hugging Face cache to look in; None uses the default one.
    """
    return local_whisper_model(model, cache_dir=cache_dir) is not None


def _repo_for(name: str) -> str | None:
    # faster-whisper maps its short names ("small", "large-v3") to repo ids in this table;
    # it has no public accessor for it.
    from faster_whisper import utils

    table: dict[str, str] = getattr(utils, "_MODELS", {})
    return table.get(name)
