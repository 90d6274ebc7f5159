"""stratlab.stats.correlate against scipy.stats on the same inputs (reference beside the test)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from stratlab.errors import HistoryError, InputError, StratlabWarning
from stratlab.stats import correlate
from stratlab.stats.correlation import CORRELATION_COLUMNS

MACRO = ["realgdp", "realcons", "realinv", "realgovt", "cpi", "unemp", "m1", "tbilrate"]


def _reference(
    wide: pd.DataFrame, method: str, transform: str, max_lag: int, min_periods: int = 4
) -> pd.DataFrame:
    """Independent per-pair computation: pandas shift + scipy.stats, BH by scipy."""
    if transform == "diff":
        data = wide.diff()
    elif transform == "pct_change":
        data = (wide / wide.shift(1) - 1).replace([np.inf, -np.inf], np.nan)
    else:
        data = wide
    cols = list(data.columns)
    rows = []
    for lag in range(max_lag + 1):
        pairs = (
            [(a, b) for i, a in enumerate(cols) for b in cols[i + 1 :]]
            if lag == 0
            else [(a, b) for a in cols for b in cols if a != b]
        )
        for s, t in pairs:
            x = data[s].shift(lag).to_numpy()
            y = data[t].to_numpy()
            keep = np.isfinite(x) & np.isfinite(y)
            n = int(keep.sum())
            r = p = lo = hi = np.nan
            if n >= min_periods:
                xs, ys = x[keep], y[keep]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if method == "pearson":
                        res = stats.pearsonr(xs, ys)
                        ci = res.confidence_interval(0.95)
                        r, p, lo, hi = res.statistic, res.pvalue, ci.low, ci.high
                    elif method == "spearman":
                        res = stats.spearmanr(x, y, nan_policy="omit")
                        r, p = res.statistic, res.pvalue
                        z, se = np.arctanh(r), 1 / np.sqrt(n - 3)
                        lo, hi = (
                            np.tanh(z - 1.959963984540054 * se),
                            np.tanh(z + 1.959963984540054 * se),
                        )
                    else:
                        res = stats.kendalltau(xs, ys)
                        r, p = res.statistic, res.pvalue
            rows.append((s, t, lag, n, r, lo, hi, p))
    ref = pd.DataFrame(rows, columns=["source", "target", "lag", "n", "r", "lo", "hi", "p"])
    ok = ref["p"].notna()
    ref["q"] = np.nan
    ref.loc[ok, "q"] = stats.false_discovery_control(ref.loc[ok, "p"].to_numpy())
    return ref


def _compare(got: pd.DataFrame, ref: pd.DataFrame, *, ci: bool = True) -> None:
    key = ["source", "target", "lag"]
    merged = got.merge(ref, on=key, how="outer", indicator=True, suffixes=("", "_ref"))
    assert (merged["_merge"] == "both").all(), "row sets differ"
    assert (merged["n"] == merged["n_ref"]).all()
    np.testing.assert_allclose(merged["r"], merged["r_ref"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(merged["p_value"], merged["p"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(merged["q_value"], merged["q"], rtol=0, atol=1e-7)
    if ci:
        np.testing.assert_allclose(merged["ci_low"], merged["lo"], rtol=0, atol=1e-7)
        np.testing.assert_allclose(merged["ci_high"], merged["hi"], rtol=0, atol=1e-7)


def _random_history(seed: int, periods: int = 40, k: int = 5, gap: float = 0.15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(periods, k)).cumsum(axis=0)
    a[:, 1] += np.r_[0.0, 0.9 * np.diff(a[:, 0])].cumsum()  # a correlated pair
    a[:, 3] = np.round(a[:, 3])  # ties (matter for the rank methods)
    a[rng.random(a.shape) < gap] = np.nan
    index = pd.period_range("2010Q1", periods=periods, freq="Q", name="period")
    return pd.DataFrame(a, index=index, columns=[f"k{i}" for i in range(k)])


@pytest.fixture(scope="module")
def macro_wide() -> pd.DataFrame:
    from statsmodels.datasets import macrodata

    raw = macrodata.load_pandas().data
    index = pd.PeriodIndex(
        [f"{int(y)}Q{int(q)}" for y, q in zip(raw["year"], raw["quarter"], strict=True)],
        freq="Q",
        name="period",
    )
    return pd.DataFrame(raw[MACRO].to_numpy(), index=index, columns=MACRO)


@pytest.fixture(scope="module")
def macro_long_gappy(macro_wide: pd.DataFrame) -> pd.DataFrame:
    long = macro_wide.reset_index().melt(id_vars="period", var_name="measure", value_name="value")
    long["period"] = long["period"].astype(str)
    rng = np.random.default_rng(20240501)
    return long[rng.random(len(long)) >= 0.12].reset_index(drop=True)


def test_columns_and_row_layout() -> None:
    res = correlate(_random_history(0, k=4), max_lag=2)
    assert list(res.columns) == CORRELATION_COLUMNS
    lag0 = res[res["lag"] == 0]
    assert len(lag0) == 6 and (lag0["source"] < lag0["target"]).all()
    for lag in (1, 2):
        assert len(res[res["lag"] == lag]) == 12  # both directions
    assert not (res["source"] == res["target"]).any()


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
@pytest.mark.parametrize("transform", ["diff", "none", "pct_change"])
def test_matches_scipy_on_gappy_random_data(method: str, transform: str) -> None:
    wide = _random_history(3) + 50.0  # keep pct_change away from zero levels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StratlabWarning)
        got = correlate(wide, method=method, transform=transform, max_lag=2)
    _compare(got, _reference(wide, method, transform, 2), ci=method != "kendall")


def test_kendall_exact_and_asymptotic_branches() -> None:
    # no ties, n <= 33 -> exact p; n > 33 -> normal approximation
    rng = np.random.default_rng(5)
    for periods in (20, 60):
        a = rng.normal(size=(periods, 3))
        a[:, 1] += 0.5 * a[:, 0]
        wide = pd.DataFrame(a, columns=["x", "y", "z"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StratlabWarning)
            got = correlate(wide, method="kendall", transform="none", max_lag=1)
        _compare(got, _reference(wide, "kendall", "none", 1), ci=False)


def test_kendall_interval_is_fieller_fisher_z() -> None:
    got = correlate(_random_history(4, gap=0.0), method="kendall")
    row = got.iloc[0]
    z, se = np.arctanh(row["r"]), np.sqrt(0.437 / (row["n"] - 4))
    assert row["ci_low"] == pytest.approx(np.tanh(z - 1.959963984540054 * se), abs=1e-12)
    assert row["ci_high"] == pytest.approx(np.tanh(z + 1.959963984540054 * se), abs=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("transform", ["diff", "none"])
def test_macrodata_wide_matches_scipy(
    macro_wide: pd.DataFrame, method: str, transform: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StratlabWarning)
        got = correlate(macro_wide, method=method, transform=transform, max_lag=2)
    _compare(got, _reference(macro_wide, method, transform, 2))


@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("transform", ["diff", "none"])
def test_macrodata_gappy_long_form_matches_scipy(
    macro_long_gappy: pd.DataFrame, method: str, transform: str
) -> None:
    # reference: pivot by hand onto the full quarterly grid
    wide = macro_long_gappy.pivot(index="period", columns="measure", values="value")
    wide.index = pd.PeriodIndex(wide.index, freq="Q")
    wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="Q"))[MACRO]
    assert wide.isna().to_numpy().mean() > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StratlabWarning)
        got = correlate(macro_long_gappy, method=method, transform=transform, max_lag=1)
    _compare(got, _reference(wide, method, transform, 1))


def test_bh_matches_false_discovery_control(macro_wide: pd.DataFrame) -> None:
    got = correlate(macro_wide, max_lag=3)
    expected = stats.false_discovery_control(got["p_value"].to_numpy())
    np.testing.assert_allclose(got["q_value"], expected, rtol=0, atol=1e-12)
    assert (got["q_value"] >= got["p_value"] - 1e-15).all()


def test_bh_helper_keeps_nan_and_matches_scipy() -> None:
    from stratlab.stats._common import bh_qvalues

    rng = np.random.default_rng(9)
    p = rng.uniform(size=50) ** 3
    p[[3, 17]] = np.nan
    q = bh_qvalues(p)
    assert np.isnan(q[[3, 17]]).all()
    ok = ~np.isnan(p)
    np.testing.assert_allclose(q[ok], stats.false_discovery_control(p[ok]), atol=1e-15)


def test_constant_and_short_series_give_nan_with_reason() -> None:
    index = pd.period_range("2020Q1", periods=12, freq="Q")
    wide = pd.DataFrame(
        {
            "flat": np.full(12, 5.0),
            "trend": np.arange(12.0) ** 1.5,
            "noise": np.random.default_rng(1).normal(size=12),
            "sparse": [1.0, 2.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 4.0, 3, 7],
        },
        index=index,
    )
    for method in ("pearson", "spearman", "kendall"):
        res = correlate(wide, method=method, max_lag=1).set_index(["source", "target", "lag"])
        flat = res.loc[("flat", "noise", 0)]
        assert np.isnan(flat["r"]) and np.isnan(flat["p_value"]) and np.isnan(flat["q_value"])
        assert flat["reason"] == "constant series: flat"
        short = res.loc[("noise", "sparse", 0)]
        assert np.isnan(short["r"]) and short["reason"] == "n=3 < min_periods=4"
        good = res.loc[("trend", "noise", 0)]
        assert np.isfinite(good["r"]) and pd.isna(good["reason"])
    # the same short pair passes with a lower threshold
    res3 = correlate(wide, min_periods=3).set_index(["source", "target", "lag"])
    assert res3.loc[("noise", "sparse", 0), "n"] == 3
    assert np.isfinite(res3.loc[("noise", "sparse", 0), "r"])


def test_lag_longer_than_history_is_nan_not_error() -> None:
    res = correlate(_random_history(1, periods=6, gap=0.0), max_lag=5)
    assert res[res["lag"] == 5]["r"].isna().all()
    assert res[res["lag"] == 5]["reason"].str.contains("min_periods").all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "pearsn"}, r"method='pearsn'.*did you mean 'pearson'"),
        ({"transform": "log"}, r"transform='log' is not one of"),
        ({"max_lag": -1}, r"max_lag=-1 must be an integer >= 0"),
        ({"max_lag": 1.5}, r"max_lag=1.5 must be an integer"),
        ({"min_periods": 2}, r"min_periods=2 must be an integer >= 3"),
        ({"columns": ["k0", "nope"]}, r"column id 'nope' is not in the history"),
    ],
)
def test_bad_options_raise_input_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        correlate(_random_history(0), **kwargs)  # type: ignore[arg-type]


def test_bad_history_types() -> None:
    with pytest.raises(InputError, match=r"history must be a DataFrame"):
        correlate([1, 2, 3])
    bad = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": ["x", "y", "z", "w", "v"]})
    with pytest.raises(HistoryError, match=r"column 'b' is not numeric"):
        correlate(bad)


def test_columns_selects_and_orders() -> None:
    res = correlate(_random_history(0), columns=["k3", "k1"])
    assert list(zip(res["source"], res["target"], strict=True)) == [("k3", "k1")]


def test_levels_of_random_walks_warn_and_diffs_do_not() -> None:
    rng = np.random.default_rng(11)
    walks = pd.DataFrame(rng.normal(size=(80, 2)).cumsum(axis=0) + np.arange(80)[:, None] * 0.3)
    walks.columns = ["w1", "w2"]
    with pytest.warns(StratlabWarning, match=r"non-stationary.*w1"):
        correlate(walks, transform="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error", StratlabWarning)
        correlate(walks, transform="diff")


def test_detrend_removes_a_shared_trend() -> None:
    rng = np.random.default_rng(12)
    t = np.arange(60.0)
    a, b = 2 * t + rng.normal(size=60), -3 * t + 5 + rng.normal(size=60)
    wide = pd.DataFrame({"a": a, "b": b})
    wide.iloc[[5, 30], 0] = np.nan
    got = correlate(wide, transform="detrend").iloc[0]
    keep = wide["a"].notna().to_numpy()
    ra = a[keep] - np.polyval(np.polyfit(t[keep], a[keep], 1), t[keep])
    rb = b - np.polyval(np.polyfit(t, b, 1), t)
    ref = stats.pearsonr(ra, rb[keep])
    assert got["r"] == pytest.approx(ref.statistic, abs=1e-9)
    with pytest.warns(StratlabWarning, match="non-stationary"):
        assert abs(correlate(wide, transform="none").iloc[0]["r"]) > 0.99


def test_lead_lag_direction() -> None:
    # y[t] = x[t-2] + noise: the row (x, y, lag=2) is the strong one
    rng = np.random.default_rng(13)
    x = rng.normal(size=100)
    y = np.r_[rng.normal(size=2), x[:-2]] + 0.1 * rng.normal(size=100)
    res = correlate(pd.DataFrame({"x": x, "y": y}), transform="none", max_lag=3)
    best = res.loc[res["r"].abs().idxmax()]
    assert (best["source"], best["target"], best["lag"]) == ("x", "y", 2)
    assert best["r"] > 0.95


@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("transform", ["diff", "none"])
@pytest.mark.parametrize("form", ["wide", "long"])
def test_cli_correlate_csv_matches_scipy_on_macrodata(
    macro_wide: pd.DataFrame,
    macro_long_gappy: pd.DataFrame,
    tmp_path,
    capsys,
    method: str,
    transform: str,
    form: str,
) -> None:
    import io

    from stratlab.cli import main

    path = tmp_path / f"macro_{form}.csv"
    if form == "wide":
        macro_wide.to_csv(path)
        wide = macro_wide
    else:
        macro_long_gappy.to_csv(path, index=False)
        wide = macro_long_gappy.pivot(index="period", columns="measure", values="value")
        wide.index = pd.PeriodIndex(wide.index, freq="Q")
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq="Q"))[MACRO]
    argv = ["correlate", str(path), "--method", method, "--transform", transform]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StratlabWarning)
        code = main([*argv, "--max-lag", "1", "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    got = pd.read_csv(io.StringIO(out))
    assert list(got.columns) == CORRELATION_COLUMNS
    _compare(got, _reference(wide, method, transform, 1))
