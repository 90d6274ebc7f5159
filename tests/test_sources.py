"""Histories from DuckDB, SQLite, Parquet and SQLAlchemy engines: same numbers as the CSV.

Every source is compared with the bundled example's CSV through ``load_history`` and
``score``; bad rows give located errors naming the table, row and column; passwords
never appear in labels or errors.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
from db_fixtures import example_frames, write_tables

from stratlab import DatabaseSource
from stratlab.errors import HistoryError, InputError, StratlabWarning
from stratlab.io import load_history
from stratlab.scoring import score

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("duckdb")
pytest.importorskip("duckdb_engine")

MODEL, CSV, WIDE, LONG = example_frames()


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the example as kpis_long and kpis_wide (+ a bad table)."""
    path = tmp_path_factory.mktemp("duck") / "kpis.duckdb"
    engine = sa.create_engine(f"duckdb:///{path}")
    write_tables(engine)
    bad = LONG.head(5).copy()
    bad["value"] = bad["value"].astype(str)
    bad.loc[2, "value"] = "n/a"
    bad.to_sql("kpis_bad", engine, index=False)
    engine.dispose()
    return path


def csv_scores() -> pd.DataFrame:
    return score(MODEL, CSV)


def test_duckdb_long_and_wide_tables_equal_the_csv(duck: Path) -> None:
    expected = load_history(CSV)
    for table in ("kpis_long", "kpis_wide"):
        got = load_history(f"duckdb:///{duck}", table=table)
        pd.testing.assert_frame_equal(got, expected)
        pd.testing.assert_frame_equal(
            score(MODEL, DatabaseSource(f"duckdb:///{duck}", table=table)), csv_scores()
        )
    # a .duckdb path is read as duckdb:///path
    pd.testing.assert_frame_equal(load_history(duck, table="kpis_wide"), expected)


def test_duckdb_query(duck: Path) -> None:
    query = "SELECT period, measure, value FROM kpis_long WHERE measure <> 'nps'"
    got = load_history(f"duckdb:///{duck}", query=query)
    assert "nps" not in got.columns
    pd.testing.assert_frame_equal(got, load_history(CSV).drop(columns="nps"))


def test_parquet_wide_and_long_with_month_end_dates(tmp_path: Path) -> None:
    wide_path = tmp_path / "wide.parquet"
    WIDE.to_parquet(wide_path, index=False)
    long = LONG.copy()
    # a warehouse export: month-end timestamps, not period labels
    long["period"] = pd.PeriodIndex(long["period"], freq="M").to_timestamp(how="end").normalize()
    long_path = tmp_path / "long.parquet"
    long.to_parquet(long_path, index=False)
    expected = load_history(CSV)
    pd.testing.assert_frame_equal(load_history(wide_path), expected)
    pd.testing.assert_frame_equal(load_history(long_path), expected)
    pd.testing.assert_frame_equal(score(MODEL, long_path), csv_scores())


def test_engine_and_sqlite(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    write_tables(engine)
    pd.testing.assert_frame_equal(load_history(engine, table="kpis_wide"), load_history(CSV))
    engine.dispose()
    got = load_history(f"sqlite:///{tmp_path / 'k.db'}", table="kpis_long")
    pd.testing.assert_frame_equal(got, load_history(CSV))


def test_bad_cell_is_located_by_table_row_and_column(duck: Path) -> None:
    with pytest.raises(
        HistoryError, match=r"kpis\.duckdb, table kpis_bad, row 3, column 'value': value 'n/a'"
    ):
        load_history(f"duckdb:///{duck}", table="kpis_bad")


def test_unknown_id_names_the_table_and_column(duck: Path) -> None:
    from stratlab.io import load_model

    model = load_model(MODEL)
    engine = sa.create_engine(f"duckdb:///{duck.parent / 'other.duckdb'}")
    frame = WIDE[["period", "nps"]].rename(columns={"nps": "nsp"})
    frame.to_sql("kpis", engine, index=False)
    engine.dispose()
    url = f"duckdb:///{duck.parent / 'other.duckdb'}"  # its only table is read
    with pytest.raises(
        HistoryError, match=r"other\.duckdb, table kpis, column 'nsp'.*did you mean 'nps'"
    ):
        load_history(url, model, strict=True)
    with pytest.warns(
        StratlabWarning, match=r"other\.duckdb, table kpis: ignoring 1 column.*'nsp'"
    ):
        load_history(url, model)


def test_unknown_table_missing_file_and_ambiguous_tables(duck: Path, tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"no table 'kpis_lng'.*did you mean 'kpis_long'"):
        load_history(f"duckdb:///{duck}", table="kpis_lng")
    with pytest.raises(HistoryError, match=r"3 tables \(kpis_bad, kpis_long, kpis_wide\).*--table"):
        load_history(f"duckdb:///{duck}")
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(HistoryError, match="does not exist"):
        load_history(f"duckdb:///{missing}", table="kpis")
    assert not missing.exists()  # reading never creates a database
    with pytest.raises(HistoryError, match="the query failed"):
        load_history(f"duckdb:///{duck}", query="SELECT * FROM nowhere")
    with pytest.raises(InputError, match="either a table or a query"):
        load_history(f"duckdb:///{duck}", table="kpis_long", query="SELECT 1")
    with pytest.raises(InputError, match="no database driver for 'nosuchdb'"):
        load_history("nosuchdb://u@h/db", table="t")


def test_environment_variables_in_urls(duck: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATLAB_TEST_KPI_DIR", str(duck.parent))
    got = load_history("duckdb:///${STRATLAB_TEST_KPI_DIR}/kpis.duckdb", table="kpis_wide")
    pd.testing.assert_frame_equal(got, load_history(CSV))
    with pytest.raises(InputError, match="STRATLAB_TEST_UNSET_VAR which is not set"):
        load_history("duckdb:///${STRATLAB_TEST_UNSET_VAR}/k.duckdb", table="t")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://kpi:s3cr3t@db:5432/bank", "postgresql://kpi:***@db:5432/bank"),
        ("postgresql+psycopg://kpi:p@ss/w@rd@db/bank", "postgresql+psycopg://kpi:***@db/bank"),
        ("postgresql://kpi@db/bank", "postgresql://kpi@db/bank"),
        ("duckdb:///kpis.duckdb", "duckdb:///kpis.duckdb"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    from stratlab.io._sources import mask_url

    assert mask_url(url) == masked
    source = DatabaseSource(url, table="kpis")
    assert str(source) == f"{masked}, table kpis"
    assert "s3cr3t" not in repr(source) and "w@rd" not in repr(source)


PASSWORD = "Zq7-unlikely-Secret"


def test_password_never_in_errors_or_cli_output(tmp_path: Path) -> None:
    """A refused connection (nothing listens on port 1) reports the masked URL only."""
    pytest.importorskip("psycopg")
    from stratlab.cli import main

    url = f"postgresql+psycopg://kpi:{PASSWORD}@127.0.0.1:1/bank?connect_timeout=2"
    with pytest.raises(HistoryError) as caught:
        load_history(url, table="kpis")
    assert PASSWORD not in str(caught.value)
    assert "postgresql+psycopg://kpi:***@127.0.0.1:1/bank" in str(caught.value)
    for argv in (
        ["score", str(MODEL), url, "--table", "kpis"],
        ["validate", str(MODEL), url, "--table", "kpis"],
        ["correlate", url, "--query", "SELECT 1"],
    ):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
        assert code == 2, err.getvalue()
        assert "kpi:***@127.0.0.1" in err.getvalue()
        assert PASSWORD not in out.getvalue() + err.getvalue()


def test_cli_reads_duckdb_like_the_csv(duck: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stratlab.cli import main

    assert main(["score", str(MODEL), str(CSV), "--format", "csv"]) == 0
    expected = capsys.readouterr().out
    for table in ("kpis_long", "kpis_wide"):
        assert (
            main(["score", str(MODEL), f"duckdb:///{duck}", "--table", table, "--format", "csv"])
            == 0
        )
        assert capsys.readouterr().out == expected
    assert main(["validate", str(MODEL), f"duckdb:///{duck}", "--table", "kpis_long"]) == 0
    assert f"duckdb:///{duck}, table kpis_long: OK" in capsys.readouterr().out
    assert main(["score", str(MODEL), "--table", "kpis"]) == 2
    assert "need a HISTORY database URL" in capsys.readouterr().err


def test_history_source_is_picklable_for_workers() -> None:
    import pickle

    source = DatabaseSource("duckdb:///k.duckdb", table="kpis")
    assert pickle.loads(pickle.dumps(source)) == source
    assert sys.modules["stratlab.io._sources"].is_source(source)


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("duckdb:///kpis.duckdb", True),
        ("postgresql+psycopg://kpi@db/bank", True),
        ("postgresql+psycopg://kpi:${KPI_DB_PASSWORD}@db/bank", True),
        (f"postgresql+psycopg://kpi:{PASSWORD}@db:5432/bank", False),
    ],
)
def test_review_notebook_gets_the_url_without_its_password(url: str, kept: bool) -> None:
    from stratlab.report._review import _url_for_kernel

    env: dict[str, str] = {}
    got = _url_for_kernel(url, env)
    if kept:
        assert got == url and env == {}
    else:
        (name,) = env
        assert env[name] == PASSWORD and name.startswith("STRATLAB_DB_PASSWORD_")
        assert got == f"postgresql+psycopg://kpi:${{{name}}}@db:5432/bank"
        assert PASSWORD not in got


def test_database_and_dask_packages_are_imported_only_when_used() -> None:
    import subprocess

    code = (
        "import sys, stratlab, stratlab.io, stratlab.report, stratlab.simulation, stratlab.cli\n"
        "heavy = [m for m in ('sqlalchemy', 'duckdb', 'pyarrow', 'psycopg', 'distributed', 'dask')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
