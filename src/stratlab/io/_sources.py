"""KPI histories from databases and Parquet files (read here, validated by ``load_history``).

:func:`read_source` turns a SQLAlchemy URL or engine (with a table or a query), a
DuckDB file or a Parquet file into a raw DataFrame plus a *where* label that
names the source in every error (``postgresql://kpi:***@db/bank, table kpis``).
The frame then goes through the same validation as a CSV export, so a bad cell
is reported as ``…, table kpis, row 7, column 'value'``.

Credentials never leave this module: labels and error messages show URLs with
the password replaced by ``***`` (and any password text that a driver echoes is
scrubbed).  Prefer environment variables to passwords in URLs: ``${NAME}`` in a
URL is replaced by the variable's value when connecting (and only then), and
libpq-based drivers also read ``PGPASSWORD``.

sqlalchemy, duckdb and pyarrow are imported only when a source is read
(``pip install stratlab[db]``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratlab.errors import HistoryError, InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DB_SUFFIXES",
    "PARQUET_SUFFIXES",
    "DatabaseSource",
    "is_source",
    "is_url",
    "mask_url",
    "read_source",
]

PARQUET_SUFFIXES = (".parquet", ".pq")
DB_SUFFIXES = (".duckdb", ".ddb")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INSTALL = "pip install 'stratlab[db]'"
_DRIVERS = {
    "postgresql": "pip install 'psycopg[binary]' (and write postgresql+psycopg://…)",
    "mysql": "pip install pymysql (and write mysql+pymysql://…)",
    "duckdb": "pip install duckdb duckdb-engine",
}


@dataclass(frozen=True)
class DatabaseSource:
    """A KPI history stored in a database (a table or a query) or a Parquet file.

    Pass it wherever a history path is accepted (``score``, ``check_links``,
    ``run_review``…).  ``str()`` and ``repr()`` never show a password.

    Parameters
    ----------
    url : str or sqlalchemy.engine.Engine
        A SQLAlchemy URL (``postgresql+psycopg://user@host/db``,
        ``duckdb:///kpis.duckdb``, ``sqlite:///kpis.db``), an engine, or the
        path of a ``.duckdb`` or ``.parquet`` file.  ``${NAME}`` in a URL is
        replaced by the environment variable ``NAME`` when connecting.
    table : str, optional
        The table (``schema.table`` allowed) holding the history, long
        (``period, measure, value``) or wide (``period`` plus one column per id).
    query : str, optional
        A SQL query whose result is such a table (instead of ``table``).
    """

    url: Any
    table: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.table is not None and self.query is not None:
            raise InputError(
                Problem(
                    "give either a table or a query, not both.",
                    fix="use --table NAME, or --query 'SELECT …'.",
                    file=_label(self.url),
                )
            )
        for name in ("table", "query"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(
                    Problem(
                        f"the {name} must be a non-empty text, got {value!r}.",
                        fix=f"give --{name} a value.",
                        file=_label(self.url),
                    )
                )

    @property
    def where(self) -> str:
        """The label used in messages: the masked URL plus the table (or ``query``)."""
        base = _label(self.url)
        if self.table is not None:
            return f"{base}, table {self.table}"
        if self.query is not None:
            return f"{base}, query"
        return base

    def __str__(self) -> str:
        return self.where

    def __repr__(self) -> str:
        extra = f", table={self.table!r}" if self.table else ""
        extra += ", query=…" if self.query else ""
        return f"DatabaseSource({_label(self.url)!r}{extra})"


def is_url(value: object) -> bool:
    """True for text that starts like a URL (``scheme://``)."""
    return isinstance(value, str) and bool(_URL.match(value.strip()))


def is_source(value: object) -> bool:
    """True when :func:`read_source` reads ``value`` (URL, engine, .duckdb/.parquet path)."""
    if isinstance(value, DatabaseSource) or is_url(value) or _is_engine(value):
        return True
    if isinstance(value, (str, os.PathLike)):
        return Path(value).suffix.lower() in PARQUET_SUFFIXES + DB_SUFFIXES
    return False


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (``scheme://user:***@host/db``).

    Everything between ``scheme://`` and the last ``@`` is treated as user
    information, so a password containing ``@`` or ``/`` is masked whole (a
    URL is rather masked too much than too little).
    """
    text = str(url)
    m = _URL.match(text.strip())
    if not m:
        return text
    text = text.strip()
    scheme, rest = text[: m.end()], text[m.end() :]
    at = rest.rfind("@")
    if at < 0:
        return text
    userinfo = rest[:at]
    if ":" not in userinfo:
        return text
    return f"{scheme}{userinfo.split(':', 1)[0]}:***@{rest[at + 1 :]}"


def _is_engine(value: object) -> bool:
    return type(value).__name__ == "Engine" and hasattr(value, "url") and hasattr(value, "connect")


def _label(url: Any) -> str:
    if _is_engine(url):
        return str(url.url.render_as_string(hide_password=True))
    return mask_url(str(url))


def _secrets(url: str, expanded: str) -> list[str]:
    """Password texts (raw and percent-decoded) that must never be shown."""
    from urllib.parse import unquote

    out: list[str] = []
    for text in (url, expanded):
        m = _URL.match(text)
        if not m:
            continue
        rest = text[m.end() :]
        userinfo = rest[: rest.rfind("@")] if "@" in rest else ""
        if ":" in userinfo:
            secret = userinfo.split(":", 1)[1]
            out += [secret, unquote(secret)]
    for name in _ENV.findall(url):
        out.append(os.environ.get(name, ""))
    return sorted({s for s in out if len(s) >= 1}, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _expand(url: str, where: str) -> str:
    missing = [name for name in _ENV.findall(url) if name not in os.environ]
    if missing:
        raise InputError(
            Problem(
                f"the URL refers to the environment variable {missing[0]} which is not set.",
                fix=f"export {missing[0]}=… before running (the value is never shown).",
                file=where,
            )
        )
    return _ENV.sub(lambda m: os.environ[m.group(1)], url)


def _missing_package(exc: ImportError, where: str, what: str) -> InputError:
    return InputError(
        Problem(
            f"reading {what} needs the package {exc.name or 'that is missing'}.",
            fix=f"{_INSTALL}.",
            file=where,
        )
    )


def read_source(
    source: Any, *, table: str | None = None, query: str | None = None
) -> tuple[str, pd.DataFrame, int]:
    """Read a history source into a raw DataFrame.

    Parameters
    ----------
    source : DatabaseSource, str, path or sqlalchemy Engine
        A URL, an engine, a ``.duckdb`` file (read as ``duckdb:///file``) or a
        ``.parquet`` file.
    table, query : str, optional
        Where the rows are (for databases); with neither, a database holding
        exactly one table is read from that table.

    Returns
    -------
    where : str
        The label naming the source in messages (password masked).
    frame : DataFrame
        The rows as stored (columns as named in the source).
    row_offset : int
        The number of the first row in messages (1: the first row of the table
        or query result; Parquet: the first row of the file).

    Raises
    ------
    HistoryError
        A missing file, table or column, a failing query or connection (the
        driver's message, password scrubbed), each naming the source.
    InputError
        Both ``table`` and ``query``; a missing driver package.
    """
    if isinstance(source, DatabaseSource):
        if (table, query) != (None, None) and (table, query) != (source.table, source.query):
            source = DatabaseSource(source.url, table=table, query=query)
    else:
        if isinstance(source, (str, os.PathLike)) and not is_url(source):
            path = Path(source).expanduser()
            if path.suffix.lower() in PARQUET_SUFFIXES:
                if table is not None or query is not None:
                    raise InputError(
                        Problem(
                            "a Parquet file holds one table: --table and --query do not apply.",
                            fix="drop --table/--query.",
                            file=str(source),
                        )
                    )
                return _read_parquet(path, str(source))
            if path.suffix.lower() in DB_SUFFIXES:
                source = f"duckdb:///{path}"
        source = DatabaseSource(source, table=table, query=query)
    return _read_database(source)


def _read_parquet(path: Path, where: str) -> tuple[str, pd.DataFrame, int]:
    import pandas as pd

    if not path.is_file():
        raise HistoryError(
            Problem("the file does not exist.", fix="check the path.", file=where), file=where
        )
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise _missing_package(exc, where, "Parquet files") from None
    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError…
        raise HistoryError(
            Problem(
                f"cannot read the Parquet file: {str(exc).strip()}.",
                fix="write it with pandas.DataFrame.to_parquet or pyarrow.",
                file=where,
            ),
            file=where,
        ) from None
    if not isinstance(frame.index, (pd.RangeIndex, pd.PeriodIndex, pd.DatetimeIndex)):
        frame = frame.reset_index()  # a named index (e.g. 'period') written by pandas
    return where, frame, 1


def _read_database(source: DatabaseSource) -> tuple[str, pd.DataFrame, int]:
    import pandas as pd

    where = source.where
    base = _label(source.url)
    try:
        import sqlalchemy as sa
        from sqlalchemy import exc as sa_exc
    except ImportError as exc:
        raise _missing_package(exc, base, "databases") from None

    own_engine = not _is_engine(source.url)
    secrets: list[str] = []
    if own_engine:
        raw = str(source.url).strip()
        expanded = _expand(raw, base)
        secrets = _secrets(raw, expanded)
        engine = _create_engine(sa, sa_exc, expanded, base, secrets)
    else:
        engine = source.url
        password = engine.url.password
        secrets = [str(password)] if password else []

    def fail(message: str, fix: str, at: str = where) -> HistoryError:
        return HistoryError(Problem(_scrub(message, secrets), fix=fix, file=at), file=at)

    try:
        with engine.connect() as conn:
            tables = _table_names(sa, conn)
            if source.query is not None:
                try:
                    frame = pd.read_sql_query(sa.text(source.query), conn)
                except (sa_exc.DBAPIError, pd.errors.DatabaseError) as exc:
                    raise fail(
                        f"the query failed: {_driver_message(exc)}",
                        "check the SQL; it must return period, measure, value (long) or "
                        "period plus one column per measure (wide).",
                    ) from None
            else:
                name = source.table
                if name is None:
                    if len(tables) != 1:
                        listed = ", ".join(tables[:20]) or "none"
                        raise fail(
                            f"the database has {len(tables)} tables ({listed}); which one "
                            "holds the history?",
                            "give --table NAME (or table= in Python), or --query.",
                            at=base,
                        )
                    name = tables[0]
                    where = f"{base}, table {name}"
                if "." not in name and name not in tables:
                    from difflib import get_close_matches

                    close = get_close_matches(name, tables, n=1)
                    raise fail(
                        f"there is no table {name!r} (tables: {', '.join(tables[:20]) or 'none'}).",
                        f"did you mean {close[0]!r}?" if close else "check the table name.",
                        at=base,
                    )
                schema, _, tname = name.rpartition(".")
                # a lightweight table clause (quoted by the dialect), no reflection
                tbl = sa.table(tname, schema=schema or None)
                frame = pd.read_sql_query(sa.select(sa.text("*")).select_from(tbl), conn)
    except HistoryError:
        raise
    except sa_exc.DBAPIError as exc:
        raise fail(
            f"cannot read from the database: {_driver_message(exc)}",
            "check the host, port, database name and user; keep the password out of the "
            "URL: write postgresql+psycopg://user:${KPI_DB_PASSWORD}@host/db and export "
            "KPI_DB_PASSWORD (or set PGPASSWORD).",
            at=base,
        ) from None
    except sa_exc.SQLAlchemyError as exc:
        raise fail(f"cannot read from the database: {exc}", "check the URL and table.") from None
    finally:
        if own_engine:
            engine.dispose()
    return where, frame, 1


def _create_engine(sa: Any, sa_exc: Any, url: str, where: str, secrets: list[str]) -> Any:
    try:
        parsed = sa.engine.make_url(url)
    except sa_exc.ArgumentError:
        raise HistoryError(
            Problem(
                "this is not a database URL.",
                fix="write dialect[+driver]://user@host:port/database, e.g. "
                "postgresql+psycopg://kpi@localhost/bank or duckdb:///kpis.duckdb.",
                file=where,
            ),
            file=where,
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "duckdb":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).expanduser().is_file():
            raise HistoryError(
                Problem(
                    f"the DuckDB file {database or '(none)'!r} does not exist.",
                    fix="check the path: duckdb:///relative/path.duckdb or duckdb:////absolute/path.duckdb.",
                    file=where,
                ),
                file=where,
            )
        kwargs["connect_args"] = {"read_only": True}
    elif (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not Path(str(parsed.database)).expanduser().is_file()
    ):
        raise HistoryError(
            Problem(
                f"the SQLite file {parsed.database!r} does not exist.",
                fix="check the path: sqlite:///relative/path.db.",
                file=where,
            ),
            file=where,
        )
    try:
        return sa.create_engine(parsed, **kwargs)
    except (ImportError, sa_exc.NoSuchModuleError) as exc:
        backend = parsed.get_backend_name()
        raise InputError(
            Problem(
                f"no database driver for {parsed.drivername!r}: {_scrub(str(exc), secrets)}.",
                fix=_DRIVERS.get(backend, f"install the SQLAlchemy driver for {backend}")
                + f"; or {_INSTALL}.",
                file=where,
            )
        ) from None


def _table_names(sa: Any, conn: Any) -> list[str]:
    insp = sa.inspect(conn)
    names = list(insp.get_table_names()) + list(insp.get_view_names())
    return sorted(dict.fromkeys(names))


def _driver_message(exc: Any) -> str:
    """The driver's own message (first line), without SQLAlchemy's statement echo."""
    if not hasattr(exc, "orig") and exc.__cause__ is not None:  # pandas wraps SQLAlchemy's error
        exc = exc.__cause__
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first.rstrip(".") + "."
