"""One exception hierarchy for every kind of bad input.

Every error carries structured :class:`Problem` records: the file, the place
in it (line, or sheet and row, and the key path such as ``measures[3].target``),
what is wrong and how to fix it.  ``str(error)`` is a readable paragraph that the
command line prints as is (exit status 2, no traceback).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "HistoryError",
    "InputError",
    "ModelError",
    "Problem",
    "ReportError",
    "StratlabError",
    "StratlabWarning",
]


@dataclass(frozen=True)
class Problem:
    """One located problem in an input.

    Parameters
    ----------
    message : str
        What is wrong.
    fix : str, optional
        How to fix it (a suggestion, or a close match such as ``did you mean 'target'?``).
    file : str, optional
        The file the problem is in.
    line : int, optional
        1-based line in a YAML / JSON / CSV file.
    path : str, optional
        Key path inside the document, e.g. ``measures[3].target``.
    sheet, row, column : optional
        Location in an Excel workbook (row is the 1-based spreadsheet row).
    """

    message: str
    fix: str | None = None
    file: str | None = None
    line: int | None = None
    path: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    @property
    def location(self) -> str:
        """``file, line 12, measures[3].target`` (the parts that are known)."""
        parts: list[str] = []
        if self.file:
            parts.append(str(self.file))
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.path:
            parts.append(self.path)
        return ", ".join(parts)

    def __str__(self) -> str:
        where = clean_text(self.location)
        message = clean_text(self.message)
        text = f"{where}: {message}" if where else message
        if self.fix:
            text += f" Fix: {clean_text(self.fix)}"
        return text


#: Characters of echoed input kept in a message (see :func:`clean_text`).
ECHO_CHARS = 200
#: Characters kept of any one part of a message (location, message, fix).
PART_CHARS = 2_000

_CONTROL = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]"
)
# a quoted echo of input ('...' or "..."); linear: a run of non-quotes then the quote
_QUOTED = re.compile(f"'[^']{{{ECHO_CHARS},}}'|\"[^\"]{{{ECHO_CHARS},}}\"")
_LONG_RUN = re.compile(rf"\S{{{2 * ECHO_CHARS},}}")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _shorten(match: re.Match[str]) -> str:
    text = match.group()
    quote = text[0] if text[0] in "'\"" and text[-1] == text[0] else ""
    return f"{text[:ECHO_CHARS]}…{quote} [{len(text) - ECHO_CHARS:,} more characters]"


def escape_controls(text: str) -> str:
    """``text`` with control characters, bidi overrides and lone surrogates shown as escapes."""
    return _CONTROL.sub(_escape, text)


def clean_text(text: str) -> str:
    """Make text safe to print: control characters escaped, echoed input cut short.

    Every message goes through here once (:meth:`Problem.__str__`), so a cell
    of 100 MB is echoed as its first 200 characters, and escape sequences,
    carriage returns, bidi overrides or lone surrogates in an input never reach
    the terminal raw (they are shown as ``\\x1b``, ``\\ud800``...).
    """
    text = str(text)
    text = _CONTROL.sub(_escape, text)
    text = _QUOTED.sub(_shorten, text)
    text = _LONG_RUN.sub(_shorten, text)
    if len(text) > PART_CHARS:
        text = f"{text[:PART_CHARS]}…[cut]"
    return text


class StratlabError(Exception):
    """Base of every stratlab error; carries one or more :class:`Problem` records."""

    def __init__(
        self,
        problems: Problem | str | Iterable[Problem],
        *,
        file: str | None = None,
        total: int | None = None,
        summary: str | None = None,
    ):
        if isinstance(problems, str):
            problems = [Problem(problems, file=file)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.file = file
        #: how many problems there are in all (``problems`` may hold only the first ones shown)
        self.total = max(total or 0, len(self.problems))
        self.summary = summary
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1 and self.total == 1:
            return str(self.problems[0])
        head = f"{self.total} problems"
        if self.file:
            head += f" in {self.file}"
        if self.total > len(self.problems):
            head += f", first {len(self.problems)} shown"
        if self.summary:
            head += f" ({self.summary})"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


class ModelError(StratlabError):
    """A strategy model file (YAML, JSON, Excel or dict) is invalid."""


class HistoryError(StratlabError):
    """A KPI history (CSV, Excel or DataFrame) is invalid."""


class InputError(StratlabError):
    """A bad argument: an unknown id, an invalid option, a file that exists already."""


class ReportError(StratlabError):
    """A notebook cell failed while running a review.

    Attributes
    ----------
    cell_index : int or None
        Index of the failing cell in the executed notebook.
    ename, evalue : str
        The exception name and value raised in the kernel.
    notebook_path : str or None
        Where the partially executed notebook was kept.
    """

    def __init__(
        self,
        problems: Problem | str | Sequence[Problem],
        *,
        file: str | None = None,
        cell_index: int | None = None,
        ename: str = "",
        evalue: str = "",
        notebook_path: str | None = None,
    ):
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        self.notebook_path = notebook_path
        super().__init__(problems, file=file)


class StratlabWarning(UserWarning):
    """A result that is computed but should be read with care (e.g. non-stationary levels)."""
