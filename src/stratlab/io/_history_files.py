"""Reading history files (CSV, Excel) into raw tables, before any checking.

:func:`read_history_source` turns a path — or takes a DataFrame — into a
:class:`HistorySource`: the raw table (text or cell values), where it came from
(file, sheet, first data row), the decimal mark, and for Excel which cells are
%-formatted.  :func:`stratlab.io.history_from_frame` then checks it; another
source (a database query, Parquet) only needs to build a ``HistorySource``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util import did_you_mean
from ..errors import HistoryError, InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HISTORY_SUFFIXES", "HistorySource", "read_history_source"]

HISTORY_SUFFIXES = {".csv": "csv", ".xlsx": "excel", ".xlsm": "excel"}


@dataclass
class HistorySource:
    """A raw history table and where it came from."""

    frame: pd.DataFrame
    file: str | None = None
    sheet: str | None = None
    first_row: int = 2  # spreadsheet row of the first data row (row 1: the header)
    percent: pd.DataFrame | None = None  # True where an Excel cell is %-formatted
    decimal: str | None = None
    sheets: list[str] = field(default_factory=list)  # every sheet of the workbook

    def other_sheets_hint(self) -> str:
        others = [s for s in self.sheets if s != self.sheet]
        if not others:
            return ""
        return (
            f" The workbook also has the sheet(s) {', '.join(repr(s) for s in others)}: "
            "choose the one holding the history with sheet= (--sheet)."
        )


def read_history_source(
    source: Any,
    *,
    sheet: str | int | None = None,
    decimal: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> HistorySource:
    """Read a path (CSV, Excel) or take a DataFrame as a raw history table.

    Databases (a URL, an engine, a :class:`~stratlab.io.DatabaseSource`, a
    ``.duckdb`` file, with ``table`` or ``query``) and Parquet files are read
    by :func:`stratlab.io._sources.read_source`; the table then names the
    source (password masked) and counts rows from 1.
    """
    import pandas as pd

    from ._sources import is_source, read_source

    if is_source(source) or table is not None or query is not None:
        where, frame, first_row = read_source(source, table=table, query=query)
        return HistorySource(frame, file=where, first_row=first_row, decimal=decimal)

    if isinstance(source, pd.DataFrame):
        frame = source
        if not (
            isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex))
            and "period" not in [str(c).strip().lower() for c in frame.columns]
        ):
            frame = frame.reset_index(drop=True)
        return HistorySource(frame, decimal=decimal)
    if not isinstance(source, (str, Path)):
        raise InputError(
            Problem(
                f"a history must be a file path or a DataFrame, got {type(source).__name__}.",
                fix="pass a CSV/Excel path or a pandas DataFrame.",
            )
        )
    p = Path(source)
    file = str(source)
    kind = HISTORY_SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise HistoryError(
            Problem(
                f"unknown history file type {p.suffix!r}.", fix="use .csv or .xlsx.", file=file
            ),
            file=file,
        )
    if not p.is_file():
        raise HistoryError(
            Problem("the file does not exist.", fix="check the path.", file=file), file=file
        )
    if kind == "excel":
        return _read_excel(p, file, sheet, decimal)
    if sheet is not None:
        raise InputError(
            Problem(
                "sheet= applies to Excel workbooks only.",
                fix="drop the sheet option for a CSV file.",
                file=file,
            )
        )
    return _read_csv(p, file, decimal)


def _sniff_separator(path: Path) -> str:
    """``;`` or a tab when the header line is split by them rather than by commas."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def _read_csv(p: Path, file: str, decimal: str | None) -> HistorySource:
    import pandas as pd

    sep = _sniff_separator(p)
    if sep == ";" and decimal is None:
        decimal = ","  # spreadsheets write semicolon CSVs where the decimal mark is a comma
    try:
        frame = pd.read_csv(
            p,
            dtype=str,
            keep_default_na=True,
            skipinitialspace=True,
            sep=sep,
            encoding="utf-8-sig",
        )
        if not isinstance(frame.index, pd.RangeIndex):  # pandas made extra cells an index
            _raise_ragged_row(p, file, sep)
            frame = frame.reset_index()
    except pd.errors.EmptyDataError:
        raise HistoryError(
            Problem("the file is empty.", fix="add a header row and data.", file=file), file=file
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, pd.errors.ParserError):
            _raise_ragged_row(p, file, sep)
        raise HistoryError(
            Problem(
                f"cannot read the file: {str(exc).strip()}.",
                fix="save it as comma- or semicolon-separated UTF-8 text.",
                file=file,
            ),
            file=file,
        ) from None
    return HistorySource(frame, file=file, first_row=2, decimal=decimal)


def _raise_ragged_row(path: Path, file: str, sep: str) -> None:
    """Raise a located error for the first row with more cells than the header, if any."""
    import csv

    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = csv.reader(handle, delimiter=sep)
        width = len(next(rows, []))
        for line, row in enumerate(rows, start=2):
            if len(row) > width:
                what = "commas" if sep == "," else "separators"
                raise HistoryError(
                    Problem(
                        f"the row has {len(row)} cells but the header has {width}.",
                        fix=f"remove the extra {what}, or quote values that contain a {sep!r}.",
                        file=file,
                        row=line,
                    ),
                    file=file,
                )


def _read_excel(p: Path, file: str, sheet: str | int | None, decimal: str | None) -> HistorySource:
    import openpyxl
    import pandas as pd

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise HistoryError(
            Problem(
                f"cannot read the workbook: {exc}.", fix="save it as .xlsx from Excel.", file=file
            ),
            file=file,
        ) from None
    try:
        names = list(wb.sheetnames)
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise HistoryError(
                    Problem(
                        f"the workbook has no sheet number {sheet} (it has {len(names)}).",
                        fix=f"use a sheet name: {', '.join(repr(n) for n in names)}.",
                        file=file,
                    ),
                    file=file,
                )
            ws = wb.worksheets[sheet]
        else:
            match = {n.strip().lower(): n for n in names}.get(str(sheet).strip().lower())
            if match is None:
                close = did_you_mean(str(sheet), names)
                raise HistoryError(
                    Problem(
                        f"the workbook has no sheet {sheet!r}.",
                        fix=(f"{close} " if close else "")
                        + f"Its sheets are: {', '.join(repr(n) for n in names)}.",
                        file=file,
                    ),
                    file=file,
                )
            ws = wb[match]
        values: list[list[Any]] = []
        percent: list[list[bool]] = []
        for row in ws.iter_rows():
            vals, pcts = [], []
            for cell in row:
                v = getattr(cell, "value", None)
                fmt = getattr(cell, "number_format", None) or ""
                vals.append(v)
                pcts.append(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and "%" in str(fmt)
                )
            values.append(vals)
            percent.append(pcts)
        title = ws.title
    finally:
        wb.close()
    while values and all(v is None or (isinstance(v, str) and not v.strip()) for v in values[-1]):
        values.pop()
        percent.pop()
    if not values:
        raise HistoryError(
            Problem(
                "the sheet is empty.",
                fix="add a header row and data."
                + HistorySource(pd.DataFrame(), sheet=title, sheets=names).other_sheets_hint(),
                file=file,
                sheet=title,
            ),
            file=file,
        )
    header = values[0]
    while header and header[-1] is None:
        header = header[:-1]
    width = len(header)
    cols = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
    body = [(r + [None] * width)[:width] for r in values[1:]]
    pbody = [(r + [False] * width)[:width] for r in percent[1:]]
    frame = pd.DataFrame(body, columns=cols, dtype=object)
    pct = pd.DataFrame(pbody, columns=cols, dtype=bool)
    return HistorySource(
        frame, file=file, sheet=title, first_row=2, percent=pct, decimal=decimal, sheets=names
    )
