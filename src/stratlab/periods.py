"""Periods: the one parser for period labels (files and flags), cadences and aggregation.

* :func:`parse_period` reads ``2025Q3``, ``Q3 2025``, ``2025-07``, ``Jan-2024``,
  ``January 2024``, ``01/2024``, ``2025`` (a year), ISO dates ``2025-07-31`` and
  ``31/07/2025`` / ``07/31/2025`` (``dayfirst``), Excel date cells and pandas
  periods.  Labels such as ``24Q4`` are refused rather than guessed.
* A model's ``period`` (``month | quarter | year``) is its review cadence;
  :func:`to_frequency` brings a history of any finer frequency to it, one
  column at a time, by the measure's ``aggregate`` rule (``last``, ``mean``,
  ``sum``, ``min``, ``max``).
* :func:`column_step` tells how often a column is really reported (a quarterly
  KPI inside a monthly history has step 3), so it is read at its own frequency.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AGGREGATES",
    "CADENCE_FREQ",
    "aggregate_frame",
    "column_step",
    "own_freq",
    "parse_period",
    "period_arg",
    "to_frequency",
]

CADENCE_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}
AGGREGATES = ("last", "mean", "sum", "min", "max")
# how many periods of the first frequency make one of the second
_RANK = {"D": 0, "M": 1, "Q": 2, "Y": 3}

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january", "januar", "janv", "janvier", "ene", "enero"),
            ("feb", "february", "februar", "fev", "fevr", "fevrier", "febrero"),
            ("mar", "march", "marz", "maerz", "mars", "marzo"),
            ("apr", "april", "avr", "avril", "abr", "abril"),
            ("may", "mai", "mayo"),
            ("jun", "june", "juni", "juin", "junio"),
            ("jul", "july", "juli", "juil", "juillet", "julio"),
            ("aug", "august", "aout", "ago", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre"),
            ("oct", "october", "okt", "oktober", "octobre", "octubre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dez", "dezember", "decembre", "dic", "diciembre"),
        ]
    )
    for name in names
}

_QUARTER = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")
_QUARTER_REV = re.compile(r"^[Qq]([1-4])\s*[-/ ]?\s*(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_REV = re.compile(r"^(\d{1,2})[/.-](\d{4})$")
_MONTH_NAME = re.compile(r"^([A-Za-z]{3,9})\.?[-\s/.']*(\d{4})$")
_YEAR = re.compile(r"^(?:FY\s*)?(\d{4})$", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")

PERIOD_FORMS = "2025Q3, 2025-07, Jul-2025, 07/2025, 2025 or a date such as 2025-07-31"


def parse_period(value: Any, *, dayfirst: bool = False) -> pd.Period | None:
    """Parse one period label; None when it is not one.

    Returns a pandas ``Period`` at the label's own frequency: ``Q`` for
    quarters, ``M`` for months, ``Y`` for years, ``D`` for dates (a date stands
    for the day; bring it to a cadence with :func:`to_frequency`).

    ``dayfirst`` reads ``01/02/2024`` as 1 February (default: 2 January).  A
    label whose first number exceeds 12 (``31/07/2025``) can only be day-first
    and is read so either way.
    """
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Period):
        return value
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return pd.Period(pd.Timestamp(value), freq="D")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            return None
        year = int(value)
        return pd.Period(year=year, freq="Y") if 1000 <= year <= 9999 else None
    s = str(value).strip()
    if not s:
        return None
    m = _QUARTER.match(s)
    if m:
        return pd.Period(year=int(m.group(1)), quarter=int(m.group(2)), freq="Q")
    m = _QUARTER_REV.match(s)
    if m:
        return pd.Period(year=int(m.group(2)), quarter=int(m.group(1)), freq="Q")
    m = _MONTH.match(s)
    if m:
        return _month(int(m.group(1)), int(m.group(2)))
    m = _MONTH_REV.match(s)
    if m:
        return _month(int(m.group(2)), int(m.group(1)))
    m = _MONTH_NAME.match(s)
    if m:
        month = _MONTHS.get(m.group(1).lower())
        return _month(int(m.group(2)), month) if month else None
    m = _YEAR.match(s)
    if m:
        return pd.Period(year=int(m.group(1)), freq="Y")
    m = _ISO_DATE.match(s)
    if m:
        return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.match(s)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if dayfirst or a > 12:
            return _day(year, b, a)
        return _day(year, a, b)
    return None


def _month(year: int, month: int | None) -> pd.Period | None:
    import pandas as pd

    if month is None or not 1 <= month <= 12:
        return None
    return pd.Period(year=year, month=month, freq="M")


def _day(year: int, month: int, day: int) -> pd.Period | None:
    import pandas as pd

    try:
        return pd.Period(_dt.date(year, month, day), freq="D")
    except ValueError:
        return None


def period_arg(value: Any, *, dayfirst: bool = False, what: str = "period") -> pd.Period:
    """Parse a period given as an argument (``--period``); :class:`InputError` when it is not one."""
    period = parse_period(value, dayfirst=dayfirst)
    if period is None:
        raise InputError(
            Problem(f"{what} {value!r} is not a period.", fix=f"write it like {PERIOD_FORMS}.")
        )
    return period


def freq_code(freq: Any) -> str:
    """``'M'``, ``'Q'``, ``'Y'`` or ``'D'`` for a pandas frequency or period."""
    text = str(getattr(freq, "freqstr", freq) or "").upper()
    if text.startswith(("Y", "A")):
        return "Y"
    return text[:1]


def coarser(a: str, b: str) -> bool:
    """Whether frequency ``a`` is coarser than ``b`` (e.g. ``Q`` than ``M``)."""
    return _RANK.get(freq_code(a), 0) > _RANK.get(freq_code(b), 0)


def as_freq(period: pd.Period, freq: str) -> pd.Period:
    """The period of frequency ``freq`` containing ``period``'s end (a quarter → its last month)."""
    code = freq_code(freq)
    if freq_code(period.freqstr) == code:
        return period
    return period.asfreq(code, how="end")


def aggregate_frame(
    wide: pd.DataFrame, freq: str, aggregate: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Bring a wide history to a coarser frequency, each column by its rule (default ``last``).

    ``last`` keeps the latest value reported inside the period, ``mean``/``min``/``max``
    those of the values reported, ``sum`` their total; a period with no value stays NaN.
    """
    import pandas as pd

    code = freq_code(freq)
    rules = aggregate or {}
    keys = wide.index.asfreq(code, how="end") if len(wide) else pd.PeriodIndex([], freq=code)
    grouped = wide.groupby(keys, sort=True)
    out = {}
    for col in wide.columns:
        rule = rules.get(str(col), "last")
        g = grouped[col]
        if rule == "sum":
            out[col] = g.sum(min_count=1)
        else:
            out[col] = getattr(g, rule)()
    frame = pd.DataFrame(out, columns=wide.columns)
    if len(frame):
        frame.index = pd.PeriodIndex(frame.index, freq=code)
        full = pd.period_range(frame.index.min(), frame.index.max(), freq=code)
        frame = frame.reindex(full)
    else:
        frame.index = pd.PeriodIndex([], freq=code)
    frame.index.name = wide.index.name
    return frame


def to_frequency(
    wide: pd.DataFrame, freq: str, aggregate: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A wide history on frequency ``freq``: finer ones aggregated, coarser ones spread.

    A finer history (days, months) is aggregated by :func:`aggregate_frame`; a
    coarser one (a quarterly history for a monthly cadence) keeps each value
    at its period's last sub-period (a quarter's value at its last month), so
    it is a KPI reported less often, read at its own frequency.
    """
    import pandas as pd

    code = freq_code(freq)
    have = freq_code(wide.index.freqstr) if isinstance(wide.index, pd.PeriodIndex) else code
    if have == code:
        return wide
    if coarser(code, have):
        return aggregate_frame(wide, code, aggregate)
    index = wide.index.asfreq(code, how="end")
    out = wide.set_axis(index, axis=0)
    if len(out):
        full = pd.period_range(index.min(), index.max(), freq=code)
        out = out.reindex(full)
    out.index.name = wide.index.name
    return out


def column_step(values: Any, freq: str = "M") -> int:
    """How many rows lie between a column's reports when it is reported regularly less often.

    1 for a series reported every period (gaps allowed); 3 for a quarterly KPI
    inside a monthly history, 12 for a yearly one (4 for a yearly KPI inside a
    quarterly history): the greatest common divisor of the distances between its
    reports, when that is one of those steps.
    """
    import numpy as np

    arr = np.asarray(values, dtype=float)
    pos = np.flatnonzero(np.isfinite(arr))
    if len(pos) < 2:
        return 1
    step = int(np.gcd.reduce(np.diff(pos)))
    allowed = {"M": (3, 12), "Q": (4,)}.get(freq_code(freq), ())
    return step if step in allowed else 1


def own_freq(freq: str, step: int) -> str:
    """The frequency a column of ``step`` is reported at, inside a history of ``freq``."""
    code = freq_code(freq)
    if code == "M" and step == 3:
        return "Q"
    if (code == "M" and step == 12) or (code == "Q" and step == 4):
        return "Y"
    return code


def elapsed_share(model: Any, history: Any = None, *, today: _dt.date | None = None) -> float:
    """Share of the review period elapsed "now", in (0, 1] — from the model, else the data.

    1. The model's ``as_of`` date: the share of its review period (the model's
       cadence) elapsed by that day, inclusive.
    2. Else the data: the last period with a value, against the review period
       containing it (data through December in a quarter ending in December →
       1.0; through November → 61/92).
    3. Only with neither: today's date.

    So the same files give the same Monte Carlo on any day.
    """
    import pandas as pd

    cadence = CADENCE_FREQ.get(getattr(model, "period", "quarter"), "Q")
    as_of = getattr(model, "as_of", None)
    if as_of:
        return _share_of_day(pd.Timestamp(as_of), cadence)
    if isinstance(history, pd.DataFrame) and isinstance(history.index, pd.PeriodIndex):
        label = history.attrs.get("last_reported")
        last = parse_period(label) if label else None
        if last is None:
            has = history.notna().any(axis=1).to_numpy()
            if has.any():
                last = history.index[has.nonzero()[0][-1]]
        if last is not None:
            return _share_of_day(last.end_time.normalize(), cadence)
    return _share_of_day(pd.Timestamp(today or _dt.date.today()), cadence)


def _share_of_day(day: Any, cadence: str) -> float:
    import pandas as pd

    period = pd.Period(day, freq=cadence)
    start = period.start_time.normalize()
    days = (period.end_time.normalize() - start).days + 1
    share = ((day.normalize() - start).days + 1) / days
    return float(min(1.0, max(share, 1.0 / days)))
