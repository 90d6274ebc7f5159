"""The command line: thin, located errors with exit status 2, never a traceback."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import MINI_YAML

from stratlab.cli import main


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("stratlab 0.")
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "--period" in out


def test_validate_ok_and_bad(mini_path: Path, write, capsys) -> None:
    code, out, _ = run(["validate", str(mini_path)], capsys)
    assert code == 0 and "OK — 4 objectives, 4 measures, 4 links" in out
    bad = write(MINI_YAML.replace("target: 45", "tagret: 45"), "bad.yaml")
    code, out, err = run(["validate", str(bad)], capsys)
    assert code == 2 and out == ""
    assert (
        "bad.yaml, line 21, measures[0].tagret: unknown key 'tagret'" in err
        and "did you mean 'target'?" in err
    )


def test_score_formats(mini_path: Path, capsys) -> None:
    code, out, _ = run(["score", str(mini_path), "--format", "csv"], capsys)
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns[:7]) == [
        "id",
        "kind",
        "name",
        "perspective",
        "parent",
        "value",
        "baseline",
    ]
    assert frame.set_index("id").loc["nps", "score"] == pytest.approx(0.44)
    code, out, _ = run(["score", str(mini_path), "--format", "json"], capsys)
    records = json.loads(out)
    assert records[0]["id"] == "financial" and {"score", "status"} <= records[0].keys()
    code, out, _ = run(["score", str(mini_path)], capsys)
    assert "nps" in out and "amber" in out


def test_bad_history_and_period(mini_path: Path, write, capsys) -> None:
    hist = write("period,nps\n2024Q1,thirty\n", "h.csv")
    code, _, err = run(["score", str(mini_path), str(hist)], capsys)
    assert code == 2 and "h.csv, row 2, column 'nps': value 'thirty' is not a number" in err
    good = write("period,nps\n2024Q1,30\n", "g.csv")
    code, _, err = run(["score", str(mini_path), str(good), "--period", "2031Q1"], capsys)
    assert code == 2 and "outside the history" in err


def test_schema(capsys) -> None:
    code, out, _ = run(["schema"], capsys)
    schema = json.loads(out)
    assert code == 0 and "measures" in schema["properties"]


def test_example_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    target = tmp_path / "start"
    code, out, _ = run(["example", str(target)], capsys)
    assert (
        code == 0
        and "wrote" in out
        and (target / "northwind.yaml").is_file()
        and (target / "northwind_history.csv").is_file()
    )
    before = (target / "northwind.yaml").read_text()
    code, _, err = run(["example", str(target)], capsys)
    assert code == 2 and "--force" in err
    assert (target / "northwind.yaml").read_text() == before
    code, _, _ = run(["example", str(target), "--force"], capsys)
    assert code == 0
    code, _, _ = run(
        ["validate", str(target / "northwind.yaml"), str(target / "northwind_history.csv")], capsys
    )
    assert code == 0


def test_no_traceback_in_a_real_process(write) -> None:
    bad = write("stratlab: 1\nname: [oops\n", "broken.yaml")
    proc = subprocess.run(
        [sys.executable, "-m", "stratlab.cli", "validate", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert (
        "Traceback" not in proc.stderr
        and "broken.yaml, line" in proc.stderr
        and "YAML syntax error" in proc.stderr
    )
    proc = subprocess.run(
        [sys.executable, "-m", "stratlab.cli", "score", str(write("x", "m.txt"))],
        capture_output=True,
        text=True,
    )
    assert (
        proc.returncode == 2
        and "Traceback" not in proc.stderr
        and "unknown model file type '.txt'" in proc.stderr
    )
    proc = subprocess.run(
        [sys.executable, "-m", "stratlab.cli", "frobnicate"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> tuple[str, str]:
    from stratlab.datasets import write_example

    model_path, history_path = write_example(tmp_path_factory.mktemp("ex"))
    return str(model_path), str(history_path)


def csv_of(out: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(out))


def test_whatif_command_matches_the_library(example, capsys) -> None:
    import stratlab

    model, _ = example
    code, out, _ = run(
        ["whatif", model, "--set", "nps=45", "--shift", "wait_min=-1", "--format", "csv"], capsys
    )
    assert code == 0
    frame = csv_of(out).set_index("id")
    expected = stratlab.whatif(
        model, stratlab.propagation.parse_changes(["nps=45"], shifts=["wait_min=-1"])
    ).to_frame()
    expected = expected.set_index("id")
    assert frame.loc["nps", "after"] == pytest.approx(45)
    assert frame["delta"].to_numpy() == pytest.approx(expected["delta"].to_numpy(), abs=1e-9)
    code, out, _ = run(
        ["whatif", model, "--shift", "wait_min=-1", "--horizon", "3", "--format", "csv"], capsys
    )
    assert code == 0 and sorted(csv_of(out)["period"].unique()) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "nsp=3"], r"'nsp' is not a measure or key result.*did you mean 'nps'\?"),
        (["--set", "nps"], r"expected ID=VALUE"),
        (["--set", "nps=lots"], r"nps"),
        ([], r"no change given.*--set ID=VALUE"),
    ],
)
def test_whatif_bad_changes(example, capsys, args: list[str], expected: str) -> None:
    import re

    code, out, err = run(["whatif", example[0], *args], capsys)
    assert code == 2 and out == "" and re.search(expected, err), err


def test_simulate_is_seeded(example, capsys) -> None:
    model, history = example
    argv = [
        "simulate",
        model,
        history,
        "--samples",
        "500",
        "--seed",
        "3",
        "--elapsed",
        "0.5",
        "--format",
        "csv",
    ]
    code, first, _ = run(argv, capsys)
    _, second, _ = run(argv, capsys)
    assert code == 0 and first == second
    frame = csv_of(first)
    assert list(frame.columns) == ["id", "kind", "name", "mean", "p05", "p50", "p95", "p_green"]
    assert ((frame["p05"] <= frame["p50"]) & (frame["p50"] <= frame["p95"])).all()
    code, _, err = run(["simulate", model, "--samples", "0"], capsys)
    assert code == 2 and "--samples must be at least 1" in err
    code, _, err = run(["simulate", model, "--elapsed", "1.5", "--samples", "10"], capsys)
    assert code == 2 and "elapsed" in err


def test_correlate_check_links_calibrate_initiatives(example, tmp_path: Path, capsys) -> None:
    model, history = example
    code, out, _ = run(["correlate", history, "--max-lag", "1", "--format", "csv"], capsys)
    frame = csv_of(out)
    assert code == 0 and list(frame.columns[:9]) == [
        "source",
        "target",
        "lag",
        "n",
        "r",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
    ]
    code, out, _ = run(["check-links", model, history, "--format", "csv"], capsys)
    links = csv_of(out)
    decoy = links[(links["source"] == "brand") & (links["target"] == "digital_reach")]
    assert code == 0 and decoy["verdict"].iloc[0] != "supported"
    out_model = tmp_path / "calibrated.yaml"
    code, out, err = run(
        ["calibrate", model, history, "-o", str(out_model), "--format", "csv"], capsys
    )
    assert code == 0 and out_model.is_file() and "estimate" in csv_of(out).columns
    code, _, err = run(["calibrate", model, history, "-o", str(out_model)], capsys)
    assert code == 2 and "exists already" in err
    mine = tmp_path / "mine.yaml"
    mine.write_text(Path(model).read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run(["calibrate", str(mine), history, "-o", str(mine)], capsys)
    assert code == 2 and "overwrite the input model" in err and "--force" in err
    code, out, err = run(["calibrate", str(mine), history, "-o", str(mine), "--force"], capsys)
    assert code == 0 and "note" in out and "prior kept" in out
    assert mine.read_text(encoding="utf-8").startswith("# Northwind Coffee")  # comments kept
    code, out, _ = run(["initiatives", model, "--format", "csv"], capsys)
    ranked = csv_of(out)
    assert code == 0 and ranked["rank"].tolist() == sorted(ranked["rank"].tolist())
    assert list(ranked.columns) == [
        "id",
        "name",
        "target",
        "budget",
        "effect",
        "effect_per_1k",
        "rank",
        "note",
    ]
    code, _, err = run(["correlate", history, "--method", "pearson", "--max-lag", "-1"], capsys)
    assert code == 2 and "max_lag" in err


def test_review_bad_input_exits_2_before_any_kernel(example, tmp_path: Path, capsys) -> None:
    model, history = example
    out = tmp_path / "review.html"
    code, _, err = run(["review", model, history, "-o", str(out), "-p", "sampels=10"], capsys)
    assert code == 2 and "sampels" in err and "did you mean 'samples'" in err
    code, _, err = run(["review", model, history, "-o", str(out), "-p", "oops"], capsys)
    assert code == 2 and "is not KEY=VALUE" in err
    code, _, err = run(
        ["review", model, history, "-o", str(out), "--template", "quartely_review"], capsys
    )
    assert code == 2 and "quarterly_review" in err
    code, _, err = run(["review", str(tmp_path / "none.yaml"), history, "-o", str(out)], capsys)
    assert code == 2 and "the file does not exist" in err
    # a bad comments file is a located error, before any kernel starts
    bad = tmp_path / "comments.csv"
    bad.write_text("id;period;comment\nnsp;2025-12;typo\nnps;2025-13;bad month\n", encoding="utf-8")
    code, _, err = run(["review", model, history, "-o", str(out), "--comments", str(bad)], capsys)
    assert code == 2 and "Traceback" not in err
    assert "comments.csv" in err and "line 2" in err and "did you mean 'nps'" in err
    assert "line 3" in err and "'2025-13' is not a period" in err
    code, _, err = run(
        ["review", model, history, "-o", str(out), "--comments", str(tmp_path / "no.csv")], capsys
    )
    assert code == 2 and "the comments file does not exist" in err
    code, _, err = run(
        [
            "review",
            model,
            history,
            "-o",
            str(out),
            "--template",
            "link_check",
            "--comments",
            str(bad),
        ],
        capsys,
    )
    assert code == 2 and "takes no comments" in err
    assert not out.exists()


def test_demo_writes_every_output(tmp_path: Path, capsys) -> None:
    code, _, err = run(["demo", "-o", str(tmp_path / "demo"), "--samples", "300"], capsys)
    assert code == 0, err
    files = {p.name for p in (tmp_path / "demo").iterdir()}
    assert {
        "review.html",
        "scores.csv",
        "links.csv",
        "calibration.csv",
        "simulation.csv",
        "initiatives.csv",
    } <= files
    assert "review written:" in err and "checked links: supported" in err
    html = (tmp_path / "demo" / "review.html").read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot") >= 4


def test_initiatives_target_and_readable_numbers(example, capsys) -> None:
    from stratlab.propagation import rank_initiatives

    model, _ = example
    code, out, err = run(["initiatives", model, "--target", "customer"], capsys)
    assert code == 0 and "customer" in out
    assert not re.search(r"\d[eE][-+]?\d", out)  # no scientific notation in the table
    expected = rank_initiatives(model, target="customer")
    code, out, _ = run(["initiatives", model, "--target", "customer", "--format", "csv"], capsys)
    frame = csv_of(out)
    assert frame["id"].tolist() == expected["id"].tolist()
    assert (frame["target"] == "customer").all()
    code, out, _ = run(["initiatives", model, "--per", "100000", "--format", "csv"], capsys)
    assert "effect_per_100k" in csv_of(out).columns
    code, _, err = run(["initiatives", model, "--target", "custmer"], capsys)
    assert code == 2 and "did you mean 'customer'" in err


def test_plain_number() -> None:
    from stratlab.cli import plain_number

    assert plain_number(3.981e-08) == "0.00000003981"
    assert plain_number(1234567.0) == "1234567"
    assert plain_number(0.5) == "0.5"
    assert plain_number(-0.012345) == "-0.01235"
    assert plain_number(float("nan")) == ""


def test_review_passes_comments_and_full_plotly(
    example, monkeypatch, tmp_path: Path, capsys
) -> None:
    """The flags reach run_review (the review itself is tested in test_report*.py)."""
    import stratlab.report

    seen: dict[str, object] = {}

    def fake(model, history, output, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        return Path(output)

    monkeypatch.setattr(stratlab.report, "run_review", fake)
    model, history = example
    args = ["review", model, history, "-o", str(tmp_path / "r.html")]
    code, out, _ = run([*args, "--comments", "c.csv", "--full-plotly"], capsys)
    assert code == 0 and "wrote" in out
    assert seen["comments"] == "c.csv" and seen["full_plotly"] is True
    code, _, _ = run(args, capsys)
    assert seen["comments"] is None and seen["full_plotly"] is False
