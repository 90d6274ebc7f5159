"""Small helpers every layer shares: suggestions for typos and argument checks.

Nothing here imports another stratlab module but :mod:`stratlab.errors`, so any
module may use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import Literal, overload

from .errors import InputError, Problem

__all__ = ["check_int", "did_you_mean"]


def did_you_mean(
    word: object, options: Sequence[object], what: str = "", *, cutoff: float = 0.6
) -> str | None:
    """A fix for a misspelt name: ``"did you mean 'x'?"``, else the list of valid names.

    Parameters
    ----------
    word : object
        What was written.
    options : sequence
        The valid names.
    what : str, optional
        What the options are ("measures", "columns"…); when given and nothing is
        close, the fix lists up to 12 options.
    cutoff : float, optional
        Similarity needed for a suggestion (:func:`difflib.get_close_matches`).

    Returns
    -------
    str or None
        The suggestion, or None when nothing is close and ``what`` is empty.
    """
    close = get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=cutoff)
    if close:
        return f"did you mean {close[0]!r}?"
    if what and options:
        shown = ", ".join(repr(o) for o in list(options)[:12])
        more = ", …" if len(options) > 12 else ""
        return f"use one of the {what}: {shown}{more}."
    return None


@overload
def check_int(
    value: object,
    name: str,
    where: str = "",
    *,
    minimum: int,
    maximum: int | None = None,
    allow_none: Literal[False] = False,
    fix: str | None = None,
) -> int: ...


@overload
def check_int(
    value: object,
    name: str,
    where: str = "",
    *,
    minimum: int,
    maximum: int | None = None,
    allow_none: bool,
    fix: str | None = None,
) -> int | None: ...


def check_int(
    value: object,
    name: str,
    where: str = "",
    *,
    minimum: int,
    maximum: int | None = None,
    allow_none: bool = False,
    fix: str | None = None,
) -> int | None:
    """``value`` as an int if it is a whole number in ``[minimum, maximum]``, else InputError.

    Booleans are refused (``True`` is not a count).  ``None`` passes through when
    ``allow_none``.
    """
    import numbers

    if value is None and allow_none:
        return None
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Integral)
        and int(value) >= minimum
        and (maximum is None or int(value) <= maximum)
    )
    if not ok:
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        prefix = f"{where}: " if where else ""
        raise InputError(
            Problem(
                f"{prefix}{name}={value!r} must be an integer {bound}.",
                fix=fix or f"pass {name}= a whole number {bound}.",
            )
        )
    return int(value)  # type: ignore[call-overload]
