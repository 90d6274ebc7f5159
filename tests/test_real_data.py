"""Real KPI exports (issue 9): periods, cadences, aggregation, phased targets, as-of and staleness.

Fixtures are built the way spreadsheets write them; every expectation is
computed by hand in the test.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stratlab import load_history, load_model, score, score_history
from stratlab.cli import main
from stratlab.errors import InputError, StratlabWarning
from stratlab.periods import aggregate_frame, column_step, parse_period
from stratlab.scoring import movers, scores_to_date

HOSPITAL = textwrap.dedent(
    """\
    stratlab: 1
    name: St Mary's Hospital Group
    period: month
    objectives:
      - {id: workforce, name: Stable workforce, perspective: learning, owner: Director of Nursing}
      - {id: flow, name: Patient flow, perspective: process}
      - {id: experience, name: Patient experience, perspective: customer}
      - {id: finance, name: Financial health, perspective: financial}
    measures:
      - id: nurse_turnover
        name: Nurse turnover
        objective: workforce
        direction: lower
        baseline: 18
        target: 12
        unit: "%"
        owner: HR
        targets: {2025Q3: 15, 2025-09: 14}
      - {id: occupancy, name: Bed occupancy, objective: flow, direction: lower, baseline: 98, target: 85, unit: "%", aggregate: mean}
      - {id: admissions, name: Admissions, objective: finance, baseline: 2000, target: 3000, unit: patients, aggregate: sum}
      - {id: satisfaction, name: Patient satisfaction, objective: experience, baseline: 60, target: 90, unit: pts}
      - {id: agency_spend, name: Agency spend, objective: finance, direction: lower, baseline: 500, target: 300, unit: kEUR, max_age: 1}
      - {id: wait_days, name: Waiting days, objective: flow, direction: lower, baseline: 40, target: 20, unit: days, aggregate: max}
    """
)

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
NAN = float("nan")
DATA: dict[str, list[float]] = {
    "nurse_turnover": [17.0, 16.5, 16.8, 16.0, 15.5, 15.2, 15.0, 14.6, 14.2, 14.0, 13.8, 13.5],
    "occupancy": [95, 96, 94, 93, 92, 94, 90, 91, 92, 89, 88, 90],
    "admissions": [650, 640, 700, 680, 660, 690, 700, 690, 720, 730, 710, 760],
    # quarterly: reported at each quarter's last month only
    "satisfaction": [NAN, NAN, 70, NAN, NAN, 72, NAN, NAN, 75, NAN, NAN, 78],
    # stopped in April (max_age 1 allows one review period)
    "agency_spend": [480, 470, 460, 450] + [NAN] * 8,
    # stopped in June
    "wait_days": [35, 33, 34, 30, 31, 29] + [NAN] * 6,
}


@pytest.fixture
def hospital(tmp_path: Path) -> tuple[Path, Path]:
    """The model and its monthly wide CSV export (blank cells where nothing was reported)."""
    model = tmp_path / "hospital.yaml"
    model.write_text(HOSPITAL, encoding="utf-8")
    lines = ["period," + ",".join(DATA)]
    for i, month in enumerate(MONTHS):
        cells = ["" if v != v else f"{v:g}" for v in (DATA[k][i] for k in DATA)]
        lines.append(month + "," + ",".join(cells))
    hist = tmp_path / "kpis.csv"
    hist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return model, hist


def rows(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in frame.to_dict("records")}


# --------------------------------------------------------------------------- one period parser


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2025Q3", pd.Period("2025Q3", freq="Q")),
        ("2025-q3", pd.Period("2025Q3", freq="Q")),
        ("Q3 2025", pd.Period("2025Q3", freq="Q")),
        ("2025-07", pd.Period("2025-07", freq="M")),
        ("Jan-2024", pd.Period("2024-01", freq="M")),
        ("January 2024", pd.Period("2024-01", freq="M")),
        ("Jun-2025", pd.Period("2025-06", freq="M")),
        ("01/2024", pd.Period("2024-01", freq="M")),
        ("2025", pd.Period("2025", freq="Y")),
        ("2025-07-31", pd.Period("2025-07-31", freq="D")),
        ("2025-07-31 00:00:00", pd.Period("2025-07-31", freq="D")),
        ("31/07/2025", pd.Period("2025-07-31", freq="D")),  # only day-first makes sense
        ("01/02/2024", pd.Period("2024-01-02", freq="D")),  # month-first by default
        ("24Q4", None),
        ("last spring", None),
        ("2025-13", None),
        ("Foo-2024", None),
    ],
)
def test_parse_period(label: str, expected: pd.Period | None) -> None:
    assert parse_period(label) == expected


def test_dayfirst() -> None:
    assert parse_period("01/02/2024", dayfirst=True) == pd.Period("2024-02-01", freq="D")


def test_history_rows_take_every_label_the_flag_takes(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("period,nps\nMay-2025,30\nJun-2025,31\n07/2025,33\n", encoding="utf-8")
    hist = load_history(path)
    assert [str(p) for p in hist.index] == ["2025-05", "2025-06", "2025-07"]
    assert hist["nps"].tolist() == [30.0, 31.0, 33.0]


def test_day_first_dates_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    # month-end dates written day-first: 31/01 makes the whole column day-first
    path.write_text("period,nps\n31/01/2024,30\n01/02/2024,31\n", encoding="utf-8")
    assert [str(p) for p in load_history(path).index] == ["2024-01", "2024-02"]
    ambiguous = tmp_path / "a.csv"
    ambiguous.write_text("period,nps\n01/02/2024,30\n01/03/2024,31\n", encoding="utf-8")
    assert [str(p) for p in load_history(ambiguous).index] == ["2024-01"]  # Jan 2 and Jan 3
    assert [str(p) for p in load_history(ambiguous, dayfirst=True).index] == ["2024-02", "2024-03"]


def test_period_flag_is_parsed_by_the_same_parser(hospital: tuple[Path, Path]) -> None:
    model, hist = hospital
    by_name = rows(score(model, hist, period="Jun-2025"))
    by_iso = rows(score(model, hist, period="2025-06"))
    assert by_name["nurse_turnover"]["value"] == by_iso["nurse_turnover"]["value"] == 15.2
    with pytest.raises(InputError, match=r"period '24Q4' is not a period"):
        score(model, hist, period="24Q4")


# --------------------------------------------------------------------------- cadence and aggregation


def test_quarter_of_a_monthly_history_is_the_aggregate_of_its_months(
    hospital: tuple[Path, Path],
) -> None:
    model, hist = hospital
    got = rows(score(model, hist, period="2025Q3"))
    # July–September, each measure by its own rule
    assert got["nurse_turnover"]["value"] == 14.2  # last
    assert got["occupancy"]["value"] == pytest.approx((90 + 91 + 92) / 3)  # mean
    assert got["admissions"]["value"] == 700 + 690 + 720  # sum
    assert got["satisfaction"]["value"] == 75  # quarterly KPI: its September report
    assert got["agency_spend"]["value"] == 450  # carried from April (2025Q2)
    assert got["wait_days"]["value"] == 31  # max of Apr–Jun, carried from 2025Q2
    # scores against the target in force: 2025-09's entry (14) is the latest starting by Sep 30
    assert got["nurse_turnover"]["target"] == 14
    assert got["nurse_turnover"]["score"] == pytest.approx((18 - 14.2) / (18 - 14))
    assert got["occupancy"]["score"] == pytest.approx((98 - 91) / (98 - 85))
    assert got["admissions"]["score"] == pytest.approx((2110 - 2000) / 1000)
    assert got["wait_days"]["score"] == pytest.approx((40 - 31) / (40 - 20))
    # as_of and stale (max_age: model default 0, agency_spend 1)
    assert got["nurse_turnover"]["as_of"] == "2025Q3" and not got["nurse_turnover"]["stale"]
    assert got["agency_spend"]["as_of"] == "2025Q2" and not got["agency_spend"]["stale"]
    assert got["wait_days"]["as_of"] == "2025Q2" and got["wait_days"]["stale"]
    assert got["nurse_turnover"]["unit"] == "%" and got["nurse_turnover"]["owner"] == "HR"
    assert got["workforce"]["owner"] == "Director of Nursing"


def test_phased_targets_month_by_month(hospital: tuple[Path, Path]) -> None:
    model, hist = hospital
    target = {m: rows(score(model, hist, period=m))["nurse_turnover"]["target"] for m in MONTHS}
    assert [target[m] for m in MONTHS] == [12] * 6 + [15, 15, 14, 14, 14, 14]
    sh = score_history(model, hist)
    values = np.array(DATA["nurse_turnover"])
    expected = (18 - values) / (18 - np.array([target[m] for m in MONTHS]))
    np.testing.assert_allclose(sh["nurse_turnover"].to_numpy(), np.clip(expected, 0, 1))


def test_a_stopped_series_is_stale_not_current(hospital: tuple[Path, Path]) -> None:
    model, hist = hospital
    got = rows(score(model, hist))  # December
    assert got["wait_days"]["value"] == 29 and got["wait_days"]["as_of"] == "2025-06"
    assert got["wait_days"]["stale"]
    # agency_spend stopped in April: 8 months > max_age 1
    assert got["agency_spend"]["as_of"] == "2025-04" and got["agency_spend"]["stale"]
    assert got["nurse_turnover"]["as_of"] == "2025-12" and not got["nurse_turnover"]["stale"]
    # the quarterly KPI is read at its own frequency: December's report is current ...
    assert got["satisfaction"]["as_of"] == "2025-12" and not got["satisfaction"]["stale"]
    # ... and in November the latest report is one quarter old
    nov = rows(score(model, hist, period="2025-11"))
    assert nov["satisfaction"]["as_of"] == "2025-09" and nov["satisfaction"]["stale"]
    # in August the latest report is June's (2025Q2): one quarter old
    aug = rows(score(model, hist, period="2025-08"))
    assert aug["satisfaction"]["as_of"] == "2025-06" and aug["satisfaction"]["stale"]


def test_movers_and_scores_to_date_follow_the_review_period(hospital: tuple[Path, Path]) -> None:
    model, hist = hospital
    past = scores_to_date(model, hist, period="2025Q3")
    assert [str(p) for p in past.index] == ["2025Q1", "2025Q2", "2025Q3"]
    # Q2: occupancy is the mean of April–June
    assert past.loc["2025Q2", "occupancy"] == pytest.approx((98 - (93 + 92 + 94) / 3) / 13)
    mv = movers(model, hist, period="2025Q3", top=None)
    assert set(mv["since"]) == {"2025Q2"}
    adm = mv.set_index("id").loc["admissions"]
    assert adm["previous"] == pytest.approx((680 + 660 + 690 - 2000) / 1000)
    assert adm["score"] == pytest.approx((2110 - 2000) / 1000)


def test_score_history_at_a_coarser_frequency(hospital: tuple[Path, Path]) -> None:
    model, hist = hospital
    sh = score_history(model, hist, freq="Q")
    assert [str(p) for p in sh.index] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert sh.loc["2025Q4", "admissions"] == pytest.approx((730 + 710 + 760 - 2000) / 1000)


def test_cli_score_period_quarter_on_monthly_data(
    hospital: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, hist = hospital
    assert main(["score", str(model), str(hist), "--period", "2025Q3", "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("id")
    raw = pd.DataFrame(DATA, index=pd.PeriodIndex(MONTHS, freq="M"))
    q3 = raw.loc["2025-07":"2025-09"]
    assert out.loc["nurse_turnover", "value"] == q3["nurse_turnover"].dropna().iloc[-1]
    assert out.loc["occupancy", "value"] == pytest.approx(q3["occupancy"].mean())
    assert out.loc["admissions", "value"] == q3["admissions"].sum()
    assert out.loc["nurse_turnover", "target"] == 14
    assert out.loc["wait_days", "as_of"] == "2025Q2"
    assert bool(out.loc["wait_days", "stale"]) and not bool(out.loc["occupancy", "stale"])


def test_column_step() -> None:
    assert column_step(DATA["satisfaction"], "M") == 3
    assert column_step(DATA["nurse_turnover"], "M") == 1
    assert column_step([1, NAN, 2, NAN, NAN, 3], "M") == 1  # gaps, not a frequency
    assert column_step([1, NAN, NAN, NAN, 2], "Q") == 4


# --------------------------------------------------------------------------- property


def _quarterly_last(monthly: pd.DataFrame) -> pd.DataFrame:
    """Independent resample: the last reported value of each quarter (NaN if none)."""
    out = monthly.groupby(monthly.index.asfreq("Q")).agg(
        lambda s: s.dropna().iloc[-1] if s.notna().any() else np.nan
    )
    out.index = pd.PeriodIndex(out.index, freq="Q")
    return out.reindex(pd.period_range(out.index.min(), out.index.max(), freq="Q"))


SMALL = textwrap.dedent(
    """\
    stratlab: 1
    name: Small
    period: {period}
    objectives:
      - {{id: a, name: A, perspective: learning}}
      - {{id: b, name: B, perspective: customer}}
    measures:
      - {{id: m1, name: M1, objective: a, baseline: 0, target: 10}}
      - {{id: m2, name: M2, objective: a, direction: lower, baseline: 50, target: 20}}
      - {{id: m3, name: M3, objective: b, baseline: 5, target: 9, targets: {{2024Q3: 8}}}}
    links:
      - {{from: a, to: b, weight: 0.5}}
    """
)


def test_property_quarterly_last_scores_as_the_quarters_last_month() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    monthly_model = load_model(__import__("yaml").safe_load(SMALL.format(period="month")))
    quarterly_model = load_model(__import__("yaml").safe_load(SMALL.format(period="quarter")))
    cell = st.one_of(st.none(), st.floats(-20, 80, allow_nan=False).map(lambda v: round(v, 2)))

    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.tuples(cell, cell, cell), min_size=6, max_size=12))
    def check(cells: list[tuple[float | None, float | None, float | None]]) -> None:
        index = pd.period_range("2024-01", periods=len(cells), freq="M")
        monthly = pd.DataFrame(cells, index=index, columns=["m1", "m2", "m3"], dtype=float)
        if monthly.isna().all().all():
            return
        quarterly = _quarterly_last(monthly)
        for q in quarterly.index:
            last_month = q.asfreq("M", how="end")
            if last_month > index[-1]:
                last_month = index[-1]
            by_q = score(quarterly_model, quarterly, period=q).set_index("id")["score"]
            by_m = score(monthly_model, monthly, period=last_month).set_index("id")["score"]
            by_flag = score(monthly_model, monthly, period=str(q)).set_index("id")["score"]
            pd.testing.assert_series_equal(by_q, by_m, check_names=False)
            pd.testing.assert_series_equal(by_q, by_flag, check_names=False)

    check()


def test_aggregate_frame_rules() -> None:
    index = pd.period_range("2025-01", periods=6, freq="M")
    wide = pd.DataFrame(
        {"a": [1, 2, NAN, 4, NAN, NAN], "b": [1, 2, 3, 4, 5, 6], "c": [NAN] * 6},
        index=index,
    )
    out = aggregate_frame(wide, "Q", {"a": "last", "b": "sum", "c": "mean"})
    assert out["a"].tolist() == [2, 4]
    assert out["b"].tolist() == [6, 15]
    assert out["c"].isna().all()  # nothing reported: no value, not 0


# --------------------------------------------------------------------------- a quarterly KPI in a monthly file


def test_quarterly_kpi_in_a_monthly_file_has_a_trend(hospital: tuple[Path, Path]) -> None:
    from stratlab.plots import kpi_trends

    model, hist = hospital
    fig = kpi_trends(load_history(hist, load_model(model)), load_model(model))
    kpi = {t.meta["id"]: t for t in fig.data if t.meta["role"] == "kpi"}
    assert list(kpi["satisfaction"].y) == [70, 72, 75, 78]  # its own four quarters, joined
    assert [str(x)[:7] for x in kpi["satisfaction"].x] == [
        "2025-03",
        "2025-06",
        "2025-09",
        "2025-12",
    ]
    assert len(kpi["nurse_turnover"].y) == 12
    # phased targets are drawn as the target in force month by month
    target = next(
        t for t in fig.data if t.meta["role"] == "target" and t.meta["id"] == "nurse_turnover"
    )
    assert list(target.y) == [12] * 6 + [15, 15, 14, 14, 14, 14]


def test_correlations_with_a_quarterly_kpi_use_the_quarters_both_have(
    hospital: tuple[Path, Path],
) -> None:
    from scipy import stats

    from stratlab.stats import correlate

    model, hist = hospital
    wide = load_history(hist, load_model(model))
    res = correlate(wide[["nurse_turnover", "occupancy", "satisfaction"]], min_periods=3)
    row = res.set_index(["source", "target"]).loc[("nurse_turnover", "satisfaction")]
    # by hand: quarter-end values (last of each quarter), differenced: 3 quarters
    nt_q = np.diff([16.8, 15.2, 14.2, 13.5])
    sat_q = np.diff([70, 72, 75, 78])
    assert row["n"] == 3
    assert row["r"] == pytest.approx(stats.pearsonr(nt_q, sat_q).statistic)
    # monthly pairs stay monthly: 11 month-over-month changes
    monthly = res.set_index(["source", "target"]).loc[("nurse_turnover", "occupancy")]
    assert monthly["n"] == 11
    assert monthly["r"] == pytest.approx(
        stats.pearsonr(np.diff(DATA["nurse_turnover"]), np.diff(DATA["occupancy"])).statistic
    )


# --------------------------------------------------------------------------- model keys


def test_new_model_keys_round_trip_through_every_format(tmp_path: Path) -> None:
    import json

    from stratlab import save_model
    from stratlab.model import Benchmark, model_schema

    text = HOSPITAL.replace("period: month", "period: month\nas_of: 2025-11-15\nmax_age: 1")
    text = text.replace(
        "owner: HR\n",
        "owner: HR\n    benchmark: {value: 13.5, label: peer median}\n    max_age: 0\n",
    )
    model = load_model(__import__("yaml").safe_load(text))
    nt = model.get("nurse_turnover")
    assert model.as_of == "2025-11-15" and model.max_age == 1
    assert nt.benchmark == Benchmark(13.5, "peer median") and nt.max_age == 0
    assert nt.targets == (("2025Q3", 15.0), ("2025-09", 14.0))
    assert model.get("occupancy").aggregate == "mean"
    for suffix in (".yaml", ".json", ".xlsx"):
        path = save_model(model, tmp_path / f"m{suffix}")
        assert load_model(path) == model, suffix
    schema = model_schema()
    props = schema["$defs"]["measures"]["properties"]
    assert props["aggregate"]["enum"] == ["last", "mean", "sum", "min", "max"]
    assert {"targets", "max_age", "benchmark"} <= props.keys()
    assert {"as_of", "max_age"} <= schema["properties"].keys()
    assert schema["properties"]["period"]["enum"] == ["quarter", "month", "year"]
    json.dumps(schema)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("targets: {2025Q3: 15}", None),
        (
            "targets: {next year: 15}",
            r"measures\[0\]\.targets\.next year: 'next year' is not a period",
        ),
        (
            "targets: {2025Q3: 20}",
            r"direction is 'lower' but the target 20 for 2025Q3 is above baseline 18",
        ),
        ("targets: {2025Q3: fifteen}", r"targets\.2025Q3: must be a number"),
        ("aggregate: median", r"'median' is not one of last, mean, sum, min, max"),
        ("max_age: -1", r"max_age: must be 0 or more"),
        ("benchmark: {value: 13, lable: peers}", r"benchmark\.lable: unknown key 'lable'.*'label'"),
        ("benchmark: {label: peers}", r"a benchmark needs a value"),
        ("benchmark: 13", r"must be a mapping \{value: 12, label: peer median\}"),
    ],
)
def test_new_measure_keys_are_validated(change: str, expected: str | None) -> None:
    import yaml

    from stratlab import ModelError

    data = {
        "stratlab": 1,
        "name": "x",
        "objectives": [{"id": "o", "name": "O", "perspective": "learning"}],
        "measures": [
            {
                "id": "nurse_turnover",
                "name": "Turnover",
                "objective": "o",
                "direction": "lower",
                "baseline": 18,
                "target": 12,
                "unit": "%",
                **yaml.safe_load(change),
            }
        ],
    }
    if expected is None:
        load_model(data)
    else:
        with pytest.raises(ModelError, match=expected):
            load_model(data)


def test_model_as_of_must_be_a_date() -> None:
    from stratlab import ModelError

    base = {
        "stratlab": 1,
        "name": "x",
        "objectives": [{"id": "o", "name": "O", "perspective": "learning"}],
    }
    assert load_model({**base, "as_of": "2025-11-15"}).as_of == "2025-11-15"
    with pytest.raises(ModelError, match=r"as_of: must be a date such as 2025-11-15"):
        load_model({**base, "as_of": "soon"})


def test_validate_names_stale_series(
    hospital: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, hist = hospital
    assert main(["validate", str(model), str(hist)]) == 0
    err = capsys.readouterr().err
    assert (
        "2 stale series at 2025-12: agency_spend (last value 2025-04), wait_days (last value 2025-06)"
        in err
    )


# --------------------------------------------------------------------------- units and spreadsheet exports


def _workbook(path: Path, *, percent_format: bool = True) -> Path:
    """An Excel export: a notes sheet first, then the KPIs with month-end dates and % cells."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    notes = wb.active
    assert notes is not None
    notes.title = "README"
    notes.append(["Exported from the HR system"])
    ws = wb.create_sheet("KPIs")
    ws.append(["Period", "nurse_turnover", "occupancy", "admissions"])
    ends = [dt.datetime(2025, m, d) for m, d in ((1, 31), (2, 28), (3, 31))]
    turnover = [0.167, 0.162, 0.153]
    occupancy = ["95.5%", "94%", "93.25%"]  # text with a % sign
    admissions = [1234, 1302, 1250]
    for end, t, o, a in zip(ends, turnover, occupancy, admissions, strict=True):
        ws.append([end, t, o, a])
        row = ws.max_row
        ws.cell(row, 1).number_format = "dd/mm/yyyy"
        if percent_format:
            ws.cell(row, 2).number_format = "0.0%"
        ws.cell(row, 4).number_format = "#,##0"
    wb.save(path)
    return path


def test_percent_cells_and_percent_text_read_as_percent(
    tmp_path: Path, hospital: tuple[Path, Path]
) -> None:
    model = load_model(hospital[0])
    hist = load_history(_workbook(tmp_path / "kpis.xlsx"), model, sheet="KPIs")
    assert [str(p) for p in hist.index] == ["2025-01", "2025-02", "2025-03"]
    np.testing.assert_allclose(hist["nurse_turnover"], [16.7, 16.2, 15.3])
    np.testing.assert_allclose(hist["occupancy"], [95.5, 94.0, 93.25])
    assert hist["admissions"].tolist() == [1234, 1302, 1250]
    got = rows(score(model, hist))
    # 15.3 % against baseline 18, target 12: (18 − 15.3) / 6, amber — not green at 0.153
    assert got["nurse_turnover"]["score"] == pytest.approx(0.45)
    assert got["nurse_turnover"]["status"] == "amber"


def test_fractions_of_a_percent_measure_are_a_located_error(
    tmp_path: Path, hospital: tuple[Path, Path]
) -> None:
    from stratlab import HistoryError

    model = load_model(hospital[0])
    path = _workbook(tmp_path / "kpis.xlsx", percent_format=False)
    with pytest.raises(HistoryError) as info:
        load_history(path, model, sheet="KPIs")
    text = str(info.value)
    assert "sheet 'KPIs', column 'nurse_turnover'" in text
    assert (
        "all its 3 values lie in [0, 1.5] (e.g. 0.167): they are fractions, 100× too small" in text
    )
    assert "multiply by 100 (write 16.7 for 0.167)" in text
    with pytest.warns(StratlabWarning, match=r"fixed 3 cell\(s\): 3 multiplied by 100"):
        fixed = load_history(path, model, sheet="KPIs", coerce=True)
    np.testing.assert_allclose(fixed["nurse_turnover"], [16.7, 16.2, 15.3])
    assert fixed.attrs["fixed"] == 3


def test_history_problems_name_the_sheet(tmp_path: Path, hospital: tuple[Path, Path]) -> None:
    from stratlab import HistoryError

    model = load_model(hospital[0])
    path = _workbook(tmp_path / "kpis.xlsx")
    with pytest.raises(
        HistoryError,
        match=r"kpis\.xlsx, sheet 'README': the history has no rows.*also has the sheet\(s\) 'KPIs': choose .* with sheet=",
    ):
        load_history(path, model)
    with pytest.raises(HistoryError, match=r"no sheet 'KPI'.*did you mean 'KPIs'\?"):
        load_history(path, model, sheet="KPI")


def test_semicolon_csv_with_decimal_comma(tmp_path: Path, hospital: tuple[Path, Path]) -> None:
    model = load_model(hospital[0])
    path = tmp_path / "kpis.csv"
    # what a spreadsheet in a comma-decimal locale writes
    path.write_text(
        "period;nurse_turnover;admissions;occupancy\n"
        "31.01.2025;17,0;1.234;95,5 %\n"
        "28.02.2025;16,5;1.302;94\n",
        encoding="utf-8",
    )
    hist = load_history(path, model)
    assert [str(p) for p in hist.index] == ["2025-01", "2025-02"]
    assert hist["nurse_turnover"].tolist() == [17.0, 16.5]
    assert hist["admissions"].tolist() == [1234.0, 1302.0]
    assert hist["occupancy"].tolist() == [95.5, 94.0]


def test_decimal_option_reads_thousands_separators(tmp_path: Path) -> None:
    from stratlab import HistoryError

    path = tmp_path / "h.csv"
    path.write_text('period,revenue\n2025-01,"1,234.5"\n2025-02,"12,000"\n', encoding="utf-8")
    with pytest.raises(HistoryError, match=r"drop the thousands separators: 1234\.5"):
        load_history(path)
    assert load_history(path, decimal=".")["revenue"].tolist() == [1234.5, 12000.0]
    with pytest.warns(StratlabWarning, match=r"fixed 2 cell\(s\): 2 without thousands separators"):
        assert load_history(path, coerce=True)["revenue"].tolist() == [1234.5, 12000.0]
    comma = tmp_path / "c.csv"
    comma.write_text('period,revenue\n2025-01,"15,3"\n', encoding="utf-8")
    with pytest.raises(HistoryError, match=r"decimal comma: read it with decimal=','"):
        load_history(comma)
    assert load_history(comma, decimal=",")["revenue"].tolist() == [15.3]


def test_percent_sign_on_another_unit_is_refused_and_fixable(
    tmp_path: Path, hospital: tuple[Path, Path]
) -> None:
    from stratlab import HistoryError

    model = load_model(hospital[0])
    path = tmp_path / "h.csv"
    path.write_text("period,satisfaction\n2025-03,70%\n2025-06,72%\n", encoding="utf-8")
    with pytest.raises(HistoryError, match=r"drop the % sign: 70 \(or give the measure unit"):
        load_history(path, model)
    with pytest.warns(StratlabWarning, match=r"fixed 2 cell\(s\): 2 without their % sign"):
        assert load_history(path, model, coerce=True)["satisfaction"].dropna().tolist() == [70, 72]


# --------------------------------------------------------------------------- tolerance and exact counts


def test_unknown_columns_warn_once_then_are_ignored(
    hospital: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stratlab import HistoryError

    model = load_model(hospital[0])
    path = tmp_path / "h.csv"
    path.write_text(
        "period,nurse_turnover,sick_days,nurse_turnvoer\n2025-01,17,3,1\n", encoding="utf-8"
    )
    with pytest.warns(StratlabWarning) as record:
        hist = load_history(path, model)
    messages = [str(w.message) for w in record if issubclass(w.category, StratlabWarning)]
    assert len(messages) == 1
    assert "ignoring 2 column(s)" in messages[0] and "'sick_days'" in messages[0]
    assert "'nurse_turnvoer' (did you mean 'nurse_turnover'?)" in messages[0]
    assert list(hist.columns) == ["nurse_turnover"]
    with pytest.raises(HistoryError, match=r"(?s)2 problems.*'sick_days' is not a measure"):
        load_history(path, model, strict=True)
    assert main(["score", str(hospital[0]), str(path), "--strict"]) == 2
    assert "'sick_days' is not a measure" in capsys.readouterr().err
    assert main(["score", str(hospital[0]), str(path), "--format", "csv"]) == 0
    assert "warning: " in capsys.readouterr().err


def test_problem_counts_are_exact_and_every_column_is_shown(tmp_path: Path) -> None:
    from stratlab import HistoryError

    # 168 bad cells: 120 in 'a', 46 in 'b', 2 in 'c'
    lines = ["period,a,b,c"]
    for i in range(120):
        year, month = 2000 + i // 12, i % 12 + 1
        b = "tbd" if i < 46 else "1"
        c = "x" if i < 2 else "1"
        lines.append(f"{year}-{month:02d},bad,{b},{c}")
    path = tmp_path / "h.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(HistoryError) as info:
        load_history(path)
    err = info.value
    assert err.total == 168 and len(err.problems) == 50
    head = str(err).splitlines()[0]
    assert head.startswith(f"168 problems in {path}, first 50 shown (by column: a 120, b 46, c 2)")
    shown = {p.column for p in err.problems}
    assert shown == {"a", "b", "c"}


def test_cli_fix_says_how_many_cells_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.csv"
    path.write_text('period,revenue\n2025-01,"1,234"\n2025-02,"1,300"\n', encoding="utf-8")
    assert main(["correlate", str(path)]) == 2
    assert main(["correlate", str(path), "--fix", "--format", "csv"]) == 0
    assert "fixed 2 cell(s): 2 without thousands separators" in capsys.readouterr().err


# --------------------------------------------------------------------------- honest statuses


LINKED: dict[str, Any] = {
    "stratlab": 1,
    "name": "Links only",
    "objectives": [
        {"id": "staff", "name": "Staff", "perspective": "learning"},
        {"id": "care", "name": "Care", "perspective": "process"},
        {"id": "reach", "name": "Reach", "perspective": "customer"},
        {"id": "money", "name": "Money", "perspective": "financial"},
    ],
    "measures": [
        {
            "id": "training",
            "name": "Training",
            "objective": "staff",
            "baseline": 0,
            "target": 10,
            "current": 6,
        },
        {
            "id": "errors",
            "name": "Errors",
            "objective": "care",
            "direction": "lower",
            "baseline": 10,
            "target": 2,
        },
        {"id": "margin", "name": "Margin", "objective": "money", "baseline": 0, "target": 10},
    ],
    "links": [
        {"from": "staff", "to": "care", "weight": 0.5},
        {"from": "care", "to": "reach", "weight": 1},
        {"from": "staff", "to": "money", "weight": 0.2},
    ],
}


def test_objective_with_own_inputs_but_no_data_has_no_score() -> None:
    got = rows(score(LINKED))
    # care has a measure of its own (errors) with no value: no score, whatever its link says
    assert np.isnan(got["care"]["score"]) and got["care"]["status"] == "no data"
    assert got["care"]["status_rule"] == (
        "no score: none of its own measures or OKRs has data (links alone don't make a status)"
    )
    assert got["care"]["coverage"] == 0
    assert np.isnan(got["money"]["score"]) and got["money"]["status"] == "no data"
    # reach has no inputs of its own: it keeps its link-based score — but its only cause has none
    assert np.isnan(got["reach"]["score"])
    assert got["staff"]["score"] == pytest.approx(0.6)
    assert got["process"]["status"] == "no data" and got["financial"]["status"] == "no data"
    # without a history, a current value is "as of" the model's as_of date (its quarter)
    assert got["training"]["as_of"] is None
    dated = rows(score({**LINKED, "as_of": "2025-11-15"}))
    assert dated["training"]["as_of"] == "2025Q4" and not dated["training"]["stale"]
    assert dated["errors"]["as_of"] is None
    # a link-only objective whose cause has data keeps the link-based score
    data = {**LINKED, "links": [*LINKED["links"], {"from": "staff", "to": "reach", "weight": 1}]}
    assert rows(score(data))["reach"]["score"] == pytest.approx(0.6)


def test_monte_carlo_has_no_p_green_without_data() -> None:
    from stratlab import simulate

    summary = simulate(LINKED, samples=4096, seed=3, elapsed=0.5).summary().set_index("id")
    for node in ("care", "money", "reach", "process", "financial", "customer", "errors", "margin"):
        assert np.isnan(summary.loc[node, "p_green"]), node
        assert np.isnan(summary.loc[node, "mean"]), node
    assert 0 <= summary.loc["staff", "p_green"] <= 1


def test_elapsed_share_comes_from_the_data_not_the_day(hospital: tuple[Path, Path]) -> None:
    import datetime as dt

    from stratlab.periods import elapsed_share

    quarterly = load_model(
        __import__("yaml").safe_load(HOSPITAL.replace("period: month", "period: quarter"))
    )
    path = hospital[1]
    nov = path.with_name("to_nov.csv")
    nov.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:-1]) + "\n")
    hist = load_history(nov, quarterly)
    assert str(hist.index[-1]) == "2025Q4" and hist.attrs["last_reported"] == "2025-11"
    for today in (dt.date(2020, 1, 1), dt.date(2031, 6, 30)):
        # data through November in a quarter of 92 days: Oct 1 – Nov 30 = 61 days
        assert elapsed_share(quarterly, hist, today=today) == pytest.approx(61 / 92)
        full = load_history(path, quarterly)
        assert elapsed_share(quarterly, full, today=today) == 1.0
    dated = quarterly.replace(as_of="2025-11-15")
    assert elapsed_share(dated, hist) == pytest.approx(46 / 92)  # as_of wins over the data
    # only without either does today's date serve
    assert elapsed_share(quarterly, None, today=dt.date(2025, 2, 14)) == pytest.approx(45 / 90)


def test_simulate_default_elapsed_is_the_data_share(hospital: tuple[Path, Path]) -> None:
    from stratlab import simulate
    from stratlab.periods import elapsed_share

    model = load_model(hospital[0])
    hist = load_history(hospital[1], model)
    a = simulate(model, hist, samples=2048, seed=7).summary()
    b = simulate(model, hist, samples=2048, seed=7, elapsed=elapsed_share(model, hist)).summary()
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- the example in Excel


def test_example_excel_workbooks_read_back_as_the_yaml_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl

    assert main(["example", str(tmp_path), "--excel"]) == 0
    out = capsys.readouterr().out
    assert "northwind.xlsx" in out and "northwind_history.xlsx" in out
    model = load_model(tmp_path / "northwind.yaml")
    assert load_model(tmp_path / "northwind.xlsx") == model
    # the sheets the Excel layout documents, with the okr column of key_results
    wb = openpyxl.load_workbook(tmp_path / "northwind.xlsx", read_only=True)
    # (no perspectives sheet: the example uses the four default perspectives)
    assert wb.sheetnames == [
        "model",
        "objectives",
        "measures",
        "links",
        "okrs",
        "key_results",
        "initiatives",
    ]
    header = next(wb["key_results"].iter_rows(max_row=1, values_only=True))
    assert header[0] == "okr"
    wb.close()
    csv = load_history(tmp_path / "northwind_history.csv", model)
    xlsx = load_history(tmp_path / "northwind_history.xlsx", model)
    pd.testing.assert_frame_equal(csv, xlsx, check_exact=False, rtol=1e-9)
    # the % columns are stored as fractions shown as %: 0.754 in a '0.0%' cell reads 75.4
    ws = openpyxl.load_workbook(tmp_path / "northwind_history.xlsx")["history"]
    col = [c.value for c in ws[1]].index("certified_pct") + 1
    assert ws.cell(2, col).number_format == "0.0%" and ws.cell(2, col).value == pytest.approx(0.349)


def test_yearly_cadence_and_weekly_dates_are_aggregated_per_measure() -> None:
    import yaml

    text = textwrap.dedent(
        """\
        stratlab: 1
        name: Weekly
        period: year
        objectives: [{id: o, name: O, perspective: learning}]
        measures:
          - {id: visits, name: Visits, objective: o, baseline: 0, target: 5000, aggregate: sum}
          - {id: wait, name: Wait, objective: o, direction: lower, baseline: 10, target: 2, aggregate: mean}
          - {id: staff, name: Staff, objective: o, baseline: 0, target: 50}
        """
    )
    model = load_model(yaml.safe_load(text))
    # a pandas export indexed by week-ending Sundays, across a year end
    index = pd.date_range("2024-12-01", periods=8, freq="W-SUN")
    frame = pd.DataFrame(
        {
            "visits": [100, 110, 120, 130, 140, 150, 160, 170],
            "wait": [5, 6, 7, 8, 4, 4, 5, 3],
            "staff": [40, 41, 42, 43, 44, 45, 46, 47],
        },
        index=index,
    )
    hist = load_history(frame, model)
    assert [str(p) for p in hist.index] == ["2024", "2025"]
    in_2024 = index.year == 2024  # Dec 1, 8, 15, 22, 29
    assert hist.loc["2024", "visits"] == sum(np.array(frame["visits"])[in_2024])
    assert hist.loc["2025", "wait"] == pytest.approx(np.mean(np.array(frame["wait"])[~in_2024]))
    assert hist.loc["2025", "staff"] == 47  # last
    assert hist.attrs["last_reported"] == str(index[-1].date())


def test_cli_dayfirst_reads_the_period_flag_too(
    hospital: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, hist = hospital
    args = ["score", str(model), str(hist), "--format", "csv", "--period", "01/02/2025"]
    assert main([*args, "--dayfirst"]) == 0
    feb = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("id")
    assert feb.loc["nurse_turnover", "value"] == 16.5  # 1 February → 2025-02
    assert main(args) == 0
    jan = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("id")
    assert jan.loc["nurse_turnover", "value"] == 17.0  # 2 January → 2025-01


def test_the_example_with_the_new_keys_validates_against_the_schema() -> None:
    import json

    import jsonschema
    import yaml

    from stratlab.datasets import example_paths
    from stratlab.model import model_schema

    raw = yaml.safe_load(example_paths().model.read_text(encoding="utf-8"))
    data = json.loads(json.dumps(raw, default=str))  # as an editor sees it: dates are text
    assert {"as_of", "max_age"} <= data.keys()
    jsonschema.validate(data, model_schema())
    data["measures"][0]["aggregate"] = "median"
    with pytest.raises(jsonschema.ValidationError, match="median"):
        jsonschema.validate(data, model_schema())
