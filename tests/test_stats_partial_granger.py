"""Partial correlations and Granger tests against independent numpy/scipy/statsmodels computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from stratlab.errors import InputError
from stratlab.stats import granger, granger_best, partial_correlate
from stratlab.stats.granger import GRANGER_COLUMNS
from stratlab.stats.partial import PARTIAL_COLUMNS


def _history(seed: int = 0, periods: int = 50, gap: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(periods, 4))
    a = np.empty_like(e)
    a[:, 0] = e[:, 0]
    a[:, 1] = 0.7 * a[:, 0] + e[:, 1]
    a[:, 2] = 0.6 * a[:, 1] + e[:, 2]  # c depends on a only through b
    a[:, 3] = e[:, 3]
    a = a.cumsum(axis=0)
    a[rng.random(a.shape) < gap] = np.nan
    index = pd.period_range("2012Q1", periods=periods, freq="Q", name="period")
    return pd.DataFrame(a, index=index, columns=["a", "b", "c", "d"])


def _residual_reference(
    data: pd.DataFrame, x: str, y: str, controls: list[str], rank: bool = False
) -> tuple[float, float, int]:
    """Partial r by regressing x and y on the controls (lstsq), pingouin's p (dof n-2-k)."""
    d = data[[x, y, *controls]].dropna()
    if rank:
        d = d.rank()
    z = np.column_stack([np.ones(len(d)), d[controls].to_numpy()])
    rx = d[x].to_numpy() - z @ np.linalg.lstsq(z, d[x].to_numpy(), rcond=None)[0]
    ry = d[y].to_numpy() - z @ np.linalg.lstsq(z, d[y].to_numpy(), rcond=None)[0]
    r = stats.pearsonr(rx, ry).statistic
    n, k = len(d), len(controls)
    dof = n - 2 - k
    t = r * np.sqrt(dof / (1 - r**2))
    return float(r), float(2 * stats.t.sf(abs(t), dof)), n


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_partial_all_others_matches_residual_regression(method: str) -> None:
    hist = _history(1, gap=0.05)
    got = partial_correlate(hist, method=method)
    assert list(got.columns) == PARTIAL_COLUMNS
    data = hist.diff()
    for row in got.itertuples():
        controls = [c for c in data.columns if c not in (row.source, row.target)]
        r, p, n = _residual_reference(data, row.source, row.target, controls, method == "spearman")
        assert row.n == n
        assert row.r == pytest.approx(r, abs=1e-9)
        assert row.p_value == pytest.approx(p, abs=1e-7)
        z, se = np.arctanh(r), 1 / np.sqrt(n - 3 - len(controls))
        assert row.ci_low == pytest.approx(np.tanh(z - 1.959963984540054 * se), abs=1e-7)
    np.testing.assert_allclose(got["q_value"], stats.false_discovery_control(got["p_value"]))
    # the chain a -> b -> c: a and c are (nearly) independent given b
    ac = got.set_index(["source", "target"]).loc[("a", "c")]
    assert abs(ac["r"]) < 0.3 and ac["p_value"] > 0.05


def test_partial_with_covariates() -> None:
    hist = _history(2)
    got = partial_correlate(hist, covariates=["b"])
    assert set(zip(got["source"], got["target"], strict=True)) == {
        ("a", "c"),
        ("a", "d"),
        ("c", "d"),
    }
    data = hist.diff()
    for row in got.itertuples():
        r, p, _ = _residual_reference(data, row.source, row.target, ["b"])
        assert row.r == pytest.approx(r, abs=1e-9)
        assert row.p_value == pytest.approx(p, abs=1e-7)


def test_partial_constant_and_short() -> None:
    hist = _history(3).assign(flat=1.0)
    got = partial_correlate(hist).set_index(["source", "target"])
    assert got.loc[("a", "flat"), "reason"] == "constant series: flat"
    assert np.isnan(got.loc[("a", "flat"), "r"])
    assert np.isfinite(got.loc[("a", "b"), "r"])  # the constant is left out of the controls
    tiny = partial_correlate(_history(4, periods=5))
    assert tiny["r"].isna().all()
    assert tiny["reason"].str.contains("too few for k=2 controls").all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "kendall"}, r"method='kendall' is not one of 'pearson', 'spearman'"),
        ({"covariates": ["zz"]}, r"covariate id 'zz' is not in the history"),
        ({"covariates": ["a", "b", "c"]}, r"need at least two columns besides the covariates"),
        ({"transform": "logs"}, r"transform='logs'"),
    ],
)
def test_partial_bad_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        partial_correlate(_history(), **kwargs)  # type: ignore[arg-type]


def _granger_history(seed: int = 5, periods: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=periods)
    y = np.zeros(periods)
    for t in range(2, periods):
        y[t] = 0.3 * y[t - 1] + 0.8 * x[t - 2] + rng.normal()
    index = pd.period_range("2000Q1", periods=periods, freq="Q", name="period")
    # levels, so that the default diff transform recovers x and y
    return pd.DataFrame({"x": x.cumsum(), "y": y.cumsum()}, index=index)


def test_granger_matches_statsmodels() -> None:
    from statsmodels.tsa.stattools import grangercausalitytests

    hist = _granger_history()
    got = granger(hist, "x", "y", max_lag=4)
    assert list(got.columns) == GRANGER_COLUMNS
    ref = grangercausalitytests(hist.diff().dropna()[["y", "x"]].to_numpy(), 4)
    for row in got.itertuples():
        f, p, df_den, df_num = ref[row.lag][0]["ssr_ftest"]
        assert row.f_stat == pytest.approx(f, rel=1e-9)
        assert row.p_value == pytest.approx(p, abs=1e-12)
        assert (row.df_num, row.df_den) == (df_num, df_den)
    best = granger_best(hist, "x", "y", max_lag=4)
    assert best.lag == int(got.loc[got["p_value"].idxmin(), "lag"])
    assert best.lag >= 2 and best.p_value < 1e-6
    assert granger_best(hist, "y", "x", max_lag=4).p_value > 0.01


def test_granger_gappy_uses_aligned_rows() -> None:
    """With a hole, only periods whose lags are all present are used (checked by hand)."""
    from statsmodels.regression.linear_model import OLS

    hist = _granger_history(6, periods=60)
    hist.iloc[30, 0] = np.nan
    got = granger(hist, "x", "y", max_lag=2).set_index("lag")
    d = hist.diff()
    frame = pd.DataFrame({"y": d["y"]})
    for j in (1, 2):
        frame[f"y{j}"] = d["y"].shift(j)
        frame[f"x{j}"] = d["x"].shift(j)
    frame = frame.dropna()
    frame["const"] = 1.0
    full = OLS(frame["y"], frame[["y1", "y2", "x1", "x2", "const"]]).fit()
    restricted = OLS(frame["y"], frame[["y1", "y2", "const"]]).fit()
    f = (restricted.ssr - full.ssr) / full.ssr / 2 * full.df_resid
    assert got.loc[2, "f_stat"] == pytest.approx(f, rel=1e-9)
    assert got.loc[2, "df_den"] == full.df_resid
    assert got.loc[2, "p_value"] == pytest.approx(stats.f.sf(f, 2, full.df_resid), abs=1e-12)


def test_granger_short_and_constant() -> None:
    short = granger(_granger_history(periods=7), "x", "y", max_lag=3)
    assert np.isfinite(short.loc[0, "p_value"])  # lag 1: 6 diffs, 5 usable rows, df 2
    assert short.loc[2, "reason"].startswith("n=3 usable periods too few for lag 3")
    assert np.isnan(short.loc[2, "p_value"])
    flat = _granger_history().assign(x=3.0)
    res = granger(flat, "x", "y", max_lag=2)
    assert res["p_value"].isna().all() and (res["reason"] == "constant series: x").all()
    assert granger_best(flat, "x", "y").lag is None


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("x", "x"), {}, r"source and target are both 'x'"),
        (("x", "q"), {}, r"column id 'q' is not in the history"),
        (("x", "y"), {"max_lag": 0}, r"max_lag=0 must be an integer >= 1"),
    ],
)
def test_granger_bad_options(args: tuple[str, str], kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        granger(_granger_history(), *args, **kwargs)  # type: ignore[arg-type]
