"""The command line: thin, located errors with exit status 2, never a traceback."""

from __future__ import annotations

import io
import json
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
