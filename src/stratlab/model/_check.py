"""Locations of problems in the source data, and the checker that collects them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._util import did_you_mean
from ..errors import Problem
from ._schema import BENCHMARK_KEYS, SLUG, THRESHOLD_KEYS, FieldSpec, S
from ._types import Benchmark, Thresholds

_SURROGATE = re.compile("[\ud800-\udfff]")
_INVALID = object()

# --------------------------------------------------------------------------- locations


Locator = Callable[[tuple[Any, ...]], dict[str, Any]]


def _no_location(path: tuple[Any, ...]) -> dict[str, Any]:
    return {}


def path_str(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Checker:
    """Collects problems while converting the raw mapping into model objects."""

    def __init__(self, file: str | None, locate: Locator):
        self.file = file
        self.locate = locate
        self.problems: list[Problem] = []

    def add(self, path: tuple[Any, ...], message: str, fix: str | None = None) -> None:
        loc = self.locate(path)
        # a missing key is located at its parent
        probe = path
        while not loc and probe:
            probe = probe[:-1]
            loc = self.locate(probe)
        self.problems.append(
            Problem(message, fix=fix, file=self.file, path=path_str(path) or None, **loc)
        )

    # -- scalar checks -------------------------------------------------------
    def number(
        self, value: Any, path: tuple[Any, ...], spec: FieldSpec | None = None
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    num = float(value.strip().replace(",", ""))
                except ValueError:
                    self.add(
                        path,
                        f"must be a number, got the text {value!r}.",
                        "write a plain number such as 45 or 0.5.",
                    )
                    return None
                self.add(
                    path,
                    f"must be a number, got the text {value!r} (quoted).",
                    f"remove the quotes: {num:g}.",
                )
                return None
            self.add(
                path,
                f"must be a number, got {_describe(value)}.",
                "write a plain number such as 45 or 0.5.",
            )
            return None
        try:
            num = float(value)
        except OverflowError:
            self.add(
                path,
                f"the number {str(value)[:20]}… ({len(str(value)):,} digits) is out of range.",
                "write a number of ordinary size (e.g. 1.5e9).",
            )
            return None
        if not math.isfinite(num):
            self.add(
                path,
                f"must be a finite number, got {value}.",
                "write a finite number (not .nan or .inf).",
            )
            return None
        if spec is not None:
            if spec.minimum is not None and num < spec.minimum:
                self.add(path, f"must be at least {spec.minimum:g}, got {num:g}.")
                return None
            if spec.maximum is not None and num > spec.maximum:
                self.add(path, f"must be at most {spec.maximum:g}, got {num:g}.")
                return None
            if spec.exclusive_minimum is not None and num <= spec.exclusive_minimum:
                self.add(path, f"must be greater than {spec.exclusive_minimum:g}, got {num:g}.")
                return None
        return num

    def _plain(self, value: Any, path: tuple[Any, ...]) -> Any:
        """numpy scalars as plain numbers; text with lone surrogates is invalid."""
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            return value.item()  # e.g. from a DataFrame row
        if isinstance(value, str) and _SURROGATE.search(value):
            self.add(
                path,
                "the text holds a lone surrogate (an invalid Unicode character, e.g. \\ud800).",
                "remove it or write the character itself.",
            )
            return _INVALID
        return value

    def check(self, value: Any, spec: FieldSpec, path: tuple[Any, ...]) -> Any:
        """The checked value of one field (None, with a problem added, when invalid)."""
        value = self._plain(value, path)
        if value is _INVALID:
            return None
        special = {"date": self.date, "targets": self.targets, "benchmark": self.benchmark}
        if spec.type in special:
            return special[spec.type](value, path)
        return self._check_plain(value, spec, path)

    def _check_plain(self, value: Any, spec: FieldSpec, path: tuple[Any, ...]) -> Any:
        t = spec.type
        if t in ("str", "ref"):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and t == "str":
                return str(value)
            if t == "str" and isinstance(value, str) and not value.strip() and not spec.required:
                return value  # an empty optional text (e.g. unit: "") is fine
            if not isinstance(value, str) or not value.strip():
                self.add(path, f"must be a non-empty text, got {_describe(value)}.")
                return None
            return value.strip() if t == "ref" else value
        if t == "slug":
            if not isinstance(value, str) or not SLUG.match(value):
                hint = re.sub(r"[^a-z0-9_]+", "_", str(value).lower()).strip("_") or "my_id"
                self.add(
                    path,
                    f"id {value!r} is not a slug (lower-case letters, digits and _ only).",
                    f"use {hint!r}.",
                )
                return None
            return value
        if t == "number":
            return self.number(value, path, spec)
        if t == "int":
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or float(value) != int(value)
            ):
                self.add(path, f"must be a whole number, got {_describe(value)}.")
                return None
            if spec.minimum is not None and value < spec.minimum:
                self.add(
                    path,
                    f"must be {spec.minimum:g} or more, got {value}.",
                    "lags count periods and cannot be negative." if path[-1] == "lag" else None,
                )
                return None
            return int(value)
        if t == "choice":
            if value not in spec.choices:
                self.add(
                    path,
                    f"{value!r} is not one of {', '.join(spec.choices)}.",
                    did_you_mean(str(value), spec.choices, "choices")
                    or f"use one of {', '.join(spec.choices)}.",
                )
                return None
            return value
        if t == "pair":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                self.add(
                    path,
                    f"must be a pair [lo, hi], got {_describe(value)}.",
                    "write e.g. [60, 80].",
                )
                return None
            lo = self.number(value[0], (*path, 0))
            hi = self.number(value[1], (*path, 1))
            if lo is None or hi is None:
                return None
            if lo > hi:
                self.add(path, f"lo {lo:g} is above hi {hi:g}.", f"write [{hi:g}, {lo:g}].")
                return None
            return (lo, hi)
        if t == "weight":
            if isinstance(value, (list, tuple)):
                pair = self.check(value, S("pair"), path)
                return None if pair is None else ("range", pair)
            return self.number(value, path)
        if t == "thresholds":
            if not isinstance(value, Mapping):
                self.add(
                    path, f"must be a mapping {{green: 0.7, amber: 0.4}}, got {_describe(value)}."
                )
                return None
            for key in value:
                if key not in THRESHOLD_KEYS:
                    self.add(
                        (*path, key),
                        f"unknown key {key!r}.",
                        did_you_mean(str(key), THRESHOLD_KEYS, "keys"),
                    )
            green = self.number(value.get("green", Thresholds().green), (*path, "green"))
            amber = self.number(value.get("amber", Thresholds().amber), (*path, "amber"))
            if green is None or amber is None:
                return None
            if not 0 <= amber <= green:
                self.add(path, f"needs 0 ≤ amber ≤ green, got green {green:g}, amber {amber:g}.")
                return None
            return Thresholds(green=green, amber=amber)
        if t == "refs":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)):
                self.add(path, f"must be a list of ids, got {_describe(value)}.")
                return None
            out = [self.check(v, S("ref"), (*path, i)) for i, v in enumerate(value)]
            return tuple(v for v in out if v is not None)
        if t == "uplift":
            if not isinstance(value, Mapping):
                self.add(path, f"must be a mapping of id: change, got {_describe(value)}.")
                return None
            pairs = []
            for key, change in value.items():
                num = self.number(change, (*path, key))
                if num is not None:
                    pairs.append((str(key), num))
            return tuple(pairs)
        if t == "list":
            if not isinstance(value, (list, tuple)):
                self.add(
                    path,
                    f"must be a list, got {_describe(value)}.",
                    "write one item per line starting with '- '.",
                )
                return None
            return value
        raise AssertionError(f"unknown field type {t}")  # pragma: no cover - registry bug

    def benchmark(self, value: Any, path: tuple[Any, ...]) -> Benchmark | None:
        if not isinstance(value, Mapping):
            self.add(
                path,
                f"must be a mapping {{value: 12, label: peer median}}, got {_describe(value)}.",
            )
            return None
        for key in value:
            if key not in BENCHMARK_KEYS:
                self.add(
                    (*path, key),
                    f"unknown key {key!r}.",
                    did_you_mean(str(key), BENCHMARK_KEYS, "keys"),
                )
        if value.get("value") is None:
            self.add((*path, "value"), "a benchmark needs a value.", "add 'value: 12'.")
            return None
        bval = self.number(value["value"], (*path, "value"))
        label = value.get("label")
        if label is not None and not isinstance(label, str):
            label = str(label)
        return None if bval is None else Benchmark(bval, label)

    def date(self, value: Any, path: tuple[Any, ...]) -> str | None:
        import datetime as dt

        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            from ..periods import parse_period

            period = parse_period(value)
            if period is not None and period.freqstr.startswith("D"):
                return str(period)
        self.add(
            path,
            f"must be a date such as 2025-11-15, got {_describe(value)}.",
            "write the date as YYYY-MM-DD.",
        )
        return None

    def targets(self, value: Any, path: tuple[Any, ...]) -> tuple[tuple[str, float], ...] | None:
        from ..periods import PERIOD_FORMS, parse_period

        if not isinstance(value, Mapping):
            self.add(
                path,
                f"must be a mapping {{PERIOD: target}}, got {_describe(value)}.",
                "write e.g. targets: {2025Q1: 10, 2025Q2: 12}.",
            )
            return None
        out = []
        for key, target in value.items():
            period = parse_period(key)
            if period is None:
                self.add(
                    (*path, key), f"{key!r} is not a period.", f"write it like {PERIOD_FORMS}."
                )
                continue
            num = self.number(target, (*path, key))
            if num is not None:
                out.append((period.start_time, str(period), num))
        out.sort(key=lambda item: item[0])
        return tuple((label, num) for _, label, num in out)

    def record(
        self, raw: Any, specs: Mapping[str, FieldSpec], path: tuple[Any, ...], what: str
    ) -> dict[str, Any] | None:
        if not isinstance(raw, Mapping):
            self.add(path, f"each {what} must be a mapping of keys, got {_describe(raw)}.")
            return None
        out: dict[str, Any] = {}
        for key in raw:
            if key not in specs:
                fix = did_you_mean(str(key), list(specs), "keys")
                if raw[key] is None and " " in str(key).strip():
                    fix = "a text containing ', ' inside {…} splits into keys: put the text in quotes, e.g. name: \"Fast, consistent service\"."
                self.add((*path, key), f"unknown key {key!r} in {what}.", fix)
        for key, spec in specs.items():
            if key not in raw or raw[key] is None:
                if spec.required:
                    self.add(
                        (*path, key),
                        f"{what} is missing required key {key!r}.",
                        f"add '{key}:' ({spec.doc or spec.type}).",
                    )
                continue
            value = self.check(raw[key], spec, (*path, key))
            if value is not None:
                out[key] = value
        return out


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"
