"""Finding review templates and reading their ``parameters`` cell."""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from stratlab._util import did_you_mean
from stratlab.errors import InputError, Problem

__all__ = ["Template", "list_templates", "load_template", "validate_parameters"]

_TEMPLATE_PACKAGE = "stratlab.templates"  # the top-level templates/ folder


@dataclass(frozen=True)
class Template:
    """A review template: its name, where it came from, its text and its parameters.

    Attributes
    ----------
    name : str
        Template name (the file stem, e.g. ``quarterly_review``).
    source : str
        Where it was found: ``templates/NAME.ipynb`` (shipped as ``stratlab.templates``) for a shipped
        template, else the path given.
    text : str
        The notebook JSON.
    parameters : dict
        Parameter name -> default value, from the cell tagged ``parameters``
        (a literal where the default is a literal, else its source text).
    """

    name: str
    source: str
    text: str
    parameters: dict[str, Any]

    @property
    def cell_ids(self) -> frozenset[str]:
        """The ids of the template's cells (stable across runs)."""
        cells = json.loads(self.text).get("cells", [])
        return frozenset(str(c["id"]) for c in cells if "id" in c)


def list_templates() -> list[str]:
    """Names of the templates shipped with stratlab, sorted.

    Returns
    -------
    list of str
        E.g. ``['link_check', 'okr_checkin', 'quarterly_review']``.
    """
    folder = resources.files(_TEMPLATE_PACKAGE)
    return sorted(
        entry.name[: -len(".ipynb")]
        for entry in folder.iterdir()
        if entry.name.endswith(".ipynb") and entry.is_file()
    )


def _looks_like_path(template: str | os.PathLike[str]) -> bool:
    if not isinstance(template, str):
        return True
    return template.endswith(".ipynb") or "/" in template or "\\" in template


def load_template(template: str | os.PathLike[str]) -> Template:
    """Resolve a template by name (shipped with stratlab) or by path.

    Parameters
    ----------
    template : str or Path
        A shipped template name such as ``'quarterly_review'`` (see
        :func:`list_templates`), or the path of a ``.ipynb`` notebook.

    Returns
    -------
    Template

    Raises
    ------
    InputError
        Unknown template name (with a close match), missing or unreadable file,
        not a notebook, or no cell tagged ``parameters``.
    """
    if _looks_like_path(template):
        path = Path(template).expanduser()
        if not path.is_file():
            raise InputError(
                Problem(
                    f"template notebook {str(path)!r} does not exist",
                    fix="give the path of a .ipynb file, or a shipped template name: "
                    + ", ".join(list_templates()),
                    file=str(path),
                )
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                Problem(
                    f"cannot read template notebook: {exc}",
                    fix="check the file's permissions and that it is a UTF-8 .ipynb file",
                    file=str(path),
                )
            ) from exc
        name, source = path.stem, str(path)
    else:
        name = str(template)
        names = list_templates()
        if name not in names:
            hint = f"{s} " if (s := did_you_mean(name, names)) else ""
            raise InputError(
                Problem(
                    f"unknown review template {name!r}",
                    fix=f"{hint}use one of {', '.join(names)}, or the path of a .ipynb file",
                )
            )
        entry = resources.files(_TEMPLATE_PACKAGE).joinpath(f"{name}.ipynb")
        text = entry.read_text(encoding="utf-8")
        source = f"stratlab/templates/{name}.ipynb"
    return Template(name=name, source=source, text=text, parameters=_read_parameters(text, source))


def _cell_source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _read_parameters(text: str, source: str) -> dict[str, Any]:
    """Parameter names and defaults from the notebook's ``parameters``-tagged cell."""
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            Problem(
                f"not a Jupyter notebook ({exc})",
                fix="give a .ipynb file saved by Jupyter",
                file=source,
            )
        ) from exc
    tagged = [
        (i, cell)
        for i, cell in enumerate(cells)
        if cell.get("cell_type") == "code"
        and "parameters" in (cell.get("metadata", {}).get("tags") or [])
    ]
    if not tagged:
        raise InputError(
            Problem(
                "the template has no code cell tagged 'parameters'",
                fix="in Jupyter, add the tag 'parameters' to the cell that sets the defaults "
                "(View > Cell Toolbar > Tags)",
                file=source,
            )
        )
    index, cell = tagged[0]
    code = _cell_source(cell)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise InputError(
            Problem(
                f"the parameters cell (cell {index}) is not valid Python: {exc.msg}",
                fix="fix the syntax of the parameters cell",
                file=source,
                line=exc.lineno,
            )
        ) from exc
    params: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr]
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                params[target.id] = _default(value, code)
    return params


def _default(value: ast.expr | None, code: str) -> Any:
    if value is None:
        return None
    try:
        return ast.literal_eval(value)
    except ValueError:
        return ast.get_source_segment(code, value)


def validate_parameters(template: Template, parameters: Mapping[str, Any]) -> None:
    """Check that every parameter is declared in the template's ``parameters`` cell.

    Raises
    ------
    InputError
        One problem per unknown parameter, each with a close-match suggestion
        when there is one and the list of valid names.
    """
    known = list(template.parameters)
    problems = []
    for key in parameters:
        if not isinstance(key, str) or not key.isidentifier():
            problems.append(
                Problem(
                    f"parameter name {key!r} is not a valid Python name",
                    fix="use names like 'samples' or 'seed'",
                    file=template.source,
                )
            )
        elif key not in template.parameters:
            hint = f"{s} " if (s := did_you_mean(key, known)) else ""
            problems.append(
                Problem(
                    f"unknown parameter {key!r} for template {template.name!r}",
                    fix=f"{hint}the template's parameters are: {', '.join(known)}",
                    file=template.source,
                )
            )
    if problems:
        raise InputError(problems, file=template.source)


_INT64 = 2**63


def _json_value(value: Any, name: str, source: str, depth: int = 0) -> Any:
    """``value`` as a JSON value a kernel can receive, or an :class:`InputError`."""
    import datetime as dt
    import math

    if depth > 16:
        raise InputError(
            Problem(
                f"parameter {name!r} is nested too deeply.", fix="pass a plain value.", file=source
            )
        )
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) >= _INT64:
            raise InputError(
                Problem(
                    f"parameter {name!r}: the whole number {str(value)[:20]}… is out of range.",
                    fix="pass a number of ordinary size.",
                    file=source,
                )
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(
                Problem(
                    f"parameter {name!r} must be finite, got {value}.",
                    fix="pass a number.",
                    file=source,
                )
            )
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v, name, source, depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, name, source, depth + 1) for k, v in value.items()}
    raise InputError(
        Problem(
            f"parameter {name!r} is a {type(value).__name__}, which a notebook cannot receive.",
            fix="pass a number, text, true/false, a list or a mapping.",
            file=source,
        )
    )


def coerce_parameters(template: Template, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``parameters`` against the template's ``parameters`` cell; return them typed for it.

    Every name must be declared (:func:`validate_parameters`).  Each value must
    suit its default: a whole number for an ``int`` default, a number for a
    ``float``, true/false for a ``bool``; text defaults (and ``None`` defaults)
    take text, so ``title=2025-01-01`` is the text ``'2025-01-01'`` (YAML reads
    it as a date); dates become ISO text.  Checked before any kernel starts.

    Raises
    ------
    InputError
        Unknown names, or values of the wrong type (one problem each).
    """
    validate_parameters(template, parameters)
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, raw in parameters.items():
        default = template.parameters.get(name)
        try:
            value = _json_value(raw, name, template.source)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        wanted = None
        if isinstance(default, bool):
            if not isinstance(value, bool):
                wanted = "true or false"
        elif isinstance(default, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                wanted = "a whole number"
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                wanted = "a number"
            else:
                value = float(value)
        if wanted:
            problems.append(
                Problem(
                    f"parameter {name!r} must be {wanted} (the template's default is {default!r}), "
                    f"got {value!r}.",
                    fix=f"e.g. -p {name}={default!r}".replace("'", "") + ".",
                    file=template.source,
                )
            )
            continue
        out[name] = value
    if problems:
        raise InputError(problems, file=template.source)
    return out


def check_run_parameters(params: Mapping[str, Any], model: Any, history: Any) -> None:
    """Check the values a review's kernel would otherwise reject late (exit 2, before it starts).

    ``period`` must be a period of the history (as :func:`stratlab.score` reads
    it); ``samples`` ≥ 1 and samples × nodes within ``limits.sample_values``;
    ``horizon`` ≥ 0 and within ``limits.horizon``; ``seed`` ≥ 0.
    """
    from stratlab.limits import check
    from stratlab.scoring import score

    for name, minimum, example in (("samples", 1, 2000), ("horizon", 0, 4), ("seed", 0, 1)):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value < minimum:
            raise InputError(
                Problem(
                    f"parameter {name!r} must be at least {minimum}, got {value}.",
                    fix=f"e.g. -p {name}={example}.",
                )
            )
    horizon = params.get("horizon")
    if isinstance(horizon, int) and not isinstance(horizon, bool):
        check("horizon", "parameter 'horizon'", horizon, fix="e.g. -p horizon=4.")
    samples = params.get("samples")
    if isinstance(samples, int) and not isinstance(samples, bool):
        nodes = (
            len(model.perspectives)
            + len(model.objectives)
            + len(model.measures)
            + len(model.okrs)
            + len(model.key_results)
        )
        check(
            "sample_values",
            f"samples × nodes ({samples:,} × {nodes:,})",
            samples * nodes,
            fix="pass fewer samples, e.g. -p samples=5000.",
        )
    if params.get("period") is not None:
        score(model, history, period=params["period"])  # InputError for a bad or absent period


def with_kernelspec(text: str) -> str:
    """The notebook text with a Python ``kernelspec`` and ``language_info`` if it has none.

    A notebook saved without them (by a script, or another editor) would make
    papermill fail late; stratlab always runs templates in Python.
    """
    nb = json.loads(text)
    meta = nb.setdefault("metadata", {})
    if not isinstance(meta, dict):
        meta = nb["metadata"] = {}
    changed = False
    if not isinstance(meta.get("kernelspec"), dict) or "name" not in meta["kernelspec"]:
        meta["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        changed = True
    if not isinstance(meta.get("language_info"), dict) or "name" not in meta["language_info"]:
        meta["language_info"] = {"name": "python"}
        changed = True
    return json.dumps(nb) if changed else text
