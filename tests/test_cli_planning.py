"""The goal-seek and portfolio commands: thin, exit 2 on bad input, no traceback."""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd
import pytest

import stratlab
from stratlab.cli import main
from stratlab.planning import GOAL_SEEK_COLUMNS, PORTFOLIO_COLUMNS


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    from stratlab.datasets import write_example

    model_path, history_path = write_example(tmp_path_factory.mktemp("ex"))
    return str(model_path), str(history_path)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_goal_seek_command_matches_the_library(
    example: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    model, history = example
    code, out, err = run(
        [
            "goal-seek",
            model,
            history,
            "--target",
            "financial=0.7",
            "--target",
            "customer=0.65",
            "--lever",
            "nps",
            "--lever",
            "revenue_growth",
            "--lever",
            "csat",
            "--effort",
            "nps=2",
            "--format",
            "csv",
        ],
        capsys,
    )
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == GOAL_SEEK_COLUMNS
    ref = stratlab.goal_seek(
        model,
        history,
        targets={"financial": 0.7, "customer": 0.65},
        levers=["nps", "revenue_growth", "csat"],
        effort={"nps": 2},
    ).to_frame()
    pd.testing.assert_frame_equal(frame, ref, check_dtype=False, rtol=1e-9)
    assert "effort" in err and "stratlab whatif" in err


def test_portfolio_command_matches_the_library(
    example: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    model, history = example
    code, out, err = run(
        [
            "portfolio",
            model,
            history,
            "--budget",
            "600000",
            "--target",
            "financial",
            "--format",
            "csv",
        ],
        capsys,
    )
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == PORTFOLIO_COLUMNS
    ref = stratlab.plan_portfolio(model, history, budget=600_000, target="financial")
    assert list(frame.loc[frame["selected"], "id"]) == list(ref.selected)
    assert "budget used" in err and "financial score" in err
    code, out, err = run(
        [
            "portfolio",
            model,
            "--budget",
            "900000",
            "--target",
            "speed",
            "--goal",
            "p_green",
            "--samples",
            "300",
            "--seed",
            "3",
            "--elapsed",
            "0.5",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0 and "P(green)" in err and "(seed 3)" in err
    ref = stratlab.plan_portfolio(
        model, budget=900_000, target="speed", goal="p_green", samples=300, seed=3, elapsed=0.5
    )
    frame = pd.read_json(io.StringIO(out))
    assert list(frame.loc[frame["selected"], "id"]) == list(ref.selected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["goal-seek", "{m}"], "no target given"),
        (["goal-seek", "{m}", "--target", "financial"], "--target 'financial': expected ID=NUMBER"),
        (["goal-seek", "{m}", "--target", "financial=1.5"], "financial can reach at most"),
        (["goal-seek", "{m}", "--target", "financial=0.7", "--lever", "npx"], "did you mean 'nps'"),
        (
            ["goal-seek", "{m}", "--target", "financial=0.7", "--effort", "nps=-1"],
            "must be a number > 0",
        ),
        (["portfolio", "{m}", "--budget", "0"], "a budget of 0 funds nothing"),
        (
            ["portfolio", "{m}", "--budget", "600000", "--target", "finance"],
            "did you mean 'financial'",
        ),
        (
            ["portfolio", "{m}", "--budget", "600000", "--goal", "p_green", "--samples", "0"],
            "samples=0",
        ),
    ],
)
def test_bad_input_exits_2(
    example: tuple[str, str], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    model, _ = example
    code, out, err = run([a.format(m=model) for a in args], capsys)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_no_traceback_in_a_real_process(example: tuple[str, str]) -> None:
    model, _ = example
    proc = subprocess.run(
        [sys.executable, "-m", "stratlab.cli", "portfolio", model, "--budget", "10"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "funds nothing" in proc.stderr


def test_public_api_names() -> None:
    assert {"goal_seek", "plan_portfolio", "portfolio"} <= set(stratlab.__all__)
    assert stratlab.portfolio is stratlab.plan_portfolio
