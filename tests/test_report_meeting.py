"""The review meeting's tables: room scorecard, actions, SPC signals (no kernel)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import report_fixtures as fx

from stratlab.comments import load_comments, open_actions
from stratlab.io import load_history, load_model
from stratlab.report import (
    SCORECARD_COLUMNS,
    SIGNAL_COLUMNS,
    actions_html,
    scorecard_html,
    scorecard_table,
    signals_html,
    spc_signals,
)
from stratlab.scoring import score
from stratlab.stats.spc import spc


@pytest.fixture
def inputs(tmp_path: Path):  # type: ignore[no-untyped-def]
    model, history = fx.write_inputs(tmp_path)
    strategy = load_model(model)
    return strategy, load_history(history, strategy)


def test_scorecard_rows_order_and_changes(inputs) -> None:  # type: ignore[no-untyped-def]
    strategy, history = inputs
    comments = load_comments(
        pd.DataFrame(
            {
                "id": ["nps", "loyalty", "nps"],
                "period": ["2024Q4", "2024Q4", "2024Q3"],
                "comment": ["<b>up</b>", "steady", "older"],
            }
        ),
        strategy,
    )
    table = scorecard_table(strategy, history, comments=comments)
    assert list(table.columns) == SCORECARD_COLUMNS
    assert table.attrs == {"period": "2024Q4", "previous": "2024Q3"}
    # top perspective first; each objective followed by its measures
    assert table["id"].tolist()[:2] == ["growth", "revenue_growth"]
    assert table["perspective"].iloc[0] == "Financial"
    kinds = table.set_index("id")["kind"]
    assert kinds["loyalty"] == "objective" and kinds["nps"] == "measure"
    by_id = table.set_index("id")
    # nps (higher is better) 27 -> 31: +4, better; wait_min (lower) 7.1 -> 6.0: -1.1, better
    assert by_id.loc["nps", "change"] == pytest.approx(4.0)
    assert by_id.loc["nps", "trend"] == "better"
    assert by_id.loc["wait_min", "change"] == pytest.approx(-1.1)
    assert by_id.loc["wait_min", "trend"] == "better"
    # an objective's change is its score change, from score() of both periods
    now = score(strategy, history, period="2024Q4").set_index("id")["score"]
    before = score(strategy, history, period="2024Q3").set_index("id")["score"]
    assert by_id.loc["loyalty", "change"] == pytest.approx(now["loyalty"] - before["loyalty"])
    assert by_id.loc["nps", "comment"] == "<b>up</b>"  # this period's only
    assert by_id.loc["loyalty", "comment"] == "steady"
    assert by_id.loc["nps", "unit"] == "pts"
    assert by_id.loc["nps", "target"] == pytest.approx(45.0)
    # measures of an objective are sorted worst status first
    html = scorecard_html(table)
    assert "&lt;b&gt;up&lt;/b&gt;" in html and "<b>up</b>" not in html
    assert 'class="sl-trend sl-better"' in html
    assert "Change since 2024Q3" in html
    assert "Build &lt;img" in html  # the objective's hostile name, escaped


def test_trend_is_worse_for_the_wrong_direction(inputs) -> None:  # type: ignore[no-untyped-def]
    strategy, history = inputs
    worse = history.copy()
    worse.loc[worse.index[-1], "wait_min"] = 9.0  # lower is better: 7.1 -> 9.0
    worse.loc[worse.index[-1], "nps"] = 27.0  # unchanged
    by_id = scorecard_table(strategy, worse).set_index("id")
    assert by_id.loc["wait_min", "trend"] == "worse"
    assert by_id.loc["nps", "trend"] == "flat"
    html = scorecard_html(scorecard_table(strategy, worse))
    assert "sl-trend sl-worse" in html and "▲ +1.9" in html


def test_first_period_has_no_previous(inputs) -> None:  # type: ignore[no-untyped-def]
    strategy, history = inputs
    table = scorecard_table(strategy, history, period="2024Q1")
    assert table.attrs["previous"] is None
    assert table["trend"].eq("").all()
    assert table["change"].isna().all()


def test_actions_html_marks_overdue_and_escapes() -> None:
    comments = load_comments(
        pd.DataFrame(
            {
                "id": ["a", "b"],
                "period": ["2024Q4", "2024Q4"],
                "comment": ["", ""],
                "action": ["<script>x()</script>", "Later"],
                "owner": ["Ann & Bo", "Cy"],
                "due": ["2024-11-01", "2025-03-01"],
            }
        )
    )
    html = actions_html(open_actions(comments, "2024Q4"))
    assert "&lt;script&gt;" in html and "<script>x" not in html
    assert "Ann &amp; Bo" in html
    assert html.count('class="sl-overdue"') == 1
    assert "2024-11-01" in html and "2025-03-01" in html
    assert "No open actions" in actions_html(open_actions(None, "2024Q4"))


def test_spc_signals_of_the_review_period(inputs) -> None:  # type: ignore[no-untyped-def]
    strategy, _ = inputs
    index = pd.period_range("2022Q1", periods=12, freq="Q", name="period")
    wait = [8.0, 8.4, 8.1, 8.3, 8.0, 8.2, 8.1, 8.3, 8.0, 8.2, 8.1, 3.0]  # lower is better
    nps = [30.0, 31, 30, 31, 30, 31, 30, 31, 30, 31, 30, 31]
    hist = pd.DataFrame({"wait_min": wait, "nps": nps}, index=index)
    signals = spc_signals(strategy, hist)
    assert list(signals.columns) == SIGNAL_COLUMNS
    assert signals["id"].tolist() == ["wait_min"]
    assert signals["kind"].iloc[0] == "improvement"
    ref = spc(hist, ["wait_min"]).iloc[-1]
    assert signals["lower"].iloc[0] == pytest.approx(ref["lower"])
    assert "outside limits" in signals["rule"].iloc[0]
    # as of an earlier period: limits from the values up to it; no signal then
    assert len(spc_signals(strategy, hist, period="2024Q3")) == 0
    html = signals_html(signals, period="2024Q4")
    assert "XmR signals in 2024Q4" in html and "improvement" in html
    assert "No process-behaviour signal" in signals_html(signals.iloc[:0])


def test_benchmark_and_stale_in_the_scorecard(tmp_path: Path) -> None:
    text = fx.MODEL_YAML.replace(
        "unit: pts}",
        "unit: pts, owner: CX lead, benchmark: {value: 40, label: 'sector <median>'}}",
    )
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    strategy = load_model(tmp_path / "m.yaml")
    history = load_history(pd.read_csv(pd.io.common.StringIO(fx.HISTORY_CSV)), strategy)
    history.loc[history.index[-1], "training_hours"] = math.nan  # carried from 2024Q3
    by_id = scorecard_table(strategy, history).set_index("id")
    assert by_id.loc["nps", "benchmark"] == 40.0
    assert by_id.loc["nps", "owner"] == "CX lead"
    assert bool(by_id.loc["training_hours", "stale"])
    assert str(by_id.loc["training_hours", "as_of"]) == "2024Q3"
    html = scorecard_html(scorecard_table(strategy, history))
    assert "sector &lt;median&gt;" in html
    assert 'class="sl-stale"' in html


def test_run_review_comments_given_twice_or_bad_fail_before_the_kernel(tmp_path: Path) -> None:
    from stratlab.errors import InputError
    from stratlab.report import run_review

    model, history = fx.write_inputs(tmp_path)
    comments = tmp_path / "c.csv"
    comments.write_text("id,period,comment\nnps,2024Q4,ok\n", encoding="utf-8")
    out = tmp_path / "r.html"
    with pytest.raises(InputError, match="comments given twice"):
        run_review(model, history, out, comments=comments, parameters={"comments": str(comments)})
    # the papermill parameter is checked like --comments
    comments.write_text("id,period,comment\nnsp,2024Q4,typo\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.csv.*line 2.*did you mean 'nps'"):
        run_review(model, history, out, parameters={"comments": str(comments)})
    assert not out.exists()


def test_scorecard_reuses_given_scores(inputs) -> None:  # type: ignore[no-untyped-def]
    strategy, history = inputs
    scores = score(strategy, history, period="2024Q4")
    given = scorecard_table(strategy, history, period="2024Q4", scores=scores)
    pd.testing.assert_frame_equal(given, scorecard_table(strategy, history, period="2024Q4"))
