"""Reading KPI histories (CSV, Excel, Parquet, databases, DataFrame) into one wide, period-indexed frame.

Reading is split so that any source can share the checks:

* :func:`~stratlab.io._history_files.read_history_source` turns a path into a
  raw table (text or cell values) plus where it came from (file, sheet, first
  data row) and, for Excel, which cells are %-formatted;
* :func:`history_from_frame` validates a raw table — periods, numbers, units,
  known ids (:mod:`._cells`) — and brings it to the review cadence.  A new
  source (a database query, Parquet) only needs to produce a DataFrame (or a
  ``HistorySource``) and call it.

Every problem is collected with its place (file, sheet, row, column), counted
exactly, and reported grouped by column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util import did_you_mean
from ..errors import HistoryError, InputError, Problem, StratlabWarning
from ..limits import Limits, check_history_file, check_history_frame
from ..periods import CADENCE_FREQ, PERIOD_FORMS, freq_code, to_frequency
from ._cells import (
    Problems,
    check_fractions,
    numeric_cells,
    parse_period_column,
    units_of,
)
from ._history_files import HISTORY_SUFFIXES, HistorySource, read_history_source
from ._sources import DatabaseSource

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model

__all__ = [
    "HISTORY_SUFFIXES",
    "HistorySource",
    "history_from_frame",
    "load_history",
    "read_history_source",
]


def load_history(
    source: str | Path | pd.DataFrame | DatabaseSource,
    model: Model | None = None,
    *,
    freq: str | None = None,
    sheet: str | int | None = None,
    decimal: str | None = None,
    dayfirst: bool = False,
    strict: bool = False,
    coerce: bool = False,
    limits: Limits | None = None,
    table: str | None = None,
    query: str | None = None,
) -> pd.DataFrame:
    """Read a KPI history, long or wide, into a wide DataFrame indexed by review period.

    Parameters
    ----------
    source : path, URL, engine, DatabaseSource or DataFrame
        CSV (comma or semicolon separated), Excel or Parquet file, a DataFrame,
        or a database: a SQLAlchemy URL (``postgresql+psycopg://kpi@db/bank``,
        ``duckdb:///kpis.duckdb``; ``${NAME}`` is replaced by the environment
        variable, so passwords stay out of code and output), an engine, a
        ``.duckdb`` file or a :class:`~stratlab.io.DatabaseSource`.  Long
        form has the columns ``period, measure, value``; wide form has a
        ``period`` column (or a period/date index) and one column per measure or
        key-result id.  Periods are read by one parser (``2025Q3``, ``2025-07``,
        ``Jul-2025``, ``07/2025``, ``2025``, ISO dates, ``31/07/2025``).
    model : Model, optional
        When given: columns that are not measure or key-result ids are ignored
        with one :class:`~stratlab.errors.StratlabWarning` (errors with
        ``strict=True``); ``%`` measures read ``"15.3%"`` text and %-formatted
        Excel cells as 15.3, and a ``%`` column holding fractions (all values in
        [0, 1.5] while baseline and target are above 1.5) is an error; and the
        history is brought to the model's cadence (``period``), each measure by
        its ``aggregate`` rule (``last``, ``mean``, ``sum``, ``min``, ``max``).
    freq : {'M', 'Q', 'Y'}, optional
        Force the period unit (default: the model's cadence, else the data's own;
        dates without a model are read by month).
    sheet : str or int, optional
        Excel sheet name or 0-based number (default: the first sheet).
    decimal : {'.', ','}, optional
        The decimal mark; the other one (and spaces) is then read as a
        thousands separator.  Default ``.``, except ``,`` for semicolon CSVs.
    dayfirst : bool, default False
        Read ``01/02/2024`` as 1 February.  A column with a label such as
        ``31/07/2025`` is read day-first anyway.
    strict : bool, default False
        Unknown columns (with a model) are errors instead of a warning.
    table, query : str, optional
        For a database: the table (``schema.table`` allowed) or the SQL query
        holding the history (default: the database's only table).  Errors
        name the source with its password masked, then the row of the result
        and the column.
    coerce : bool, default False
        Apply the fixes the error messages name: drop ``%`` signs and thousands
        separators, multiply a fractions-of-% column by 100.  The number of
        changed cells is in ``attrs["fixed"]`` and in a warning.
        ``attrs["last_reported"]`` names the last period with a value at the
        file's own frequency (the elapsed share of a review is taken from it).
    limits : Limits, optional
        Size limits (file bytes, rows, columns, workbook size), checked before
        the file is parsed (default :func:`stratlab.limits.current`).

    Returns
    -------
    pandas.DataFrame
        Float columns, one per id in file order; index a complete ``PeriodIndex``
        named ``period`` from the first to the last period (gaps are NaN rows).
        A KPI reported less often than the cadence (quarterly inside monthly)
        keeps its values at each of its periods' last review period.

    Raises
    ------
    HistoryError
        Listing every unparseable period, duplicate row, non-numeric cell and
        (with ``strict``) unknown id with its file, sheet, row and column: the
        exact count, grouped by column, the first 50 shown.
    """
    if isinstance(source, (str, Path)) and Path(source).is_file():
        kind = HISTORY_SUFFIXES.get(Path(source).suffix.lower())
        if kind is not None:  # bounded before pandas or openpyxl reads it
            check_history_file(Path(source), kind, str(source), limits)
    raw = read_history_source(source, sheet=sheet, decimal=decimal, table=table, query=query)
    return history_from_frame(
        raw, model, freq=freq, dayfirst=dayfirst, strict=strict, coerce=coerce, limits=limits
    )


@dataclass
class _Reading:
    """What the checks of one history share."""

    raw: HistorySource
    model: Model | None
    probs: Problems
    units: dict[str, str]
    dayfirst: bool
    strict: bool
    coerce: bool
    fixed: dict[str, int]

    @property
    def known(self) -> set[str] | None:
        return set(self.units) if self.model is not None else None

    def numbers(self, values: Any, column: Any, rows: Any, unit_of: str, percent: Any) -> Any:
        """Numbers of one column (``unit_of``: its id; or ``"%"``/``"-"`` for a group of units)."""
        unit = {"%": "%", "-": "-"}.get(unit_of, self.units.get(unit_of))
        return numeric_cells(
            values,
            column=column,
            rows=rows,
            unit=unit if self.model is not None else None,
            percent=percent,
            decimal=self.raw.decimal,
            coerce=self.coerce,
            probs=self.probs,
            fixed=self.fixed,
        )


def history_from_frame(
    raw: HistorySource | pd.DataFrame,
    model: Model | None = None,
    *,
    freq: str | None = None,
    dayfirst: bool = False,
    strict: bool = False,
    coerce: bool = False,
    limits: Limits | None = None,
) -> pd.DataFrame:
    """Validate a raw history table (see :func:`load_history`) from any source.

    ``raw`` is a :class:`HistorySource` (a table with where it came from) or a
    DataFrame in the long or wide form; the options are :func:`load_history`'s.
    """
    if not isinstance(raw, HistorySource):
        raw = read_history_source(raw)
    if raw.decimal not in (None, ".", ","):
        raise InputError(
            Problem(f"decimal must be '.' or ',', not {raw.decimal!r}.", fix="use decimal=','.")
        )
    if freq is not None and freq_code(freq) not in ("M", "Q", "Y"):
        raise InputError(
            Problem(f"freq must be 'M', 'Q' or 'Y', not {freq!r}.", fix="e.g. freq='Q'.")
        )
    if raw.frame.empty or len(raw.frame.columns) == 0:
        raise HistoryError(
            Problem(
                "the history has no rows.",
                fix="add rows of period, measure, value (long) or one column per measure (wide)."
                + raw.other_sheets_hint(),
                file=raw.file,
                sheet=raw.sheet,
            ),
            file=raw.file,
        )
    check_history_frame(raw.frame, file=raw.file, limits=limits)
    ctx = _Reading(
        raw,
        model,
        Problems(raw.file, raw.sheet),
        units_of(model),
        dayfirst,
        strict,
        coerce,
        {"%": 0, "thousands": 0, "x100": 0},
    )
    cols = {str(c).strip().lower(): c for c in raw.frame.columns}
    if {"period", "measure", "value"} <= cols.keys():
        wide, unknown = _from_long(ctx, cols)
    else:
        wide, unknown = _from_wide(ctx, cols)
    if unknown:
        _report_unknown(ctx, unknown)
    if model is not None:
        check_fractions(wide, model, ctx.probs, coerce, ctx.fixed)
    ctx.probs.raise_if_any()
    check_history_frame(wide, file=raw.file, limits=limits, require_rows=True)
    wide = _on_grid(wide, model, freq)
    _report_fixed(ctx, wide)
    return wide


def _from_long(ctx: _Reading, cols: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """A long table (period, measure, value) → wide, with its problems collected."""
    import numpy as np
    import pandas as pd

    frame, probs, raw = ctx.raw.frame, ctx.probs, ctx.raw
    extra = [str(cols[c]) for c in cols if c not in ("period", "measure", "value")]
    if extra and ctx.strict:
        probs.add(
            f"long-form history has unexpected columns {extra}.",
            "keep only period, measure, value (or read without strict).",
        )
    elif extra:
        warnings.warn(
            f"{raw.file or 'history'}: ignoring the columns {extra} "
            "(a long-form history reads period, measure, value).",
            StratlabWarning,
            stacklevel=4,
        )
    long = pd.DataFrame(
        {
            "period": frame[cols["period"]].reset_index(drop=True),
            "measure": frame[cols["measure"]].astype("string").str.strip().reset_index(drop=True),
            "value": frame[cols["value"]].reset_index(drop=True),
        }
    )
    rows = pd.Series(range(raw.first_row, raw.first_row + len(long)))
    periods = parse_period_column(long["period"], rows, ctx.dayfirst, probs, wide=False)
    bad_ids = long["measure"].isna() | (long["measure"] == "")
    for r in rows[bad_ids.to_numpy()]:
        probs.add("the measure id is empty.", "write the measure id.", row=int(r), column="measure")
    known = ctx.known
    unknown: list[str] = []
    if known is not None:
        unknown = [str(m) for m in dict.fromkeys(long["measure"][~bad_ids]) if m not in known]
    pct = raw.percent[cols["value"]].reset_index(drop=True) if raw.percent is not None else None
    values = pd.Series(float("nan"), index=long.index)
    # one pass per kind of unit (a % measure reads "15.3%"; other units refuse it)
    unit = long["measure"].map(ctx.units) if ctx.model is not None else None
    groups = (
        {"": np.ones(len(long), dtype=bool)}
        if unit is None
        else {
            "%": (unit.str.strip() == "%").fillna(False).to_numpy(dtype=bool),
            "-": (unit.notna() & (unit.str.strip() != "%")).fillna(False).to_numpy(dtype=bool),
        }
    )
    for key, sel in groups.items():
        if sel.any():
            flags = None if pct is None else pct[sel]
            values[sel] = ctx.numbers(long["value"][sel], "value", rows[sel], key, flags).to_numpy()
    long = long.assign(value=values, period=periods, _row=rows)
    keep = ~bad_ids & long["period"].notna()
    if unknown and not ctx.strict:
        keep &= ~long["measure"].isin(unknown)
    long = long[keep.to_numpy()]
    dup = long.duplicated(["period", "measure"], keep=False)
    for (per, mid), grp in long[dup].groupby(["period", "measure"], sort=False):
        probs.add(
            f"duplicate rows for period {per} and measure {mid!r} "
            f"(rows {', '.join(str(int(r)) for r in grp['_row'])}).",
            "keep one value per period and measure.",
            row=int(grp["_row"].iloc[0]),
            column="measure",
        )
    order = list(dict.fromkeys(long["measure"]))
    if not len(long):
        return pd.DataFrame(columns=order, dtype=float), unknown
    wide = long.pivot_table(
        index="period", columns="measure", values="value", aggfunc="last", dropna=False
    )
    return wide.reindex(columns=order), unknown


def _from_wide(ctx: _Reading, cols: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """A wide table (a period column, one column per id), with its problems collected."""
    import pandas as pd

    frame, probs, raw = ctx.raw.frame, ctx.probs, ctx.raw
    if "period" in cols:
        labels = frame[cols["period"]]
        body = frame.drop(columns=[cols["period"]])
    elif isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)):
        labels = pd.Series(frame.index)
        body = frame
    else:
        raise HistoryError(
            Problem(
                "the history has no 'period' column.",
                fix=f"add a 'period' column ({PERIOD_FORMS}), or use the long form "
                "period, measure, value." + raw.other_sheets_hint(),
                file=raw.file,
                sheet=raw.sheet,
            ),
            file=raw.file,
        )
    # positional rows throughout: period labels may repeat (reported below)
    body = body.reset_index(drop=True)
    labels = labels.reset_index(drop=True)
    rows = pd.Series(range(raw.first_row, raw.first_row + len(body)))
    periods = parse_period_column(labels, rows, ctx.dayfirst, probs, wide=True)
    pbody = None
    if raw.percent is not None:
        pbody = raw.percent.drop(columns=[cols["period"]]) if "period" in cols else raw.percent
        pbody = pbody.reset_index(drop=True)
    names = [str(c).strip() for c in body.columns]
    for c in _repeated(names):
        probs.add(f"column {c!r} appears more than once.", "keep one column per measure.", column=c)
    known = ctx.known
    unknown = [c for c in dict.fromkeys(names) if c not in known] if known is not None else []
    data = _wide_numbers(ctx, body, pbody, names, rows, unknown)
    keep = periods.notna().to_numpy()
    wide = pd.DataFrame(data, index=pd.Index(periods.to_numpy()))[keep]
    dup = wide.index.duplicated(keep=False)
    for per in pd.unique(wide.index[dup]):
        rws = ", ".join(
            str(int(r)) for r, p in zip(rows[keep], wide.index, strict=False) if p == per
        )
        probs.add(
            f"period {per} appears more than once (rows {rws}).",
            "keep one row per period.",
            column="period",
        )
    return wide, unknown


def _repeated(names: list[str]) -> list[str]:
    """Names given more than once, each once, in order (linear: 200,000 columns stay fast)."""
    seen: set[str] = set()
    twice: dict[str, None] = {}
    for name in names:
        if name in seen:
            twice[name] = None
        seen.add(name)
    return list(twice)


def _wide_numbers(
    ctx: _Reading,
    body: pd.DataFrame,
    pbody: pd.DataFrame | None,
    names: list[str],
    rows: pd.Series,
    unknown: list[str],
) -> dict[str, Any]:
    """The numbers of every kept column, read in one pass per kind of unit (columns stacked)."""
    import numpy as np
    import pandas as pd

    keep = [i for i, name in enumerate(names) if name not in unknown or ctx.strict]
    if ctx.model is None:
        groups = {"": keep}
    else:
        pct = [i for i in keep if ctx.units.get(names[i], "").strip() == "%"]
        groups = {"%": pct, "-": [i for i in keep if i not in pct]}
    n = len(body)
    data: dict[int, Any] = {}
    for key, cols in groups.items():
        if not cols:
            continue
        flat = pd.Series(body.iloc[:, cols].to_numpy(dtype=object).ravel(order="F"))
        column = pd.Series(np.repeat(np.array([names[i] for i in cols], dtype=object), n))
        flat_rows = pd.Series(np.tile(rows.to_numpy(), len(cols)))
        flags = None
        if pbody is not None:
            flags = pd.Series(pbody.iloc[:, cols].to_numpy(dtype=bool).ravel(order="F"))
        out = (
            ctx.numbers(flat, column, flat_rows, key, flags)
            .to_numpy()
            .reshape(n, len(cols), order="F")
        )
        for j, i in enumerate(cols):
            data[i] = out[:, j]
    return {names[i]: data[i] for i in sorted(data)}


def _report_unknown(ctx: _Reading, unknown: list[str]) -> None:
    """Ids that are not measures or key results: errors with ``strict``, else one warning."""
    model = ctx.model
    if model is None:
        return
    ids = list(ctx.units)
    hints = []
    for col in unknown:
        hint = did_you_mean(col, ids)
        if ctx.strict:
            ctx.probs.add(
                f"{col!r} is not a measure or key result of model {model.name!r}.",
                hint or "rename the column to a measure id, or drop it.",
                column=col,
            )
        else:
            hints.append(f"{col!r} ({hint})" if hint else repr(col))
    if not ctx.strict:
        warnings.warn(
            f"{ctx.raw.file or 'history'}: ignoring {len(unknown)} column(s) that are not "
            f"measures or key results of model {model.name!r}: {', '.join(hints)}.",
            StratlabWarning,
            stacklevel=4,
        )


def _on_grid(wide: pd.DataFrame, model: Model | None, freq: str | None) -> pd.DataFrame:
    """Float columns on a complete PeriodIndex of the cadence (each measure by its aggregate)."""
    import pandas as pd

    wide = wide.astype(float)
    wide.index = pd.PeriodIndex(wide.index)
    have = freq_code(wide.index.freqstr) if len(wide) else None
    target = freq_code(freq) if freq else None
    if target is None and model is not None:
        target = CADENCE_FREQ[model.period]
    if target is None:
        target = "M" if have in (None, "D") else have
    aggregate = {m.id: m.aggregate for m in model.measures} if model is not None else None
    last_reported = None
    if len(wide):
        wide = wide.sort_index()
        has = wide.notna().any(axis=1).to_numpy()
        if has.any():
            last_reported = str(wide.index[has.nonzero()[0][-1]])
        wide = to_frequency(wide, target, aggregate)
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq=target))
    else:
        wide.index = pd.PeriodIndex([], freq=target)
    wide.index.name = "period"
    wide.columns.name = None
    wide.attrs["last_reported"] = last_reported
    return wide


def _report_fixed(ctx: _Reading, wide: pd.DataFrame) -> None:
    fixed = ctx.fixed
    n_fixed = sum(fixed.values())
    wide.attrs["fixed"] = n_fixed
    if ctx.coerce and n_fixed:
        parts = [
            f"{fixed['%']} without their % sign" if fixed["%"] else "",
            f"{fixed['thousands']} without thousands separators" if fixed["thousands"] else "",
            f"{fixed['x100']} multiplied by 100" if fixed["x100"] else "",
        ]
        warnings.warn(
            f"{ctx.raw.file or 'history'}: fixed {n_fixed} cell(s): "
            f"{'; '.join(p for p in parts if p)}.",
            StratlabWarning,
            stacklevel=4,
        )
