"""The model file: validation with located messages, round-trips, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MINI_YAML

import stratlab
from stratlab import ModelError, load_model, save_model
from stratlab.model import model_schema


def bad(write, text: str, name: str = "model.yaml") -> ModelError:
    path = write(text, name)
    with pytest.raises(ModelError) as info:
        load_model(path)
    return info.value


def edited(old: str, new: str) -> str:
    assert old in MINI_YAML, old
    return MINI_YAML.replace(old, new, 1)


def test_loads_the_design_example(mini_path: Path) -> None:
    model = load_model(mini_path)
    assert model.name == "Northwind Coffee"
    assert [o.id for o in model.objectives] == ["skills", "speed", "loyalty", "growth"]
    assert model.kind_of("nps") == "measure"
    assert model.kind_of("onboarding_days") == "key_result"
    assert model.kind_of("faster_onboarding") == "okr"
    assert model.get("wait_min").direction == "lower"
    assert [lk.kind for lk in model.links] == ["objective", "objective", "objective", "driver"]
    assert model.source == str(mini_path)
    assert dict(model.initiatives[0].uplift) == {"wait_min": -1.5, "onboarding_days": -2.0}


def test_model_is_immutable(mini_path: Path) -> None:
    model = load_model(mini_path)
    with pytest.raises(AttributeError):
        model.name = "x"  # type: ignore[misc]
    changed = model.with_values({"nps": 40})
    assert changed.get("nps").current == 40
    assert model.get("nps").current == 31


def test_unknown_key_has_line_path_and_suggestion(write) -> None:
    err = bad(write, edited("target: 45", "tagret: 45"))
    messages = [str(p) for p in err.problems]
    hit = [p for p in err.problems if p.path == "measures[0].tagret"]
    assert hit and hit[0].line == 21
    assert "did you mean 'target'?" in str(hit[0])
    assert any(
        "model.yaml, line 21, measures[0].tagret: unknown key 'tagret'" in m for m in messages
    )


def test_all_problems_reported_at_once(write) -> None:
    text = edited("direction: higher", "direction: hgher").replace(
        "lag: 1, rationale", "lag: -1, rationale"
    )
    text = text.replace("confidence: 0.6", "confidence: 1.6")
    err = bad(write, text)
    assert len(err.problems) >= 3
    text_all = str(err)
    assert (
        "'hgher' is not one of higher, lower, band" in text_all
        and "did you mean 'higher'?" in text_all
    )
    assert "links[0].lag: must be 0 or more, got -1" in text_all
    assert "confidence: must be at most 1, got 1.6" in text_all


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "- {id: speed,",
            "- {id: skills,",
            r"duplicate id 'skills' \(first used at objectives\[0\]\.id\)",
        ),
        (
            "objective: loyalty\n",
            "objective: loyality\n",
            r"unknown objective 'loyality'.*did you mean 'loyalty'\?",
        ),
        (
            "perspective: process}",
            "perspective: proces}",
            r"unknown perspective 'proces'.*did you mean 'process'\?",
        ),
        (
            "{from: speed, to: loyalty",
            "{from: sped, to: loyalty",
            r"unknown objective or measure 'sped'.*did you mean 'speed'\?",
        ),
        ("aligns_to: skills", "aligns_to: skils", r"unknown objective or OKR 'skils'"),
        ("target: 45", "target: 20", r"target equals baseline \(20\): the score is undefined"),
        (
            "baseline: 20",
            "baseline: abc",
            r"measures\[0\]\.baseline: must be a number, got the text 'abc'",
        ),
        ("baseline: 20", "baseline: '20'", r"got the text '20' \(quoted\).*remove the quotes: 20"),
        ("baseline: 20", "baseline: .nan", r"must be a finite number"),
        ("current: 31", "current: .inf", r"must be a finite number"),
        (
            "lag: 1, rationale",
            "lag: -2, rationale",
            r"must be 0 or more, got -2.*cannot be negative",
        ),
        ("lag: 1, rationale", "lag: .nan, rationale", r"links\[0\]\.lag: must be a whole number"),
        ("stratlab: 1 ", "stratlab: .inf ", r"stratlab: must be a whole number"),
        ("direction: higher", "direction: up", r"'up' is not one of higher, lower, band"),
        (
            "direction: higher",
            "direction: band",
            r"direction 'band' needs its band.*band: \[lo, hi\]",
        ),
        ("confidence: 0.6", "confidence: -0.1", r"must be at least 0, got -0.1"),
        ("- {id: speed,", "- {id: Speed-Team,", r"id 'Speed-Team' is not a slug.*use 'speed_team'"),
        (
            "direction: lower, baseline: 9, target: 4",
            "direction: higher, baseline: 9, target: 4",
            r"direction is 'higher' but target 4 is below baseline 9",
        ),
        (
            "{from: loyalty, to: growth, weight: 0.6, lag: 1}",
            "{from: loyalty, to: growth, lag: 1}",
            r"needs a weight",
        ),
        (
            "{from: wait_min, to: nps, coefficient: -1.5}",
            "{from: wait_min, to: nps, weight: -1.5}",
            r"takes a 'coefficient', not a 'weight'",
        ),
        (
            "{from: wait_min, to: nps, coefficient: -1.5}",
            "{from: wait_min, to: loyalty, coefficient: -1.5}",
            r"joins an objective and a measure",
        ),
        (
            "{from: speed, to: loyalty, weight: 0.4}",
            "{from: speed, to: loyalty, weight: 0}",
            r"weight 0 has no effect",
        ),
        ("start: 14, target: 7", "start: 7, target: 7", r"target equals start \(7\)"),
        ("stratlab: 1 ", "stratlab: 2 ", r"unsupported format version 2"),
        (
            "uplift: {wait_min: -1.5",
            "uplift: {wait_mins: -1.5",
            r"unknown measure or key result 'wait_mins'.*did you mean 'wait_min'\?",
        ),
        (
            '- {id: speed,   name: "Fast, consistent service"',
            "- {id: speed,   name: Fast, consistent service",
            r"put the text in quotes",
        ),
    ],
)
def test_bad_model_messages(write, old: str, new: str, expected: str) -> None:
    err = bad(write, edited(old, new))
    assert err.problems[0].file and err.problems[0].file.endswith("model.yaml")
    with pytest.raises(ModelError, match=expected):
        raise err


def test_lag0_cycle_is_named(write) -> None:
    text = edited(
        "{from: loyalty, to: growth, weight: 0.6, lag: 1}",
        "{from: loyalty, to: growth, weight: 0.6}\n  - {from: growth, to: speed, weight: 0.2}",
    )
    with pytest.raises(
        ModelError, match=r"lag-0 links form a cycle: speed → loyalty → growth → speed.*lag: 1"
    ):
        load_model(write(text))


def test_feedback_through_a_lag_is_allowed(write) -> None:
    text = edited(
        "{from: loyalty, to: growth, weight: 0.6, lag: 1}",
        "{from: loyalty, to: growth, weight: 0.6}\n  - {from: growth, to: speed, weight: 0.2, lag: 2}",
    )
    assert len(load_model(write(text)).links) == 5


def test_okr_alignment_cycle(write) -> None:
    text = edited("aligns_to: skills", "aligns_to: other_okr") + (
        "  - id: other_okr\n    objective: X\n    aligns_to: faster_onboarding\n    key_results:\n"
        "      - {id: kr2, name: K, start: 0, target: 1}\n"
    )
    text = text.replace("initiatives:\n  - id: crm", "initiatives:\n  - id: crm")
    # put the extra OKR inside the okrs list (before initiatives)
    head, _, tail = text.partition("initiatives:")
    okr_extra = tail[tail.index("  - id: other_okr") :]
    tail = tail[: tail.index("  - id: other_okr")]
    text = head + okr_extra + "initiatives:" + tail
    with pytest.raises(ModelError, match=r"OKRs align in a circle"):
        load_model(write(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", r"model\.yaml: the file is empty"),
        ("   \n# only a comment\n", r"the model is empty"),
        ("- a\n- b\n", r"line 1: the document must be a mapping of keys"),
        ("just text\n", r"the document must be a mapping"),
        ("name: x\n  bad: indent\n", r"line 2: YAML syntax error"),
        ("stratlab: 1\nname: [unclosed\n", r"YAML syntax error"),
    ],
)
def test_bad_documents(write, text: str, expected: str) -> None:
    with pytest.raises(ModelError, match=expected):
        load_model(write(text))


def test_missing_required_keys(write) -> None:
    with pytest.raises(ModelError, match=r"model is missing required key 'objectives'") as info:
        load_model(write("stratlab: 1\nname: X\n"))
    assert info.value.problems[0].line == 1


def test_python_tags_never_run(write, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        f'stratlab: 1\nname: !!python/object/apply:os.system ["touch {marker}"]\nobjectives: []\n'
    )
    with pytest.raises(ModelError, match=r"line 2: YAML tag not allowed.*remove the '!!' tag"):
        load_model(write(text))
    assert not marker.exists()


def test_duplicate_yaml_keys(write) -> None:
    with pytest.raises(ModelError, match=r"line 22, measures\[0\]\.target: duplicate key 'target'"):
        load_model(write(edited("current: 31", "target: 50")))


def test_json_errors_are_located(write, mini_path: Path) -> None:
    data = load_model(mini_path).to_dict()
    data["measures"][1]["tagret"] = 3
    path = write(json.dumps(data, indent=2), "model.json")
    with pytest.raises(
        ModelError, match=r"model\.json, line \d+, measures\[1\]\.tagret: unknown key"
    ) as info:
        load_model(path)
    line = info.value.problems[0].line
    assert line is not None and '"tagret"' in path.read_text().splitlines()[line - 1]
    with pytest.raises(ModelError, match=r"model\.json, line 3: JSON syntax error"):
        load_model(write('{\n  "stratlab": 1,\n  "name": "x",,\n}', "model.json"))


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model file type '\.txt'.*\.yaml"):
        load_model(tmp_path / "m.txt")
    with pytest.raises(ModelError, match=r"the file does not exist"):
        load_model(tmp_path / "missing.yaml")


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".xlsx"])
def test_round_trip(mini_path: Path, tmp_path: Path, suffix: str) -> None:
    model = load_model(mini_path)
    out = save_model(model, tmp_path / f"again{suffix}")
    again = load_model(out)
    assert again == model
    # and once more: the written form is stable
    assert load_model(save_model(again, tmp_path / f"third{suffix}")) == model


def test_round_trip_keeps_weight_ranges_and_thresholds(write, tmp_path: Path) -> None:
    text = edited(
        "{from: speed, to: loyalty, weight: 0.4}", "{from: speed, to: loyalty, weight: [0.2, 0.6]}"
    )
    text = text.replace("unit: pts\n", "unit: pts\n    thresholds: {green: 0.8, amber: 0.5}\n")
    text = text.replace(
        "period: quarter\n", "period: quarter\nthresholds: {green: 0.75, amber: 0.45}\n"
    )
    model = load_model(write(text))
    link = model.links[1]
    assert link.weight_range == (0.2, 0.6) and link.weight == pytest.approx(0.4)
    assert model.status_thresholds("nps").green == 0.8
    assert model.status_thresholds("wait_min").green == 0.75
    for suffix in (".yaml", ".json", ".xlsx"):
        assert load_model(save_model(model, tmp_path / f"r{suffix}")) == model


def test_excel_errors_name_sheet_and_row(mini_path: Path, tmp_path: Path) -> None:
    import openpyxl

    path = save_model(load_model(mini_path), tmp_path / "model.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["measures"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("baseline") + 1, value="lots")
    wb.save(path)
    with pytest.raises(
        ModelError,
        match=r"model\.xlsx, sheet 'measures', row 3, column 'baseline', measures\[1\]\.baseline: must be a number",
    ):
        load_model(path)


def test_replace_returns_a_new_validated_model(mini_path: Path) -> None:
    model = load_model(mini_path)
    renamed = model.replace(name="Southwind")
    assert renamed.name == "Southwind" and model.name == "Northwind Coffee"
    with pytest.raises(ModelError, match="unknown objective"):
        model.replace(
            measures=(
                *model.measures[:1],
                model.measures[1].__class__(
                    **{**model.measures[1].__dict__, "objective": "nowhere"}
                ),
            )
        )


def test_schema_validates_the_file_and_rejects_typos(mini_path: Path) -> None:
    import jsonschema
    import yaml

    schema = model_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load(mini_path.read_text())
    jsonschema.validate(data, schema)
    data["measures"][0]["tagret"] = 1
    with pytest.raises(jsonschema.ValidationError, match="tagret"):
        jsonschema.validate(data, schema)


def test_public_api_is_lazy() -> None:
    import subprocess
    import sys

    code = "import sys, stratlab; bad = [m for m in ('pandas', 'scipy', 'plotly', 'ipywidgets', 'statsmodels', 'papermill') if m in sys.modules]; print(bad)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
    assert set(stratlab.__all__) >= {
        "load_model",
        "load_history",
        "score",
        "score_history",
        "ModelError",
    }


def test_point_weight_with_range_round_trips(write, tmp_path: Path) -> None:
    text = MINI_YAML.replace(
        "{from: speed, to: loyalty, weight: 0.4}",
        "{from: speed, to: loyalty, weight: 0.407, weight_range: [0.2, 0.5]}",
    )
    model = load_model(write(text))
    assert model.links[1].weight == 0.407 and model.links[1].weight_range == (0.2, 0.5)
    for suffix in (".yaml", ".json", ".xlsx"):
        assert load_model(save_model(model, tmp_path / f"r{suffix}")) == model
    with pytest.raises(ModelError, match=r"weight 0.9 lies outside its range \[0.2, 0.5\]"):
        load_model(write(text.replace("weight: 0.407", "weight: 0.9")))
