"""A review run's scratch folder, and removing the folders of runs that were killed.

Scratch folders are ``$TMPDIR/stratlab-review-<pid>-<random>``.  While a run
uses its folder it holds an exclusive ``flock`` on the file ``.lock`` inside
it; the operating system releases the lock when the process ends, however it
ends (SIGKILL, a crash).  A later run removes a folder only when it can take
that lock itself.  The pid in the name is not trusted to tell a live run from
a dead one: processes in other pid namespaces (containers sharing a ``/tmp``)
or on other hosts (a shared temporary folder) have pids this process cannot
see, and a pid may have been reused.  Folders without a lock file (made by an
older stratlab, or on a system without ``flock``) are judged by their pid and
age as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SCRATCH_PREFIX", "remove_stale_scratch", "scratch_folder"]

SCRATCH_PREFIX = "stratlab-review-"
LOCK_NAME = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the pid and age rule only
    fcntl = None  # type: ignore[assignment]


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A new scratch folder, locked while the block runs and removed after it."""
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    fd = None
    try:
        if fcntl is not None:
            # not inherited by the kernel or other children (O_CLOEXEC): the lock lives
            # exactly as long as this process holds the folder
            fd = os.open(folder / LOCK_NAME, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        # removed while still locked, so no other run removes it under our feet
        shutil.rmtree(folder, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def _owner_alive(entry: Path, min_age: float) -> bool:
    """Whether the run that made ``entry`` may still be using it."""
    lock = entry / LOCK_NAME
    if fcntl is not None:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None  # no lock file: an older stratlab, or a folder being made
        except OSError:
            return True
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True  # locked: its run is alive, wherever it runs
            finally:
                os.close(fd)  # releases the lock just taken
            return _young(entry, min_age)  # a run between creating the file and locking it
    pid_text = _pid_text(entry)
    if not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
        return True  # still running (or a pid we may not signal: leave it)
    except ProcessLookupError:
        pass
    except OSError:
        return True
    return _young(entry, min_age)


def _pid_text(entry: Path) -> str:
    """The pid part of a scratch folder's name (``stratlab-review-<pid>-<random>``)."""
    return entry.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]


def _young(entry: Path, min_age: float) -> bool:
    try:
        return time.time() - entry.lstat().st_mtime < min_age
    except OSError:
        return True


def remove_stale_scratch(min_age: float = 60.0) -> list[Path]:
    """Remove the scratch folders of review runs that have ended; return them.

    SIGINT and SIGTERM clean up as they go; SIGKILL cannot be caught, so the
    next review removes what a killed one left: a folder whose lock no process
    holds any more (see the module docstring), or without a lock file and
    whose pid is gone; either only once it is ``min_age`` seconds old.  This
    process's own folders are never touched.
    """
    removed: list[Path] = []
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{SCRATCH_PREFIX}*-*"))
    except OSError:
        return removed
    for entry in entries:
        if _pid_text(entry) == str(os.getpid()):
            continue
        try:
            if entry.is_symlink() or not entry.is_dir():
                continue
        except OSError:
            continue
        if _owner_alive(entry, min_age):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
