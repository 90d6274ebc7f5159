"""Tests of stratlab.datasets: the Northwind example, its generator, generated maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from stratlab.datasets import (
    DECOY_LINKS,
    GAPS,
    INNOVATION_SD,
    KEY_RESULTS,
    LATE_START,
    MEASURES,
    OBJECTIVE_LEVELS,
    ROOT_SD,
    TRUE_LINKS,
    UNMODELLED_LINKS,
    example_paths,
    generate_history,
    generate_latent,
    load_example,
    make_cascade,
    make_random_map,
    true_links_frame,
    write_example,
)
from stratlab.errors import InputError
from stratlab.io import load_model
from stratlab.model import Measure, Model


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(example_paths().model)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return generate_history(seed=0)


@pytest.fixture(scope="module")
def latent() -> pd.DataFrame:
    return generate_latent(seed=0)


def lagged_diff_corr(source: pd.Series, target: pd.Series, lag: int) -> tuple[float, float]:
    """Pearson r and p of diff(source)[t - lag] against diff(target)[t], pairwise complete."""
    ds = source.diff().shift(lag)
    dt = target.diff()
    ok = ds.notna() & dt.notna()
    res = stats.pearsonr(ds[ok], dt[ok])
    return float(res.statistic), float(res.pvalue)


def own_scores(history: pd.DataFrame) -> pd.DataFrame:
    """Each objective's mean measure score (DESIGN.md formulas; band measure left out)."""
    cols: dict[str, list[pd.Series]] = {}
    for m in MEASURES:
        if m.id == "extraction_sec":
            continue
        cols.setdefault(m.objective, []).append((history[m.id] - m.at0) / (m.at1 - m.at0))
    return pd.DataFrame({o: pd.concat(s, axis=1).mean(axis=1) for o, s in cols.items()})


# --------------------------------------------------------------------------- the model file


def test_model_counts_are_in_the_required_ranges(model: Model) -> None:
    assert model.name == "Northwind Coffee"
    assert model.period == "month"
    assert [p.id for p in model.perspectives] == ["learning", "process", "customer", "financial"]
    assert 12 <= len(model.objectives) <= 16
    assert 25 <= len(model.measures) <= 35
    objective_links = [lk for lk in model.links if lk.coefficient is None]
    driver_links = [lk for lk in model.links if lk.coefficient is not None]
    assert 12 <= len(objective_links) <= 20
    assert 2 <= len(driver_links) <= 4
    assert sum(lk.lag > 0 for lk in objective_links) >= 5
    assert {lk.lag for lk in objective_links} >= {0, 1, 2, 3}
    assert sum(lk.weight is not None and lk.weight < 0 for lk in objective_links) == 1
    assert any(lk.weight_range is not None for lk in objective_links)
    assert all(lk.rationale for lk in model.links)
    assert 4 <= len(model.okrs) <= 6
    assert all(2 <= len(o.key_results) <= 4 for o in model.okrs)
    okr_ids = {o.id for o in model.okrs}
    assert sum(o.aligns_to in okr_ids for o in model.okrs) == 1  # one cascade
    assert 3 <= len(model.initiatives) <= 4
    assert all(i.budget and i.supports and i.uplift for i in model.initiatives)


def test_model_uses_band_cap_thresholds_and_both_directions(model: Model) -> None:
    directions = [m.direction for m in model.measures]
    assert directions.count("band") == 1
    assert directions.count("higher") >= 10 and directions.count("lower") >= 8
    band = next(m for m in model.measures if m.direction == "band")
    assert band.band == (25.0, 30.0) and band.tolerance == 3.0
    assert [m.id for m in model.measures if m.cap == 1.2] == ["revenue_growth"]
    assert [m.id for m in model.measures if m.thresholds is not None] == ["gross_margin"]


def test_model_file_has_only_the_allowed_keys() -> None:
    raw = yaml.safe_load(example_paths().model.read_text(encoding="utf-8"))
    allowed = {
        "top": {
            "stratlab",
            "name",
            "mission",
            "vision",
            "period",
            "as_of",
            "max_age",
            "thresholds",
            "perspectives",
            "objectives",
            "measures",
            "links",
            "okrs",
            "initiatives",
        },
        "objectives": {"id", "name", "perspective", "description", "weight", "owner"},
        "measures": {
            "id",
            "name",
            "objective",
            "direction",
            "baseline",
            "target",
            "current",
            "unit",
            "weight",
            "band",
            "tolerance",
            "cap",
            "thresholds",
            "targets",
            "aggregate",
            "max_age",
            "owner",
            "benchmark",
        },
        "links": {"from", "to", "weight", "coefficient", "lag", "rationale"},
        "okrs": {"id", "objective", "aligns_to", "key_results", "owner", "weight"},
        "key_results": {"id", "name", "start", "target", "current", "unit", "confidence", "weight"},
        "initiatives": {"id", "name", "budget", "supports", "uplift"},
    }
    assert set(raw) <= allowed["top"]
    for section in ("objectives", "measures", "links", "okrs", "initiatives"):
        for item in raw[section]:
            assert set(item) <= allowed[section], (section, item)
    for okr in raw["okrs"]:
        for kr in okr["key_results"]:
            assert set(kr) <= allowed["key_results"], kr


def test_model_agrees_with_the_generator(model: Model, history: pd.DataFrame) -> None:
    specs = {m.id: m for m in MEASURES}
    assert [m.id for m in model.measures] == list(specs)
    for m in model.measures:
        spec = specs[m.id]
        assert m.objective == spec.objective
        if m.direction != "band":
            assert (m.baseline, m.target) == (spec.at0, spec.at1)
        # current is the latest value in the history
        assert m.current == history[m.id].dropna().iloc[-1], m.id
    assert [o.id for o in model.objectives] == list(OBJECTIVE_LEVELS)
    krs = {kr.id: kr for okr in model.okrs for kr in okr.key_results}
    assert list(krs) == [k.id for k in KEY_RESULTS]
    for k in KEY_RESULTS:
        assert (krs[k.id].start, krs[k.id].target, krs[k.id].current) == (
            k.start,
            k.target,
            k.current,
        )
        assert history[k.id].iloc[-1] == k.current


def test_model_links_are_the_true_ones_plus_the_decoy(model: Model) -> None:
    in_model = {(lk.source, lk.target, lk.lag) for lk in model.links}
    true_in_model = {(t.source, t.target, t.lag) for t in TRUE_LINKS if t.in_model}
    decoys = {(d.source, d.target, d.lag) for d in DECOY_LINKS}
    assert in_model == true_in_model | decoys
    assert not decoys & {(t.source, t.target, t.lag) for t in TRUE_LINKS}
    assert {(u.source, u.target) for u in UNMODELLED_LINKS} == {("engagement", "speed")}
    assert not {(u.source, u.target, u.lag) for u in UNMODELLED_LINKS} & in_model
    by_pair = {(lk.source, lk.target): lk for lk in model.links}
    for t in TRUE_LINKS:
        if not t.in_model:
            continue
        lk = by_pair[(t.source, t.target)]
        if t.kind == "driver":
            assert lk.coefficient == t.weight
        else:
            assert lk.weight is not None and np.sign(lk.weight) == np.sign(t.weight)


def test_example_scores_show_green_amber_and_red(model: Model) -> None:
    # independent implementation of the DESIGN.md measure score
    def score(m: Measure) -> float:
        v = m.current
        assert v is not None
        if m.direction == "band":
            assert m.band is not None and m.tolerance is not None
            lo, hi = m.band
            dist = max(lo - v, v - hi, 0.0)
            s = 1.0 - dist / m.tolerance
        else:
            assert m.baseline is not None and m.target is not None
            s = (v - m.baseline) / (m.target - m.baseline)
        return min(max(s, 0.0), m.cap)

    statuses = []
    for m in model.measures:
        green, amber = (m.thresholds.green, m.thresholds.amber) if m.thresholds else (0.7, 0.4)
        s = score(m)
        statuses.append("green" if s >= green else "amber" if s >= amber else "red")
    for status in ("green", "amber", "red"):
        assert statuses.count(status) >= 5, statuses


# --------------------------------------------------------------------------- the generator


def test_history_shape_index_and_columns(history: pd.DataFrame) -> None:
    assert isinstance(history.index, pd.PeriodIndex)
    assert history.index.freqstr == "M" and history.index.name == "period"
    assert str(history.index[0]) == "2021-01" and str(history.index[-1]) == "2025-12"
    assert list(history.columns) == [m.id for m in MEASURES] + [k.id for k in KEY_RESULTS]
    assert all(dtype == np.float64 for dtype in history.dtypes)


def test_history_has_the_documented_gaps(history: pd.DataFrame) -> None:
    for mid, months in GAPS.items():
        for month in months:
            assert np.isnan(history.loc[pd.Period(month, freq="M"), mid])
        assert history[mid].isna().sum() == len(months)
    late = history["forecast_accuracy"]
    assert late.first_valid_index() == pd.Period(LATE_START["forecast_accuracy"], freq="M")
    others = [m.id for m in MEASURES if m.id not in GAPS and m.id not in LATE_START]
    assert not history[others].isna().any().any()
    kr = history[[k.id for k in KEY_RESULTS]]
    assert kr.iloc[:-3].isna().all().all() and kr.iloc[-3:].notna().all().all()
    full = generate_history(seed=0, gaps=False, key_results=False)
    assert list(full.columns) == [m.id for m in MEASURES] and not full.isna().any().any()


def test_history_values_are_realistic(history: pd.DataFrame) -> None:
    pct = ["certified_pct", "staff_turnover", "csat", "supplier_otif", "gross_margin"]
    assert ((history[pct] >= 0) & (history[pct] <= 100) | history[pct].isna()).all().all()
    assert history["wait_min"].between(2, 12).all()
    assert history["nps"].between(0, 70).all()
    assert history["extraction_sec"].between(20, 36).all()


def test_generator_is_reproducible_for_a_seed_and_different_for_another() -> None:
    a = generate_history(seed=7, periods=24)
    b = generate_history(seed=7, periods=24)
    c = generate_history(seed=8, periods=24)
    pd.testing.assert_frame_equal(a, b)
    measures = [m.id for m in MEASURES]
    assert not np.allclose(a[measures].fillna(0), c[measures].fillna(0))
    pd.testing.assert_frame_equal(
        generate_latent(seed=7, periods=24), generate_latent(seed=7, periods=24)
    )


def test_start_and_periods_are_honoured() -> None:
    h = generate_history(seed=1, start="2019-04", periods=12)
    assert len(h) == 12 and str(h.index[0]) == "2019-04"
    # GAPS and LATE_START months outside the window are simply ignored
    assert h["forecast_accuracy"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"periods": 2}, r"periods=2\): periods must be an integer of at least 4"),
        ({"periods": 12.5}, r"periods must be an integer"),
        ({"start": "next spring"}, r"start='next spring'\): not a month.*YYYY-MM"),
    ],
)
def test_generator_rejects_bad_options(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        generate_history(**kwargs)


def test_innovation_sd_follows_the_documented_rule() -> None:
    for obj, sd in INNOVATION_SD.items():
        w = [t.weight for t in TRUE_LINKS if t.kind == "objective" and t.target == obj]
        assert sd == pytest.approx(ROOT_SD * np.sqrt(1 - sum(x * x for x in w)), abs=1e-4)


def test_latent_is_the_one_behind_the_history(history: pd.DataFrame, latent: pd.DataFrame) -> None:
    # a measure with no driver: score = x_o + bias + noise, noise sd as documented
    spec = next(m for m in MEASURES if m.id == "dashboard_adoption")
    score = (history[spec.id] - spec.at0) / (spec.at1 - spec.at0)
    resid = score - latent[spec.objective] - spec.bias
    assert abs(resid.mean()) < 0.01
    assert resid.std() == pytest.approx(spec.noise, rel=0.3)
    assert latent.min().min() > -0.3 and latent.max().max() < 1.2


def test_true_links_are_visible_on_differenced_latent_series(latent: pd.DataFrame) -> None:
    for t in TRUE_LINKS:
        if t.kind != "objective":
            continue
        r, p = lagged_diff_corr(latent[t.source], latent[t.target], t.lag)
        assert np.sign(r) == np.sign(t.weight), t
        assert abs(r) > 0.25 and p < 0.05, (t, r, p)


def test_true_links_are_visible_on_measured_scores(history: pd.DataFrame) -> None:
    own = own_scores(history)
    significant = 0
    for t in TRUE_LINKS:
        if t.kind == "objective":
            r, p = lagged_diff_corr(own[t.source], own[t.target], t.lag)
        else:
            r, p = lagged_diff_corr(history[t.source], history[t.target], t.lag)
        assert np.sign(r) == np.sign(t.weight), (t, r)
        significant += p < 0.01
    assert significant >= len(TRUE_LINKS) - 4
    # the strongest links are unmistakable
    for src, dst, lag in [
        ("skills", "speed", 1),
        ("experience", "loyalty", 1),
        ("loyalty", "growth", 1),
    ]:
        r, p = lagged_diff_corr(own[src], own[dst], lag)
        assert r > 0.45 and p < 1e-3


def test_true_link_peaks_at_its_lag(latent: pd.DataFrame) -> None:
    r = {k: lagged_diff_corr(latent["experience"], latent["loyalty"], k)[0] for k in range(4)}
    assert max(r, key=lambda k: r[k]) == 1


def test_decoy_shares_only_a_trend(history: pd.DataFrame) -> None:
    own = own_scores(history)
    for d in DECOY_LINKS:
        levels = np.corrcoef(own[d.source], own[d.target])[0, 1]
        r, p = lagged_diff_corr(own[d.source], own[d.target], d.lag)
        assert levels > 0.4  # spurious correlation of two trending series
        assert abs(r) < 0.2 and p > 0.1


def test_true_links_frame() -> None:
    frame = true_links_frame()
    assert list(frame.columns) == [
        "source",
        "target",
        "weight",
        "lag",
        "kind",
        "in_model",
        "decoy",
        "share",
    ]
    assert len(frame) == len(TRUE_LINKS) + len(DECOY_LINKS)
    objective = frame[(frame["kind"] == "objective") & ~frame["decoy"]]
    assert np.allclose(objective.groupby("target")["share"].sum(), 1.0)
    assert frame.loc[frame["decoy"], "share"].eq(0).all()
    assert frame.loc[frame["kind"] == "driver", "share"].isna().all()
    assert len(true_links_frame(include_decoys=False)) == len(TRUE_LINKS)


# --------------------------------------------------------------------------- bundled files


def test_committed_csv_equals_a_fresh_generation(history: pd.DataFrame) -> None:
    path = example_paths().history
    assert path.stat().st_size < 200_000
    committed = pd.read_csv(path, index_col="period")
    committed.index = pd.PeriodIndex(committed.index, freq="M", name="period")
    pd.testing.assert_frame_equal(
        committed,
        history,
        check_exact=False,
        rtol=1e-12,
        obj="northwind_history.csv vs generate_history(seed=0): regenerate with `python -m stratlab.datasets`",
    )


def test_load_example(history: pd.DataFrame) -> None:
    model, loaded = load_example()
    assert model.name == "Northwind Coffee"
    pd.testing.assert_frame_equal(loaded, history, check_exact=False, rtol=1e-12, check_freq=False)


def test_write_example_writes_loadable_files_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder"
    written = write_example(target)
    assert [p.name for p in written] == ["northwind.yaml", "northwind_history.csv"]
    assert written[0].read_bytes() == example_paths().model.read_bytes()
    assert load_model(written[0]).name == "Northwind Coffee"
    written[1].write_text("edited", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"northwind_history\.csv' exists already.*overwrite=True"
    ) as info:
        write_example(target)
    assert len(info.value.problems) == 2
    assert written[1].read_text(encoding="utf-8") == "edited"  # nothing written
    write_example(target, overwrite=True)
    assert written[1].read_bytes() == example_paths().history.read_bytes()


def test_write_example_refuses_a_file_as_folder(tmp_path: Path) -> None:
    file = tmp_path / "not_a_folder"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"not_a_folder' is a file, not a folder"):
        write_example(file)


# --------------------------------------------------------------------------- generated maps


def _lag0_is_acyclic(links: list[dict[str, Any]]) -> bool:
    edges = [(lk["from"], lk["to"]) for lk in links if lk.get("lag", 0) == 0]
    nodes = {n for e in edges for n in e}
    indeg = dict.fromkeys(nodes, 0)
    for _, b in edges:
        indeg[b] += 1
    queue = [n for n, d in indeg.items() if d == 0]
    seen = 0
    while queue:
        n = queue.pop()
        seen += 1
        for a, b in edges:
            if a == n:
                indeg[b] -= 1
                if indeg[b] == 0:
                    queue.append(b)
    return seen == len(nodes)


@pytest.mark.parametrize("seed", range(10))
def test_random_maps_are_valid_models(seed: int) -> None:
    data = make_random_map(seed=seed)
    model = load_model(data)
    assert len(model.objectives) == 8 and len(model.measures) == 14
    assert sum(len(o.key_results) for o in model.okrs) == 6
    assert len([lk for lk in model.links if lk.coefficient is None]) == 10
    assert _lag0_is_acyclic(data["links"])


def test_random_maps_exercise_every_rule() -> None:
    maps = [make_random_map(seed=s) for s in range(10)]
    measures = [m for d in maps for m in d["measures"]]
    links = [lk for d in maps for lk in d["links"]]
    assert {m["direction"] for m in measures} == {"higher", "lower", "band"}
    assert any(m.get("cap") == 1.2 for m in measures)
    assert any(lk.get("weight", 1) < 0 for lk in links)
    assert any("coefficient" in lk for lk in links)
    okr_ids = {o["id"] for d in maps for o in d["okrs"]}
    assert any(o["aligns_to"] in okr_ids for d in maps for o in d["okrs"])
    assert make_random_map(seed=3) == make_random_map(seed=3)
    assert make_random_map(seed=3) != make_random_map(seed=4)


def test_cascade_default_sizes() -> None:
    data = make_cascade()
    assert len(data["objectives"]) == 1600 and len(data["measures"]) == 3000
    assert sum(len(o["key_results"]) for o in data["okrs"]) == 300
    objective_links = [lk for lk in data["links"] if "weight" in lk]
    assert len(objective_links) == 5000
    position = {o["id"]: i for i, o in enumerate(data["objectives"])}
    backward = [lk for lk in objective_links if position[lk["from"]] > position[lk["to"]]]
    assert backward and all(lk["lag"] >= 1 for lk in backward)  # feedback is lagged
    assert all(
        position[lk["from"]] < position[lk["to"]] for lk in objective_links if lk.get("lag", 0) == 0
    )
    model = load_model(
        make_cascade(
            n_objectives=200, n_measures=300, n_key_results=40, n_links=600, n_driver_links=10
        )
    )
    assert len(model.objectives) == 200


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"n_objectives": 0},
            r"make_random_map\(n_objectives=0\): n_objectives must be an integer of at least 1",
        ),
        ({"inverse_share": 1.5}, r"inverse_share must be a number between 0 and 1"),
        ({"period": "week"}, r"unknown period.*'quarter'"),
        (
            {"n_objectives": 3, "n_links": 10},
            r"10 links do not fit between 3 objectives.*fewer links",
        ),
        ({"n_measures": 3, "n_driver_links": 5, "band_share": 0}, r"5 driver links do not fit"),
    ],
)
def test_random_map_rejects_bad_options(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_random_map(**kwargs)
