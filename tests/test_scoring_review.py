"""Review helpers of stratlab.scoring: scores to date and the biggest movers, against
hand computations written out beside each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stratlab import InputError, load_model, score, score_history
from stratlab.scoring import MOVER_COLUMNS, movers, scores_to_date

MODEL = {
    "stratlab": 1,
    "name": "Movers",
    "period": "quarter",
    "objectives": [
        {"id": "ops", "name": "Run well", "perspective": "process"},
        {"id": "fin", "name": "Grow", "perspective": "financial"},
    ],
    "measures": [
        {"id": "up", "name": "Up", "objective": "ops", "baseline": 0, "target": 10},
        {
            "id": "down",
            "name": "Down",
            "objective": "ops",
            "direction": "lower",
            "baseline": 20,
            "target": 10,
        },
        {"id": "rev", "name": "Revenue", "objective": "fin", "baseline": 100, "target": 200},
        {"id": "flat", "name": "Flat", "objective": "fin", "baseline": 0, "target": 4},
    ],
    "okrs": [
        {
            "id": "o1",
            "objective": "Launch",
            "aligns_to": "ops",
            "key_results": [
                {"id": "kr", "name": "Signups", "start": 0, "target": 50, "current": 40}
            ],
        }
    ],
}
# 'rev' has a gap in 2024Q3 (the review carries 2024Q2 forward); 'flat' never moves.
HISTORY = pd.DataFrame(
    {
        "up": [1.0, 2.0, 6.0, 9.0],
        "down": [19.0, 18.0, 17.0, 11.0],
        "rev": [120.0, 150.0, np.nan, 130.0],
        "flat": [2.0, 2.0, 2.0, 2.0],
        "kr": [5.0, 10.0, 20.0, 30.0],
    },
    index=pd.period_range("2024Q1", periods=4, freq="Q", name="period"),
)
# Hand scores: higher (v - b) / (t - b); lower (b - v) / (b - t); clipped to [0, 1].
BOUNDS = {"up": (0, 10), "down": (20, 10), "rev": (100, 200), "flat": (0, 4), "kr": (0, 50)}


def hand_score(node: str, value: float) -> float:
    base, target = BOUNDS[node]
    return float(np.clip((value - base) / (target - base), 0.0, 1.0))


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_model(MODEL)


def test_movers_latest_period_by_hand(model) -> None:  # type: ignore[no-untyped-def]
    frame = movers(model, HISTORY, top=None)
    assert list(frame.columns) == MOVER_COLUMNS
    assert set(frame["since"]) == {"2024Q3"}
    # previous: 2024Q3 as of then (rev carried from 2024Q2); now: 2024Q4, but the key
    # result's `current` (40) counts at the latest period, as in score().
    previous = {"up": 6.0, "down": 17.0, "rev": 150.0, "flat": 2.0, "kr": 20.0}
    now = {"up": 9.0, "down": 11.0, "rev": 130.0, "flat": 2.0, "kr": 40.0}
    expected = {k: hand_score(k, now[k]) - hand_score(k, previous[k]) for k in previous}
    got = dict(zip(frame["id"], frame["change"], strict=True))
    assert got == pytest.approx(expected, abs=1e-12)
    assert list(frame["id"]) == sorted(expected, key=lambda k: -abs(expected[k]))
    row = frame.set_index("id").loc["kr"]
    assert row["kind"] == "key_result" and row["name"] == "Signups"
    assert row["previous"] == pytest.approx(0.4) and row["score"] == pytest.approx(0.8)
    assert row["status"] == "green"  # 0.8 >= 0.7
    assert frame.set_index("id").loc["rev", "status"] == "red"  # 0.3 < 0.4
    assert list(movers(model, HISTORY, top=2)["id"]) == list(frame["id"][:2])


def test_movers_at_an_earlier_period(model) -> None:  # type: ignore[no-untyped-def]
    frame = movers(model, HISTORY, period="2024Q3", top=None)
    assert set(frame["since"]) == {"2024Q2"}
    # an earlier period is scored from the history alone (no `current`); rev's gap is
    # carried forward, so rev and flat did not move
    change = dict(zip(frame["id"], frame["change"], strict=True))
    assert change["up"] == pytest.approx(hand_score("up", 6) - hand_score("up", 2), abs=1e-12)
    assert change["kr"] == pytest.approx(hand_score("kr", 20) - hand_score("kr", 10), abs=1e-12)
    assert change["rev"] == 0.0 and change["flat"] == 0.0


def test_movers_without_two_periods(model) -> None:  # type: ignore[no-untyped-def]
    for frame in (movers(model, None), movers(model, HISTORY, period="2024Q1")):
        assert list(frame.columns) == MOVER_COLUMNS
        assert len(frame) == 0 and list(frame.columns) == MOVER_COLUMNS


@pytest.mark.parametrize("top", [0, -1, 2.5, True, "5"])
def test_movers_bad_top(model, top) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"movers: top must be a positive whole number"):
        movers(model, HISTORY, top=top)


def test_movers_bad_period(model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"period 2023Q1 is outside the history"):
        movers(model, HISTORY, period="2023Q1")


def test_scores_to_date_rows(model) -> None:  # type: ignore[no-untyped-def]
    past = scores_to_date(model, HISTORY, period="2024Q3")
    assert [str(p) for p in past.index] == ["2024Q1", "2024Q2", "2024Q3"]
    reference = score_history(model, HISTORY.loc[:"2024Q3"].ffill())
    assert list(past.columns) == list(reference.columns)
    np.testing.assert_allclose(past.to_numpy(), reference.to_numpy(), atol=1e-12)
    # the latest period's row is score(): the key result's `current` counts there
    latest = scores_to_date(model, HISTORY)
    now = score(model, HISTORY).set_index("id")["score"]
    np.testing.assert_allclose(
        latest.iloc[-1].to_numpy(), now.reindex(latest.columns).to_numpy(), atol=1e-12
    )
    assert latest.loc[pd.Period("2024Q4", "Q"), "kr"] == pytest.approx(0.8)
    assert latest.loc[pd.Period("2024Q3", "Q"), "rev"] == pytest.approx(0.5)  # carried forward


def test_scores_to_date_without_history(model) -> None:  # type: ignore[no-untyped-def]
    empty = scores_to_date(model, None)
    assert len(empty) == 0 and empty.index.name == "period"
    assert list(empty.columns) == list(score_history(model, HISTORY).columns)
    with pytest.raises(InputError, match=r"--period needs a history"):
        scores_to_date(model, None, period="2024Q1")
