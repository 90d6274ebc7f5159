"""The example history in a real PostgreSQL server, long and wide: every command that takes
a HISTORY gives the same output as from the CSV, and the password shows nowhere.

The server comes from ``STRATLAB_TEST_PG_URL`` (``.ci/run`` starts one), else these tests
start a throwaway one with ``.ci/postgres.sh`` when Debian's ``postgresql`` is installed;
otherwise they skip, saying how to get one (see tests/db_fixtures.py).
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import db_fixtures
import pandas as pd
import pytest

from stratlab import DatabaseSource
from stratlab.cli import main
from stratlab.errors import HistoryError
from stratlab.io import load_history
from stratlab.scoring import score

pytestmark = pytest.mark.slow  # a real PostgreSQL server

pg_server_url = db_fixtures.pg_server_url  # fixtures: a server, and a database with the tables
pg_url = db_fixtures.pg_url

MODEL, CSV, _, _ = db_fixtures.example_frames()

# each command with the options that make its output deterministic
COMMANDS = {
    "validate": ["validate", str(MODEL)],
    "score": ["score", str(MODEL), "--period", "2025-06", "--format", "csv"],
    "whatif": ["whatif", str(MODEL), "--set", "nps=40", "--format", "csv"],
    "simulate": [
        "simulate",
        str(MODEL),
        "--samples",
        "3000",
        "--seed",
        "5",
        "--elapsed",
        "0.5",
        "--format",
        "csv",
    ],
    "correlate": ["correlate", "--format", "csv"],
    "check-links": ["check-links", str(MODEL), "--format", "csv"],
    "calibrate": ["calibrate", str(MODEL), "--seed", "1", "--format", "csv"],
    "initiatives": ["initiatives", str(MODEL), "--format", "csv"],
}


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def with_history(name: str, history: list[str], tmp_path: Path) -> list[str]:
    argv = list(COMMANDS[name])
    at = 1 if name == "correlate" else 2
    argv[at:at] = history
    if name == "calibrate":
        argv += ["-o", str(tmp_path / f"calibrated-{len(list(tmp_path.iterdir()))}.yaml")]
    return argv


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_gives_the_csv_numbers_from_postgres(
    name: str,
    pg_url: str,
    tmp_path: Path,
) -> None:
    code, expected, _ = run(with_history(name, [str(CSV)], tmp_path))
    assert code == 0
    password = pg_url.split("://", 1)[1].split("@")[0].split(":", 1)[1]
    for table in ("kpis_long", "kpis_wide"):
        code, got, err = run(with_history(name, [pg_url, "--table", table], tmp_path))
        assert code == 0, err
        assert password not in got + err
        if name == "validate":
            assert got.split(";")[0] == expected.split(";")[0]
            assert got.split(": OK — ")[-1] == expected.split(": OK — ")[-1]
            assert f", table {table}: OK" in got and ":***@" in got
        else:
            assert got == expected


def test_query_and_engine(pg_url: str) -> None:
    import sqlalchemy as sa

    expected = score(MODEL, CSV)
    query = "SELECT period, measure, value FROM kpis_long ORDER BY period, measure"
    pd.testing.assert_frame_equal(score(MODEL, DatabaseSource(pg_url, query=query)), expected)
    engine = sa.create_engine(pg_url)
    try:
        pd.testing.assert_frame_equal(
            score(MODEL, DatabaseSource(engine, table="kpis_wide")), expected
        )
        assert "***" in str(DatabaseSource(engine, table="kpis_wide"))
    finally:
        engine.dispose()


def test_bad_rows_and_wrong_password_are_located_without_the_password(
    pg_url: str,
) -> None:
    import sqlalchemy as sa

    password = str(sa.engine.make_url(pg_url).password)
    engine = sa.create_engine(pg_url)
    frame = pd.DataFrame({"period": ["2025-01", "2025-02", "2025-02"], "nps": ["30", "x1", "31"]})
    frame.to_sql("kpis_bad", engine, index=False, if_exists="replace")
    engine.dispose()
    with pytest.raises(HistoryError) as caught:
        load_history(pg_url, table="kpis_bad")
    text = str(caught.value)
    assert ", table kpis_bad, row 2, column 'nps': value 'x1' is not a number" in text
    assert "period 2025-02 appears more than once (rows 2, 3)" in text
    assert password not in text and ":***@" in text
    wrong = pg_url.replace(f":{password}@", ":not-the-password@")
    with pytest.raises(HistoryError, match="password authentication failed") as caught:
        load_history(wrong, table="kpis_wide")
    assert "not-the-password" not in str(caught.value)


@pytest.mark.kernel
def test_review_reads_postgres_in_the_notebook_without_leaking_the_password(
    pg_url: str,
    tmp_path: Path,
) -> None:
    """The notebook gets the URL as a parameter, with the password only in the kernel's env."""
    import sqlalchemy as sa

    from stratlab.report import run_review

    password = str(sa.engine.make_url(pg_url).password)
    params = {"samples": 200}
    from_csv = run_review(MODEL, CSV, tmp_path / "csv.html", parameters=params, progress=False)
    out = run_review(
        MODEL,
        DatabaseSource(pg_url, table="kpis_long"),
        tmp_path / "pg.html",
        parameters=params,
        keep_notebook=True,
        progress=False,
    )
    notebook = out.with_suffix(".ipynb").read_text(encoding="utf-8")
    # the notebook (the code a --show-code page shows) has the URL with ${VAR} for the password
    assert password not in notebook and password not in out.read_text(encoding="utf-8")
    assert 'history_table = \\"kpis_long\\"' in notebook
    assert ":${STRATLAB_DB_PASSWORD_" in notebook
    # the page is the CSV's review, byte for byte
    assert out.read_bytes() == from_csv.read_bytes()
