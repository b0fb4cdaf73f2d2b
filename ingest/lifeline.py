"""Ties a helper process's life to the process it works for, however that one ends.

A process killed outright (``kill -9``, the OOM killer) runs no clean-up, and its children
live on: the offline transcriber's decoder processes would wait forever for work. On Linux
the kernel sends a child a signal when its parent dies (``prctl(PR_SET_PDEATHSIG)``);
elsewhere a thread checks every second whether the parent (and the owner) is still there.

Only the parent's death is signalled, so a grandchild (a pool worker forked by a
forkserver) is tied to the forkserver, which is tied to the owner in turn.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 1.0


def die_with_parent(*, owner: int | None = None) -> None:
    """Makes this process end (SIGKILL) when its parent ends, or ``owner`` does.

    Args:
        owner: the process this one works for, when that is not simply the parent: the
            parent must be ``owner`` or a child of it (a forkserver it started). If that
            is no longer so, the owner is gone already and this process ends at once.
    """
    parent = os.getppid()
    if _set_parent_death_signal():
        # The parent may have ended before the signal was armed, which then never comes.
        if os.getppid() != parent or not _serves(parent, owner):
            _end()
    else:
        _watch(parent, owner)


def _set_parent_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # libc's, in this process already
    except (OSError, AttributeError):
        return False
    return bool(prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)


def _serves(parent: int, owner: int | None) -> bool:
    """Whether ``parent`` is ``owner`` or its child (true when there is no way to tell)."""
    if owner is None or parent == owner or not Path("/proc/self/stat").exists():
        return True
    return _parent_of(parent) == owner


def _parent_of(pid: int) -> int | None:
    """The parent of ``pid`` as /proc tells it; None once ``pid`` is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, though another user's: its pid was reused
        return False
    return True


def _watch(parent: int, owner: int | None) -> None:
    """The fallback: a thread that ends this process once the parent or owner has gone."""

    def watch() -> None:
        while os.getppid() == parent and (owner is None or _alive(owner)):
            time.sleep(POLL_SECONDS)
        _end()

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def _end() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
