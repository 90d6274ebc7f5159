"""One review per business unit, in parallel, with an index page."""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratlab._outputs import check_writable, refuse_inputs, safe_file_stem
from stratlab._signals import Terminated, stop_children
from stratlab._util import did_you_mean
from stratlab.errors import InputError, Problem, StratlabError
from stratlab.io import atomic_write
from stratlab.limits import check_file_size, check_yaml_tree
from stratlab.report._templates import coerce_parameters, load_template

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BATCH_COLUMNS", "Unit", "read_manifest", "run_batch"]

#: Columns of the table returned by :func:`run_batch`, in order.
BATCH_COLUMNS = ["unit", "model", "history", "output", "status", "headline", "error"]

_UNIT_KEYS = (
    "unit",
    "model",
    "history",
    "period",
    "template",
    "parameters",
    "weight",
    "comments",
)
_REQUIRED = ("unit", "model")


@dataclass(frozen=True)
class Unit:
    """One business unit of a batch manifest (paths already resolved)."""

    unit: str
    model: str
    history: str | None
    output: str
    period: str | None = None
    template: str = "quarterly_review"
    parameters: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    comments: str | None = None


#: File stems a unit's review may not take (compared ignoring case): the batch's own pages.
_RESERVED_STEMS = frozenset({"index", "group"})


def _slug(name: str) -> str:
    return safe_file_stem(name, reserved=_RESERVED_STEMS)


def _scalar(text: str) -> Any:
    """A CSV cell as YAML would read it (numbers, booleans, null), else the text."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def _read_csv(path: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Rows of a CSV manifest: (record, location).  Extra columns are template parameters."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        twice = sorted({h for h in header if header.count(h) > 1}) if len(header) < 1000 else []
        if twice:
            raise InputError(
                Problem(
                    f"the header row names {', '.join(map(repr, twice))} more than once: "
                    "one column would be ignored",
                    fix="keep one column of each name",
                    file=str(path),
                    line=1,
                )
            )
        if "unit" not in header or "model" not in header:
            raise InputError(
                Problem(
                    f"the manifest's header row is {', '.join(header) or 'empty'}; it needs "
                    "the columns unit, model and history",
                    fix="start the file with `unit,model,history` (other columns are template "
                    "parameters, e.g. samples, seed)",
                    file=str(path),
                    line=1,
                )
            )
        if "parameters" in header:
            raise InputError(
                Problem(
                    "a CSV manifest has no 'parameters' column",
                    fix="give each template parameter its own column (e.g. samples, seed); "
                    "every column other than unit, model, history, period, template, weight "
                    "and comments is a template parameter",
                    file=str(path),
                    line=1,
                    column="parameters",
                )
            )
        rows = []
        for number, row in enumerate(reader, start=2):
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            if None in row:
                raise InputError(
                    Problem(
                        "this row has more cells than the header",
                        fix="remove the extra cells or quote values that contain commas",
                        file=str(path),
                        line=number,
                    )
                )
            record: dict[str, Any] = {}
            params: dict[str, Any] = {}
            for key, value in row.items():
                text = (value or "").strip()
                if key == "weight":
                    record[key] = _scalar(text) if text else None
                elif key in _UNIT_KEYS and key != "parameters":
                    record[key] = text or None
                elif text:
                    params[key] = _scalar(text)
            record["parameters"] = params
            rows.append((record, {"line": number}))
    return rows


def _read_yaml(path: Path) -> tuple[list[tuple[Any, dict[str, Any]]], dict[str, Any]]:
    """Units of a YAML manifest: a list of units, or ``{units: [...], template, parameters}``."""
    import yaml

    text = path.read_text(encoding="utf-8-sig")
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                # alias bombs and deep nesting are refused before anything is expanded
                check_yaml_tree(root, file=str(path))
                _refuse_duplicate_keys(root, path)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            Problem(
                f"not valid YAML: {getattr(exc, 'problem', exc)}",
                fix="check the indentation and quoting near this line",
                file=str(path),
                line=mark.line + 1 if mark is not None else None,
            )
        ) from exc
    defaults: dict[str, Any] = {}
    items_node = root
    if isinstance(data, Mapping):
        unknown = [k for k in data if k not in ("units", "template", "parameters")]
        if unknown or "units" not in data:
            bad = unknown[0] if unknown else "units"
            raise InputError(
                Problem(
                    f"unknown top-level key {bad!r}" if unknown else "no 'units' list",
                    fix="a manifest is a list of units, or a mapping with 'units' (a list) and "
                    "optional 'template' and 'parameters' shared by all units",
                    file=str(path),
                    path=bad,
                )
            )
        defaults = {k: data[k] for k in ("template", "parameters") if k in data}
        items_node = next(v for k, v in root.value if k.value == "units")  # type: ignore[union-attr]
        data = data["units"]
    if not isinstance(data, list) or not data:
        raise InputError(
            Problem(
                "the manifest lists no units",
                fix="list one unit per item: `- {unit: north, model: north.yaml, history: north.csv}`",
                file=str(path),
            )
        )
    nodes = getattr(items_node, "value", [])
    rows = [
        (
            item,
            {
                "line": nodes[i].start_mark.line + 1 if i < len(nodes) else None,
                "path": f"units[{i}]",
            },
        )
        for i, item in enumerate(data)
    ]
    return rows, defaults


def _extra_keys(
    raw: Mapping[str, Any], prefix: str | None, loc: dict[str, Any], problems: list[Problem]
) -> tuple[dict[str, Any], bool]:
    """A unit's keys beyond the unit keys: template parameters, unless one looks like a typo.

    Returns the parameters and whether a misspelt unit key was reported.
    """
    extra: dict[str, Any] = {}
    bad = False
    for key in raw:
        if key in _UNIT_KEYS:
            continue
        close = did_you_mean(key, _UNIT_KEYS, cutoff=0.75)
        if not close:
            extra[str(key)] = raw[key]  # an extra key is a template parameter
            continue
        problems.append(
            Problem(
                f"unknown key {key!r}",
                fix=f"{close} a unit has unit, model, history, and optional period, "
                "template, weight, comments; other keys are template parameters",
                path=f"{prefix}.{key}" if prefix else key,
                **loc,
            )
        )
        bad = True
    return extra, bad


def _weight(
    weight: Any, prefix: str | None, loc: dict[str, Any], problems: list[Problem]
) -> float | None:
    """The unit's weight in the group roll-up (default 1); None (reported) if not > 0."""
    if weight in (None, ""):
        return 1.0
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not (math.isfinite(weight) and weight > 0)
    ):
        problems.append(
            Problem(
                f"weight {weight!r} is not a positive number",
                fix="give the unit's weight in the group roll-up, e.g. 2 (default 1)",
                path=f"{prefix}.weight" if prefix else "weight",
                **loc,
            )
        )
        return None
    return float(weight)


def _unit_files(
    raw: Mapping[str, Any],
    base: Path,
    prefix: str | None,
    loc: dict[str, Any],
    problems: list[Problem],
) -> dict[str, str | None]:
    """A unit's model, history and comments paths, resolved against the manifest's folder."""
    files: dict[str, str | None] = {}
    for key in ("model", "history", "comments"):
        value = raw.get(key)
        if value in (None, ""):
            files[key] = None
            continue
        file = Path(str(value)).expanduser()
        file = file if file.is_absolute() else base / file
        if not file.is_file():
            problems.append(
                Problem(
                    f"{key} file {str(value)!r} does not exist (looked for {file})",
                    fix="paths are relative to the manifest's folder",
                    path=f"{prefix}.{key}" if prefix else key,
                    **loc,
                )
            )
        files[key] = str(file)
    return files


def _refuse_duplicate_keys(root: Any, path: Path) -> None:
    """InputError for a key given twice in one mapping (YAML would silently keep the last)."""
    import yaml

    stack = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        raise InputError(
                            Problem(
                                f"the key {key.value!r} is given twice: the first value would be ignored",
                                fix="keep one of them",
                                file=str(path),
                                line=key.start_mark.line + 1,
                            )
                        )
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _read_rows(path: Path) -> tuple[list[tuple[Any, dict[str, Any]]], dict[str, Any]]:
    """(rows, shared defaults) of a CSV or YAML manifest; InputError for an unreadable one."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise InputError(
            Problem(
                f"unsupported manifest format {suffix or '(no suffix)'!r}",
                fix="use a .csv or .yaml manifest",
                file=str(path),
            )
        )
    check_file_size(path, str(path))
    defaults: dict[str, Any] = {}
    try:
        if suffix == ".csv":
            rows: list[tuple[Any, dict[str, Any]]] = list(_read_csv(path))
        else:
            rows, defaults = _read_yaml(path)
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(
                f"the manifest is not UTF-8 text (byte {exc.start})",
                fix="save it as UTF-8 (in Excel: CSV UTF-8)",
                file=str(path),
            )
        ) from None
    except csv.Error as exc:
        raise InputError(
            Problem(
                f"cannot read the CSV manifest: {exc}", fix="save it as plain CSV", file=str(path)
            )
        ) from None
    if not rows:
        raise InputError(
            Problem(
                "the manifest lists no units",
                fix="add one row per unit under the header: unit,model,history",
                file=str(path),
            )
        )
    return rows, defaults


def read_manifest(
    manifest: str | os.PathLike[str], output_dir: str | os.PathLike[str]
) -> list[Unit]:
    """Read and check a batch manifest (CSV or YAML).

    Relative paths are resolved against the manifest's folder.  Every problem
    is reported at once, located (file, line, key path) with a fix: unknown
    keys (with a close match), missing columns, missing files, duplicate
    units, unknown template parameters.

    Returns
    -------
    list of Unit
    """
    path = Path(manifest).expanduser()
    if not path.is_file():
        raise InputError(
            Problem(
                "the manifest file does not exist",
                fix="give the path of a .csv or .yaml manifest (columns unit, model, history)",
                file=str(path),
            )
        )
    rows, defaults = _read_rows(path)
    base = path.resolve().parent
    out = Path(output_dir).expanduser()
    problems: list[Problem] = []
    units: list[Unit] = []
    seen: dict[str, str] = {}
    templates: dict[str, Any] = {}
    for raw, where in rows:
        loc: dict[str, Any] = {"file": str(path), "line": where.get("line")}
        prefix = where.get("path")
        if not isinstance(raw, Mapping):
            problems.append(
                Problem(
                    "a unit must be a mapping",
                    fix="write `{unit: ..., model: ..., history: ...}`",
                    path=prefix,
                    **loc,
                )
            )
            continue
        extra, bad = _extra_keys(raw, prefix, loc, problems)
        for key in _REQUIRED:
            if raw.get(key) in (None, ""):
                problems.append(
                    Problem(
                        f"missing {key!r}",
                        fix=f"give each unit a {key}",
                        path=f"{prefix}.{key}" if prefix else key,
                        **loc,
                    )
                )
                bad = True
        if bad:
            continue
        name = str(raw["unit"])
        slug = _slug(name)
        if slug.lower() in seen:  # case-insensitive file systems (macOS, Windows)
            problems.append(
                Problem(
                    f"unit {name!r} has the same output file name as unit {seen[slug.lower()]!r}",
                    fix="give every unit a distinct name (file names ignore case and punctuation)",
                    path=prefix,
                    **loc,
                )
            )
            continue
        seen[slug.lower()] = name
        files = _unit_files(raw, base, prefix, loc, problems)
        params = dict(defaults.get("parameters") or {})
        own = raw.get("parameters") or {}
        if not isinstance(own, Mapping):
            problems.append(
                Problem(
                    "'parameters' must be a mapping",
                    fix="write `parameters: {samples: 500}`",
                    path=f"{prefix}.parameters",
                    **loc,
                )
            )
            continue
        params.update(own)
        params.update(extra)
        weight = _weight(raw.get("weight"), prefix, loc, problems)
        if weight is None:
            continue
        template = str(raw.get("template") or defaults.get("template") or "quarterly_review")
        template_path = Path(template).expanduser()
        if template.endswith(".ipynb") and not template_path.is_absolute():
            template = str(base / template_path)
        try:
            if template not in templates:
                templates[template] = load_template(template)
            params = coerce_parameters(templates[template], params)
        except InputError as exc:
            problems.extend(Problem(p.message, fix=p.fix, path=prefix, **loc) for p in exc.problems)
            continue
        period = raw.get("period")
        units.append(
            Unit(
                unit=name,
                model=str(files["model"]),
                history=files["history"],
                output=str(out / f"{slug}.html"),
                period=None if period in (None, "") else str(period),
                template=template,
                parameters=params,
                weight=float(weight),
                comments=files["comments"],
            )
        )
    if problems:
        raise InputError(problems, file=str(path))
    _refuse_overwriting_inputs(units, path, out)
    return units


def _refuse_overwriting_inputs(units: list[Unit], manifest: Path, out: Path) -> None:
    """No review, failed-run notebook or the index may be one of the batch's inputs."""
    inputs: dict[str, Any] = {"manifest": manifest}
    for u in units:
        inputs[f"model of unit {u.unit!r}"] = u.model
        if u.history:
            inputs[f"history of unit {u.unit!r}"] = u.history
        if u.comments:
            inputs[f"comments of unit {u.unit!r}"] = u.comments
        if u.template.endswith(".ipynb"):
            inputs[f"template of unit {u.unit!r}"] = u.template
    outputs: dict[str, Any] = {"index.html": out / "index.html", "group.html": out / "group.html"}
    for u in units:
        outputs[f"review of unit {u.unit!r}"] = u.output
        failed = Path(u.output)
        outputs[f"failed-run notebook of unit {u.unit!r}"] = failed.with_name(
            f"{failed.stem}.failed.ipynb"
        )
    refuse_inputs(outputs, inputs)


def _headline(unit: Unit) -> str:
    """Status counts of the unit's objectives, e.g. ``2 green · 1 amber · 1 red``."""
    from stratlab.scoring import score

    table = score(unit.model, unit.history, period=unit.period)
    objectives = table[table["kind"] == "objective"]
    counts = objectives["status"].value_counts()
    order = ["green", "amber", "red", "no data"]
    parts = [f"{int(counts[s])} {s}" for s in order if s in counts.index]
    return "objectives: " + " · ".join(parts) if parts else ""


def _one_line(text: str) -> str:
    """A message on one line (a batch reports one line per failed unit)."""
    return " · ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _worker_init() -> None:
    """In each worker: SIGTERM/SIGINT stop its kernel, remove its scratch folder, then exit."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        stop_children()
        if _IN_UNIT:
            raise Terminated(signum)  # unwinds run_review's clean-up, then _run_unit exits
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


_IN_UNIT: list[bool] = []  # non-empty while a worker runs a unit (read by its signal handler)


def _run_unit(unit: Unit) -> dict[str, Any]:
    """Worker: one review; never raises (a failing unit must not stop the others)."""
    _IN_UNIT.append(True)
    try:
        return _run_unit_inner(unit)
    except Terminated as exc:
        os._exit(exc.status)  # the scratch folder is gone; leave without a traceback
    finally:
        _IN_UNIT.clear()


def _run_unit_inner(unit: Unit) -> dict[str, Any]:
    """One review; never raises (a failing unit must not stop the others).

    Returns ``status, headline, error`` and ``summary`` (the group page's data
    for the unit, :func:`stratlab.report._group.unit_summary`; None if it
    cannot be scored).
    """
    from stratlab.report._group import unit_summary
    from stratlab.report._review import run_review

    result: dict[str, Any] = {"status": "ok", "headline": "", "error": "", "summary": None}
    try:
        run_review(
            unit.model,
            unit.history,
            unit.output,
            period=unit.period,
            template=unit.template,
            parameters=unit.parameters,
            comments=unit.comments,
            progress=False,
        )
    except StratlabError as exc:
        result.update(status="failed", error=_one_line(str(exc)))
    except Exception as exc:  # a worker must report, not crash the batch
        result.update(status="failed", error=_one_line(f"{type(exc).__name__}: {exc}"))
    try:
        result["summary"] = unit_summary(unit.model, unit.history, period=unit.period)
    except Exception:
        result["summary"] = None
    if result["status"] != "ok":
        return result
    try:
        result["headline"] = _headline(unit)
    except Exception as exc:
        result["headline"] = f"(no headline: {type(exc).__name__}: {exc})"
    return result


def _unit_crashed(unit: Unit, exc: BaseException) -> dict[str, str]:
    """The row of a unit whose worker died (``_run_unit`` itself never raises)."""
    return {"status": "failed", "headline": "", "error": f"{type(exc).__name__}: {exc}"}


def run_batch(
    manifest: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    jobs: int = 2,
    client: Any = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run one review per business unit, in parallel, and write ``index.html``.

    Parameters
    ----------
    manifest : path
        A CSV (columns ``unit, model, history``; optional ``period``,
        ``template``, ``weight`` (the unit's weight in the group roll-up,
        default 1) and ``comments`` (the unit's commentary file); any other
        column is a template parameter, e.g. ``samples``) or YAML manifest (a
        list of units with the same keys, other keys being template
        parameters, plus an optional ``parameters`` mapping; or a mapping with
        ``units`` and shared ``template`` and ``parameters``).  Relative paths
        are resolved against the manifest's folder.
    output_dir : path
        Folder for ``<unit>.html``, ``index.html`` and ``group.html`` (the
        group view: units × objectives status grid, units × perspectives
        heatmap, each unit's biggest movers and stale KPIs, the roll-up
        weighted by ``weight``), created if needed.
    jobs : int
        Number of reviews run at once (processes of the local pool).
    client : dask.distributed.Client or str, optional
        Run each unit as a Dask task on this client's cluster instead of the
        local pool (``'local:N'`` starts a LocalCluster of N processes for
        the run; ``'tcp://host:8786'`` connects to a running scheduler).  The
        outputs, the index and the returned table are the same as with the
        local pool; workers must see the manifest's files and the output
        folder.  Needs ``pip install 'stratlab[dask]'``.
    progress : bool, optional
        Show a progress bar (stderr) as units finish; default: when stderr
        is a terminal.

    Returns
    -------
    DataFrame
        One row per unit, columns in this order:

        - ``unit`` : the unit's name
        - ``model``, ``history`` : the resolved input paths
        - ``output`` : the review's HTML path
        - ``status`` : ``'ok'`` or ``'failed'``
        - ``headline`` : objective status counts (empty when failed)
        - ``error`` : why it failed (empty when ok)

    Raises
    ------
    InputError
        A bad manifest (every problem located by file, line and key), or
        ``jobs`` < 1.  A unit whose review fails does not raise: it is
        reported in ``status``/``error`` and in the index.
    """
    import pandas as pd

    from stratlab._parallel import client_for, map_tasks

    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise InputError(
            Problem(f"jobs must be a whole number ≥ 1, got {jobs!r}", fix="e.g. --jobs 2")
        )
    units = read_manifest(manifest, output_dir)
    out = Path(output_dir).expanduser()
    check_writable(out, folder=True)
    with client_for(client) as dask_client:
        results = map_tasks(
            _run_unit,
            units,
            jobs=jobs,
            client=dask_client,
            on_error=_unit_crashed,
            progress=sys.stderr.isatty() if progress is None else progress,
            desc="reviews",
            initializer=_worker_init,
        )
    summaries = {u.unit: r.pop("summary", None) for u, r in zip(units, results, strict=True)}
    table = pd.DataFrame(
        [
            {
                "unit": u.unit,
                "model": u.model,
                "history": u.history if u.history is not None else "",
                "output": u.output,
                **r,
            }
            for u, r in zip(units, results, strict=True)
        ],
        columns=BATCH_COLUMNS,
    )
    title = f"Reviews — {Path(manifest).stem}"
    write_group(table, summaries, {u.unit: u.weight for u in units}, out, title=title)
    write_index(table, out / "index.html", title=title, group="group.html")
    return table


def _href(row: Any) -> str | None:
    """The link to a unit's review: only when it ran and its HTML was written."""
    from urllib.parse import quote

    output = Path(str(row.output))
    return quote(output.name) if row.status == "ok" and output.is_file() else None


def write_group(
    table: pd.DataFrame,
    summaries: Mapping[str, Mapping[str, Any] | None],
    weights: Mapping[str, float],
    folder: Path,
    *,
    title: str,
) -> Path:
    """Write the batch's ``group.html`` (see :mod:`stratlab.report._group`)."""
    from stratlab.report._group import write_group_page

    units = [
        {"unit": row.unit, "href": _href(row), "status": row.status}
        for row in table.itertuples(index=False)
    ]
    return write_group_page(
        folder / "group.html",
        title=f"{title}: group view",
        units=units,
        summaries=summaries,
        weights=weights,
    )


def write_index(table: pd.DataFrame, path: Path, *, title: str, group: str | None = None) -> Path:
    """Write the batch's ``index.html`` (escaped; links relative to its folder).

    A unit links to its review only when the review's HTML exists; ``group``
    names the group page to link to.
    """
    from stratlab.render import render_text

    source = (
        resources.files("stratlab.report").joinpath("index.html.j2").read_text(encoding="utf-8")
    )
    rows = [
        {
            "unit": row.unit,
            "href": _href(row),
            "status": row.status,
            "headline": row.headline,
            "error": row.error,
        }
        for row in table.itertuples(index=False)
    ]
    failed = sum(1 for r in rows if r["status"] != "ok")
    page = render_text(source, title=title, rows=rows, failed=failed, total=len(rows), group=group)
    return atomic_write(path, page)
