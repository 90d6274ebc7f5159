"""Checking the cells of a history: problems (counted, grouped by column), periods, numbers, units."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import HistoryError, Problem
from ..periods import PERIOD_FORMS, freq_code, parse_period

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model

__all__ = [
    "Problems",
    "check_fractions",
    "numeric_cells",
    "parse_period_column",
    "raise_problems",
    "units_of",
]

SHOWN = 50  # problems listed in a message (all are counted)
_DMY = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


class Problems:
    """Collects every problem of one history (all counted; grouped by column when shown)."""

    def __init__(self, file: str | None, sheet: str | None):
        self.file = file
        self.sheet = sheet
        self.items: list[Problem] = []

    def add(
        self,
        message: str,
        fix: str | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.items.append(
            Problem(message, fix=fix, file=self.file, sheet=self.sheet, row=row, column=column)
        )

    def raise_if_any(self) -> None:
        if self.items:
            raise_problems(self.items, self.file)


def raise_problems(problems: list[Problem], file: str | None) -> None:
    """Raise one :class:`HistoryError`: exact count, per-column counts, at most 50 shown.

    The shown problems are taken round-robin over the columns so that every
    column with a problem is shown at least once (up to 50 columns).
    """
    total = len(problems)
    by_col: dict[str, list[Problem]] = {}
    for p in problems:
        by_col.setdefault(p.column or "", []).append(p)
    if total <= SHOWN:
        shown = [p for group in by_col.values() for p in group]
    else:
        picked: dict[str, list[Problem]] = {k: [] for k in by_col}
        n, depth = 0, 0
        while n < SHOWN:
            progressed = False
            for key, group in by_col.items():
                if depth < len(group) and n < SHOWN:
                    picked[key].append(group[depth])
                    n += 1
                    progressed = True
            if not progressed:
                break
            depth += 1
        shown = [p for group in picked.values() for p in group]
    summary = None
    if len(by_col) > 1 or total > SHOWN:
        summary = "by column: " + ", ".join(
            f"{k or '(whole file)'} {len(v)}" for k, v in by_col.items()
        )
    raise HistoryError(shown, file=file, total=total, summary=summary)


def units_of(model: Model | None) -> dict[str, str]:
    if model is None:
        return {}
    out = {m.id: m.unit for m in model.measures}
    out.update({kr.id: kr.unit for kr in model.key_results})
    return out


def check_fractions(
    wide: pd.DataFrame,
    model: Model,
    probs: Problems,
    coerce: bool,
    fixed: dict[str, int],
) -> None:
    """A ``%`` measure whose values are all in [0, 1.5] while baseline and targets are above 1.5."""
    import numpy as np

    for m in model.measures:
        if m.unit.strip() != "%" or m.id not in wide.columns or m.direction == "band":
            continue
        refs = [m.baseline, m.target, *(t for _, t in m.targets)]
        if any(r is None or r <= 1.5 for r in refs):
            continue
        col = wide[m.id]
        vals = col.to_numpy(dtype=float)
        ok = np.isfinite(vals)
        if not ok.any() or not ((vals[ok] >= 0) & (vals[ok] <= 1.5)).all():
            continue
        if coerce:
            wide[m.id] = col * 100.0
            fixed["x100"] += int(ok.sum())
            continue
        first = float(vals[ok][0])
        probs.add(
            f"'{m.id}' is a % measure (baseline {m.baseline:g}, target {m.target:g}) but all its "
            f"{int(ok.sum())} values lie in [0, 1.5] (e.g. {first:g}): they are fractions, 100× too small.",
            f"multiply by 100 (write {first * 100:g} for {first:g}), format the Excel cells as %, "
            "or read with coerce=True (--fix).",
            column=m.id,
        )


def parse_period_column(
    raw: pd.Series, rows: pd.Series, dayfirst: bool, probs: Problems, *, wide: bool
) -> pd.Series:
    """Parse period labels into pandas Periods (None where unparseable, each reported).

    A wide history has one kind of period per file; a long one may mix kinds
    (a quarterly KPI among monthly ones): every period is then put on the finest
    kind, a quarter at its last month.
    """
    import numpy as np
    import pandas as pd

    if isinstance(raw.dtype, pd.PeriodDtype):
        return pd.Series(list(raw), index=raw.index, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(raw):
        return pd.Series(
            [None if pd.isna(v) else pd.Period(v, freq="D") for v in raw],
            index=raw.index,
            dtype=object,
        )
    # parse each distinct label once (a long history repeats every period per measure)
    codes, uniques = pd.factorize(raw.astype(object), use_na_sentinel=True)
    labels = list(uniques)
    if not dayfirst:
        firsts = pd.Series([str(v) for v in labels], dtype="string").str.extract(_DMY)[0]
        dayfirst = bool((firsts.astype("float") > 12).any())
    parsed = [parse_period(v, dayfirst=dayfirst) for v in labels]
    bad = {
        i
        for i, (v, per) in enumerate(zip(labels, parsed, strict=True))
        if per is None and not _blank(v)
    }
    if bad:
        for pos in np.flatnonzero(np.isin(codes, list(bad))):
            probs.add(
                f"period {str(labels[codes[pos]])!r} is not a period.",
                f"write periods as {PERIOD_FORMS}.",
                row=int(rows.iloc[pos]),
                column="period",
            )
    out: list[Any] = [None if c < 0 else parsed[c] for c in codes]
    kinds = {freq_code(p.freqstr) for p in out if p is not None}
    if len(kinds) > 1:
        if wide:
            named = {
                "Q": "quarters (2025Q3)",
                "M": "months (2025-07)",
                "Y": "years (2025)",
                "D": "dates (2025-07-31)",
            }
            probs.add(
                f"the periods mix {' and '.join(named[k] for k in sorted(kinds))}.",
                "use one kind of period per row (a KPI reported less often leaves its other rows blank), or use the long form.",
                column="period",
            )
            return pd.Series([None] * len(out), index=raw.index, dtype=object)
        finest = min(kinds, key=lambda k: {"D": 0, "M": 1, "Q": 2, "Y": 3}[k])
        out = [
            None
            if p is None
            else p
            if freq_code(p.freqstr) == finest
            else p.asfreq(finest, how="end")
            for p in out
        ]
    return pd.Series(out, index=raw.index, dtype=object)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _blank(value: Any) -> bool:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


_THOUSANDS = {
    None: re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$"),
    ".": re.compile(r"^[-+]?\d{1,3}([,\u00a0\u202f\u2009 ']\d{3})+(\.\d*)?$"),
    ",": re.compile(r"^[-+]?\d{1,3}([.\u00a0\u202f\u2009 ']\d{3})+(,\d*)?$"),
}
_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+$")


def _column_at(column: str | pd.Series, idx: Any) -> str:
    return column if isinstance(column, str) else str(column.loc[idx])


def numeric_cells(
    values: pd.Series,
    *,
    column: str | pd.Series,
    rows: pd.Series,
    unit: str | None,
    percent: pd.Series | None,
    decimal: str | None,
    coerce: bool,
    probs: Problems,
    fixed: dict[str, int],
) -> pd.Series:
    """Numbers from cells: text read with the decimal mark, ``%`` handled by the unit.

    ``unit`` None means no model (``"15.3%"`` and %-formatted cells read as 15.3);
    ``"%"`` a % measure (the same); any other unit refuses a ``%`` sign (the fix
    names the number, and ``coerce`` applies it).  ``column`` names the column
    of every cell (one name, or a Series aligned with ``values`` when several
    columns are read at once); ``rows`` their spreadsheet rows.
    """
    import numpy as np
    import pandas as pd

    pct_ok = unit is None or unit.strip() == "%"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out = values.astype(float)
    else:
        obj = values.astype(object)
        stripped = obj.astype("string").str.strip()
        blank = (stripped.isna() | (stripped == "")).to_numpy(dtype=bool)
        if decimal == ",":  # "1.234" is a thousand: no string goes through the plain reader
            is_str = obj.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            out = pd.to_numeric(obj.where(~is_str), errors="coerce").astype(float)
            textual = is_str & ~blank
        else:
            out = pd.to_numeric(obj, errors="coerce").astype(float)
            textual = out.isna().to_numpy() & ~blank
        if textual.any():
            out[textual] = _parse_text(
                stripped[textual].astype(str),
                column=column,
                rows=rows,
                pct_ok=pct_ok,
                decimal=decimal,
                coerce=coerce,
                probs=probs,
                fixed=fixed,
            ).to_numpy()
    if percent is not None and pct_ok:
        flags = percent.reindex(values.index).fillna(False).to_numpy(dtype=bool)
        out = out.where(~flags, out * 100.0)
    arr = out.to_numpy(dtype=float)
    for idx in list(values.index[np.isinf(arr)]):
        probs.add(
            "value is infinite.",
            "write a finite number.",
            row=int(rows.loc[idx]),
            column=_column_at(column, idx),
        )
    return out.astype(float)


def _parse_text(
    text: pd.Series,
    *,
    column: str | pd.Series,
    rows: pd.Series,
    pct_ok: bool,
    decimal: str | None,
    coerce: bool,
    probs: Problems,
    fixed: dict[str, int],
) -> pd.Series:
    import pandas as pd

    t = text.str.replace("\u2212", "-", regex=False)  # the minus sign of some exports
    has_pct = t.str.endswith("%")
    t = t.where(~has_pct, t.str[:-1].str.strip())
    thousands = t.str.fullmatch(_THOUSANDS[decimal].pattern)
    if decimal == ",":
        t = t.where(~thousands, t.str.replace(r"[.\u00a0\u202f\u2009 ']", "", regex=True))
        t = t.str.replace(",", ".", regex=False)
    elif decimal == ".":
        t = t.where(~thousands, t.str.replace(r"[,\u00a0\u202f\u2009 ']", "", regex=True))
    else:
        t = t.where(~thousands, t.str.replace(",", "", regex=False))
    num = pd.to_numeric(t, errors="coerce").astype(float)
    bad = num.isna()
    pct_bad = has_pct & ~bad & (not pct_ok)
    th_bad = thousands & ~bad & (decimal is None)
    if coerce:
        fixed["%"] += int(pct_bad.sum())
        fixed["thousands"] += int(th_bad.sum())
    else:
        for idx in text.index[(pct_bad | th_bad).to_numpy(dtype=bool)]:
            raw = text.loc[idx]
            if pct_bad.loc[idx]:
                fix = f'drop the % sign: {raw.rstrip("%").strip()} (or give the measure unit: "%").'
            else:
                fix = f"drop the thousands separators: {raw.replace(',', '')}."
            probs.add(
                f"value {raw!r} is not a number.",
                fix,
                row=int(rows.loc[idx]),
                column=_column_at(column, idx),
            )
        num[(pct_bad | th_bad).to_numpy(dtype=bool)] = float("nan")
    for idx in text.index[bad.to_numpy(dtype=bool)]:
        raw = text.loc[idx]
        fix = "write a plain number, or leave the cell empty for a missing value."
        if decimal is None and _DECIMAL_COMMA.match(raw.rstrip("%").strip()):
            fix = "the file uses a decimal comma: read it with decimal=',' (--decimal ,)."
        probs.add(
            f"value {raw!r} is not a number.",
            fix,
            row=int(rows.loc[idx]),
            column=_column_at(column, idx),
        )
    return num
