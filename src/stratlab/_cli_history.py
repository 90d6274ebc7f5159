"""The command line's options for reading a KPI history (``--sheet``, ``--decimal``, ``--dayfirst``,
``--strict``, ``--fix``), added to every command that reads one, and the stale-series warning of
``stratlab validate``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model

__all__ = [
    "add_history_options",
    "history_argument",
    "read_history",
    "warn_stale",
]


def add_history_options(p: argparse.ArgumentParser) -> None:
    """The options for reading a KPI history (added to every command that reads one)."""
    g = p.add_argument_group("reading the history")
    g.add_argument("--sheet", help="Excel sheet holding the history (default: the first)")
    g.add_argument(
        "--decimal",
        choices=(".", ","),
        default=None,
        help="decimal mark of the file; the other mark is then a thousands separator "
        "(default '.', ',' for semicolon CSVs)",
    )
    g.add_argument(
        "--dayfirst", action="store_true", help="read 01/02/2024 as 1 February (default: 2 January)"
    )
    g.add_argument(
        "--strict",
        action="store_true",
        help="columns that are not measures or key results are errors (default: one warning, ignored)",
    )
    g.add_argument(
        "--fix",
        action="store_true",
        help="apply the fixes the messages name (drop %% signs and thousands separators, "
        "multiply fractions of a %% measure by 100) and say how many cells changed",
    )
    g.add_argument(
        "--table",
        help="when HISTORY is a database URL (postgresql+psycopg://user@host/db, "
        "duckdb:///kpis.duckdb; ${NAME} reads an environment variable): the table "
        "holding the history, long or wide",
    )
    g.add_argument("--query", help="or a SQL query returning the history (instead of --table)")


def history_argument(args: argparse.Namespace) -> Any:
    """HISTORY as given: a path, or a DatabaseSource for a URL / --table / --query (None if absent)."""
    from .errors import InputError, Problem
    from .io import DatabaseSource, is_url

    history = getattr(args, "history", None)
    table, query = getattr(args, "table", None), getattr(args, "query", None)
    if history is None:
        if table is not None or query is not None:
            raise InputError(
                Problem(
                    "--table and --query need a HISTORY database URL.",
                    fix="give the URL, e.g. postgresql+psycopg://user@host/db --table kpis.",
                )
            )
        return None
    if table is not None or query is not None or is_url(history):
        return DatabaseSource(history, table=table, query=query)
    return history


def read_history(args: argparse.Namespace, *, with_model: bool = True) -> Any:
    """The history argument read with the history options (None when not given)."""
    path = history_argument(args)
    if path is None:
        return None
    from .io import load_history

    model = None
    if with_model and getattr(args, "model", None):
        from .io import load_model

        model = load_model(args.model)
    return load_history(
        path,
        model,
        sheet=args.sheet,
        decimal=args.decimal,
        dayfirst=args.dayfirst,
        strict=args.strict,
        coerce=args.fix,
    )


# --------------------------------------------------------------------------- commands


def warn_stale(model: Model, hist: pd.DataFrame) -> None:
    """Name the series whose latest value is older than ``max_age`` allows (on stderr)."""
    from .scoring import score

    table = score(model, hist)
    stale = table[table["stale"]]
    if len(stale):
        names = ", ".join(f"{r.id} (last value {r.as_of})" for r in stale.itertuples(index=False))
        print(
            f"stratlab validate: warning: {len(stale)} stale series at "
            f"{table.attrs.get('period')}: {names}. Fix: update them, or allow "
            "older values with max_age.",
            file=sys.stderr,
        )
