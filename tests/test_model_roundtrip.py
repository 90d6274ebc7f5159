"""Writing a model keeps the analyst's YAML: comments, key order, flow style, quoting;
link strengths at 3 significant digits; nothing the analyst wrote disappears."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stratlab import load_model, save_model

COMMENTED = """\
# Hospital strategy map (analyst: J. Doe)
# Weights are our best guess, reviewed 2025-10.
name: "St. Elsewhere"          # quoted on purpose
stratlab: 1
period: month

objectives:
  # patients first
  - id: flow
    perspective: process       # inline comment on a field
    name: 'Patient flow'
  - {id: ed_access, name: ED access, perspective: customer}
  - {id: safety, name: Safety, perspective: customer, weight: 1.0}   # explicit default

measures:
  - {id: wait_min, name: ED wait, objective: flow, direction: lower, baseline: 240, target: 120}
  - id: los_days
    name: Length of stay
    objective: ed_access
    direction: lower
    baseline: 6
    target: 4
  - {id: incidents, name: Incidents, objective: safety, direction: lower, baseline: 40, target: 10}

links:
  # the one link into ed_access
  - {from: flow, to: ed_access, weight: 0.6, rationale: "faster flow, shorter stays"}
  - from: flow                 # block-style link
    to: safety
    weight: 0.3
    lag: 1
    rationale: rushed care is risky   # keep me

# end of file: nothing below
"""


def _history(seed: int = 0, periods: int = 48) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    flow = rng.normal(size=periods)
    los = 0.6 * flow + 0.8 * rng.normal(size=periods)
    inc = rng.normal(size=periods)
    index = pd.period_range("2022-01", periods=periods, freq="M", name="period")
    return pd.DataFrame(
        {
            "wait_min": 180 - np.cumsum(flow),  # lower is better: better flow, lower wait
            "los_days": 5 - 0.02 * np.cumsum(los),
            "incidents": 25 + np.cumsum(inc),
        },
        index=index,
    )


def _comments(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"#.*", text)]


@pytest.fixture()
def commented(tmp_path: Path) -> Path:
    path = tmp_path / "hospital.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    return path


def test_calibrated_yaml_keeps_every_comment_and_layout(commented: Path, tmp_path: Path) -> None:
    from stratlab.stats import calibrate

    model = load_model(commented)
    result = calibrate(model, _history(), n_boot=50, seed=0)
    out = save_model(result.model, tmp_path / "calibrated.yaml")
    text = out.read_text(encoding="utf-8")
    assert _comments(text) == _comments(COMMENTED)
    # key order, quoting and flow style as written
    assert text.splitlines()[2].startswith('name: "St. Elsewhere"')
    assert text.index("name: ") < text.index("stratlab: 1")
    assert "name: 'Patient flow'" in text
    assert "- {id: ed_access, name: ED access, perspective: customer}" in text
    assert "weight: 1.0}   # explicit default" in text
    # every link is still there; the model reads back as written
    again = load_model(out)
    assert [(lk.source, lk.target) for lk in again.links] == [
        ("flow", "ed_access"),
        ("flow", "safety"),
    ]
    assert again == result.model
    frame = result.to_frame().set_index(["source", "target"])
    single = frame.loc[("flow", "ed_access")]
    assert single["verdict"] == "supported" and single["ci_high"] > single["ci_low"]
    written = re.search(r"from: flow, to: ed_access, weight: ([-0-9.]+)", text)
    assert written is not None and written.group(1) == f"{single['estimate']:.3g}"
    assert "rationale: rushed care is risky   # keep me" in text


def test_edits_touch_only_what_changed(commented: Path, tmp_path: Path) -> None:
    model = load_model(commented)
    links = (
        dataclasses.replace(model.links[0], weight=0.123456789),
        dataclasses.replace(model.links[1], lag=2),
    )
    out = save_model(model.replace(links=links), tmp_path / "edited.yaml")
    text = out.read_text(encoding="utf-8")
    before, after = COMMENTED.splitlines(), text.splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        (
            '  - {from: flow, to: ed_access, weight: 0.6, rationale: "faster flow, shorter stays"}',
            '  - {from: flow, to: ed_access, weight: 0.123, rationale: "faster flow, shorter stays"}',
        ),
        ("    lag: 1", "    lag: 2"),
    ]


def test_removed_and_added_records_leave_the_others_alone(commented: Path, tmp_path: Path) -> None:
    from stratlab.model import Link

    model = load_model(commented)
    links = (model.links[1], Link(source="safety", target="ed_access", weight=0.25))
    text = save_model(model.replace(links=links), tmp_path / "e.yaml").read_text(encoding="utf-8")
    assert "to: ed_access, weight: 0.6" not in text
    assert "rationale: rushed care is risky   # keep me" in text
    assert "# end of file: nothing below" in text
    assert load_model(tmp_path / "e.yaml").links == links


def test_overwriting_the_source_in_place(commented: Path) -> None:
    model = load_model(commented)
    save_model(model.with_values({"wait_min": 150.0}), commented)
    text = commented.read_text(encoding="utf-8")
    assert _comments(text) == _comments(COMMENTED)
    assert load_model(commented).get("wait_min").current == 150.0


def test_fresh_files_and_other_formats_round_link_strengths(tmp_path: Path) -> None:
    from stratlab.model import to_dict

    model = load_model(to_dict(load_model(_commented_dict())))  # no source file
    links = (dataclasses.replace(model.links[0], weight=0.123456789, weight_range=(0.1, 0.2)),)
    model = model.replace(links=links + model.links[1:])
    for suffix in (".yaml", ".json", ".xlsx"):
        back = load_model(save_model(model, tmp_path / f"m{suffix}"))
        assert back.links[0].weight == 0.123
        assert back.links[0].weight_range == (0.1, 0.2)
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    assert "0.123456789" not in text and "weight_range: [0.1, 0.2]" in text


def _commented_dict() -> dict[str, object]:
    import yaml

    return yaml.safe_load(COMMENTED)  # type: ignore[no-any-return]
