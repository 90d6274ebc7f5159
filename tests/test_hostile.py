"""Hostile and careless inputs: bounded work, no overwritten input, no formula, no traceback.

Each command-line case runs ``stratlab`` in a subprocess under a timeout and an
address-space limit (``resource.setrlimit`` in ``preexec_fn``), so a regression
shows up as a failed test, never as a hung or out-of-memory suite.  Library
cases run in-process.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import MINI_YAML

import stratlab
from stratlab import HistoryError, InputError, ModelError, load_history, load_model
from stratlab.errors import Problem, clean_text
from stratlab.limits import DEFAULT, Limits, parse_limits

#: Address-space limit of each command-line case (bytes).
MEMORY = 3 * 2**30
#: Wall-clock limit of each command-line case (seconds): generous for a loaded CI machine.
TIMEOUT = 90
STRATLAB = [sys.executable, "-m", "stratlab.cli"]


def _bounded(memory: int, file_size: int | None) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if file_size is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))


def cli(
    args: Sequence[str | Path],
    cwd: Path,
    *,
    timeout: float = TIMEOUT,
    memory: int = MEMORY,
    file_size: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``stratlab ARGS`` in a child bounded in time and memory."""
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [*STRATLAB, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=timeout,
        env=env,
        preexec_fn=lambda: _bounded(memory, file_size),
    )


def refused(proc: subprocess.CompletedProcess[str], *patterns: str) -> str:
    """Assert exit 2 with one located message (no traceback) matching every pattern."""
    import re

    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert "Traceback" not in err and "Exception ignored" not in err, err[-3000:]
    assert err.startswith("stratlab "), err[:500]
    for pattern in patterns:
        assert re.search(pattern, err), (pattern, err[:2000])
    return err


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    model, history = stratlab.datasets.write_example(tmp_path)[:2]
    return Path(model), Path(history)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(MINI_YAML, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- 1. limits


def test_limits_are_a_frozen_documented_dataclass() -> None:
    import dataclasses

    assert len(dataclasses.fields(Limits)) >= 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.horizon = 5  # type: ignore[misc]
    doc = Limits.__doc__ or ""
    for f in dataclasses.fields(Limits):
        assert f"{f.name} :" in doc, f.name
    assert parse_limits(["horizon=5000", "history-rows=7"]) == Limits(horizon=5000, history_rows=7)
    with pytest.raises(InputError, match=r"unknown limit 'horizn'.*did you mean 'horizon'"):
        parse_limits(["horizn=5"])
    with pytest.raises(InputError, match=r"not a whole number"):
        parse_limits(["horizon=lots"])
    with pytest.raises(InputError, match=r"must be a whole number ≥ 1"):
        Limits(horizon=0)


@pytest.mark.parametrize("lag", ["100000", "1000"])
def test_max_lag_beyond_the_history_is_refused_at_once(example, tmp_path: Path, lag: str) -> None:
    _, history = example
    err = refused(cli(["correlate", history, "--max-lag", lag], tmp_path), r"max_lag=", "usable")
    assert "--max-lag" not in err or "at most" in err


def test_max_lag_within_the_history_runs(example, tmp_path: Path) -> None:
    _, history = example
    proc = cli(["correlate", history, "--max-lag", "3", "--format", "csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(pd.io.common.StringIO(proc.stdout))
    assert frame["lag"].max() == 3


def test_correlation_table_size_is_bounded(example) -> None:
    _, history = example
    with pytest.raises(InputError, match=r"correlation_rows=100.*--limit correlation_rows="):
        stratlab.correlate(load_history(history), max_lag=2, limits=Limits(correlation_rows=100))


@pytest.mark.slow
def test_horizon_is_bounded(example, tmp_path: Path) -> None:
    model, _ = example
    err = refused(
        cli(["whatif", model, "--shift", "wait_min=-1", "--horizon", "100000"], tmp_path),
        r"horizon=1,200",
        r"--limit horizon=100000",
    )
    assert "limits=stratlab.Limits(horizon=100000)" in err
    proc = cli(
        ["whatif", model, "--shift", "wait_min=-1", "--horizon", "2000", "--limit", "horizon=2000"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr


def test_samples_times_nodes_is_bounded(example, tmp_path: Path) -> None:
    model, _ = example
    refused(
        cli(["simulate", model, "--samples", "1000000000", "--seed", "1"], tmp_path),
        r"samples × nodes",
        r"sample_values",
    )


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
objectives: *i
"""


def test_yaml_alias_bomb_is_refused_by_counting(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    assert path.stat().st_size < 1000
    refused(cli(["validate", path], tmp_path, timeout=30), r"yaml_nodes=2,000,000", r"line \d+")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cycle.yaml"
    path.write_text("name: x\nobjectives: &o [*o]\n", encoding="utf-8")
    # PyYAML may refuse it itself; either way: a located message, quickly
    refused(cli(["validate", path], tmp_path, timeout=30), r"cycle\.yaml")


def test_alias_bomb_in_a_batch_manifest_is_refused(tmp_path: Path) -> None:
    levels = "\n".join(
        f"  - &{c} [" + ",".join([f"*{p}"] * 9) + "]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    manifest = (
        'anchors:\n  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + levels
        + "\nparameters: {title: *i}\nunits:\n  - {unit: north, model: m.yaml}\n"
    )
    path = tmp_path / "units.yaml"
    path.write_text(manifest, encoding="utf-8")
    out = tmp_path / "out"
    refused(cli(["review-batch", path, "-o", out], tmp_path, timeout=30), r"yaml_nodes")
    assert not out.exists()


def test_wide_csv_is_bounded_and_linear(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    names = [f"k{i}" for i in range(200_000)]
    wide.write_text(
        "period," + ",".join(names) + "\n2024-01," + ",".join("1" for _ in names) + "\n"
    )
    refused(cli(["correlate", wide], tmp_path, timeout=30), r"history_columns=10,000")
    # 5,000 columns (and a duplicate among them): found in linear time
    names = [f"k{i}" for i in range(5_000)]
    frame = pd.DataFrame([np.arange(5_000.0)], columns=names)
    frame.insert(0, "period", ["2024-01"])
    frame = pd.concat([frame, frame.iloc[:, 1:2]], axis=1)
    with pytest.raises(HistoryError, match=r"column 'k0' appears more than once"):
        load_history(frame)


def test_many_rows_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    rows = [f"2024-{m:02d},k{i},1" for m in range(1, 13) for i in range(200)]
    path.write_text("period,measure,value\n" + "\n".join(rows) + "\n")
    refused(
        cli(["correlate", path, "--limit", "history_rows=1000"], tmp_path),
        r"history_rows=1,000",
        r"--limit history_rows=",
    )
    frame = pd.read_csv(path)
    with pytest.raises(HistoryError, match=r"number of rows is 2,400, over the limit history_rows"):
        load_history(frame, limits=Limits(history_rows=1000))
    # the 200 series of the long form count as columns
    with pytest.raises(HistoryError, match=r"number of columns is 200, over the limit history_col"):
        load_history(frame, limits=Limits(history_columns=100))


def test_ten_years_monthly_of_2000_kpis_stay_within_the_defaults(tmp_path: Path) -> None:
    periods = pd.period_range("2015-01", periods=120, freq="M")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(120, 2000)), columns=[f"kpi_{i}" for i in range(2000)])
    frame.insert(0, "period", [str(p) for p in periods])
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    hist = load_history(path)
    assert hist.shape == (120, 2000)
    long = frame.melt(id_vars="period", var_name="measure", value_name="value")
    assert len(long) == 240_000
    assert load_history(long).shape == (120, 2000)


def _cascade(objectives: int) -> dict[str, object]:
    objs = [{"id": "o0", "name": "Top", "perspective": "financial"}]
    links = []
    for i in range(1, objectives):
        objs.append({"id": f"o{i}", "name": f"Objective {i}", "perspective": "customer"})
        links.append({"from": f"o{i}", "to": f"o{(i - 1) // 4}", "weight": 0.5})
    measures = [
        {"id": f"m{i}", "name": f"M{i}", "objective": f"o{i}", "baseline": 0, "target": 10}
        for i in range(objectives)
    ]
    return {
        "stratlab": 1,
        "name": "Cascade",
        "objectives": objs,
        "measures": measures,
        "links": links,
    }


def test_a_1600_objective_cascade_is_within_the_limits(tmp_path: Path) -> None:
    data = _cascade(1600)
    path = tmp_path / "cascade.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    model = load_model(path)
    assert len(model.objectives) == 1600


def test_model_size_is_bounded(tmp_path: Path) -> None:
    data = _cascade(60)
    with pytest.raises(ModelError, match=r"over the limit model_nodes=100"):
        load_model(data, limits=Limits(model_nodes=100))
    path = tmp_path / "cascade.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    refused(cli(["validate", path, "--limit", "model_nodes=50"], tmp_path), r"model_nodes=50")


def _xlsx_history(path: Path, rows: int = 8) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "kpis"
    ws.append(["period", "nps", "wait_min"])
    for i in range(rows):
        ws.append(
            [f"2024-{i % 12 + 1:02d}" if i < 12 else f"2025-{i % 12 + 1:02d}", 20 + i, 9 - i * 0.1]
        )
    wb.save(path)
    return path


def test_xlsx_unpacked_size_is_checked_before_opening(tmp_path: Path) -> None:
    path = _xlsx_history(tmp_path / "h.xlsx")
    assert load_history(path).shape == (8, 2)
    # a member that declares 64 MiB (zeros compress ~1000:1): refused from the zip directory
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/media/padding.bin", b"\0" * (64 * 2**20))
    assert bomb.stat().st_size < 2**20
    refused(
        cli(["correlate", bomb, "--limit", f"xlsx_bytes={32 * 2**20}"], tmp_path),
        r"unpacked size",
        r"xlsx_bytes=33,554,432",
    )


# --------------------------------------------------------------------------- helpers


def test_clean_text_cuts_echoes_and_escapes_controls() -> None:
    cell = "A" * 10_000_000
    text = str(Problem(f"value {cell!r} is not a number.", file="h.csv"))
    assert len(text) < 600
    assert text.endswith("is not a number.")
    assert "[9,999,802 more characters]" in text  # 10M + 2 quotes - 200 shown
    shown = clean_text("bad \x1b[2J\r\x07 name \u202e \ud800 end")
    assert "\x1b" not in shown and "\r" not in shown and "\ud800" not in shown
    assert "\\x1b[2J\\x0d\\x07" in shown and "\\u202e" in shown and "\\ud800" in shown
    shown.encode("utf-8")  # printable on any UTF-8 terminal


# --------------------------------------------------------------------------- 2. never overwrite an input


@pytest.mark.parametrize("which", ["model", "history"])
def test_review_refuses_to_overwrite_its_inputs(example, tmp_path: Path, which: str) -> None:
    model, history = example
    target = model if which == "model" else history
    before = target.read_bytes()
    refused(
        cli(["review", model, history, "-o", target], tmp_path), rf"would overwrite the {which}"
    )
    assert target.read_bytes() == before


def test_review_refuses_to_overwrite_its_template(example, tmp_path: Path) -> None:
    from report_fixtures import write_mini_template

    model, history = example
    tpl = write_mini_template(tmp_path / "mytpl.ipynb")
    before = tpl.read_bytes()
    args = ["review", model, history, "-o", tmp_path / "mytpl.html", "--template", tpl]
    refused(cli([*args, "--keep-notebook"], tmp_path), r"kept notebook.*template")
    assert tpl.read_bytes() == before
    # a symlink to an input is the input
    link = tmp_path / "alias.yaml"
    link.symlink_to(model)
    refused(cli(["review", model, history, "-o", link], tmp_path), r"would overwrite the model")


def test_calibrate_refuses_the_history_and_an_unwritable_folder(example, tmp_path: Path) -> None:
    model, history = example
    before = history.read_bytes()
    refused(cli(["calibrate", model, history, "-o", history, "--force"], tmp_path), "history")
    assert history.read_bytes() == before
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    refused(
        cli(["calibrate", model, history, "-o", blocker / "out.yaml"], tmp_path),
        r"cannot (write in|create) the folder",
    )


def test_review_output_writability_is_checked_before_the_work(example, tmp_path: Path) -> None:
    model, history = example
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    err = refused(
        cli(["review", model, history, "-o", blocker / "r.html"], tmp_path, timeout=30),
        r"cannot write in the folder",
    )
    assert "kernel" not in err


def _manifest(tmp_path: Path, units: Sequence[str], model: Path, history: Path) -> Path:
    path = tmp_path / "units.csv"
    rows = [f'"{u}",{model},{history}' for u in units]
    path.write_text("unit,model,history\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_batch_unit_names_never_collide(example, tmp_path: Path) -> None:
    from stratlab.report._batch import read_manifest

    model, history = example
    long_name = "Region " + "x" * 300
    units = read_manifest(
        _manifest(
            tmp_path, ["index", "INDEX.", long_name, "../../etc/passwd", ".hidden"], model, history
        ),
        tmp_path / "out",
    )
    names = [Path(u.output).name for u in units]
    assert len({n.lower() for n in names}) == len(names)
    assert all(n.lower() != "index.html" for n in names), names
    assert all(len(n.encode()) <= 130 and not n.startswith(".") for n in names), names
    assert all(Path(u.output).parent == tmp_path / "out" for u in units)
    with pytest.raises(
        InputError, match=r"unit 'north' has the same output file name as unit 'North'"
    ):
        read_manifest(_manifest(tmp_path, ["North", "north"], model, history), tmp_path / "out")


def test_batch_outputs_never_overwrite_inputs(example, tmp_path: Path) -> None:
    from stratlab.report._batch import read_manifest

    model, history = example
    out = tmp_path / "out"
    out.mkdir()
    hist_in_out = out / "north.csv"
    hist_in_out.write_bytes(history.read_bytes())
    # the model file is what unit "north"'s failed-run notebook would be called... with .yaml no;
    # an input named like an output: history 'index.html' is refused by suffix, so use a template
    tpl = out / "south.failed.ipynb"
    from report_fixtures import write_mini_template

    write_mini_template(tpl)
    path = tmp_path / "units.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "units": [
                    {
                        "unit": "south",
                        "model": str(model),
                        "history": str(hist_in_out),
                        "template": str(tpl),
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match=r"failed-run notebook of unit 'south'.*would overwrite the template"
    ):
        read_manifest(path, out)


# --------------------------------------------------------------------------- 3. spreadsheet safety

EVIL = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
]


def _evil_model() -> dict[str, object]:
    data = yaml.safe_load(MINI_YAML)
    for i, name in enumerate(EVIL[: len(data["objectives"])]):
        data["objectives"][i]["name"] = name
    data["name"] = EVIL[4]
    data["measures"][0]["name"] = EVIL[5]
    data["measures"][1]["name"] = EVIL[6]
    return data


def test_xlsx_writes_text_never_formulas_and_reads_back_unchanged(tmp_path: Path) -> None:
    import openpyxl

    model = load_model(_evil_model())
    path = tmp_path / "evil.xlsx"
    stratlab.save_model(model, path)
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    evil_cells = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r"]
    assert evil_cells and all(c.data_type == "s" for c in evil_cells)
    assert all(c.quotePrefix for c in evil_cells)
    back = load_model(path)
    assert [o.name for o in back.objectives] == [o.name for o in model.objectives]
    assert back.name == model.name
    # XML normalises a carriage return to a line feed (documented); all else is unchanged
    assert [m.name for m in back.measures] == [m.name.replace("\r", "\n") for m in model.measures]
    # and YAML round trips too
    stratlab.save_model(model, tmp_path / "evil.yaml")
    assert load_model(tmp_path / "evil.yaml").objectives == model.objectives


def test_calibrate_xlsx_output_holds_no_formula(example, tmp_path: Path) -> None:
    model_path, history = example
    text = model_path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["objectives"][0]["name"] = '=HYPERLINK("http://evil","click")'
    evil = tmp_path / "evil.yaml"
    evil.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out.xlsx"
    proc = cli(["calibrate", evil, history, "-o", out, "--format", "csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as archive:
        assert not any(b"<f>" in archive.read(n) for n in archive.namelist() if "worksheets" in n)
    assert load_model(out).objectives[0].name == '=HYPERLINK("http://evil","click")'


def test_csv_output_for_people_is_prefixed(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump(_evil_model(), allow_unicode=True), encoding="utf-8")
    proc = cli(["score", path, "--format", "csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    names = {r["name"] for r in rows}
    assert {'\'=HYPERLINK("http://x","y")', "'+1+1", "'-2+3", "'\tTab"} <= names
    assert not any(n[:1] in "=+-@\t" for n in names)
    numbers = [r["delta"] for r in rows if "delta" in r]
    assert all(not v.startswith("'") for v in numbers)
    # numbers stay numbers: a negative value is not prefixed
    from stratlab._xlsx import csv_safe

    frame = csv_safe(pd.DataFrame({"x": [-1.5, 2.0], "t": ["-1", "ok"]}))
    assert frame["x"].tolist() == [-1.5, 2.0] and frame["t"].tolist() == ["'-1", "ok"]


def test_batch_table_and_terminal_table_are_safe(capsys) -> None:
    from stratlab.cli import emit

    frame = pd.DataFrame({"unit": ["=cmd|' /C calc'!A0", "north"], "status": ["ok", "failed"]})
    emit(frame, "csv")
    assert capsys.readouterr().out.splitlines()[1] == "'=cmd|' /C calc'!A0,ok"
    emit(pd.DataFrame({"name": ["\x1b[2Jclear", "ok"]}), "table")
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2Jclear" in out


def test_widget_scenario_export_is_prefixed(tmp_path: Path) -> None:
    model = load_model(_evil_model())
    explorer = stratlab.whatif_explorer(model)
    out = explorer.export_scenario(tmp_path / "s.csv")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert not frame["name"].str.match(r"^[=+\-@\t\r]").any()
    assert frame["name"].str.startswith("'=").any()


# --------------------------------------------------------------------------- 4. located messages, never a traceback


def _model_text(**replace: str) -> str:
    text = MINI_YAML
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    ("name", "text", "pattern"),
    [
        ("digits400.yaml", _model_text(**{"target: 45": "target: " + "9" * 400}), r"out of range"),
        (
            "digits5000.yaml",
            _model_text(**{"target: 45": "target: " + "9" * 5000}),
            r"5,000 digits",
        ),
        (
            "digits5000.json",
            '{"stratlab": 1, "name": "x", "objectives": [], "n": ' + "9" * 5000 + "}",
            r"5,000 digits",
        ),
        ("deep.json", "[" * 1000 + "]" * 1000, r"nest"),
        ("deep.yaml", "a: " + "[" * 1000 + "]" * 1000, r"nest"),
        (
            "surrogate.yaml",
            _model_text(**{"name: Northwind Coffee": 'name: "North\\ud800wind"'}),
            r"surrogate",
        ),
        (
            "surrogate.json",
            json.dumps(yaml.safe_load(MINI_YAML)).replace("Northwind Coffee", "North\\ud800wind"),
            r"surrogate",
        ),
    ],
)
@pytest.mark.slow
def test_bad_model_files_give_a_located_message(
    tmp_path: Path, name: str, text: str, pattern: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    err = refused(cli(["score", path], tmp_path, timeout=30), pattern, re_escape(name))
    assert len(err) < 3000


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_json_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(yaml.safe_load(MINI_YAML)).encode("utf-8"))
    assert load_model(path).name == "Northwind Coffee"


def test_numpy_scalars_are_accepted_in_a_model_dict() -> None:
    data = yaml.safe_load(MINI_YAML)
    data["measures"][0]["target"] = np.int64(45)
    data["measures"][0]["baseline"] = np.float32(20.0)
    data["links"][0]["lag"] = np.int32(1)
    model = load_model(data)
    assert model.measures[0].target == 45.0 and model.links[0].lag == 1


def test_history_xlsx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    path.write_text("period,nps\n2024-01,3\n")
    refused(cli(["correlate", path], tmp_path), r"not an Excel workbook", r"h\.xlsx")


def test_history_xlsx_whose_first_sheet_is_a_chart(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["period", "nps"])
    ws.append(["2024-01", 3])
    chart = wb.create_chartsheet("Chart", 0)
    from openpyxl.chart import BarChart, Reference

    bars = BarChart()
    bars.add_data(Reference(ws, min_col=2, min_row=1, max_row=2))
    chart.add_chart(bars)
    path = tmp_path / "chart.xlsx"
    wb.save(path)
    assert list(load_history(path).columns) == ["nps"]  # the data sheet is found
    wb.remove(ws)
    wb.save(path)
    refused(cli(["correlate", path], tmp_path), r"chart\.xlsx", r"only charts")


def test_formula_cells_without_cached_values_are_errors(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "kpis"
    ws.append(["period", "nps"])
    ws.append(["2024-01", 3])
    ws.append(["2024-02", "=B2+1"])  # openpyxl saves formulas without a computed value
    path = tmp_path / "f.xlsx"
    wb.save(path)
    refused(
        cli(["correlate", path], tmp_path),
        r"sheet 'kpis'",
        r"cell B3 holds a formula with no saved value",
    )


def test_duplicate_headers_and_sheets_are_errors(tmp_path: Path) -> None:
    csv_path = tmp_path / "dup.csv"
    csv_path.write_text("period,nps,wait,nps\n2024-01,1,2,3\n2024-02,1,2,3\n")
    refused(cli(["correlate", csv_path], tmp_path), r"column 'nps' appears more than once")
    model = load_model(yaml.safe_load(MINI_YAML))
    xlsx = tmp_path / "m.xlsx"
    stratlab.save_model(model, xlsx)
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    ws = wb["measures"]
    ws.cell(row=1, column=ws.max_column + 1, value="name")
    wb.save(xlsx)
    with pytest.raises(ModelError, match=r"sheet 'measures', row 1, column 'name'.*more than once"):
        load_model(xlsx)
    wb = openpyxl.load_workbook(tmp_path / "m.xlsx")
    wb["links"].title = "Links2"
    wb.copy_worksheet(wb["objectives"]).title = "Objectives "
    wb.save(xlsx)
    with pytest.raises(ModelError, match=r"two sheets are named 'objectives' and 'Objectives '"):
        load_model(xlsx)


def test_dataframes_with_duplicate_columns_or_no_periods() -> None:
    frame = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["nps", "nps"])
    frame.index = pd.period_range("2024-01", periods=2, freq="M")
    with pytest.raises(HistoryError, match=r"column 'nps' appears more than once"):
        load_history(frame)
    nat = pd.DataFrame({"nps": [1.0, 2.0]}, index=pd.DatetimeIndex([pd.NaT, pd.NaT]))
    with pytest.raises(HistoryError, match=r"period"):
        load_history(nat)
    nat2 = pd.DataFrame({"period": [pd.NaT, pd.NaT], "nps": [1.0, 2.0]})
    with pytest.raises(HistoryError, match=r"period"):
        load_history(nat2)


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("header.csv", b"unit,model,history\n", r"lists no units"),
        ("latin1.csv", "unit,model,history\nZürich,m.yaml,h.csv\n".encode("latin-1"), r"not UTF-8"),
        ("latin1.yaml", "- {unit: Zürich, model: m.yaml}\n".encode("latin-1"), r"not UTF-8"),
        ("dupkey.yaml", b"- {unit: a, model: m.yaml, unit: b}\n", r"'unit' is given twice"),
        ("dupcol.csv", b"unit,model,history,unit\na,m.yaml,h.csv,b\n", r"'unit' more than once"),
    ],
)
@pytest.mark.slow
def test_bad_manifests(tmp_path: Path, name: str, content: bytes, pattern: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    refused(cli(["review-batch", path, "-o", tmp_path / "out"], tmp_path), pattern)


@pytest.mark.slow
def test_parameters_are_typed_before_the_kernel(example, tmp_path: Path) -> None:
    from stratlab.report._templates import coerce_parameters, load_template

    tpl = load_template("quarterly_review")
    got = coerce_parameters(
        tpl, {"title": __import__("datetime").date(2025, 1, 1), "samples": 2000.0}
    )
    assert got == {"title": "2025-01-01", "samples": 2000}
    assert json.dumps(got)
    model, history = example
    out = tmp_path / "r.html"
    for bad, pattern in [
        (["-p", "samples=lots"], r"'samples' must be a whole number"),
        (["-p", "samples=0"], r"'samples' must be at least 1"),
        (["-p", "samples=" + "9" * 30], r"out of range"),
        (["-p", "horizon=100000"], r"horizon=1,200"),
        (["--period", "1999Q1"], r"outside the history"),
        (["--period", "sometime"], r"is not a period"),
        (["-p", "period=2025-13"], r"is not a period"),
    ]:
        err = refused(
            cli(["review", model, history, "-o", out, *bad], tmp_path, timeout=60), pattern
        )
        assert "kernel" not in err, err
    assert not out.exists()


def test_template_without_kernelspec_gets_one() -> None:
    from stratlab.report._templates import with_kernelspec

    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    fixed = json.loads(with_kernelspec(json.dumps(nb)))
    assert fixed["metadata"]["kernelspec"]["name"] == "python3"
    assert fixed["metadata"]["language_info"]["name"] == "python"
    full = json.dumps({**nb, "metadata": fixed["metadata"]})
    assert with_kernelspec(full) == full


@pytest.mark.slow
def test_disk_full_names_the_path_without_zip_noise(example, tmp_path: Path) -> None:
    model, history = example
    for name in ("out.xlsx", "out.yaml"):
        out = tmp_path / name
        err = refused(
            cli(["calibrate", model, history, "-o", out], tmp_path, file_size=2000),
            r"cannot write the file",
            re_escape(str(out)),
        )
        assert "ZipFile" not in err
        assert not out.exists() and not list(tmp_path.glob(f".{name}*"))


def test_a_huge_cell_is_echoed_short_and_controls_escaped(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("period,nps\n2024-01,\x1b[2J" + "A" * 2_000_000 + "\n2024-02,3\n")
    err = refused(cli(["correlate", path], tmp_path), r"more characters\]", r"\\x1b\[2J")
    assert len(err) < 2000 and "\x1b" not in err


# --------------------------------------------------------------------------- 5. signals


def _sleepy_inputs(folder: Path) -> tuple[Path, Path, Path]:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    from report_fixtures import write_inputs

    folder.mkdir(parents=True, exist_ok=True)
    model, history = write_inputs(folder)
    params = new_code_cell("model = None\nhistory = None\nperiod = None\nsleep = 120")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(
        cells=[
            params,
            new_code_cell("import time\ntime.sleep(sleep)"),
            new_code_cell("from IPython.display import HTML\nHTML('<p id=done>done</p>')"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    tpl = folder / "sleepy.ipynb"
    nbformat.write(nb, tpl)
    return model, history, tpl


def _start(args: Sequence[str | Path], cwd: Path, tmp: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TMPDIR": str(tmp / "tmp"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "OPENBLAS_NUM_THREADS": "1",
    }
    (tmp / "tmp").mkdir(exist_ok=True)
    (tmp / "runtime").mkdir(exist_ok=True)
    return subprocess.Popen(
        [*STRATLAB, *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: _bounded(MEMORY, None),
    )


def _cmdline(process: Any) -> list[str]:
    """A child's command line, or [] for one that has exited (a zombie not yet reaped, or gone)."""
    import psutil

    try:
        return list(process.cmdline())
    except psutil.Error:
        return []


def _wait_for_kernels(proc: subprocess.Popen[str], count: int, timeout: float = 120) -> list[int]:
    import time

    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        kids = psutil.Process(proc.pid).children(recursive=True)
        kernels = [k for k in kids if "ipykernel" in " ".join(_cmdline(k))]
        if len(kernels) >= count:
            time.sleep(2)  # let the kernels start running cells
            return [k.pid for k in psutil.Process(proc.pid).children(recursive=True)]
        time.sleep(0.3)
    raise AssertionError("the kernels did not start")


def _assert_stopped(proc: subprocess.Popen[str], pids: list[int], tmp: Path, signum: int) -> str:
    import psutil

    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("stratlab ") and "stopped by SIG" in last, last

    def running(pid: int) -> bool:  # a zombie has exited: only its parent has yet to reap it
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:  # gone, or became a zombie between the two calls
            return False

    alive = [p for p in pids if running(p)]
    assert not alive, alive
    assert not list((tmp / "tmp").glob("stratlab-review-*"))
    assert not list((tmp / "runtime").glob("kernel-*.json"))
    return err


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.parametrize("signum", [15, 2])
def test_signal_stops_a_review_cleanly(tmp_path: Path, signum: int) -> None:
    model, history, tpl = _sleepy_inputs(tmp_path / "in")
    out = tmp_path / "out" / "r.html"
    proc = _start(["review", model, history, "-o", out, "--template", tpl], tmp_path, tmp_path)
    pids = _wait_for_kernels(proc, 1)
    proc.send_signal(signum)
    _assert_stopped(proc, pids, tmp_path, signum)
    assert not out.exists() and not list(out.parent.glob(".*tmp"))


@pytest.mark.slow
@pytest.mark.kernel
def test_sigterm_stops_a_batch_and_keeps_finished_reviews(tmp_path: Path) -> None:
    import time

    model, history, tpl = _sleepy_inputs(tmp_path / "in")
    manifest = tmp_path / "units.csv"
    manifest.write_text(
        "unit,model,history,template,sleep\n"
        f"quick,{model},{history},{tpl},0\n"
        f"slow1,{model},{history},{tpl},120\n"
        f"slow2,{model},{history},{tpl},120\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = _start(["review-batch", manifest, "-o", out, "--jobs", "2"], tmp_path, tmp_path)
    deadline = time.monotonic() + 300  # a whole review on a loaded machine
    while not (out / "quick.html").exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.3)
    pids = _wait_for_kernels(proc, 2)
    proc.send_signal(15)
    _assert_stopped(proc, pids, tmp_path, 15)
    page = (out / "quick.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>") and "id=done" in page.replace('"', "")
    assert not (out / "slow1.html").exists() and not (out / "index.html").exists()


def test_a_killed_review_scratch_folder_is_removed_by_the_next_run(
    tmp_path: Path, monkeypatch
) -> None:
    import tempfile

    from stratlab.report._review import remove_stale_scratch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f"stratlab-review-{int(dead.stdout)}-abc"
    (stale / "kernel").mkdir(parents=True)
    (stale / "kernel-connection.json").write_text("{}")
    mine = tmp_path / f"stratlab-review-{os.getpid()}-abc"
    mine.mkdir()
    os.utime(stale, (0, 0))
    os.utime(mine, (0, 0))
    assert remove_stale_scratch() == [stale]
    assert not stale.exists() and mine.exists()


# --------------------------------------------------------------------------- 6. properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stratlab import StratlabError  # noqa: E402

#: Each random example must finish within this many milliseconds (hypothesis fails it otherwise).
DEADLINE_MS = 10_000  # unbounded cases take minutes; 10 s absorbs a loaded CI machine
PROPERTY = settings(
    max_examples=40,
    deadline=DEADLINE_MS,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_YAML_BITS = st.sampled_from(
    [
        "name: x\n",
        "objectives:\n",
        "  - ",
        "&a ",
        "*a",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "- ",
        "\n",
        "  ",
        "'",
        '"',
        "\\ud800",
        "9" * 500,
        "1e999",
        "!!python/object:os.system ",
        "id: o1",
        "perspective: learning",
        "stratlab: 1\n",
        "measures: *a\n",
        "\ufeff",
        "\x00",
        "<<: *a\n",
        "? ",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
        "#",
        "\t",
    ]
)


@PROPERTY
@given(parts=st.lists(_YAML_BITS, max_size=60), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_model_text_never_crashes(tmp_path: Path, parts: list[str], suffix: str) -> None:
    path = tmp_path / f"m{suffix}"
    path.write_text("".join(parts), encoding="utf-8", errors="surrogatepass")
    try:
        load_model(path)
    except StratlabError as exc:
        str(exc).encode("utf-8")  # every message is printable


@PROPERTY
@given(data=st.binary(max_size=4000), suffix=st.sampled_from([".yaml", ".json", ".xlsx", ".csv"]))
def test_random_bytes_never_crash(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    reader = load_history if suffix == ".csv" else load_model
    try:
        reader(path)
    except StratlabError as exc:
        str(exc).encode("utf-8")


@PROPERTY
@given(
    depth=st.integers(1, 12),
    width=st.integers(1, 12),
)
def test_alias_trees_are_measured_not_expanded(tmp_path: Path, depth: int, width: int) -> None:
    lines = ['l0: &l0 ["x"]']
    for i in range(1, depth + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    lines.append(f"objectives: *l{depth}")
    path = tmp_path / "alias.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    limits = Limits(yaml_nodes=5_000)
    with pytest.raises(ModelError):  # either too many values, or (when small) an invalid model
        load_model(path, limits=limits)


_CELLS = st.one_of(
    st.sampled_from(
        ["", "2024-01", "2024Q3", "x", "=1+1", "-", "1e999", "nan", "9" * 400, '"', ","]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8),
)


@PROPERTY
@given(rows=st.lists(st.lists(_CELLS, min_size=1, max_size=6), min_size=1, max_size=30))
def test_random_histories_never_crash(tmp_path: Path, rows: list[list[str]]) -> None:
    import csv

    path = tmp_path / "h.csv"
    with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as handle:
        csv.writer(handle).writerows(rows)
    try:
        load_history(path)
    except StratlabError as exc:
        str(exc).encode("utf-8")


@PROPERTY
@given(
    text=st.lists(
        st.sampled_from(
            [
                "unit",
                "model",
                "history",
                ",",
                "\n",
                "a",
                "m.yaml",
                "index",
                "INDEX",
                "&a",
                "*a",
                "- ",
                "{",
                "}",
                ": ",
                "units:",
                "\ufeff",
            ]
        ),
        max_size=40,
    ),
    suffix=st.sampled_from([".csv", ".yaml"]),
)
def test_random_manifests_never_crash(tmp_path: Path, text: list[str], suffix: str) -> None:
    from stratlab.report._batch import read_manifest

    (tmp_path / "m.yaml").write_text(MINI_YAML, encoding="utf-8")
    path = tmp_path / f"units{suffix}"
    path.write_text("".join(text), encoding="utf-8")
    try:
        units = read_manifest(path, tmp_path / "out")
    except StratlabError as exc:
        str(exc).encode("utf-8")
        return
    names = [Path(u.output).name.lower() for u in units]
    assert len(set(names)) == len(names) and "index.html" not in names


@pytest.mark.slow
@pytest.mark.kernel
def test_date_parameter_and_template_without_kernelspec_run(tmp_path: Path) -> None:
    import nbformat
    from report_fixtures import write_inputs, write_mini_template

    model, history = write_inputs(tmp_path)
    tpl = write_mini_template(tmp_path / "bare.ipynb")
    nb = nbformat.read(tpl, as_version=4)
    nb.metadata = {}  # saved by a script: no kernelspec, no language_info
    nbformat.write(nb, tpl)
    out = tmp_path / "r.html"
    proc = cli(
        ["review", model, history, "-o", out, "--template", tpl, "-p", "title=2025-01-01"],
        tmp_path,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2025-01-01" in out.read_text(encoding="utf-8")
