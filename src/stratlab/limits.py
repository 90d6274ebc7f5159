"""Bounds on the work any input can cause, checked before the work starts.

Every size or count that drives the cost of a command has a documented limit
in :class:`Limits`.  The defaults are generous for real use (a 1,600-objective
cascade, ten years of monthly data for 2,000 KPIs) and refuse the inputs that
would otherwise run for minutes or exhaust memory (alias bombs, a lag of
100,000 periods, a workbook that unpacks to gigabytes).

A limit that is hit raises a located :class:`~stratlab.errors.InputError`
(or ``ModelError`` / ``HistoryError``) that names the limit and how to raise
it: ``--limit NAME=VALUE`` on the command line, ``limits=Limits(NAME=VALUE)``
in Python.  There is no module-level mutable state: a call uses the limits it
is given, else those of the enclosing :func:`using` block (a context-local
value, which the command line sets from its ``--limit`` flags), else
:data:`DEFAULT`.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import InputError, Problem, StratlabError

__all__ = ["DEFAULT", "Limits", "current", "exceeded", "parse_limits", "resolve", "using"]


@dataclass(frozen=True)
class Limits:
    """Upper bounds on input sizes and on the work they drive.

    Attributes
    ----------
    file_bytes : int
        Size of any input file read (model, history, manifest), default 512 MiB.
    xlsx_bytes : int
        Total uncompressed size of an ``.xlsx`` workbook, from the sizes its zip
        directory declares (checked before the workbook is opened), default 128 MiB
        (a workbook of 10 years × 2,000 monthly KPIs unpacks to about 10 MiB).
    history_rows : int
        Rows of a history file or DataFrame (long form: one row per period and
        measure), default 500,000 (10 years × 2,000 monthly KPIs is 240,000).
    history_columns : int
        Columns of a history, or series of a long-form history, default 10,000.
    model_nodes : int
        Objectives + measures + links + OKRs + key results + initiatives of a
        model, default 100,000.
    yaml_nodes : int
        Nodes of a YAML/JSON document after expanding its aliases (an alias
        counts as many nodes as it stands for), default 2,000,000.
    nesting : int
        Depth of nested mappings and lists in a YAML/JSON document, default 64.
    number_digits : int
        Digits of a number in a YAML/JSON document, default 400 (a float
        holds about 17 significant digits and overflows past 10^308).
    horizon : int
        Periods of a what-if trajectory or simulation horizon, default 1,200
        (a century of months).
    sample_values : int
        Monte Carlo samples × nodes (the stored float32 scores), default
        402,653,184 (1.5 GiB).
    correlation_rows : int
        Rows of a correlation table (pairs × lags), default 10,000,000.
    """

    file_bytes: int = 512 * 2**20
    xlsx_bytes: int = 128 * 2**20
    history_rows: int = 500_000
    history_columns: int = 10_000
    model_nodes: int = 100_000
    yaml_nodes: int = 2_000_000
    nesting: int = 64
    number_digits: int = 400
    horizon: int = 1_200
    sample_values: int = 1536 * 2**20 // 4
    correlation_rows: int = 10_000_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    Problem(
                        f"limit {f.name} must be a whole number ≥ 1, got {value!r}.",
                        fix=f"e.g. Limits({f.name}={f.default}).",
                    )
                )

    def replace(self, **changes: int) -> Limits:
        """A copy with some limits changed (unknown names are an :class:`InputError`)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = [k for k in changes if k not in names]
        if unknown:
            raise InputError(_unknown_limit(unknown[0]))
        return dataclasses.replace(self, **changes)


#: Help of the command line's ``--limit`` flag.
LIMIT_HELP = (
    "raise the size limit N to V for a genuine large input, e.g. --limit "
    "history_rows=5000000 (repeatable; the limits are listed in README, 'Limits and safety')"
)

#: The default limits.
DEFAULT = Limits()

_ACTIVE: contextvars.ContextVar[Limits] = contextvars.ContextVar("stratlab_limits", default=DEFAULT)


def current() -> Limits:
    """The limits in force: those of the innermost :func:`using` block, else :data:`DEFAULT`."""
    return _ACTIVE.get()


def resolve(limits: Limits | None) -> Limits:
    """``limits`` if given, else :func:`current`."""
    if limits is None:
        return _ACTIVE.get()
    if not isinstance(limits, Limits):
        raise InputError(
            Problem(
                f"limits must be a stratlab.Limits, got {type(limits).__name__}.",
                fix="pass limits=stratlab.Limits(history_rows=5_000_000).",
            )
        )
    return limits


@contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Run a block with other limits (context-local: threads and tasks are unaffected)."""
    token = _ACTIVE.set(resolve(limits))
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


def _unknown_limit(name: str) -> Problem:
    from difflib import get_close_matches

    names = [f.name for f in dataclasses.fields(Limits)]
    close = get_close_matches(name, names, n=1)
    return Problem(
        f"unknown limit {name!r}.",
        fix=(f"did you mean {close[0]!r}? " if close else "") + "limits are: " + ", ".join(names),
    )


def parse_limits(items: Sequence[str], base: Limits | None = None) -> Limits:
    """``["history_rows=5000000"]`` (the ``--limit`` flags) → a :class:`Limits`."""
    changes: dict[str, int] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise InputError(
                Problem(f"--limit {item!r} is not NAME=VALUE.", fix="e.g. --limit horizon=5000.")
            )
        try:
            number = int(value.strip().replace("_", ""))
        except ValueError:
            raise InputError(
                Problem(
                    f"--limit {key}: {value!r} is not a whole number.",
                    fix="e.g. --limit horizon=5000.",
                )
            ) from None
        changes[key] = number
    return (base or DEFAULT).replace(**changes)


def how_to_raise(name: str, needed: int | None = None) -> str:
    """The fix sentence of a limit error."""
    value = f"{needed}" if needed is not None else "N"
    return (
        f"if the input is genuine, raise the limit: --limit {name}={value} on the command line, "
        f"or limits=stratlab.Limits({name}={value}) in Python."
    )


def exceeded(
    name: str,
    what: str,
    value: int,
    limits: Limits,
    *,
    fix: str | None = None,
    error: type[StratlabError] = InputError,
    **where: Any,
) -> StratlabError:
    """The error for ``value`` over ``limits.<name>``: names the limit and how to raise it."""
    limit = getattr(limits, name)
    raise_it = how_to_raise(name, value)
    problem = Problem(
        f"{what} is {value:,}, over the limit {name}={limit:,}.",
        fix=(
            f"{fix} Or, {raise_it[0].lower()}{raise_it[1:]}"
            if fix
            else raise_it[0].upper() + raise_it[1:]
        ),
        **where,
    )
    return error(problem, file=where.get("file"))


def check(
    name: str,
    what: str,
    value: int,
    limits: Limits | None = None,
    *,
    fix: str | None = None,
    error: type[StratlabError] = InputError,
    **where: Any,
) -> None:
    """Raise :func:`exceeded` when ``value`` is over ``limits.<name>``."""
    lim = resolve(limits)
    if value > getattr(lim, name):
        raise exceeded(name, what, value, lim, fix=fix, error=error, **where)


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def check_yaml_tree(
    root: Any,
    *,
    file: str | None,
    limits: Limits | None = None,
    error: type[StratlabError] = InputError,
) -> None:
    """Refuse a composed YAML/JSON node tree that would be costly or unsafe to build.

    Counts the nodes the tree stands for once its aliases are expanded (each
    distinct node is visited once, so an alias bomb is measured without being
    expanded), its nesting depth, the digits of its numbers and lone surrogate
    characters (invalid Unicode that no terminal or file can encode).  Runs in
    time linear in the size of the text.
    """
    import yaml

    lim = resolve(limits)
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    problems: list[Problem] = []

    def located(node: Any, message: str, fix: str) -> None:
        if len(problems) < 20:
            problems.append(Problem(message, fix=fix, file=file, line=node.start_mark.line + 1))

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    stack: list[tuple[Any, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            active.discard(key)
            if depth[key] > lim.nesting:
                raise exceeded(
                    "nesting",
                    "the nesting depth of mappings and lists",
                    depth[key],
                    lim,
                    fix="a model or manifest is a few levels deep; check the brackets.",
                    error=error,
                    file=file,
                    line=node.start_mark.line + 1,
                )
            if size[key] > lim.yaml_nodes:
                raise exceeded(
                    "yaml_nodes",
                    "the number of values once the aliases (*name) are expanded",
                    size[key],
                    lim,
                    fix="write the values out, or use fewer nested aliases.",
                    error=error,
                    file=file,
                    line=node.start_mark.line + 1,
                )
            continue
        if key in size:
            continue
        if key in active:
            raise error(
                Problem(
                    "an alias refers to the mapping or list that contains it (a cycle).",
                    fix="remove the recursive alias (*name).",
                    file=file,
                    line=node.start_mark.line + 1,
                ),
                file=file,
            )
        active.add(key)
        if isinstance(node, yaml.ScalarNode):
            text = node.value
            if node.tag in _NUMBER_TAGS and sum(c.isdigit() for c in text) > lim.number_digits:
                located(
                    node,
                    f"a number with {sum(c.isdigit() for c in text):,} digits is out of range.",
                    "write a number of ordinary size (e.g. 1.5e9).",
                )
            if any("\ud800" <= c <= "\udfff" for c in text):
                located(
                    node,
                    "the text holds a lone surrogate (an invalid Unicode character, e.g. \\ud800).",
                    "remove the \\uD8xx escape or write the character itself.",
                )
            size[key] = 1
            depth[key] = 1
            active.discard(key)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in children(node) if id(k) not in size)
    if problems:
        raise error(problems, file=file)


def check_file_size(
    path: Any,
    file: str | None,
    limits: Limits | None = None,
    *,
    error: type[StratlabError] = InputError,
) -> None:
    """Refuse an input file larger than ``limits.file_bytes`` (before reading it)."""
    import os

    try:
        size = os.stat(path).st_size
    except OSError:
        return  # the reader reports a missing or unreadable file in its own words
    check("file_bytes", "the file size in bytes", size, limits, error=error, file=file)


def check_xlsx(
    path: Any,
    file: str | None,
    limits: Limits | None = None,
    *,
    error: type[StratlabError] = InputError,
) -> None:
    """Refuse a workbook that is not a zip, or whose members unpack to more than ``xlsx_bytes``.

    Reads only the zip's central directory (the declared sizes, which Python's
    zip reader enforces while unpacking): nothing is decompressed.
    """
    import zipfile

    lim = resolve(limits)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise error(
            Problem(
                "the file is not an Excel workbook (an .xlsx file is a zip archive).",
                fix="save it from Excel as .xlsx, or as .csv.",
                file=file,
            ),
            file=file,
        ) from None
    except OSError:
        return  # the reader reports it
    total = sum(info.file_size for info in infos)
    check(
        "xlsx_bytes",
        "the unpacked size of the workbook in bytes",
        total,
        lim,
        fix="a workbook of KPI data unpacks to a few megabytes; this one may be a zip bomb.",
        error=error,
        file=file,
    )


_MODEL_SECTIONS = ("perspectives", "objectives", "measures", "links", "okrs", "initiatives")


def check_model_size(data: Any, *, file: str | None, limits: Limits | None = None) -> None:
    """Refuse a raw model mapping with more than ``limits.model_nodes`` nodes (before validating it)."""
    from collections.abc import Mapping

    from .errors import ModelError

    if not isinstance(data, Mapping):
        return
    total = 0
    for section in _MODEL_SECTIONS:
        items = data.get(section)
        if isinstance(items, list):
            total += len(items)
            if section == "okrs":
                total += sum(
                    len(o["key_results"])
                    for o in items
                    if isinstance(o, Mapping) and isinstance(o.get("key_results"), list)
                )
    check(
        "model_nodes",
        "the number of perspectives, objectives, measures, links, OKRs, key results and initiatives",
        total,
        limits,
        error=ModelError,
        file=file,
    )


def check_history_file(
    path: Any, kind: str, file: str | None, limits: Limits | None = None
) -> None:
    """Bound a history file before pandas reads it.

    CSV: the file size, the header's width and duplicate names (pandas would
    silently rename the second ``nps`` to ``nps.1``), and the number of lines.
    Excel: :func:`stratlab._xlsx.inspect_workbook` (zip, unpacked size, sheets,
    formulas without values).
    """
    import csv

    from .errors import HistoryError

    lim = resolve(limits)
    check_file_size(path, file, lim, error=HistoryError)
    if kind == "excel":
        from ._xlsx import inspect_workbook

        if str(path).lower().endswith((".xlsx", ".xlsm")):
            check_xlsx(path, file, lim, error=HistoryError)
            sheets = inspect_workbook(path, file, error=HistoryError)
            if sheets and not any(k == "worksheet" for _, k in sheets):
                raise HistoryError(
                    Problem(
                        "the workbook holds only charts, no sheet of data.",
                        fix="add a sheet with the period column and one column per measure.",
                        file=file,
                    ),
                    file=file,
                )
        return
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline(1 << 24)
        sep = ";" if first.count(";") > first.count(",") else ","  # semicolon CSVs too
        header = next(csv.reader([first], delimiter=sep), [])
    except (OSError, csv.Error):
        return  # pandas reports unreadable files in its own words
    check(
        "history_columns",
        "the number of columns",
        len(header),
        lim,
        error=HistoryError,
        file=file,
        row=1,
    )
    check_duplicate_columns(header, file=file)
    lines = 0
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
    check("history_rows", "the number of rows", lines, lim, error=HistoryError, file=file)


def check_duplicate_columns(columns: Sequence[Any], *, file: str | None) -> None:
    """HistoryError naming every column that appears more than once (linear time)."""
    from collections import Counter

    from .errors import HistoryError

    counts = Counter(str(c).strip() for c in columns)
    twice = [c for c, n in counts.items() if n > 1]
    if twice:
        raise HistoryError(
            [
                Problem(
                    f"column {c!r} appears more than once.",
                    fix="keep one column per measure.",
                    file=file,
                    row=1 if file else None,
                    column=c,
                )
                for c in twice[:20]
            ],
            file=file,
        )


def check_history_frame(
    frame: Any, *, file: str | None, limits: Limits | None = None, require_rows: bool = False
) -> None:
    """Bound a history table (rows, columns) and refuse duplicate column names.

    With ``require_rows``, a table with no row left is refused too (e.g. every
    period was a missing date, NaT).
    """
    from .errors import HistoryError

    lim = resolve(limits)
    rows, cols = frame.shape
    if require_rows and rows == 0:
        raise HistoryError(
            Problem(
                "no row has a period.",
                fix="fill the period column (2025Q3, 2025-07 or dates).",
                file=file,
                column="period",
            ),
            file=file,
        )
    check("history_columns", "the number of columns", cols, lim, error=HistoryError, file=file)
    check("history_rows", "the number of rows", rows, lim, error=HistoryError, file=file)
    check_duplicate_columns(list(frame.columns), file=file)
