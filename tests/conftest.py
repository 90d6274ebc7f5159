"""Shared fixtures: a small hand-written model (the DESIGN.md example) and its files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

MINI_YAML = textwrap.dedent(
    """\
    stratlab: 1                 # format version
    name: Northwind Coffee
    mission: Great coffee, made fast, by people who love it
    period: quarter
    perspectives:
      - {id: learning, name: Learning & Growth}
      - {id: process,  name: Internal Process}
      - {id: customer, name: Customer}
      - {id: financial, name: Financial}
    objectives:
      - {id: skills,  name: Build barista skills, perspective: learning}
      - {id: speed,   name: "Fast, consistent service", perspective: process}
      - {id: loyalty, name: Loyal customers, perspective: customer}
      - {id: growth,  name: Profitable growth, perspective: financial, weight: 2}
    measures:
      - id: nps
        name: Net Promoter Score
        objective: loyalty
        direction: higher
        baseline: 20
        target: 45
        current: 31
        unit: pts
        weight: 1
      - {id: wait_min, name: Wait time, objective: speed, direction: lower, baseline: 9, target: 4, current: 6, unit: min}
      - {id: revenue_growth, name: Revenue growth, objective: growth, direction: higher, baseline: 0, target: 8, current: 5, unit: "%"}
      - {id: training_hours, name: Training hours, objective: skills, baseline: 0, target: 20, current: 12, unit: h}
    links:
      - {from: skills, to: speed, weight: 0.5, lag: 1, rationale: trained staff work faster}
      - {from: speed, to: loyalty, weight: 0.4}
      - {from: loyalty, to: growth, weight: 0.6, lag: 1}
      - {from: wait_min, to: nps, coefficient: -1.5}
    okrs:
      - id: faster_onboarding
        objective: Make onboarding effortless
        aligns_to: skills
        key_results:
          - {id: onboarding_days, name: Onboarding time, start: 14, target: 7, current: 10, unit: days, confidence: 0.6}
    initiatives:
      - id: crm
        name: CRM rollout
        budget: 250000
        supports: [speed, onboarding_days]
        uplift: {wait_min: -1.5, onboarding_days: -2}
    """
)


@pytest.fixture
def mini_yaml() -> str:
    return MINI_YAML


@pytest.fixture
def mini_path(tmp_path: Path) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(MINI_YAML, encoding="utf-8")
    return path


@pytest.fixture
def write(tmp_path: Path):
    """write(text, name='model.yaml') -> Path of a file holding that text."""

    def _write(text: str, name: str = "model.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


# --------------------------------------------------------------------------- markers
# ``make test-fast`` runs ``-m "not slow and not kernel and not browser"``: the unit
# tests.  Markers are given here, in one table, for whole files or single tests;
# a test may also carry them itself (``@pytest.mark.kernel``).
#: file name -> markers of every test in it
FILE_MARKERS: dict[str, tuple[str, ...]] = {
    "test_report.py": ("kernel",),
    "test_report_browser.py": ("kernel", "browser"),
    "test_figures_browser.py": ("browser",),
    "test_fuzz.py": ("slow",),
}
#: test name (without parameters) -> markers
TEST_MARKERS: dict[str, tuple[str, ...]] = {
    "test_demo_writes_every_output": ("kernel",),
    "test_no_traceback_in_a_real_process": ("slow",),
    "test_review_from_the_wheel_outside_the_checkout": ("slow", "kernel"),
    # signal tests send real signals to review processes: they run on their own, serially
    # (make test), because under -n 2 their review process lost its working folder
    "test_signal_stops_a_review_cleanly": ("signals",),
    "test_sigterm_stops_a_batch_and_keeps_finished_reviews": ("signals",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = FILE_MARKERS.get(item.path.name, ()) + TEST_MARKERS.get(
            item.originalname if isinstance(item, pytest.Function) else item.name, ()
        )
        for name in names:
            item.add_marker(getattr(pytest.mark, name))
