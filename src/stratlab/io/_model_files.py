"""Model files: YAML and JSON (with line numbers from the node tree) and Excel workbooks, read and written."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._util import did_you_mean
from ..errors import InputError, ModelError, Problem, StratlabError
from ..limits import Limits, check_file_size, check_yaml_tree
from ..limits import resolve as resolve_limits
from ..model import SECTIONS, TOP, Model, build_model, path_str, to_dict
from ._atomic import atomic_path

if TYPE_CHECKING:
    from ..typing import ModelLike

    pass


MODEL_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
}

# --------------------------------------------------------------------------- model files


def read_model_file(path: str | Path, *, limits: Limits | None = None) -> Model:
    """Read and validate a YAML, JSON or Excel model file (see :func:`stratlab.load_model`)."""
    p = Path(path)
    file = str(path)
    lim = resolve_limits(limits)
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
    check_file_size(p, file, lim, error=ModelError)
    if fmt == "excel":
        data, locate = _read_excel_model(p, lim)
        return build_model(data, file=file, locate=locate, limits=lim)
    try:
        text = p.read_text(encoding="utf-8-sig")
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
    data, lines, early = _parse_yaml_or_json(text, file, fmt, lim)
    try:
        model = build_model(data, file=file, locate=_line_locator(lines), limits=lim)
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
    text: str, file: str, fmt: str, limits: Limits | None = None
) -> tuple[Any, dict[tuple[Any, ...], int], list[Problem]]:

    lim = resolve_limits(limits)
    try:
        return _parse_yaml_or_json_bounded(text, file, fmt, lim)
    except RecursionError:
        raise ModelError(
            Problem(
                "the document is nested too deeply to read.",
                fix=f"a model is a few levels deep; check the brackets (limit nesting={lim.nesting}).",
                file=file,
            ),
            file=file,
        ) from None


def _parse_yaml_or_json_bounded(
    text: str, file: str, fmt: str, lim: Limits
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

        def parse_int(digits: str) -> Any:
            if len(digits) > lim.number_digits:
                raise _TooManyDigits(len(digits))
            return int(digits)

        try:
            node, _ = _compose(text, construct=False, file=file, limits=lim)
        except yaml.YAMLError:
            node = None
        try:
            data = json.loads(text, object_pairs_hook=hook, parse_int=parse_int)
        except _TooManyDigits as exc:
            raise ModelError(
                Problem(
                    f"a number with {exc.args[0]:,} digits is out of range.",
                    fix="write a number of ordinary size (e.g. 1.5e9).",
                    file=file,
                ),
                file=file,
            ) from None
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
        if node is not None:
            _walk(node, (), lines, early, file)
        else:
            early.extend(Problem(f"duplicate key {k!r}.", fix="keep one.", file=file) for k in dups)
        return data, lines, early
    try:
        node, data = _compose(text, construct=True, file=file, limits=lim)
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


class _TooManyDigits(Exception):
    pass


def _compose(
    text: str, *, construct: bool, file: str | None = None, limits: Limits | None = None
) -> tuple[Any, Any]:
    """Parse once into the node tree (for line numbers) and build plain data from it.

    Uses libyaml's safe loader when present (several times faster); either way only
    the safe constructor runs, so tags that would build Python objects are refused.
    The node tree is measured before anything is built (:func:`stratlab.limits.check_yaml_tree`):
    alias bombs, deep nesting, huge numbers and invalid Unicode are refused.
    """
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_yaml_tree(node, file=file, limits=limits, error=ModelError)
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
    path: Path, limits: Limits | None = None
) -> tuple[dict[str, Any], Callable[[tuple[Any, ...]], dict[str, Any]]]:
    import openpyxl

    from .._xlsx import inspect_workbook
    from ..limits import check_xlsx

    file = str(path)
    check_xlsx(path, file, limits, error=ModelError)
    inspect_workbook(path, file, error=ModelError)
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
            problems.append(
                Problem(
                    f"unknown sheet {title!r}.",
                    fix=did_you_mean(title, EXCEL_SHEETS, "sheets"),
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
        twice = _duplicate_headers(header, section, file)
        if twice:
            problems.extend(twice)
            continue
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


def _duplicate_headers(header: list[str], section: str, file: str) -> list[Problem]:
    """One problem per column name given twice in a sheet's header (one would be ignored)."""
    return [
        Problem(
            f"the column {h!r} appears more than once: one would be ignored.",
            fix="keep one column of that name.",
            file=file,
            sheet=section,
            row=1,
            column=h,
        )
        for h, n in Counter(h for h in header if h).items()
        if n > 1
    ]


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
        if col in ("uplift", "targets"):
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
        if spec is not None and spec.type == "str":
            return value  # names and descriptions as written (a model file reads back unchanged)
        return text
    if isinstance(value, float) and value.is_integer() and col in ("lag", "stratlab"):
        return int(value)
    return value


def _maybe_number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def write_model_file(model: Model, path: str | Path, *, digits: int = 3) -> Path:
    """Write ``model`` to ``path`` as YAML, JSON or Excel (by suffix), atomically.

    Link weights, weight ranges and driver coefficients are written at
    ``digits`` significant digits. YAML written from a model loaded from a
    YAML file keeps that file's comments, key order, flow style and quoting
    (see :mod:`stratlab.io._roundtrip`).
    """
    from ._roundtrip import dump_yaml, round_sig

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
    for link in data.get("links", []):
        for key in ("weight", "weight_range", "coefficient"):
            if isinstance(link.get(key), list):
                link[key] = [round_sig(v, digits) for v in link[key]]
            elif key in link:
                link[key] = round_sig(link[key], digits)
    with atomic_path(p) as tmp:
        if fmt == "yaml":
            template, base = _yaml_template(model.source)
            tmp.write_text(dump_yaml(data, template=template, base=base), encoding="utf-8")
        elif fmt == "json":
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            _write_excel(data, tmp)
    return p


def _yaml_template(source: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """(text, model mapping) of the YAML file a model came from, or (None, None)."""
    if source is None or Path(source).suffix.lower() not in (".yaml", ".yml"):
        return None, None
    try:
        text = Path(source).read_text(encoding="utf-8")
        return text, to_dict(read_model_file(source))
    except (OSError, UnicodeDecodeError, StratlabError):
        return None, None


def _write_excel(data: dict[str, Any], path: Path) -> None:
    import io as _io

    import openpyxl

    from .._xlsx import text_cell

    def append(sheet: Any, row: list[Any]) -> None:
        # text is stored as text: a name starting with '=' must never become a formula
        sheet.append(row)
        for cell, value in zip(sheet[sheet.max_row], row, strict=False):
            if isinstance(value, str):
                text_cell(cell, value)

    wb = openpyxl.Workbook()
    ws = wb.active
    if ws is None:  # pragma: no cover - a new Workbook always has a sheet
        ws = wb.create_sheet("model")
    ws.title = "model"
    append(ws, ["key", "value"])
    for key, value in data.items():
        if key == "thresholds":
            for k, v in value.items():
                append(ws, [f"thresholds.{k}", v])
        elif not isinstance(value, list):
            append(ws, [key, value])
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
        append(sheet, header)
        for row in flat:
            append(sheet, [row.get(h) for h in header])
    # build the zip in memory, then write it in one go: a full disk gives one
    # located error, never openpyxl's half-closed zip complaining at exit
    buffer = _io.BytesIO()
    wb.save(buffer)
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def _flatten(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key in ("uplift", "targets"):
            out[key] = ", ".join(f"{k}={v:g}" for k, v in value.items())
        elif isinstance(value, Mapping):
            for k, v in value.items():
                out[f"{key}.{k}"] = v
        elif isinstance(value, list):
            out[key] = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- files


def load_model(source: ModelLike, *, limits: Limits | None = None) -> Model:
    """Load and validate a strategy model.

    Parameters
    ----------
    source : path, mapping or Model
        A YAML (``.yaml``/``.yml``), JSON (``.json``) or Excel (``.xlsx``) file,
        or a mapping in the same format.  A :class:`Model` is returned as is.

    limits : Limits, optional
        Size limits (default: :func:`stratlab.limits.current`).

    Returns
    -------
    Model

    Raises
    ------
    ModelError
        Listing every problem with its file, line (or sheet and row), key path and fix.
    """
    if isinstance(source, Model):
        return source
    if isinstance(source, Mapping):
        return build_model(source, limits=limits)
    if not isinstance(source, (str, Path)):
        from ..errors import InputError

        raise InputError(
            Problem(
                f"a strategy model must be a file path, a mapping or a stratlab Model, not {type(source).__name__}.",
                fix="pass stratlab.load_model(path) or the path of a .yaml, .json or .xlsx model file.",
            )
        )
    return read_model_file(source, limits=limits)


def save_model(model: Model, path: str | Path, *, digits: int = 3) -> Path:
    """Write a model to YAML, JSON or Excel (by the file's suffix), atomically.

    Link weights and coefficients are written at ``digits`` significant
    digits. A model loaded from a YAML file is written back with that file's
    comments, key order, flow style and quoting; only what changed changes.
    """
    return write_model_file(model, path, digits=digits)
