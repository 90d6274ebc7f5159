"""stratlab.report: templates, parameter checks, papermill runs, HTML export, batches.

Kernel runs cost seconds, so a few module-scoped reviews are shared by many
assertions.  The mini template (tests/report_fixtures.py) keeps them fast; the
shipped templates are checked statically here and executed once.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import report_fixtures as fx

from stratlab.errors import InputError, ReportError
from stratlab.io import atomic_write
from stratlab.report import (
    BATCH_COLUMNS,
    list_templates,
    load_template,
    read_manifest,
    run_batch,
    run_review,
)
from stratlab.report._batch import write_index
from stratlab.report._export import normalise_notebook

TEMPLATE_PARAMETERS = [
    "model",
    "history",
    "history_table",
    "history_query",
    "period",
    "samples",
    "seed",
    "horizon",
    "title",
]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def inputs(workdir: Path) -> tuple[Path, Path, Path]:
    model, history = fx.write_inputs(workdir)
    template = fx.write_mini_template(workdir / "mini.ipynb")
    return model, history, template


@pytest.fixture(scope="module")
def review(inputs: tuple[Path, Path, Path], workdir: Path) -> str:
    """One default run of the mini template (code hidden)."""
    model, history, template = inputs
    out = run_review(
        model, history, workdir / "a" / "review.html", template=template, progress=False
    )
    assert out == workdir / "a" / "review.html"
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def review_objects(inputs: tuple[Path, Path, Path], workdir: Path) -> Path:
    """Model and history passed as objects, code shown, executed notebook kept."""
    from stratlab.io import load_history, load_model

    model, history, template = inputs
    strategy = load_model(model)
    return run_review(
        strategy,
        load_history(history, strategy),
        workdir / "b" / "review.html",
        template=template,
        show_code=True,
        keep_notebook=True,
        progress=False,
    )


@pytest.fixture(scope="module")
def failed(inputs: tuple[Path, Path, Path], workdir: Path) -> tuple[ReportError, Path]:
    """A run whose cell raises, over an output that already exists."""
    model, history, template = inputs
    out = workdir / "c" / "review.html"
    out.parent.mkdir()
    out.write_text("previous review", encoding="utf-8")
    with pytest.raises(ReportError, match=r"boom on purpose") as info:
        run_review(
            model, history, out, template=template, parameters={"fail": True}, progress=False
        )
    return info.value, out


# --------------------------------------------------------------------------- templates


def test_shipped_templates_found_by_name() -> None:
    assert list_templates() == ["link_check", "okr_checkin", "quarterly_review"]


@pytest.mark.parametrize("name", ["quarterly_review", "link_check", "okr_checkin"])
def test_shipped_template_parameters_and_no_outputs(name: str) -> None:
    template = load_template(name)
    # the quarterly review also takes the meeting's commentary and actions
    extra = ["comments"] if name == "quarterly_review" else []
    assert list(template.parameters) == TEMPLATE_PARAMETERS + extra
    assert template.parameters["seed"] == 0
    nb = nbformat.reads(template.text, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    # the first cell prepares plotly for the HTML export
    assert "setup_notebook()" in code[0].source


def test_unknown_template_name_suggests_close_match() -> None:
    with pytest.raises(
        InputError,
        match=r"unknown review template 'quartely_review'.*did you mean 'quarterly_review'",
    ):
        load_template("quartely_review")


def test_missing_template_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"does not exist"):
        load_template(tmp_path / "nope.ipynb")


def test_template_without_parameters_cell(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(InputError, match=r"no code cell tagged 'parameters'"):
        load_template(path)


def test_parameters_read_with_ast(inputs: tuple[Path, Path, Path]) -> None:
    template = load_template(inputs[2])
    assert template.parameters == {
        "model": None,
        "history": None,
        "period": None,
        "seed": 0,
        "title": None,
        "fail": False,
    }


def test_unknown_parameter_is_an_error_with_suggestion(
    inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, history, _ = inputs
    out = tmp_path / "r.html"
    with pytest.raises(InputError, match=r"unknown parameter 'sampels'.*did you mean 'samples'"):
        run_review(model, history, out, parameters={"sampels": 10}, progress=False)
    assert not out.exists()


def test_model_is_not_a_parameter(inputs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    model, history, _ = inputs
    with pytest.raises(InputError, match=r"'model' cannot be given as a template parameter"):
        run_review(
            model, history, tmp_path / "r.html", parameters={"model": "x.yaml"}, progress=False
        )


def test_period_needs_a_declared_parameter(inputs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("model = None\nhistory = None")])
    nb.cells[0].metadata["tags"] = ["parameters"]
    path = tmp_path / "np.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(InputError, match=r"does not declare 'period'"):
        run_review(
            inputs[0],
            inputs[1],
            tmp_path / "r.html",
            template=path,
            period="2024Q3",
            progress=False,
        )


# --------------------------------------------------------------------------- one review


def test_plotly_js_embedded_exactly_once(review: str) -> None:
    from plotly.offline import get_plotlyjs

    from stratlab.plots.plotlyjs import cartesian_bundle

    # the cartesian partial bundle (the review draws only scatter traces), once
    assert review.count(cartesian_bundle()[:2000]) == 1
    assert get_plotlyjs()[:2000] not in review
    assert len(re.findall(r"\* plotly\.js (?:\(cartesian - minified\) )?v\d", review)) == 1
    assert review.count('class="plotly-graph-div"') == 2


def test_self_contained_no_remote_scripts(review: str) -> None:
    assert not re.search(r"<script[^>]*\ssrc=", review)
    assert not re.search(r"<link[^>]*\shref=[\"']?(https?:)?//", review)


def test_code_hidden_by_default(review: str) -> None:
    assert 'class="jp-InputArea' not in review
    assert "hl-ipython3" not in review
    assert "default_rng" not in review  # a line of the template's code


def test_user_text_escaped(review: str) -> None:
    assert fx.PWNED_SCRIPT not in review
    assert "Northwind &lt;script&gt;window.__pwned = 1&lt;/script&gt; Coffee" in review


def test_review_is_deterministic(
    review: str, inputs: tuple[Path, Path, Path], workdir: Path
) -> None:
    model, history, template = inputs
    again = run_review(
        model, history, workdir / "a2" / "review.html", template=template, progress=False
    )
    assert again.read_text(encoding="utf-8") == review
    # only plotly's (renamed) ids, no random uuids
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", review)


def test_objects_show_code_keep_notebook(review_objects: Path) -> None:
    html = review_objects.read_text(encoding="utf-8")
    assert 'class="jp-InputArea' in html and "hl-ipython3" in html and "default_rng" in html
    kept = review_objects.with_suffix(".ipynb")
    nb = nbformat.read(kept, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert "model.yaml" in injected[0].source and "history.csv" in injected[0].source
    # execution timestamps are stripped
    assert not any("execution" in c.metadata or "papermill" in c.metadata for c in nb.cells)
    assert "start_time" not in nb.metadata.get("papermill", {})
    assert "review complete" in json.dumps(nb.cells[-1].outputs)


def test_failing_cell(failed: tuple[ReportError, Path]) -> None:
    error, out = failed
    assert error.ename == "ValueError"
    assert error.evalue == "boom on purpose"
    # cells: setup, parameters, injected parameters, load, 2 charts, the failing one
    assert error.cell_index == 6
    assert f"cell {error.cell_index}" in str(error)
    partial = out.with_name("review.failed.ipynb")
    assert error.notebook_path == str(partial)
    nb = nbformat.read(partial, as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert [o["ename"] for o in errors] == ["ValueError"]
    # papermill marks the failing cell for whoever opens the partial notebook
    assert any("papermill-error-cell" in c.source for c in nb.cells if c.cell_type == "markdown")


def test_failure_leaves_existing_output_untouched(failed: tuple[ReportError, Path]) -> None:
    _, out = failed
    assert out.read_text(encoding="utf-8") == "previous review"
    assert sorted(p.name for p in out.parent.iterdir()) == ["review.failed.ipynb", "review.html"]


@pytest.mark.parametrize("name", ["link_check", "okr_checkin"])
def test_shipped_template_runs(name: str, inputs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    from plotly.offline import get_plotlyjs

    model, history, _ = inputs
    out = run_review(
        model,
        history,
        tmp_path / f"{name}.html",
        template=name,
        period="2024Q3",
        parameters={"samples": 50, "horizon": 2, "title": "Q3 <b>check</b>"},
        progress=False,
    )
    html = out.read_text(encoding="utf-8")
    assert "Q3 &lt;b&gt;check&lt;/b&gt;" in html
    assert "Period: 2024Q3" in html
    assert html.count(get_plotlyjs()[:2000]) <= 1
    assert not re.search(r"<script[^>]*\ssrc=", html)
    assert "hl-ipython3" not in html  # no highlighted code


# --------------------------------------------------------------------------- helpers


def test_atomic_write_failure_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.html"
    target.write_text("old", encoding="utf-8")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    # a located message naming the file, not a bare OSError (issue 16)
    with pytest.raises(InputError, match=r"out\.html: cannot write the file: disk full"):
        atomic_write(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]


def test_atomic_write_creates_readable_file(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "sub" / "x.html", "hello")
    assert target.read_text(encoding="utf-8") == "hello"
    assert target.stat().st_mode & 0o044  # group/other can read (umask permitting)


def test_normalise_notebook_ids_and_remote_scripts() -> None:
    uid_a, uid_b = "0f8c5f1e-3a2b-4c1d-9e8f-7a6b5c4d3e2f", "11111111-2222-4333-8444-555555555555"
    html = (
        f'<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js"></script>'
        f'<div id="{uid_a}" class="plotly-graph-div"></div><script>Plotly.newPlot("{uid_a}")</script>'
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": html}),
        nbformat.v4.new_output(
            "display_data", data={"text/html": f'<div id="{uid_b}" class="plotly-graph-div"></div>'}
        ),
    ]
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00"}
    normalise_notebook(nb)
    first = nb.cells[0].outputs[0]["data"]["text/html"]
    assert first == (
        '<div id="stratlab-plot-1" class="plotly-graph-div"></div>'
        '<script>Plotly.newPlot("stratlab-plot-1")</script>'
    )
    assert 'id="stratlab-plot-2"' in nb.cells[0].outputs[1]["data"]["text/html"]
    assert "execution" not in nb.cells[0].metadata


# --------------------------------------------------------------------------- batch


def _manifest_folder(root: Path, inputs: tuple[Path, Path, Path]) -> Path:
    model, history, template = inputs
    folder = root / "units"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "north.yaml").write_text(model.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "north.csv").write_text(history.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "broken.yaml").write_text(
        "stratlab: 1\nname: Broken\nobjectivez: []\n", encoding="utf-8"
    )
    (folder / "mini.ipynb").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def batch(inputs: tuple[Path, Path, Path], workdir: Path) -> tuple[pd.DataFrame, Path]:
    folder = _manifest_folder(workdir / "batch", inputs)
    manifest = folder / "units.yaml"
    manifest.write_text(
        "template: mini.ipynb\n"
        "parameters: {seed: 3}\n"
        "units:\n"
        "  - {unit: north, model: north.yaml, history: north.csv}\n"
        "  - {unit: '<script>window.__pwned = 3</script>', model: north.yaml, history: north.csv,"
        " parameters: {seed: 4}}\n"
        "  - {unit: broken, model: broken.yaml, history: north.csv}\n",
        encoding="utf-8",
    )
    out = workdir / "batch" / "out"
    return run_batch(manifest, out, jobs=2), out


def test_batch_one_failing_unit_does_not_stop_the_others(batch: tuple[pd.DataFrame, Path]) -> None:
    table, out = batch
    assert list(table.columns) == BATCH_COLUMNS
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert "objectivez" in table.loc[2, "error"]
    assert table.loc[0, "error"] == ""
    from stratlab.scoring import score

    scores = score(table.loc[0, "model"], table.loc[0, "history"])
    counts = scores.loc[scores["kind"] == "objective", "status"].value_counts()
    expected = " · ".join(f"{n} {s}" for s, n in counts.items())
    assert sorted(table.loc[0, "headline"].removeprefix("objectives: ").split(" · ")) == sorted(
        expected.split(" · ")
    )
    assert table.loc[2, "headline"] == ""
    assert Path(table.loc[0, "output"]) == out / "north.html"
    assert (out / "north.html").is_file() and (
        out / "script_window.__pwned_3_script.html"
    ).is_file()
    assert not (out / "broken.html").exists()


def test_batch_index_links_and_escapes(batch: tuple[pd.DataFrame, Path]) -> None:
    _, out = batch
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="north.html">north</a>' in index
    assert "<script>" not in index
    assert "&lt;script&gt;window.__pwned = 3&lt;/script&gt;" in index
    assert "3 units, 1 failed" in index


def test_write_index_escapes_every_field(tmp_path: Path) -> None:
    table = pd.DataFrame(
        [["<b>u</b>", "m", "h", str(tmp_path / "u.html"), "failed", "", '<img src=x onerror="1">']],
        columns=BATCH_COLUMNS,
    )
    page = write_index(table, tmp_path / "index.html", title="<i>t</i>").read_text(encoding="utf-8")
    assert "<b>" not in page and "<img" not in page and "<i>" not in page
    assert "&lt;img src=x onerror=&#34;1&#34;&gt;" in page


def test_manifest_csv_extra_columns_are_parameters(
    inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    folder = _manifest_folder(tmp_path, inputs)
    manifest = folder / "units.csv"
    manifest.write_text(
        "unit,model,history,template,seed,title\nnorth,north.yaml,north.csv,mini.ipynb,7,North Q3\n",
        encoding="utf-8",
    )
    (unit,) = read_manifest(manifest, tmp_path / "out")
    assert unit.model == str(folder / "north.yaml")
    assert unit.history == str(folder / "north.csv")
    assert unit.parameters == {"seed": 7, "title": "North Q3"}
    assert unit.output == str(tmp_path / "out" / "north.html")


@pytest.mark.parametrize(
    ("text", "suffix", "match"),
    [
        ("unit,modle\nn,x\n", ".csv", r"units\.csv, line 1: the manifest's header row"),
        (
            "unit,model,history\nn,missing.yaml,north.csv\n",
            ".csv",
            r"line 2, model: model file 'missing.yaml' does not exist",
        ),
        (
            "- {unit: n, model: north.yaml, histroy: north.csv}\n",
            ".yaml",
            r"line 1, units\[0\]\.histroy: unknown key 'histroy'.*did you mean 'history'",
        ),
        (
            "- {unit: n, model: north.yaml}\n- {unit: n, model: north.yaml}\n",
            ".yaml",
            r"line 2.*same output file name",
        ),
        (
            "- {unit: n, model: north.yaml, parameters: {sampels: 3}}\n",
            ".yaml",
            r"unknown parameter 'sampels'.*did you mean 'samples'",
        ),
        ("units: [\n", ".yaml", r"not valid YAML"),
        ("{units: [], tmeplate: x}\n", ".yaml", r"unknown top-level key 'tmeplate'"),
    ],
)
def test_bad_manifest_is_located(
    text: str, suffix: str, match: str, inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    folder = _manifest_folder(tmp_path, inputs)
    manifest = folder / f"units{suffix}"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        run_batch(manifest, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_batch_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"jobs must be a whole number"):
        run_batch(tmp_path / "m.csv", tmp_path / "out", jobs=0)


# --------------------------------------------------------------------------- group view


@pytest.fixture(scope="module")
def group_batch(inputs: tuple[Path, Path, Path], workdir: Path) -> tuple[pd.DataFrame, Path, Path]:
    """Three units by CSV manifest: north (weight 2), south (weight 1), broken (fails)."""
    folder = _manifest_folder(workdir / "group", inputs)
    south = pd.read_csv(folder / "north.csv")
    south[south.columns[1:]] = south[south.columns[1:]] * 0.8
    south.to_csv(folder / "south.csv", index=False)
    manifest = folder / "units.csv"
    manifest.write_text(
        "unit,model,history,template,weight,seed\n"
        "north,north.yaml,north.csv,mini.ipynb,2,1\n"
        "south,north.yaml,south.csv,mini.ipynb,,2\n"
        "broken,broken.yaml,north.csv,mini.ipynb,1,3\n",
        encoding="utf-8",
    )
    out = workdir / "group" / "out"
    return run_batch(manifest, out, jobs=2), out, folder


def test_group_page_grid_heatmap_rollup_and_links(
    group_batch: tuple[pd.DataFrame, Path, Path],
) -> None:
    from stratlab.report._group import group_rollup, unit_summary
    from stratlab.scoring import score

    table, out, folder = group_batch
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert "\n" not in table.loc[2, "error"]  # one clean line per failure
    page = (out / "group.html").read_text(encoding="utf-8")
    # units x objectives grid and units x perspectives heatmap, one row per unit
    assert page.count('<tr data-unit="north">') == 2
    assert page.count('<tr data-unit="broken">') == 2
    assert '<a href="north.html">north</a>' in page and '<a href="south.html">' in page
    assert "broken.html" not in page  # never written, never linked
    assert "Build &lt;img" in page and "<img src=x" not in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="group.html">' in index and "broken.html" not in index
    # the roll-up weights north 2 : south 1, recomputed from score()
    north = score(folder / "north.yaml", folder / "north.csv").set_index("id")["score"]
    south = score(folder / "north.yaml", folder / "south.csv").set_index("id")["score"]
    summaries = {
        "north": unit_summary(folder / "north.yaml", folder / "north.csv"),
        "south": unit_summary(folder / "north.yaml", folder / "south.csv"),
        "broken": None,
    }
    rolled = group_rollup(summaries, {"north": 2.0, "south": 1.0, "broken": 1.0}).set_index("id")
    for node in ("loyalty", "growth", "financial"):
        expected = (2 * north[node] + south[node]) / 3
        assert rolled.loc[node, "score"] == pytest.approx(expected)
        assert rolled.loc[node, "units"] == 2
    assert f"{rolled.loc['growth', 'score']:.3g}" in page


def test_manifest_weight_yaml_extra_keys_and_refused_parameters_column(
    inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    folder = _manifest_folder(tmp_path, inputs)
    manifest = folder / "units.yaml"
    manifest.write_text(
        "- {unit: n, model: north.yaml, history: north.csv, template: mini.ipynb, weight: 2.5,"
        " seed: 9, title: North}\n",
        encoding="utf-8",
    )
    (unit,) = read_manifest(manifest, tmp_path / "out")
    assert unit.weight == 2.5
    assert unit.parameters == {"seed": 9, "title": "North"}
    csv = folder / "units.csv"
    csv.write_text("unit,model,parameters\nn,north.yaml,{seed: 1}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 1.*no 'parameters' column.*its own column"):
        read_manifest(csv, tmp_path / "out")
    csv.write_text("unit,model,weight\nn,north.yaml,0\nm,north.yaml,heavy\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_manifest(csv, tmp_path / "out")
    assert "line 2, weight: weight 0 is not a positive number" in str(info.value)
    assert "line 3, weight: weight 'heavy' is not a positive number" in str(info.value)
    manifest.write_text(
        "- {unit: n, model: north.yaml, template: mini.ipynb, sede: 3}\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"unknown parameter 'sede'.*did you mean 'seed'"):
        read_manifest(manifest, tmp_path / "out")


def test_cli_batch_exits_1_with_one_line_per_failure(
    group_batch: tuple[pd.DataFrame, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stratlab.cli import main

    _, _, folder = group_batch
    manifest = folder / "units.csv"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    manifest_2 = folder / "two.csv"
    manifest_2.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n", encoding="utf-8")
    code = main(["review-batch", str(manifest_2), "-o", str(tmp_path / "out"), "--format", "csv"])
    err = capsys.readouterr().err
    assert code == 1
    failures = [line for line in err.splitlines() if "review failed" in line]
    assert len(failures) == 1 and failures[0].startswith("broken: review failed: ")
    assert "objectivez" in failures[0] and "\\n" not in failures[0]
    assert (tmp_path / "out" / "group.html").is_file()
