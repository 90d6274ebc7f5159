"""spc(): XmR limits and the four signal rules (Wheeler / NHS Making Data Count)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

import stratlab
from stratlab.errors import InputError
from stratlab.stats.spc import SPC_COLUMNS, spc


def _history(values: Sequence[float], start: str = "2020-01", name: str = "kpi") -> pd.DataFrame:
    index = pd.period_range(start, periods=len(values), freq="M", name="period")
    return pd.DataFrame({name: values}, index=index)


def _rules(values: Sequence[float], **kw: int) -> list[str]:
    return spc(_history(values), **kw)["rule"].tolist()


def test_columns_and_hand_computed_limits() -> None:
    out = stratlab.spc(_history([10, 12, 11, 15, 12]))
    assert list(out.columns) == SPC_COLUMNS
    # mean 60/5 = 12; moving ranges 2, 1, 4, 3 -> mean 2.5; 2.66 * 2.5 = 6.65
    assert out["centre"].tolist() == pytest.approx([12.0] * 5)
    assert out["lower"].tolist() == pytest.approx([5.35] * 5)
    assert out["upper"].tolist() == pytest.approx([18.65] * 5)
    assert out["measure"].tolist() == ["kpi"] * 5
    assert str(out["period"].iloc[3]) == "2020-04"
    assert not out["signal"].any()
    assert out["rule"].tolist() == [""] * 5


def test_gaps_are_skipped_and_baseline_fixes_the_limits() -> None:
    hist = _history([10, np.nan, 12, 11, 15, 12, 30])
    out = spc(hist, baseline=5)
    # the NaN row is dropped; moving ranges between consecutive observed values
    assert len(out) == 6
    assert [str(p) for p in out["period"]][:2] == ["2020-01", "2020-03"]
    assert out["upper"].iloc[0] == pytest.approx(18.65)  # first five values only
    assert out["signal"].tolist() == [False] * 5 + [True]
    assert out["rule"].iloc[-1] == "outside limits"


def test_outside_limits() -> None:
    values = [10, 11, 10, 11, 10, 11, 10, 11, 10, 40]
    # mean 12.4; moving ranges eight 1s and 30 -> 38/9; upper 12.4 + 2.66*38/9 = 23.63
    rules = _rules(values)
    assert rules[-1].startswith("outside limits")
    assert [r for r in rules[:-1] if "outside limits" in r] == []


def test_shift_of_eight_on_one_side() -> None:
    values = [-1, 1, -1, 1, -1, 1, -1, 1, 0.6, 0.5, 0.6, 0.5, 0.6, 0.5, 0.6, 0.5]
    # centre 4.4/16 = 0.275: indices 7..15 are nine values in a row above it
    rules = _rules(values)
    assert [i for i, r in enumerate(rules) if r] == list(range(7, 16))
    assert set(rules[7:]) == {"shift"}
    # seven in a row is not a shift under Wheeler's 8, but is under Making Data Count's 7
    short = values[:-2]  # centre 3.3/14 = 0.236; indices 7..13 above it
    assert not any(_rules(short))
    assert [i for i, r in enumerate(_rules(short, run=7)) if r] == list(range(7, 14))


def test_a_value_on_the_centre_breaks_a_run() -> None:
    # centre 0; eight values above it but the fifth is exactly on the centre
    values = [-2, -2, -2, -2, -2, -2, -2, -2, 1, 1, 1, 1, 0, 1, 1, 1, 1, 8]
    out = spc(_history(values))
    assert out["centre"].iloc[0] == pytest.approx(0.0)
    assert not out["rule"].str.contains("shift").iloc[8:].any()
    assert out["rule"].str.contains("shift").iloc[:8].all()  # the eight -2s


def test_trend_of_six() -> None:
    values = [3, 1, 3, 1, 3, 1.5, 1.7, 1.9, 2.1, 2.3, 2.5, 1, 3, 1, 3]
    rules = _rules(values)
    assert [i for i, r in enumerate(rules) if r] == list(range(5, 11))
    assert set(rules[5:11]) == {"trend"}
    falling = [-v for v in values]
    assert [i for i, r in enumerate(_rules(falling)) if r] == list(range(5, 11))
    five = values[:10] + values[11:]  # 1.5 .. 2.3: five rising values only
    assert not any(_rules(five))


def test_a_tie_breaks_a_trend() -> None:
    values = [3, 1, 3, 1, 3, 1.5, 1.7, 1.9, 1.9, 2.1, 2.3, 1, 3, 1, 3]
    assert not any("trend" in r for r in _rules(values))


def test_two_of_three_beyond_two_sigma() -> None:
    base = [0.4, 0.6] * 8
    values = [*base, 1.4, 0.5, 1.4, 0.5, 0.4, 0.6]
    x = np.array(values)
    centre = x.mean()
    mr_bar = np.abs(np.diff(x)).mean()
    two_sigma = 2 * 2.66 * mr_bar / 3
    # the two 1.4s are beyond two sigma, inside the limits; nothing else is
    assert centre + two_sigma < 1.4 < centre + 2.66 * mr_bar
    assert centre + two_sigma > 0.6 and centre - two_sigma < 0.4
    rules = _rules(values)
    assert [i for i, r in enumerate(rules) if r] == [16, 18]
    assert rules[16] == rules[18] == "2 of 3"


def test_two_of_three_on_opposite_sides_is_not_a_signal() -> None:
    # NHSRplotthedots issue 143: points near opposite limits are not "2 of 3"
    values = [1.0, -1.0] * 7 + [5.5, -5.5]
    assert not any("2 of 3" in r for r in _rules(values))


def test_several_rules_are_named_in_order() -> None:
    values = [0.0, 1.0] * 6 + [1.5, 2, 2.5, 3, 3.5, 9]
    rules = _rules(values)
    assert rules[-1] == "outside limits, trend"


def test_published_example_montgomery_viscosity() -> None:
    """Montgomery, *Introduction to Statistical Quality Control* (6th ed., Example 6.5):
    viscosity of aircraft primer paint, 15 batches, individuals and moving-range chart.
    Data as reproduced in the JMSL Chart Programmer's Guide, "XmR Example"
    (help.imsl.com/java/7.2/manual/cpg/.../XmR-XmRExample.html, citing Montgomery p. 251).
    Published: centre 33.52, average moving range 0.48, UCL 34.80, LCL 32.24
    (3 * MR-bar / 1.128, the same limits as 2.66 * MR-bar to two decimals);
    the process is in statistical control (no signal).
    """
    viscosity = [33.75, 33.05, 34.00, 33.81, 33.46, 34.02, 33.68, 33.27]
    viscosity += [33.49, 33.20, 33.62, 33.00, 33.54, 33.12, 33.84]
    out = spc(_history(viscosity, name="viscosity"))
    assert round(out["centre"].iloc[0], 2) == 33.52
    assert round(out["upper"].iloc[0], 2) == 34.80
    assert round(out["lower"].iloc[0], 2) == 32.24
    mr_bar = (out["upper"].iloc[0] - out["centre"].iloc[0]) / 2.66
    assert round(mr_bar, 2) == 0.48
    assert not out["signal"].any()


def test_several_measures_long_input_and_short_series() -> None:
    long = pd.DataFrame(
        {
            "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q1"],
            "measure": ["a", "a", "a", "b"],
            "value": [1.0, 2.0, 4.0, 7.0],
        }
    )
    out = spc(long)
    assert out["measure"].tolist() == ["a", "a", "a", "b"]
    # a: mean 7/3, moving ranges 1, 2 -> 1.5
    assert out["upper"].iloc[0] == pytest.approx(7 / 3 + 2.66 * 1.5)
    # b has one value: a centre but no limits, no signal
    assert out["centre"].iloc[3] == pytest.approx(7.0)
    assert np.isnan(out["upper"].iloc[3]) and not out["signal"].iloc[3]
    assert spc(long, ["b"])["measure"].tolist() == ["b"]


def test_bad_arguments_are_located() -> None:
    hist = _history([1.0, 2.0, 3.0])
    with pytest.raises(InputError, match=r"ids id 'kpj'.*did you mean 'kpi'"):
        spc(hist, ["kpj"])
    with pytest.raises(InputError, match=r"ids=\['kpi'\]"):
        spc(hist, "kpi")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="baseline=1 must be an integer >= 2"):
        spc(hist, baseline=1)
    with pytest.raises(InputError, match="run='8'"):
        spc(hist, run="8")  # type: ignore[arg-type]
