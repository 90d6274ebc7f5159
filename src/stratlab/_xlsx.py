"""Workbook safety: what is checked before openpyxl opens an ``.xlsx``, and how text is written.

Reading: after the zip's declared sizes are bounded (:func:`stratlab.limits.check_xlsx`),
the sheets are listed from ``xl/workbook.xml`` with a streaming XML parse:
duplicate sheet names (Excel compares them ignoring case) and formula cells
without a cached value (a workbook saved by a program that does not compute
formulas; openpyxl would read them as empty) are errors, located by sheet and cell.

Writing: a text cell is always written as text.  openpyxl turns any string that
starts with ``=`` into a live formula; :func:`text_cell` keeps it a string
(``data_type 's'`` and Excel's quote prefix), so a name such as
``=HYPERLINK(...)`` is shown, never run, and reads back unchanged.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from .errors import Problem, StratlabError

__all__ = ["FORMULA_START", "inspect_workbook", "text_cell"]

#: First characters that make a spreadsheet treat text as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def inspect_workbook(
    path: Any, file: str | None, *, error: type[StratlabError]
) -> list[tuple[str, str]]:
    """Check a workbook before reading it; return its sheets as ``(name, kind)`` in order.

    ``kind`` is ``'worksheet'`` or ``'chartsheet'`` (or another part type).  Call
    :func:`stratlab.limits.check_xlsx` first: this reads the workbook's XML.

    Raises
    ------
    error
        Not a workbook, duplicate sheet names, formula cells without a cached
        value (up to 10 listed).
    """
    import xml.etree.ElementTree as ET
    import zipfile

    problems: list[Problem] = []
    sheets: list[tuple[str, str, str]] = []  # name, kind, part
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                raise error(
                    Problem(
                        "the file is a zip archive but not an Excel workbook (no xl/workbook.xml).",
                        fix="save it from Excel as .xlsx.",
                        file=file,
                    ),
                    file=file,
                )
            targets: dict[str, str] = {}
            if "xl/_rels/workbook.xml.rels" in names:
                rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
                for rel in rels.iter(f"{_PKG_REL}Relationship"):
                    target = rel.get("Target", "")
                    part = (
                        target.lstrip("/")
                        if target.startswith("/")
                        else posixpath.normpath(posixpath.join("xl", target))
                    )
                    targets[rel.get("Id", "")] = part
            book = ET.fromstring(archive.read("xl/workbook.xml"))
            seen: dict[str, str] = {}
            for sheet in book.iter(f"{_MAIN}sheet"):
                name = sheet.get("name", "")
                part = targets.get(sheet.get(f"{_REL}id", ""), "")
                kind = part.split("/")[-2][:-1] if part.count("/") >= 2 else "worksheet"
                sheets.append((name, kind, part))
                key = name.strip().lower()
                if key in seen:
                    problems.append(
                        Problem(
                            f"two sheets are named {seen[key]!r} and {name!r}: one would be ignored.",
                            fix="rename or remove one of them.",
                            file=file,
                            sheet=name,
                        )
                    )
                seen.setdefault(key, name)
            for name, kind, part in sheets:
                if kind != "worksheet" or part not in names:
                    continue
                for ref in _formulas_without_value(archive, part):
                    if len(problems) >= 10:
                        break
                    problems.append(
                        Problem(
                            f"cell {ref} holds a formula with no saved value "
                            "(the program that wrote the file did not calculate it).",
                            fix="open the file in Excel or LibreOffice, let it calculate and save, "
                            "or paste the values in place of the formulas.",
                            file=file,
                            sheet=name,
                        )
                    )
    except (zipfile.BadZipFile, ET.ParseError, KeyError, EOFError, ValueError) as exc:
        raise error(
            Problem(
                f"the workbook is damaged ({type(exc).__name__}: {exc}).",
                fix="open and save it again in Excel, or export it as .csv.",
                file=file,
            ),
            file=file,
        ) from None
    if problems:
        raise error(problems, file=file)
    return [(name, kind) for name, kind, _ in sheets]


def _formulas_without_value(archive: Any, part: str) -> list[str]:
    """Cell references of formula cells with no cached ``<v>`` in one worksheet part."""
    import xml.etree.ElementTree as ET

    found: list[str] = []
    with archive.open(part) as stream:
        for _event, elem in ET.iterparse(stream, events=("end",)):
            if elem.tag == f"{_MAIN}c":
                formula = elem.find(f"{_MAIN}f")
                if formula is not None:
                    value = elem.find(f"{_MAIN}v")
                    if value is None or value.text is None:
                        found.append(elem.get("r", "?"))
                        if len(found) >= 10:
                            return found
                elem.clear()
            elif elem.tag == f"{_MAIN}row":
                elem.clear()
    return found


_NEEDS_QUOTE = re.compile(r"^[=+\-@\t\r]")


def text_cell(cell: Any, value: Any) -> None:
    """Put ``value`` into an openpyxl cell; text is always stored as text, never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl made text starting with '=' a formula
        if _NEEDS_QUOTE.match(value):
            cell.quotePrefix = True  # Excel shows it as typed and keeps it text when edited


def csv_cell(value: Any) -> Any:
    """One CSV cell for people: text starting with ``= + - @``, tab or CR gets a leading ``'``.

    The OWASP CSV-injection rule: a spreadsheet opening the CSV shows the text
    (the quote is hidden in Excel's cell and visible in the file) instead of
    running it as a formula.  Numbers are left alone (``-3`` stays a number).
    """
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def csv_safe(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells are safe to open in a spreadsheet (:func:`csv_cell`).

    Only text (object / string) columns change; the column names are escaped too.
    """
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.map(csv_cell, na_action="ignore")
    out.columns = [csv_cell(c) for c in out.columns]
    return out
