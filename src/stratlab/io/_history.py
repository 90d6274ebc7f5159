"""KPI histories: CSV, Excel or a DataFrame, long or wide, brought onto one period grid."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util import did_you_mean
from ..errors import HistoryError, InputError, Problem
from ..model import Model

if TYPE_CHECKING:
    import pandas as pd


# --------------------------------------------------------------------------- histories

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_QUARTER_REV = re.compile(r"^\s*[Qq]([1-4])\s*[- ]?\s*(\d{4})\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
# dates: 2025-07-31 (optionally with a time), 2025/07/31, 31/07/2025, 31.07.2025
_DATE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})\s*$"
)
HISTORY_SUFFIXES = {".csv": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel"}


def load_history(
    source: str | Path | pd.DataFrame,
    model: Model | None = None,
    *,
    freq: str | None = None,
) -> pd.DataFrame:
    """Read a KPI history, long or wide, into a wide DataFrame indexed by period.

    Parameters
    ----------
    source : path or DataFrame
        CSV or Excel file, or a DataFrame.  Long form has the columns
        ``period, measure, value``; wide form has a ``period`` column (or a
        period/date index) and one column per measure or key-result id.
        Periods may be ``2025Q3``, ``2025-07`` or dates.
    model : Model, optional
        When given, every column must be a measure or key-result id of the model,
        and periods are put on the model's unit (``quarter``: a month's or a
        date's value counts for its quarter; the last value in a quarter wins).
    freq : {'Q', 'M'}, optional
        Force the period unit (default: the model's, else inferred from the data).

    Returns
    -------
    pandas.DataFrame
        Float columns, one per id in file order; index a complete ``PeriodIndex``
        named ``period`` from the first to the last period (gaps are NaN rows).

    Raises
    ------
    HistoryError
        Listing unparseable periods, duplicate (period, measure) rows,
        non-numeric cells and unknown ids, each with its row and column.
    """
    import pandas as pd

    file, frame, row_offset = _read_history_frame(source)
    problems: list[Problem] = []

    def add(
        message: str, fix: str | None = None, row: int | None = None, column: str | None = None
    ) -> None:
        if len(problems) < 50:
            problems.append(Problem(message, fix=fix, file=file, row=row, column=column))

    if frame.empty or len(frame.columns) == 0:
        raise HistoryError(
            Problem(
                "the history has no rows.",
                fix="add rows of period, measure, value (long) or one column per measure (wide).",
                file=file,
            ),
            file=file,
        )
    cols = {str(c).strip().lower(): c for c in frame.columns}
    if {"period", "measure", "value"} <= cols.keys():
        extra = [c for c in cols if c not in ("period", "measure", "value")]
        if extra:
            add(
                f"long-form history has unexpected columns {extra}.",
                "keep only period, measure, value (or use the wide form).",
            )
        long = pd.DataFrame(
            {
                "period": frame[cols["period"]],
                "measure": frame[cols["measure"]].astype("string").str.strip(),
                "value": frame[cols["value"]],
            }
        )
        long["_row"] = range(row_offset, row_offset + len(long))
        values = _numeric(long["value"], "value", long["_row"], add)
        periods = _parse_periods(long["period"], long["_row"], freq, add)
        long = long.assign(value=values, period=periods)
        bad_ids = long["measure"].isna()
        for r in long.loc[bad_ids, "_row"]:
            add("the measure id is empty.", "write the measure id.", row=int(r), column="measure")
        long = long[~bad_ids & long["period"].notna()]
        dup = long.duplicated(["period", "measure"], keep=False)
        if dup.any():
            for (per, mid), grp in long[dup].groupby(["period", "measure"], sort=False):
                rows = ", ".join(str(int(r)) for r in grp["_row"])
                add(
                    f"duplicate rows for period {per} and measure {mid!r} (rows {rows}).",
                    "keep one value per period and measure.",
                    row=int(grp["_row"].iloc[0]),
                )
        order = list(dict.fromkeys(long["measure"]))
        wide = long.pivot_table(
            index="period", columns="measure", values="value", aggfunc="last", dropna=False
        )
        wide = wide.reindex(columns=order)
        wide = wide.loc[:, wide.columns.notna()]
    else:
        if "period" in cols:
            labels = frame[cols["period"]]
            frame = frame.drop(columns=[cols["period"]])
        elif isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)):
            labels = pd.Series(frame.index)
        else:
            raise HistoryError(
                Problem(
                    "the history has no 'period' column.",
                    fix="add a 'period' column (2025Q3, 2025-07 or dates), or use the long form period, measure, value.",
                    file=file,
                ),
                file=file,
            )
        # positional rows throughout: period labels may repeat (reported below)
        frame = frame.reset_index(drop=True)
        labels = labels.reset_index(drop=True)
        rows = pd.Series(range(row_offset, row_offset + len(frame)))
        periods = _parse_periods(labels, rows, freq, add)
        data = {}
        for col in frame.columns:
            data[str(col).strip()] = _numeric(frame[col], str(col), rows, add).to_numpy()
        wide = pd.DataFrame(data, index=pd.Index(periods.to_numpy()))
        keep = periods.notna().to_numpy()
        wide = wide[keep]
        dup = wide.index.duplicated(keep=False)
        if dup.any():
            for per in pd.unique(wide.index[dup]):
                rws = ", ".join(
                    str(int(r)) for r, p in zip(rows[keep], wide.index, strict=False) if p == per
                )
                add(
                    f"period {per} appears more than once (rows {rws}).", "keep one row per period."
                )
        dup_cols = [c for c in wide.columns if list(wide.columns).count(c) > 1]
        for c in dict.fromkeys(dup_cols):
            add(f"column {c!r} appears more than once.", "keep one column per measure.", column=c)
    if model is not None:
        known = [m.id for m in model.measures] + [kr.id for kr in model.key_results]
        for col in wide.columns:
            if col not in known:
                add(
                    f"{col!r} is not a measure or key result of model {model.name!r}.",
                    did_you_mean(col, known) or "rename the column to a measure id, or drop it.",
                    column=str(col),
                )
    if problems:
        raise HistoryError(problems, file=file)
    wide = wide.astype(float)
    wide.index = pd.PeriodIndex(wide.index)
    target_freq = freq or _model_freq(model)
    if target_freq and wide.index.freqstr[0] != target_freq[0]:
        wide = _to_freq(wide, target_freq, file)
    wide = wide.sort_index()
    if len(wide):
        full = pd.period_range(wide.index.min(), wide.index.max(), freq=wide.index.freq)
        wide = wide.reindex(full)
    wide.index.name = "period"
    wide.columns.name = None
    return wide


def _model_freq(model: Model | None) -> str | None:
    if model is None:
        return None
    return "Q" if model.period == "quarter" else "M"


def _to_freq(wide: pd.DataFrame, freq: str, file: str | None) -> pd.DataFrame:
    if freq.startswith("Q") and wide.index.freqstr.startswith("M"):
        return wide.groupby(wide.index.asfreq("Q")).last()
    raise HistoryError(
        Problem(
            "the history is quarterly but the model counts lags in months (period: month).",
            fix="give a monthly history, or set 'period: quarter' in the model.",
            file=file,
            column="period",
        ),
        file=file,
    )


def _read_history_frame(source: str | Path | pd.DataFrame) -> tuple[str | None, pd.DataFrame, int]:
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame = source
        if isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)) and "period" not in [
            str(c).lower() for c in frame.columns
        ]:
            return None, frame, 0
        return None, frame.reset_index(drop=True), 0
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
    try:
        if kind == "csv":
            frame = pd.read_csv(p, dtype=str, keep_default_na=True, skipinitialspace=True)
            if not isinstance(frame.index, pd.RangeIndex):  # pandas made extra cells an index
                _raise_ragged_row(p, file)
                frame = frame.reset_index()
        else:
            frame = pd.read_excel(p, dtype=object)
    except pd.errors.EmptyDataError:
        raise HistoryError(
            Problem("the file is empty.", fix="add a header row and data.", file=file), file=file
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        if kind == "csv" and isinstance(exc, pd.errors.ParserError):
            _raise_ragged_row(p, file)
        raise HistoryError(
            Problem(
                f"cannot read the file: {str(exc).strip()}.",
                fix="save it as comma-separated UTF-8 text.",
                file=file,
            ),
            file=file,
        ) from None
    return file, frame, 2  # row 1 is the header in CSV and Excel


def _raise_ragged_row(path: Path, file: str) -> None:
    """Raise a located error for the first row with more cells than the header, if any."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        rows = csv.reader(handle)
        width = len(next(rows, []))
        for line, row in enumerate(rows, start=2):
            if len(row) > width:
                raise HistoryError(
                    Problem(
                        f"the row has {len(row)} cells but the header has {width}.",
                        fix="remove the extra commas, or quote values that contain a comma.",
                        file=file,
                        row=line,
                    ),
                    file=file,
                )


def _numeric(
    values: pd.Series, column: str, rows: pd.Series, add: Callable[..., None]
) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out = values.astype(float)
    else:
        text = values.astype("string").str.strip()
        out = pd.to_numeric(text, errors="coerce")
        bad = out.isna() & text.notna() & (text != "")
        for idx in list(values.index[bad.fillna(False).to_numpy()])[:10]:
            raw = text.loc[idx]
            fix = "write a plain number, or leave the cell empty for a missing value."
            if isinstance(raw, str) and raw.endswith("%"):
                fix = f"drop the % sign: {raw.rstrip('%').strip()}."
            elif isinstance(raw, str) and re.fullmatch(r"-?[\d,]+(\.\d+)?", raw):
                fix = f"drop the thousands separators: {raw.replace(',', '')}."
            add(f"value {raw!r} is not a number.", fix, row=int(rows.loc[idx]), column=column)
    import numpy as np

    inf = np.isinf(out.to_numpy(dtype=float, na_value=np.nan))
    for idx in list(values.index[inf])[:10]:
        add("value is infinite.", "write a finite number.", row=int(rows.loc[idx]), column=column)
    return out.astype(float)


def _parse_periods(
    raw: pd.Series, rows: pd.Series, freq: str | None, add: Callable[..., None]
) -> pd.Series:
    """Parse period labels into pandas Periods (NaN where unparseable, each reported)."""
    import pandas as pd

    if isinstance(raw.dtype, pd.PeriodDtype):
        return raw
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.to_period(freq or "M")
    text = raw.astype("string").str.strip()
    quarterly = text.str.contains(r"[Qq]", regex=True, na=False).any()
    unit = freq or ("Q" if quarterly else "M")
    out: list[Any] = []
    for idx, value in text.items():
        period = _parse_one(value, unit)
        if period is None:
            add(
                f"period {value!r} is not a period.",
                "write periods as 2025Q3, 2025-07 or a date such as 2025-07-31.",
                row=int(rows.loc[idx]),
                column="period",
            )
        out.append(period)
    freqs = {p.freqstr[0] for p in out if p is not None}
    if len(freqs) > 1:
        add(
            "the periods mix quarters (2025Q3) and months (2025-07).",
            "use one kind of period throughout.",
            column="period",
        )
        return pd.Series([None] * len(out), index=raw.index, dtype=object)
    return pd.Series(out, index=raw.index, dtype=object)


def _parse_one(value: Any, unit: str) -> Any:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    s = str(value)
    m = _QUARTER.match(s) or None
    if m:
        return pd.Period(year=int(m.group(1)), quarter=int(m.group(2)), freq="Q")
    m = _QUARTER_REV.match(s)
    if m:
        return pd.Period(year=int(m.group(2)), quarter=int(m.group(1)), freq="Q")
    m = _MONTH.match(s)
    if m and 1 <= int(m.group(2)) <= 12:
        return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
    if not _DATE.match(s):
        return None  # e.g. "24Q4": pandas would guess a year; a period must be unambiguous
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    return ts.to_period(unit[0])
