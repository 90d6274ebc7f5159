"""KPI histories: long or wide, CSV / Excel / DataFrame, with located errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stratlab import HistoryError, load_history, load_model


@pytest.fixture
def model(mini_path: Path):
    return load_model(mini_path)


def test_wide_csv_with_gaps_and_quarters(write, model) -> None:
    path = write("period,nps,wait_min\n2024Q1,30,7\n2024Q2,,6.5\n2024Q4,33,\n", "h.csv")
    hist = load_history(path, model)
    assert list(hist.columns) == ["nps", "wait_min"]
    assert isinstance(hist.index, pd.PeriodIndex) and hist.index.freqstr.startswith("Q")
    assert [str(p) for p in hist.index] == [
        "2024Q1",
        "2024Q2",
        "2024Q3",
        "2024Q4",
    ]  # gap filled with NaN
    assert np.isnan(hist.loc["2024Q3", "nps"]) and hist.loc["2024Q4", "nps"] == 33
    assert hist.index.name == "period"


def test_long_form_equals_wide_form(write, model) -> None:
    wide = load_history(write("period,nps,wait_min\n2024-01,30,7\n2024-02,31,6\n", "w.csv"))
    long = load_history(
        write(
            "period,measure,value\n2024-01,nps,30\n2024-01,wait_min,7\n2024-02,nps,31\n2024-02,wait_min,6\n",
            "l.csv",
        )
    )
    pd.testing.assert_frame_equal(wide, long)
    assert wide.index.freqstr.startswith("M")


def test_dates_and_dataframes(model) -> None:
    frame = pd.DataFrame({"period": ["2024-03-31", "2024-06-30"], "nps": [30, 32]})
    hist = load_history(frame, model)
    assert [str(p) for p in hist.index] == ["2024Q1", "2024Q2"]
    indexed = pd.DataFrame(
        {"nps": [1.0, 2.0]}, index=pd.period_range("2024-01", periods=2, freq="M")
    )
    assert load_history(indexed).shape == (2, 1)


def test_monthly_history_on_a_quarterly_model_keeps_the_last_month(write, model) -> None:
    hist = load_history(
        write("period,nps\n2024-01,30\n2024-02,31\n2024-03,\n2024-04,35\n", "h.csv"), model
    )
    assert [str(p) for p in hist.index] == ["2024Q1", "2024Q2"]
    assert hist["nps"].tolist() == [31.0, 35.0]


def test_excel_history(tmp_path: Path, model) -> None:
    path = tmp_path / "h.xlsx"
    pd.DataFrame({"period": ["2024Q1", "2024Q2"], "nps": [30, 31]}).to_excel(path, index=False)
    assert load_history(path, model)["nps"].tolist() == [30.0, 31.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "period,nps\n2024Q1,30\n2024Q1,31\n",
            r"h\.csv, column 'period': period 2024Q1 appears more than once \(rows 2, 3\)",
        ),
        (
            "period,measure,value\n2024Q1,nps,30\n2024Q1,nps,31\n",
            r"duplicate rows for period 2024Q1 and measure 'nps' \(rows 2, 3\)",
        ),
        (
            "period,nps\n2024Q1,thirty\n",
            r"h\.csv, row 2, column 'nps': value 'thirty' is not a number",
        ),
        (
            "period,nps\n2024Q1,30\n2024Q2,1,200\n",
            r"h\.csv, row 3: the row has 3 cells but the header has 2",
        ),
        (
            "period,nps\n2024Q,30\n202Q2,31\n2024Q,33\n",
            r"row 2, column 'period': period '2024Q' is not a period",
        ),
        ("period,nps\n2024Q1,45%\n", r"drop the % sign: 45"),
        ('period,nps\n2024Q1,"1,200"\n', r"drop the thousands separators: 1200"),
        (
            "period,nps\nlast spring,30\n",
            r"row 2, column 'period': period 'last spring' is not a period",
        ),
        ("when,nps\n2024Q1,30\n", r"no 'period' column"),
    ],
)
def test_bad_histories(write, model, text: str, expected: str) -> None:
    with pytest.raises(HistoryError, match=expected):
        load_history(write(text, "h.csv"), model)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "period,nsp\n2024Q1,30\n",
            r"column 'nsp': 'nsp' is not a measure or key result.*did you mean 'nps'\?",
        ),
        ("period,measure,value,note\n2024Q1,nps,30,x\n", r"unexpected columns \['note'\]"),
    ],
)
def test_unknown_columns_are_errors_when_strict(write, model, text: str, expected: str) -> None:
    with pytest.raises(HistoryError, match=expected):
        load_history(write(text, "h.csv"), model, strict=True)


def test_mixed_period_kinds(write) -> None:
    with pytest.raises(
        HistoryError, match=r"column 'period': the periods mix months .* and quarters"
    ):
        load_history(write("period,nps\n2024Q1,30\n2024-05,31\n", "h.csv"))


def test_empty_and_missing_files(write, tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"h\.csv: the file is empty"):
        load_history(write("", "h.csv"))
    with pytest.raises(HistoryError, match=r"the file does not exist"):
        load_history(tmp_path / "nope.csv")
    with pytest.raises(HistoryError, match=r"unknown history file type '\.txt'"):
        load_history(write("x", "h.txt"))


def test_quarterly_history_on_monthly_model_is_a_quarterly_kpi(write, mini_yaml) -> None:
    # a quarter's value stands at its last month: a KPI reported less often than the cadence
    model = load_model(write(mini_yaml.replace("period: quarter", "period: month")))
    hist = load_history(write("period,nps\n2024Q1,30\n2024Q2,32\n", "h.csv"), model)
    assert [str(p) for p in hist.index] == ["2024-03", "2024-04", "2024-05", "2024-06"]
    assert hist["nps"].tolist()[0] == 30 and hist["nps"].tolist()[3] == 32
    assert hist["nps"].isna().tolist() == [False, True, True, False]
