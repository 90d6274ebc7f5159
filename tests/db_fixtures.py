"""Database fixtures: the example history as long and wide tables, and a real PostgreSQL.

The PostgreSQL server is, in order of preference:

1. the one named by ``STRATLAB_TEST_PG_URL`` (``.ci/run`` starts one and sets it);
2. a throwaway server these fixtures start themselves with ``.ci/postgres.sh``
   when Debian's binaries are installed (``/usr/lib/postgresql/*/bin``);
3. none: the tests skip, saying how to get one.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_SCRIPT = ROOT / ".ci" / "postgres.sh"
HOW_TO_START = (
    "PostgreSQL tests need a server. Either install Debian's server binaries "
    "(apt-get install postgresql) and the tests start a throwaway one themselves, or start one "
    "with `bash .ci/postgres.sh start /tmp/stratlab-pg` and export the URL it prints as "
    "STRATLAB_TEST_PG_URL (stop it with `bash .ci/postgres.sh stop /tmp/stratlab-pg`)."
)


def example_frames() -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    """(model path, history CSV path, wide table, long table) of the bundled example.

    The wide table is the CSV as exported (``period`` text such as ``2021-01``, one
    column per id); the long table has the ``period, measure, value`` rows of every
    non-empty cell, in the CSV's order (as a warehouse fact table would hold them).
    """
    from stratlab.datasets import example_paths

    paths = example_paths()
    wide = pd.read_csv(paths.history, dtype={"period": str})
    long = wide.melt(id_vars="period", var_name="measure", value_name="value").dropna()
    return paths.model, paths.history, wide, long.reset_index(drop=True)


def write_tables(
    engine: object, *, long_name: str = "kpis_long", wide_name: str = "kpis_wide"
) -> None:
    """Write the example history into ``long_name`` and ``wide_name`` (replacing them)."""
    _, _, wide, long = example_frames()
    wide.to_sql(wide_name, engine, index=False, if_exists="replace")
    long.to_sql(long_name, engine, index=False, if_exists="replace")


def _server_binaries() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running PostgreSQL server whose user may create databases."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    url = os.environ.get("STRATLAB_TEST_PG_URL")
    if url:
        yield url
        return
    if not _server_binaries():
        pytest.skip(HOW_TO_START)
    folder = Path("/tmp") / f"stratlab-test-pg-{uuid.uuid4().hex[:10]}"
    started = subprocess.run(
        ["bash", str(PG_SCRIPT), "start", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if started.returncode != 0:
        subprocess.run(["bash", str(PG_SCRIPT), "stop", str(folder)], check=False)
        pytest.skip(f"could not start PostgreSQL ({started.stderr.strip()[-300:]}). {HOW_TO_START}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(PG_SCRIPT), "stop", str(folder)], check=False, timeout=60)


@pytest.fixture(scope="module")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a fresh database (dropped after the module) holding kpis_long and kpis_wide."""
    import sqlalchemy as sa

    name = f"stratlab_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server_url).set(database=name)
    text = url.render_as_string(hide_password=False)
    engine = sa.create_engine(text)
    try:
        write_tables(engine)
        engine.dispose()
        yield text
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
