"""The HTML renderer: escaping, status chips, compact tables, the model summary."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from viz_fixtures import IMG, SCRIPT, tiny_model

from stratlab.errors import InputError
from stratlab.render import (
    STATUS_COLORS,
    format_value,
    model_html,
    result_html,
    status_chip,
    table_html,
)
from stratlab.scoring import score


def _no_live_markup(html: str) -> None:
    assert "<script>window" not in html
    assert "<img src=x" not in html
    assert "<script" not in html.lower()


def test_model_html_escapes_every_user_text() -> None:
    model = tiny_model()
    html = model_html(model)
    _no_live_markup(html)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # model and objective names
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # mission, objective, OKR
    assert "because &lt;script&gt;" in html  # link rationale
    assert model._repr_html_() == html


def test_model_html_lists_objectives_top_perspective_first() -> None:
    html = model_html(tiny_model())
    # Financial (top) comes before Learning & Growth (bottom); '&' is escaped
    assert html.index("Delta") < html.index("Alpha")
    assert "Learning &amp; Growth" in html
    assert re.search(r"objectives: <b>6</b>", html)


def test_table_html_status_chips_and_escaping() -> None:
    frame = pd.DataFrame(
        {
            "id": ["x", "y", "z"],
            "name": [SCRIPT, IMG, "plain"],
            "score": [0.91, np.nan, 0.123456],
            "status": ["green", "no data", "red"],
        }
    )
    html = table_html(frame, title=f"T {SCRIPT}", summary={"n": 3}, notes=[IMG])
    _no_live_markup(html)
    assert html.count('class="sl-chip') == 3
    assert f"background:{STATUS_COLORS['green']}" in html
    assert "● green" in html and "○ no data" in html and "■ red" in html
    assert "0.123" in html and "–" in html  # 3 significant digits, NaN as a dash
    assert 'class="sl-num"' in html


def test_table_html_truncates_and_counts_hidden_rows() -> None:
    frame = pd.DataFrame({"id": [f"n{i}" for i in range(10)], "v": range(10)})
    html = table_html(frame, max_rows=4)
    assert html.count("<tr>") == 5  # header + 4 rows
    assert "6 more rows not shown (10 in all)" in html


def test_table_html_on_scores() -> None:
    frame = score(tiny_model())
    html = result_html("Scores", frame, columns=["id", "kind", "score", "status"])
    assert html.count('class="sl-chip') == len(frame)
    assert "<th>status_rule</th>" not in html


def test_table_html_bad_inputs() -> None:
    with pytest.raises(InputError, match="needs a pandas DataFrame"):
        table_html([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"no column 'nope'.*choose among"):
        table_html(pd.DataFrame({"a": [1]}), columns=["nope"])


def test_status_chip_and_format_value() -> None:
    assert "amber" in status_chip("amber") and STATUS_COLORS["amber"] in status_chip("amber")
    assert "&lt;b&gt;" in status_chip("<b>")
    assert format_value(np.float64(0.123456)) == "0.123"
    assert format_value(2.0) == "2"
    assert format_value(None) == "–"
    assert format_value(float("inf")) == "∞"
    assert format_value(pd.NA) == "–"


def test_format_value_never_uses_scientific_notation_in_range() -> None:
    from stratlab.render import format_value

    assert format_value(3.981e-05) == "0.0000398"
    assert format_value(123456.7) == "123457"
    assert format_value(-0.000123) == "-0.000123"
    assert format_value(0.5) == "0.5"
    assert float(format_value(2.7e-07)) == pytest.approx(2.7e-07)
