"""One exception hierarchy for every kind of bad input.

Every error carries structured :class:`Problem` records: the file, the place
in it (line, or sheet and row, and the key path such as ``measures[3].target``),
what is wrong and how to fix it.  ``str(error)`` is a readable paragraph that the
command line prints as is (exit status 2, no traceback).
"""

from __future__ import annotations

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
        where = self.location
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
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
