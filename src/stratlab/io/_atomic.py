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
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, target)
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
