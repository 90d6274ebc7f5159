"""Atomic writes: a temporary file beside the target, moved into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- atomic writing


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place, on error delete it.

    Missing parent folders are created.  The file gets the permissions a normally created file would (``0o666`` less the
    umask), and an existing ``path`` is untouched until the new content is complete.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(
                f"cannot create the folder {str(target.parent)!r}: {exc.strerror or exc}.",
                fix="choose another output path.",
                file=str(target),
            )
        ) from None
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name[:100]}.", suffix=".tmp", dir=target.parent or "."
        )
    except OSError as exc:
        raise InputError(
            Problem(
                f"cannot write in the folder {str(target.parent)!r}: {exc.strerror or exc}.",
                fix="choose another output path, or check the folder's permissions.",
                file=str(target),
            )
        ) from None
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, target)
    except OSError as exc:  # disk full, permissions: name the file being written
        Path(tmp).unlink(missing_ok=True)
        raise InputError(
            Problem(
                f"cannot write the file: {exc.strerror or exc}.",
                fix="free some disk space, or choose another output path.",
                file=str(target),
            )
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write text or bytes to ``path`` atomically (see :func:`atomic_path`); returns the path."""
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
