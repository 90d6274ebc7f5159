"""Reading and writing model files (YAML, JSON, Excel) and KPI histories (CSV, Excel, DataFrame).

Readers report every problem with its location: the line of a YAML/JSON file
(found by composing the YAML node tree, which never constructs objects), or the
sheet, row and column of a workbook or CSV.  Writers are atomic: they write a
temporary file beside the target and move it into place.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import HistoryError, InputError, ModelError, Problem
from .model import SECTIONS, TOP, Model, build_model, path_str, to_dict

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["atomic_path", "atomic_write", "load_history", "read_model_file", "write_model_file"]

MODEL_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
}


# --------------------------------------------------------------------------- atomic writing


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place, on error delete it.

    Missing parent folders are created.  The file gets the permissions a normally created file would (``0o666`` less the
    umask), and an existing ``path`` is untouched until the new content is complete.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(
                f"cannot create the folder {str(target.parent)!r}: {exc.strerror or exc}.",
                fix="choose another output path.",
                file=str(target),
            )
        ) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write text or bytes to ``path`` atomically (see :func:`atomic_path`); returns the path."""
    target = Path(path)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- model files


def read_model_file(path: str | Path) -> Model:
    """Read and validate a YAML, JSON or Excel model file (see :func:`stratlab.load_model`)."""
    p = Path(path)
    file = str(path)
    fmt = MODEL_SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise ModelError(
            Problem(
                f"unknown model file type {p.suffix!r}.",
                fix="use .yaml, .yml, .json or .xlsx.",
                file=file,
            ),
            file=file,
        )
    if not p.is_file():
        raise ModelError(
            Problem("the file does not exist.", fix="check the path.", file=file), file=file
        )
    if fmt == "excel":
        data, locate = _read_excel_model(p)
        return build_model(data, file=file, locate=locate)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(
            Problem(
                f"the file is not UTF-8 text (byte {exc.start}).",
                fix="save it as UTF-8.",
                file=file,
            ),
            file=file,
        ) from None
    if not text.strip():
        raise ModelError(
            Problem("the file is empty.", fix="start from `stratlab example DIR`.", file=file),
            file=file,
        )
    data, lines, early = _parse_yaml_or_json(text, file, fmt)
    try:
        model = build_model(data, file=file, locate=_line_locator(lines))
    except ModelError as exc:
        raise ModelError(early + exc.problems, file=file) from None
    if early:
        raise ModelError(early, file=file)
    return model


def _line_locator(
    lines: Mapping[tuple[Any, ...], int],
) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    def locate(path: tuple[Any, ...]) -> dict[str, Any]:
        line = lines.get(path)
        return {"line": line} if line is not None else {}

    return locate


def _parse_yaml_or_json(
    text: str, file: str, fmt: str
) -> tuple[Any, dict[tuple[Any, ...], int], list[Problem]]:
    import yaml

    early: list[Problem] = []
    lines: dict[tuple[Any, ...], int] = {}
    if fmt == "json":
        dups: list[str] = []

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            for k, v in pairs:
                if k in seen:
                    dups.append(k)
                seen[k] = v
            return seen

        try:
            data = json.loads(text, object_pairs_hook=hook)
        except json.JSONDecodeError as exc:
            raise ModelError(
                Problem(
                    f"JSON syntax error: {exc.msg} (column {exc.colno}).",
                    fix="check commas, quotes and brackets on that line.",
                    file=file,
                    line=exc.lineno,
                ),
                file=file,
            ) from None
        try:
            node, _ = _compose(text, construct=False)
            if node is not None:
                _walk(node, (), lines, early, file)
        except yaml.YAMLError:
            early.extend(Problem(f"duplicate key {k!r}.", fix="keep one.", file=file) for k in dups)
        return data, lines, early
    try:
        node, data = _compose(text, construct=True)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = str(getattr(exc, "problem", None) or exc).strip()
        fix = "check the indentation and the ':' after each key on that line."
        if "constructor for the tag" in problem or "tag" in problem:
            fix = "remove the '!!' tag: model files hold plain values only (tags that build Python objects are never run)."
            problem = f"YAML tag not allowed: {problem}"
        else:
            problem = f"YAML syntax error: {problem}"
        raise ModelError(Problem(problem + ".", fix=fix, file=file, line=line), file=file) from None
    if node is not None:
        _walk(node, (), lines, early, file)
    return data, lines, early


def _compose(text: str, *, construct: bool) -> tuple[Any, Any]:
    """Parse once into the node tree (for line numbers) and build plain data from it.

    Uses libyaml's safe loader when present (several times faster); either way only
    the safe constructor runs, so tags that would build Python objects are refused.
    """
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if construct and node is not None else None
    finally:
        loader.dispose()
    return node, data


def _walk(
    node: Any,
    path: tuple[Any, ...],
    lines: dict[tuple[Any, ...], int],
    problems: list[Problem],
    file: str,
) -> None:
    import yaml

    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            kp = (*path, key)
            if key in seen:
                problems.append(
                    Problem(
                        f"duplicate key {key!r}: the later value would silently win.",
                        fix="keep one of them.",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        path=path_str(kp),
                    )
                )
            seen.add(key)
            lines[kp] = key_node.start_mark.line + 1
            _walk(value_node, kp, lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, problems, file)


# Excel: one sheet per section; list cells as "a, b"; uplift as "id=change, id=change";
# nested mappings as dotted columns ("thresholds.green").
EXCEL_SHEETS = (
    "model",
    "perspectives",
    "objectives",
    "measures",
    "links",
    "okrs",
    "key_results",
    "initiatives",
)


def _read_excel_model(
    path: Path,
) -> tuple[dict[str, Any], Callable[[tuple[Any, ...]], dict[str, Any]]]:
    import openpyxl

    file = str(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise ModelError(
            Problem(
                f"cannot read the workbook: {exc}.", fix="save it as .xlsx from Excel.", file=file
            ),
            file=file,
        ) from None
    locs: dict[tuple[Any, ...], dict[str, Any]] = {}
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    names = {ws.title.strip().lower(): ws for ws in wb.worksheets}
    for title in names:
        if title not in EXCEL_SHEETS:
            from difflib import get_close_matches

            close = get_close_matches(title, EXCEL_SHEETS, n=1)
            problems.append(
                Problem(
                    f"unknown sheet {title!r}.",
                    fix=f"did you mean {close[0]!r}?"
                    if close
                    else f"sheets are: {', '.join(EXCEL_SHEETS)}.",
                    file=file,
                    sheet=title,
                )
            )
    if "model" in names:
        for r, row in enumerate(names["model"].iter_rows(values_only=True), start=1):
            if r == 1 and row and str(row[0]).strip().lower() == "key":
                continue
            if not row or row[0] is None:
                continue
            key = str(row[0]).strip()
            value = row[1] if len(row) > 1 else None
            if key == "thresholds.green" or key == "thresholds.amber":
                data.setdefault("thresholds", {})[key.split(".")[1]] = value
                locs[("thresholds", key.split(".")[1])] = {"sheet": "model", "row": r}
                continue
            data[key] = value
            locs[(key,)] = {"sheet": "model", "row": r}
    key_results: list[tuple[int, dict[str, Any]]] = []
    for section in EXCEL_SHEETS[1:]:
        if section not in names:
            continue
        rows = list(names[section].iter_rows(values_only=True))
        if not rows:
            continue
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        items: list[dict[str, Any]] = []
        for r, row in enumerate(rows[1:], start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            rec: dict[str, Any] = {}
            for col, value in zip(header, row, strict=False):
                if not col or value is None or (isinstance(value, str) and not value.strip()):
                    continue
                rec_set(rec, col, _excel_value(section, col, value))
            if section == "key_results":
                key_results.append((r, rec))
                continue
            idx = len(items)
            items.append(rec)
            for col in [*header, *rec]:
                locs[(section, idx, col.split(".")[0])] = {
                    "sheet": section,
                    "row": r,
                    "column": col,
                }
            locs[(section, idx)] = {"sheet": section, "row": r}
        if section != "key_results":
            data[section] = items
    # attach key results to their OKRs
    okr_pos = {o.get("id"): i for i, o in enumerate(data.get("okrs", []))}
    for r, rec in key_results:
        okr_id = rec.pop("okr", None)
        if okr_id not in okr_pos:
            problems.append(
                Problem(
                    f"key result belongs to unknown OKR {okr_id!r}.",
                    fix="set the 'okr' column to an id from the okrs sheet.",
                    file=file,
                    sheet="key_results",
                    row=r,
                    column="okr",
                )
            )
            continue
        okr = data["okrs"][okr_pos[okr_id]]
        krs = okr.setdefault("key_results", [])
        for col in rec:
            locs[("okrs", okr_pos[okr_id], "key_results", len(krs), col)] = {
                "sheet": "key_results",
                "row": r,
                "column": col,
            }
        locs[("okrs", okr_pos[okr_id], "key_results", len(krs))] = {
            "sheet": "key_results",
            "row": r,
        }
        krs.append(rec)
    if problems:
        raise ModelError(problems, file=file)

    def locate(p: tuple[Any, ...]) -> dict[str, Any]:
        return locs.get(p, {})

    return data, locate


def rec_set(rec: dict[str, Any], col: str, value: Any) -> None:
    if "." in col:
        head, tail = col.split(".", 1)
        rec.setdefault(head, {})[tail] = value
    else:
        rec[col] = value


_LIST_COLUMNS = {"band", "supports", "weight_range"}


def _excel_value(section: str, col: str, value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if col in _LIST_COLUMNS or (col == "weight" and section == "links" and "," in text):
            parts = [t.strip() for t in text.strip("[]").split(",") if t.strip()]
            return [_maybe_number(t) for t in parts] if col != "supports" else parts
        if col == "uplift":
            out: dict[str, Any] = {}
            for part in re.split(r"[;,]", text):
                if "=" in part:
                    k, v = part.split("=", 1)
                    out[k.strip()] = _maybe_number(v.strip())
                elif part.strip():
                    out[part.strip()] = None
            return out
        spec = {**SECTIONS.get(section, {}), **TOP}.get(col)
        if spec is not None and spec.type in ("number", "int"):
            return _maybe_number(text)
        return text
    if isinstance(value, float) and value.is_integer() and col in ("lag", "stratlab"):
        return int(value)
    return value


def _maybe_number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def write_model_file(model: Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` as YAML, JSON or Excel (by suffix), atomically."""
    p = Path(path)
    fmt = MODEL_SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise InputError(
            Problem(
                f"unknown model file type {p.suffix!r}.",
                fix="use .yaml, .yml, .json or .xlsx.",
                file=str(path),
            )
        )
    data = to_dict(model)
    with atomic_path(p) as tmp:
        if fmt == "yaml":
            import yaml

            tmp.write_text(
                yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100),
                encoding="utf-8",
            )
        elif fmt == "json":
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            _write_excel(data, tmp)
    return p


def _write_excel(data: dict[str, Any], path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "model"
    ws.append(["key", "value"])
    for key, value in data.items():
        if key == "thresholds":
            for k, v in value.items():
                ws.append([f"thresholds.{k}", v])
        elif not isinstance(value, list):
            ws.append([key, value])
    sections = dict(data)
    krs = [{"okr": o["id"], **kr} for o in data.get("okrs", []) for kr in o["key_results"]]
    sections["okrs"] = [
        {k: v for k, v in o.items() if k != "key_results"} for o in data.get("okrs", [])
    ]
    sections["key_results"] = krs
    for section in EXCEL_SHEETS[1:]:
        items = sections.get(section)
        if not items:
            continue
        flat = [_flatten(item) for item in items]
        header: list[str] = []
        for row in flat:
            header.extend(k for k in row if k not in header)
        sheet = wb.create_sheet(section)
        sheet.append(header)
        for row in flat:
            sheet.append([row.get(h) for h in header])
    wb.save(path)


def _flatten(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key == "uplift":
            out[key] = ", ".join(f"{k}={v:g}" for k, v in value.items())
        elif isinstance(value, Mapping):
            for k, v in value.items():
                out[f"{key}.{k}"] = v
        elif isinstance(value, list):
            out[key] = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- histories

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_QUARTER_REV = re.compile(r"^\s*[Qq]([1-4])\s*[- ]?\s*(\d{4})\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
# dates: 2025-07-31 (optionally with a time), 2025/07/31, 31/07/2025, 31.07.2025
_DATE = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})\s*$"
)
HISTORY_SUFFIXES = {".csv": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel"}


def load_history(
    source: str | Path | pd.DataFrame,
    model: Model | None = None,
    *,
    freq: str | None = None,
) -> pd.DataFrame:
    """Read a KPI history, long or wide, into a wide DataFrame indexed by period.

    Parameters
    ----------
    source : path or DataFrame
        CSV or Excel file, or a DataFrame.  Long form has the columns
        ``period, measure, value``; wide form has a ``period`` column (or a
        period/date index) and one column per measure or key-result id.
        Periods may be ``2025Q3``, ``2025-07`` or dates.
    model : Model, optional
        When given, every column must be a measure or key-result id of the model,
        and periods are put on the model's unit (``quarter``: a month's or a
        date's value counts for its quarter; the last value in a quarter wins).
    freq : {'Q', 'M'}, optional
        Force the period unit (default: the model's, else inferred from the data).

    Returns
    -------
    pandas.DataFrame
        Float columns, one per id in file order; index a complete ``PeriodIndex``
        named ``period`` from the first to the last period (gaps are NaN rows).

    Raises
    ------
    HistoryError
        Listing unparseable periods, duplicate (period, measure) rows,
        non-numeric cells and unknown ids, each with its row and column.
    """
    import pandas as pd

    file, frame, row_offset = _read_history_frame(source)
    problems: list[Problem] = []

    def add(
        message: str, fix: str | None = None, row: int | None = None, column: str | None = None
    ) -> None:
        if len(problems) < 50:
            problems.append(Problem(message, fix=fix, file=file, row=row, column=column))

    if frame.empty or len(frame.columns) == 0:
        raise HistoryError(
            Problem(
                "the history has no rows.",
                fix="add rows of period, measure, value (long) or one column per measure (wide).",
                file=file,
            ),
            file=file,
        )
    cols = {str(c).strip().lower(): c for c in frame.columns}
    if {"period", "measure", "value"} <= cols.keys():
        extra = [c for c in cols if c not in ("period", "measure", "value")]
        if extra:
            add(
                f"long-form history has unexpected columns {extra}.",
                "keep only period, measure, value (or use the wide form).",
            )
        long = pd.DataFrame(
            {
                "period": frame[cols["period"]],
                "measure": frame[cols["measure"]].astype("string").str.strip(),
                "value": frame[cols["value"]],
            }
        )
        long["_row"] = range(row_offset, row_offset + len(long))
        values = _numeric(long["value"], "value", long["_row"], add)
        periods = _parse_periods(long["period"], long["_row"], freq, add)
        long = long.assign(value=values, period=periods)
        bad_ids = long["measure"].isna()
        for r in long.loc[bad_ids, "_row"]:
            add("the measure id is empty.", "write the measure id.", row=int(r), column="measure")
        long = long[~bad_ids & long["period"].notna()]
        dup = long.duplicated(["period", "measure"], keep=False)
        if dup.any():
            for (per, mid), grp in long[dup].groupby(["period", "measure"], sort=False):
                rows = ", ".join(str(int(r)) for r in grp["_row"])
                add(
                    f"duplicate rows for period {per} and measure {mid!r} (rows {rows}).",
                    "keep one value per period and measure.",
                    row=int(grp["_row"].iloc[0]),
                )
        order = list(dict.fromkeys(long["measure"]))
        wide = long.pivot_table(
            index="period", columns="measure", values="value", aggfunc="last", dropna=False
        )
        wide = wide.reindex(columns=order)
        wide = wide.loc[:, wide.columns.notna()]
    else:
        if "period" in cols:
            labels = frame[cols["period"]]
            frame = frame.drop(columns=[cols["period"]])
        elif isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)):
            labels = pd.Series(frame.index)
        else:
            raise HistoryError(
                Problem(
                    "the history has no 'period' column.",
                    fix="add a 'period' column (2025Q3, 2025-07 or dates), or use the long form period, measure, value.",
                    file=file,
                ),
                file=file,
            )
        # positional rows throughout: period labels may repeat (reported below)
        frame = frame.reset_index(drop=True)
        labels = labels.reset_index(drop=True)
        rows = pd.Series(range(row_offset, row_offset + len(frame)))
        periods = _parse_periods(labels, rows, freq, add)
        data = {}
        for col in frame.columns:
            data[str(col).strip()] = _numeric(frame[col], str(col), rows, add).to_numpy()
        wide = pd.DataFrame(data, index=pd.Index(periods.to_numpy()))
        keep = periods.notna().to_numpy()
        wide = wide[keep]
        dup = wide.index.duplicated(keep=False)
        if dup.any():
            for per in pd.unique(wide.index[dup]):
                rws = ", ".join(
                    str(int(r)) for r, p in zip(rows[keep], wide.index, strict=False) if p == per
                )
                add(
                    f"period {per} appears more than once (rows {rws}).", "keep one row per period."
                )
        dup_cols = [c for c in wide.columns if list(wide.columns).count(c) > 1]
        for c in dict.fromkeys(dup_cols):
            add(f"column {c!r} appears more than once.", "keep one column per measure.", column=c)
    if model is not None:
        known = [m.id for m in model.measures] + [kr.id for kr in model.key_results]
        for col in wide.columns:
            if col not in known:
                from difflib import get_close_matches

                close = get_close_matches(str(col), known, n=1)
                add(
                    f"{col!r} is not a measure or key result of model {model.name!r}.",
                    f"did you mean {close[0]!r}?"
                    if close
                    else "rename the column to a measure id, or drop it.",
                    column=str(col),
                )
    if problems:
        raise HistoryError(problems, file=file)
    wide = wide.astype(float)
    wide.index = pd.PeriodIndex(wide.index)
    target_freq = freq or _model_freq(model)
    if target_freq and wide.index.freqstr[0] != target_freq[0]:
        wide = _to_freq(wide, target_freq, file)
    wide = wide.sort_index()
    if len(wide):
        full = pd.period_range(wide.index.min(), wide.index.max(), freq=wide.index.freq)
        wide = wide.reindex(full)
    wide.index.name = "period"
    wide.columns.name = None
    return wide


def _model_freq(model: Model | None) -> str | None:
    if model is None:
        return None
    return "Q" if model.period == "quarter" else "M"


def _to_freq(wide: pd.DataFrame, freq: str, file: str | None) -> pd.DataFrame:
    if freq.startswith("Q") and wide.index.freqstr.startswith("M"):
        return wide.groupby(wide.index.asfreq("Q")).last()
    raise HistoryError(
        Problem(
            "the history is quarterly but the model counts lags in months (period: month).",
            fix="give a monthly history, or set 'period: quarter' in the model.",
            file=file,
            column="period",
        ),
        file=file,
    )


def _read_history_frame(source: str | Path | pd.DataFrame) -> tuple[str | None, pd.DataFrame, int]:
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame = source
        if isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)) and "period" not in [
            str(c).lower() for c in frame.columns
        ]:
            return None, frame, 0
        return None, frame.reset_index(drop=True), 0
    if not isinstance(source, (str, Path)):
        raise InputError(
            Problem(
                f"a history must be a file path or a DataFrame, got {type(source).__name__}.",
                fix="pass a CSV/Excel path or a pandas DataFrame.",
            )
        )
    p = Path(source)
    file = str(source)
    kind = HISTORY_SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise HistoryError(
            Problem(
                f"unknown history file type {p.suffix!r}.", fix="use .csv or .xlsx.", file=file
            ),
            file=file,
        )
    if not p.is_file():
        raise HistoryError(
            Problem("the file does not exist.", fix="check the path.", file=file), file=file
        )
    try:
        if kind == "csv":
            frame = pd.read_csv(p, dtype=str, keep_default_na=True, skipinitialspace=True)
            if not isinstance(frame.index, pd.RangeIndex):  # pandas made extra cells an index
                _raise_ragged_row(p, file)
                frame = frame.reset_index()
        else:
            frame = pd.read_excel(p, dtype=object)
    except pd.errors.EmptyDataError:
        raise HistoryError(
            Problem("the file is empty.", fix="add a header row and data.", file=file), file=file
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        if kind == "csv" and isinstance(exc, pd.errors.ParserError):
            _raise_ragged_row(p, file)
        raise HistoryError(
            Problem(
                f"cannot read the file: {str(exc).strip()}.",
                fix="save it as comma-separated UTF-8 text.",
                file=file,
            ),
            file=file,
        ) from None
    return file, frame, 2  # row 1 is the header in CSV and Excel


def _raise_ragged_row(path: Path, file: str) -> None:
    """Raise a located error for the first row with more cells than the header, if any."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        rows = csv.reader(handle)
        width = len(next(rows, []))
        for line, row in enumerate(rows, start=2):
            if len(row) > width:
                raise HistoryError(
                    Problem(
                        f"the row has {len(row)} cells but the header has {width}.",
                        fix="remove the extra commas, or quote values that contain a comma.",
                        file=file,
                        row=line,
                    ),
                    file=file,
                )


def _numeric(
    values: pd.Series, column: str, rows: pd.Series, add: Callable[..., None]
) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out = values.astype(float)
    else:
        text = values.astype("string").str.strip()
        out = pd.to_numeric(text, errors="coerce")
        bad = out.isna() & text.notna() & (text != "")
        for idx in list(values.index[bad.fillna(False).to_numpy()])[:10]:
            raw = text.loc[idx]
            fix = "write a plain number, or leave the cell empty for a missing value."
            if isinstance(raw, str) and raw.endswith("%"):
                fix = f"drop the % sign: {raw.rstrip('%').strip()}."
            elif isinstance(raw, str) and re.fullmatch(r"-?[\d,]+(\.\d+)?", raw):
                fix = f"drop the thousands separators: {raw.replace(',', '')}."
            add(f"value {raw!r} is not a number.", fix, row=int(rows.loc[idx]), column=column)
    import numpy as np

    inf = np.isinf(out.to_numpy(dtype=float, na_value=np.nan))
    for idx in list(values.index[inf])[:10]:
        add("value is infinite.", "write a finite number.", row=int(rows.loc[idx]), column=column)
    return out.astype(float)


def _parse_periods(
    raw: pd.Series, rows: pd.Series, freq: str | None, add: Callable[..., None]
) -> pd.Series:
    """Parse period labels into pandas Periods (NaN where unparseable, each reported)."""
    import pandas as pd

    if isinstance(raw.dtype, pd.PeriodDtype):
        return raw
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.to_period(freq or "M")
    text = raw.astype("string").str.strip()
    quarterly = text.str.contains(r"[Qq]", regex=True, na=False).any()
    unit = freq or ("Q" if quarterly else "M")
    out: list[Any] = []
    for idx, value in text.items():
        period = _parse_one(value, unit)
        if period is None:
            add(
                f"period {value!r} is not a period.",
                "write periods as 2025Q3, 2025-07 or a date such as 2025-07-31.",
                row=int(rows.loc[idx]),
                column="period",
            )
        out.append(period)
    freqs = {p.freqstr[0] for p in out if p is not None}
    if len(freqs) > 1:
        add(
            "the periods mix quarters (2025Q3) and months (2025-07).",
            "use one kind of period throughout.",
            column="period",
        )
        return pd.Series([None] * len(out), index=raw.index, dtype=object)
    return pd.Series(out, index=raw.index, dtype=object)


def _parse_one(value: Any, unit: str) -> Any:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    s = str(value)
    m = _QUARTER.match(s) or None
    if m:
        return pd.Period(year=int(m.group(1)), quarter=int(m.group(2)), freq="Q")
    m = _QUARTER_REV.match(s)
    if m:
        return pd.Period(year=int(m.group(2)), quarter=int(m.group(1)), freq="Q")
    m = _MONTH.match(s)
    if m and 1 <= int(m.group(2)) <= 12:
        return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
    if not _DATE.match(s):
        return None  # e.g. "24Q4": pandas would guess a year; a period must be unambiguous
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    return ts.to_period(unit[0])
