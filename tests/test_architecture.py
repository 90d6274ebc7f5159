"""The shape of the code, checked: no import cycles, no private modules across packages, sizes.

docs/ARCHITECTURE.md describes the packages and the direction of imports; the
layer order itself is an import-linter contract in pyproject.toml (``make lint``).
These tests add what import-linter does not check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")

SRC = Path(__file__).resolve().parents[1] / "src" / "stratlab"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 120
#: functions allowed to be longer, and why (shrink this list; never grow it silently)
LONG_FUNCTIONS: dict[str, str] = {
    "datasets/_synthetic.py:_random_map": "one generator whose steps share many local arrays",
}


@pytest.fixture(scope="module")
def graph():  # type: ignore[no-untyped-def]
    # function-level imports count too: a cycle through a function body is a cycle
    return grimp.build_graph("stratlab", exclude_type_checking_imports=True)


def _cycles(graph) -> list[list[str]]:  # type: ignore[no-untyped-def]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles(graph) -> None:  # type: ignore[no-untyped-def]
    assert _cycles(graph) == []


def test_no_private_module_imported_from_another_package(graph) -> None:  # type: ignore[no-untyped-def]
    bad = []
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            *parent, last = imported.split(".")
            owner = ".".join(parent)
            private = last.startswith("_") and not last.startswith("__")
            if private and not (module == owner or module.startswith(owner + ".")):
                bad.append(f"{module} -> {imported}")
    assert bad == []


def test_core_never_imports_front_ends(graph) -> None:  # type: ignore[no-untyped-def]
    core = [
        "stratlab.model",
        "stratlab.io",
        "stratlab.engine",
        "stratlab.scoring",
        "stratlab.stats",
    ]
    front = ["stratlab.plots", "stratlab.widgets", "stratlab.report", "stratlab.cli"]
    for c in core:
        for f in front:
            assert not graph.chain_exists(importer=c, imported=f, as_packages=True), f"{c} -> {f}"


def _python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(SRC)): n
        for p in _python_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert big == {}


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function, its docstring left out (documentation is not size)."""
    size = (node.end_lineno or node.lineno) - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        size -= (first.end_lineno or first.lineno) - first.lineno + 1
    return size


def test_functions_stay_small() -> None:
    long = {}
    for p in _python_files():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = _code_lines(node)
                key = f"{p.relative_to(SRC).as_posix()}:{node.name}"
                if size > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS:
                    long[key] = size
    assert long == {}, "split these functions, or justify them in LONG_FUNCTIONS"


def test_no_model_dict_caches() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in _python_files()
        if "model.__dict__" in p.read_text(encoding="utf-8")
    ]
    assert offenders == [], "use the model's explicit cache (Model.cache), not model.__dict__"
