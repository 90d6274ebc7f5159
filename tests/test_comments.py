"""Review commentary and actions: CSV / Excel / YAML, located errors, open actions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import report_fixtures as fx

from stratlab.comments import (
    ACTION_COLUMNS,
    COMMENT_COLUMNS,
    comments_for,
    load_comments,
    open_actions,
)
from stratlab.errors import InputError
from stratlab.io import load_model


@pytest.fixture
def model(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "model.yaml"
    path.write_text(fx.MODEL_YAML, encoding="utf-8")
    return load_model(path)


def test_semicolon_csv_with_quotes_and_months(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "comments.csv"
    path.write_text(
        "id;period;comment;action;owner;due\n"
        'nps;2024Q4;"Up 4 points; <b>best</b> quarter";;;\n'
        "wait_min;2024-11;Queue still long;Add a second till;Ops lead;2024-12-15\n"
        "growth;2024Q3;;Review pricing;CFO;2024-10-31\n",
        encoding="utf-8",
    )
    out = load_comments(path, model)
    assert list(out.columns) == COMMENT_COLUMNS
    assert out["id"].tolist() == ["nps", "wait_min", "growth"]
    # a month in a quarterly model counts for its quarter
    assert [str(p) for p in out["period"]] == ["2024Q4", "2024Q4", "2024Q3"]
    assert out["comment"].iloc[0] == "Up 4 points; <b>best</b> quarter"
    assert out["due"].iloc[1] == pd.Timestamp("2024-12-15")
    assert pd.isna(out["due"].iloc[0])
    assert comments_for(out, "2024Q4") == {
        "nps": "Up 4 points; <b>best</b> quarter",
        "wait_min": "Queue still long",
    }


def test_excel_with_date_cells(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Commentary"
    ws.append(["ID", "Period", "Comment", "Action", "Owner", "Due"])
    ws.append(["nps", "2024Q4", "Good quarter", None, None, None])
    ws.append(["speed", dt.datetime(2024, 12, 31), "Slow", "Hire", "Ana", dt.datetime(2025, 1, 31)])
    ws.cell(row=3, column=2).number_format = "dd/mm/yyyy"
    ws.cell(row=3, column=6).number_format = "dd/mm/yyyy"
    path = tmp_path / "comments.xlsx"
    wb.save(path)
    out = load_comments(path, model)
    assert [str(p) for p in out["period"]] == ["2024Q4", "2024Q4"]
    assert out["due"].iloc[1] == pd.Timestamp("2025-01-31")


def test_yaml_list(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "comments.yaml"
    path.write_text(
        "- {id: nps, period: 2024Q4, comment: Fine}\n"
        "- id: loyalty\n  period: 2024Q4\n  comment: On track\n"
        "  action: Survey\n  owner: CX\n  due: 2025-02-01\n",
        encoding="utf-8",
    )
    out = load_comments(path, model)
    assert out["id"].tolist() == ["nps", "loyalty"]
    assert out["owner"].tolist() == ["", "CX"]


def test_bad_rows_are_located_all_at_once(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "comments.csv"
    path.write_text(
        "id,period,comment,action,owner,due\n"
        "nsp,2024Q4,typo id,,,\n"
        "nps,24Q4,ambiguous period,,,\n"
        "nps,2024Q4,,Fix,Ana,31 June\n"
        "nps,2024Q4,,,,\n"
        "nps,2024Q4,owner alone,,Ana,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_comments(path, model)
    text = str(info.value)
    assert "line 2" in text and "'nsp' is not an id of the model" in text
    assert "did you mean 'nps'" in text
    assert "line 3" in text and "period '24Q4' is not a period" in text
    assert "line 4" in text and "due date '31 June' is not a date" in text
    assert "line 5" in text and "neither a comment nor an action" in text
    assert "line 6" in text and "without an action" in text
    assert len(info.value.problems) == 5


def test_bad_files(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="does not exist"):
        load_comments(tmp_path / "nope.csv", model)
    bad = tmp_path / "c.txt"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"unsupported comments format '\.txt'"):
        load_comments(bad, model)
    cols = tmp_path / "c.csv"
    cols.write_text("id,period,coment\nnps,2024Q4,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown column 'coment'.*did you mean 'comment'"):
        load_comments(cols, model)
    nolist = tmp_path / "c.yaml"
    nolist.write_text("id: nps\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a list of comments"):
        load_comments(nolist, model)
    badyaml = tmp_path / "d.yaml"
    badyaml.write_text("- {id: nps, period: [\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        load_comments(badyaml, model)


def test_open_actions_overdue_and_order() -> None:
    comments = load_comments(
        pd.DataFrame(
            {
                "id": ["a", "b", "c", "d"],
                "period": ["2024Q3", "2024Q4", "2024Q4", "2025Q1"],
                "comment": ["x", "y", "z", "later"],
                "action": ["Act A", "Act B", "", "Act D"],
                "owner": ["Ann", "Bo", "", "Di"],
                "due": ["2024-12-01", "2025-02-01", None, "2025-01-01"],
            }
        )
    )
    actions = open_actions(comments, "2024Q4", names={"a": "Alpha"})
    assert list(actions.columns) == ACTION_COLUMNS
    # up to the review period only; 'c' has no action; earliest due first
    assert actions["id"].tolist() == ["a", "b"]
    assert actions["name"].tolist() == ["Alpha", "b"]
    # as of the end of 2024Q4: Dec 1 is overdue, Feb 1 is not
    assert actions["overdue"].tolist() == [True, False]
    later = open_actions(comments, "2024Q4", as_of="2025-03-01")
    assert later["overdue"].tolist() == [True, True]
    assert len(open_actions(None, "2024Q4")) == 0
