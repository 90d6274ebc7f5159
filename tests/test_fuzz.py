"""Bad input of any shape gives a StratlabError (a located message), never a crash.

Hypothesis mutates the model mapping, the YAML/JSON text and a history CSV.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from conftest import MINI_YAML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratlab import StratlabError, load_history, load_model
from stratlab.model import build_model

BASE = yaml.safe_load(MINI_YAML)
JUNK = st.sampled_from(
    [
        None,
        0,
        -1,
        1.5,
        float("nan"),
        float("inf"),
        "",
        "x",
        "Bad Id",
        True,
        [],
        [1],
        [1, 2, 3],
        {},
        {"a": 1},
        [None],
        ["a", "b"],
        {"green": "x"},
        10**30,
    ]
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)
EDITS = st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=3)
TEXT_EDITS = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.sampled_from(["del", "ins", "set"]),
        st.sampled_from(list(":{}[],-'\"!&*#|>\n 09az.%@\t?")),
    ),
    min_size=1,
    max_size=4,
)


def _mutate_text(text: str, edits: list[tuple[int, str, str]]) -> str:
    chars = list(text)
    for pos, op, ch in edits:
        i = pos % max(len(chars), 1)
        if op == "del" and chars:
            del chars[i]
        elif op == "ins":
            chars.insert(i, ch)
        elif chars:
            chars[i] = ch
    return "".join(chars)


@given(EDITS)
@settings(max_examples=300, deadline=None)
def test_mutated_model_mappings(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(BASE)
    for path, value in edits:
        target: Any = data
        try:
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        build_model(data)
    except StratlabError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@given(TEXT_EDITS, st.sampled_from([".yaml", ".json"]))
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mutated_model_files(
    tmp_path: Path, edits: list[tuple[int, str, str]], suffix: str
) -> None:
    source = MINI_YAML if suffix == ".yaml" else __import__("json").dumps(BASE)
    path = tmp_path / f"model{suffix}"
    path.write_text(_mutate_text(source, edits), encoding="utf-8")
    try:
        load_model(path)
    except StratlabError as exc:
        assert str(path) in str(exc)


@given(TEXT_EDITS, st.booleans())
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_mutated_history_files(
    tmp_path: Path, edits: list[tuple[int, str, str]], with_model: bool
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        _mutate_text("period,nps,wait_min\n2024Q1,30,7\n2024Q2,31,6.5\n2024Q4,33,\n", edits),
        encoding="utf-8",
    )
    try:
        load_history(path, build_model(BASE) if with_model else None)
    except StratlabError as exc:
        assert str(path) in str(exc)
