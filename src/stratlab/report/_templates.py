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
