"""Review commentary and actions: one file of ``id, period, comment[, action, owner, due]``.

A row says something about one measure, objective, OKR or key result (``id``)
in one review period; it may carry an action with an owner and a due date.
CSV, Excel (first sheet unless ``sheet``) and YAML (a list of mappings) are
read; every problem is reported at once with its file, row (or YAML line and
key path) and a fix.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model

__all__ = ["ACTION_COLUMNS", "COMMENT_COLUMNS", "comments_for", "load_comments", "open_actions"]

#: Columns of :func:`load_comments`'s table, in order.
COMMENT_COLUMNS = ["id", "period", "comment", "action", "owner", "due"]
#: Columns of :func:`open_actions`'s table, in order.
ACTION_COLUMNS = ["id", "name", "period", "action", "owner", "due", "overdue"]
_REQUIRED = ("id", "period")
_FIX_FORMAT = "columns: id, period, comment, and optionally action, owner, due"


def _read_rows(
    source: Any, sheet: str | int | None
) -> tuple[str | None, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """(file name, [(record, location)]) from a path or a DataFrame."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        records = source.to_dict("records")
        return None, [(r, {"row": i + 1}) for i, r in enumerate(records)]
    path = Path(source).expanduser()
    file = str(path)
    if not path.is_file():
        raise InputError(
            Problem(
                "the comments file does not exist",
                fix=f"give the path of a .csv, .xlsx or .yaml file ({_FIX_FORMAT})",
                file=file,
            )
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                sep=None,
                engine="python",
                encoding="utf-8-sig",
            )
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError(
                Problem(f"cannot read the CSV: {exc}", fix="save it as UTF-8 CSV", file=file)
            ) from exc
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        rows = [(r, {"line": i + 2}) for i, r in enumerate(frame.to_dict("records"))]
        return file, rows
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
        except (ValueError, KeyError, OSError) as exc:
            raise InputError(
                Problem(f"cannot read the workbook: {exc}", fix="check the sheet name", file=file)
            ) from exc
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        name = sheet if isinstance(sheet, str) else None
        located: list[tuple[dict[str, Any], dict[str, Any]]] = [
            (r, {"row": i + 2, "sheet": name}) for i, r in enumerate(frame.to_dict("records"))
        ]
        return file, located
    if suffix in (".yaml", ".yml"):
        import yaml

        text = path.read_text(encoding="utf-8")
        try:
            root = yaml.compose(text)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(
                Problem(
                    f"not valid YAML: {getattr(exc, 'problem', exc)}",
                    fix="check the indentation and quoting near this line",
                    file=file,
                    line=mark.line + 1 if mark is not None else None,
                )
            ) from exc
        if isinstance(data, dict) and "comments" in data:
            data = data["comments"]
            root = next(v for k, v in root.value if k.value == "comments")  # type: ignore[union-attr]
        if data is None:
            return file, []
        if not isinstance(data, list):
            raise InputError(
                Problem(
                    "the file is not a list of comments",
                    fix="write one item per comment: `- {id: nps, period: 2025Q3, comment: ...}`",
                    file=file,
                )
            )
        nodes = getattr(root, "value", [])
        rows = []
        for i, item in enumerate(data):
            line = nodes[i].start_mark.line + 1 if i < len(nodes) else None
            where: dict[str, Any] = {"line": line, "path": f"[{i}]"}
            if not isinstance(item, dict):
                raise InputError(
                    Problem(
                        "a comment must be a mapping",
                        fix="write `- {id: nps, period: 2025Q3, comment: ...}`",
                        **where,
                        file=file,
                    )
                )
            rows.append(({str(k).strip().lower(): v for k, v in item.items()}, where))
        return file, rows
    raise InputError(
        Problem(
            f"unsupported comments format {suffix or '(no suffix)'!r}",
            fix="use a .csv, .xlsx or .yaml file",
            file=file,
        )
    )


def _blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""
    )


def _text(value: Any) -> str:
    return "" if _blank(value) else str(value).strip()


def load_comments(
    source: str | os.PathLike[str] | pd.DataFrame,
    model: Model | str | os.PathLike[str] | None = None,
    *,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read review commentary and actions.

    Parameters
    ----------
    source : path or DataFrame
        CSV (comma or semicolon), Excel or YAML (a list of mappings, or a
        mapping with ``comments:``) with the columns ``id, period, comment``
        and optionally ``action, owner, due``.
    model : Model or path, optional
        When given, every ``id`` must be a perspective, objective, measure,
        OKR or key result of it, and periods are put on its unit (a month in
        a quarterly model counts for its quarter).
    sheet : str or int, optional
        Excel sheet (default: the first).

    Returns
    -------
    pandas.DataFrame
        One row per comment, columns in this order:

        - ``id`` : the node the comment is about
        - ``period`` : the review period (``pandas.Period``)
        - ``comment`` : the commentary (may be empty when there is an action)
        - ``action`` : the action agreed (empty if none)
        - ``owner`` : who owns the action (empty if none)
        - ``due`` : its due date (``Timestamp``; NaT if none)

    Raises
    ------
    InputError
        Every problem at once, each with file, row or line, column and fix:
        missing file or columns, unknown columns or ids (with a close match),
        unparseable periods or due dates, rows with neither comment nor
        action, an owner or due date without an action.
    """
    import pandas as pd

    from .io import load_model

    strategy = None if model is None else load_model(model)
    file, rows = _read_rows(source, sheet)
    problems: list[Problem] = []
    known = set(COMMENT_COLUMNS)
    columns = {k for record, _ in rows for k in record}
    for col in sorted(columns - known):
        close = difflib.get_close_matches(str(col), COMMENT_COLUMNS, n=1)
        problems.append(
            Problem(
                f"unknown column {col!r}",
                fix=(f"did you mean {close[0]!r}? " if close else "") + _FIX_FORMAT,
                file=file,
                column=str(col),
            )
        )
    if rows:
        for col in _REQUIRED:
            if col not in columns:
                problems.append(
                    Problem(f"no {col!r} column", fix=_FIX_FORMAT, file=file, column=col)
                )
    if problems:
        raise InputError(problems, file=file)
    ids: list[str] = []
    if strategy is not None:
        nodes: tuple[Any, ...] = (
            *strategy.perspectives,
            *strategy.objectives,
            *strategy.measures,
            *strategy.okrs,
            *strategy.key_results,
        )
        ids = [n.id for n in nodes]
    unit = (
        None if strategy is None else {"quarter": "Q", "month": "M", "year": "Y"}[strategy.period]
    )
    out = [
        _check_row(record, where, file=file, ids=ids, unit=unit, problems=problems)
        for record, where in rows
        if not all(_blank(v) for v in record.values())
    ]
    if problems:
        raise InputError(problems, file=file)
    frame = pd.DataFrame(out, columns=COMMENT_COLUMNS)
    frame["due"] = pd.to_datetime(frame["due"])
    return frame


def _check_row(
    record: dict[str, Any],
    where: dict[str, Any],
    *,
    file: str | None,
    ids: list[str],
    unit: str | None,
    problems: list[Problem],
) -> dict[str, Any]:
    """One comment row, checked (its problems appended, located) and normalised."""
    import pandas as pd

    from .periods import as_freq, parse_period

    def add(message: str, fix: str, column: str) -> None:
        loc = dict(where)
        if "path" in loc:
            loc["path"] = f"{loc['path']}.{column}"
        problems.append(Problem(message, fix=fix, file=file, column=column, **loc))

    node = _text(record.get("id"))
    if not node:
        add("missing id", "give the id of a measure, objective or OKR", "id")
    elif ids and node not in ids:
        close = difflib.get_close_matches(node, ids, n=1)
        add(
            f"{node!r} is not an id of the model",
            (f"did you mean {close[0]!r}? " if close else "")
            + "use the id of a measure, objective, OKR or key result",
            "id",
        )
    raw_period = record.get("period")
    period = None
    if _blank(raw_period):
        add("missing period", "give the review period, e.g. 2025Q3", "period")
    else:
        period = parse_period(raw_period.strip() if isinstance(raw_period, str) else raw_period)
        if period is None:
            add(
                f"period {raw_period!r} is not a period",
                "write periods as 2025Q3, 2025-07 or a date such as 2025-07-31",
                "period",
            )
        else:
            period = as_freq(period, unit or ("M" if period.freqstr[0] == "D" else period.freqstr))
    comment, action, owner = (_text(record.get(k)) for k in ("comment", "action", "owner"))
    due: Any = pd.NaT
    raw_due = record.get("due")
    if not _blank(raw_due):
        try:
            due = pd.Timestamp(raw_due)
        except (ValueError, TypeError):
            due = None
        if due is None or due is pd.NaT:
            add(f"due date {raw_due!r} is not a date", "write dates as 2025-10-31", "due")
            due = pd.NaT
    if not comment and not action:
        add(
            "the row has neither a comment nor an action", "write a comment or an action", "comment"
        )
    if not action and (owner or not _blank(raw_due)):
        add(
            "an owner or due date without an action",
            "write the action the owner is to take, or leave owner and due empty",
            "action",
        )
    return {
        "id": node,
        "period": period,
        "comment": comment,
        "action": action,
        "owner": owner,
        "due": due,
    }


def comments_for(comments: pd.DataFrame | None, period: Any) -> dict[str, str]:
    """``id -> comment`` for one review period (several comments joined with `` · ``)."""
    if comments is None or not len(comments):
        return {}
    rows = comments[comments["period"].astype(str) == str(period)]
    out: dict[str, str] = {}
    for node, text in zip(rows["id"], rows["comment"], strict=True):
        if text:
            out[node] = f"{out[node]} · {text}" if node in out else text
    return out


def open_actions(
    comments: pd.DataFrame | None,
    period: Any,
    *,
    as_of: Any = None,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The actions raised up to and including ``period``, earliest due first.

    Parameters
    ----------
    comments : DataFrame
        :func:`load_comments` output.
    period : pandas.Period or str
        The review period.
    as_of : date, optional
        "Today" for the overdue mark (default: the last day of ``period``).
    names : mapping id → name, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, period, action, owner, due, overdue`` (``overdue``:
        bool, the due date is before ``as_of``).
    """
    import pandas as pd

    if comments is None or not len(comments):
        return pd.DataFrame(columns=ACTION_COLUMNS)
    review = (
        pd.Period(str(period), freq=comments["period"].iloc[0].freq) if period is not None else None
    )
    rows = comments[comments["action"] != ""]
    if review is not None:
        rows = rows[[p <= review for p in rows["period"]]]
    if as_of is None:
        as_of = review.end_time.normalize() if review is not None else pd.Timestamp.today()
    as_of = pd.Timestamp(as_of)
    frame = rows.assign(
        name=[(names or {}).get(i, i) for i in rows["id"]],
        overdue=[bool(pd.notna(d) and d < as_of) for d in rows["due"]],
    )
    frame = frame.sort_values(["due", "period"], na_position="last", kind="stable")
    return frame[ACTION_COLUMNS].reset_index(drop=True)
