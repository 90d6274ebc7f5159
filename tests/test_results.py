"""Every result object has the same shape: a short repr, _repr_html_, and to_frame() with documented columns."""

from __future__ import annotations

import pytest

import stratlab
from stratlab.errors import InputError
from stratlab.propagation import TRAJECTORY_COLUMNS, WHATIF_COLUMNS
from stratlab.simulation import SUMMARY_COLUMNS


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    return stratlab.load_example()


def _results(example):  # type: ignore[no-untyped-def]
    model, history = example
    return {
        "model": model,
        "whatif": stratlab.whatif(model, {"nps": 40}, history, horizon=4),
        "simulate": stratlab.simulate(model, samples=256, seed=3, elapsed=0.5),
        "calibrate": stratlab.calibrate(model, history, n_boot=20, seed=1),
    }


def test_reprs_are_one_short_line(example) -> None:  # type: ignore[no-untyped-def]
    for name, obj in _results(example).items():
        text = repr(obj)
        assert "\n" not in text and len(text) < 200, (name, len(text))
        assert "Northwind Coffee" in text, name


def test_every_result_renders_html_and_a_frame(example) -> None:  # type: ignore[no-untyped-def]
    res = _results(example)
    for name in ("whatif", "simulate", "calibrate"):
        obj = res[name]
        assert obj._repr_html_().lstrip().startswith("<"), name
        assert len(obj.to_frame()) > 0, name
    assert list(res["whatif"].to_frame().columns) == WHATIF_COLUMNS
    assert list(res["simulate"].to_frame().columns) == SUMMARY_COLUMNS
    assert "<table" in res["model"]._repr_html_()


def test_whatif_views_are_one_method(example) -> None:  # type: ignore[no-untyped-def]
    res = _results(example)["whatif"]
    traj = res.to_frame("trajectory")
    assert list(traj.columns) == TRAJECTORY_COLUMNS
    assert res.to_frame("long run").equals(res.long_run)
    at2 = res.to_frame(2)
    expected = traj[traj["period"] == 2].drop(columns="period").reset_index(drop=True)
    assert at2.equals(expected)
    assert res.to_frame(0)["delta"].tolist() == pytest.approx(res.to_frame("now")["delta"].tolist())
    with pytest.raises(InputError, match=r"view=9 is not a view of this what-if.*0\.\.4"):
        res.to_frame(9)
