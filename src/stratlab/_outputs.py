"""Output paths, checked before any work: never an input, always writable, safely named."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InputError, Problem

__all__ = ["check_writable", "refuse_inputs", "safe_file_stem", "same_file"]

#: Longest file stem derived from a name (most file systems allow 255 bytes per name).
MAX_STEM_BYTES = 120


def _resolved(path: Any) -> Path:
    return Path(os.fspath(path)).expanduser().resolve()


def same_file(a: Any, b: Any) -> bool:
    """True when two paths name the same file (after ``~``, symlinks and ``..``; hard links too)."""
    pa, pb = _resolved(a), _resolved(b)
    if pa == pb:
        return True
    try:
        return os.path.samefile(pa, pb)
    except OSError:
        return False


def refuse_inputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    """Raise :class:`InputError` if any output path is one of the input files.

    ``outputs`` and ``inputs`` map a label (``'-o'``, ``'model'``...) to a path
    (``None`` and non-paths such as DataFrames are skipped).  Checked before the
    work starts, so an input is never overwritten.
    """
    problems = []
    for out_label, out in outputs.items():
        if not isinstance(out, (str, os.PathLike)):
            continue
        for in_label, src in inputs.items():
            if isinstance(src, (str, os.PathLike)) and same_file(out, src):
                problems.append(
                    Problem(
                        f"the output ({out_label}) would overwrite the {in_label} file.",
                        fix="choose another output path.",
                        file=str(out),
                    )
                )
    if problems:
        raise InputError(problems)


def check_writable(path: Any, *, folder: bool = False) -> None:
    """Raise :class:`InputError` now if ``path`` (a file, or a folder) could not be written later.

    Creates the missing folders (as the writers would) and a probe file in the
    target folder, removed at once.
    """
    target = Path(os.fspath(path)).expanduser()
    where = target if folder else target.parent
    if not folder and target.is_dir():
        raise InputError(
            Problem(
                "the output is a folder, not a file.",
                fix="give a file path such as review.html.",
                file=str(target),
            )
        )
    if folder and target.exists() and not target.is_dir():
        raise InputError(
            Problem(
                "the output is a file, not a folder.", fix="give a folder path.", file=str(target)
            )
        )
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".stratlab-probe-", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(
            Problem(
                f"cannot write in the folder {str(where)!r}: {exc.strerror or exc}.",
                fix="choose another output path, or check the folder's permissions and free space.",
                file=str(target),
            )
        ) from None


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_file_stem(name: str, *, reserved: frozenset[str] = frozenset()) -> str:
    """A file stem for ``name``: portable characters only, never hidden, bounded length.

    Characters outside ``A-Z a-z 0-9 _ . -`` become ``_``; leading dots and
    underscores are dropped; a stem longer than :data:`MAX_STEM_BYTES`, or one
    equal (ignoring case) to a ``reserved`` stem such as ``index``, gets a short
    hash of the full name so that it stays distinct.
    """
    stem = _UNSAFE.sub("_", name).strip("._-") or "unit"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if len(stem) > MAX_STEM_BYTES:
        stem = f"{stem[: MAX_STEM_BYTES - 9]}-{digest}"
    if stem.lower() in reserved:
        stem = f"{stem}-{digest}"
    return stem
