"""What-if changes: parsing, checking, link keys."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._util import did_you_mean
from ..errors import InputError, Problem

if TYPE_CHECKING:
    from ..model import Model


Op = Literal["set", "shift"]

# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """One what-if change: set or shift a measure, key result or link (see module doc)."""

    key: str
    op: Op
    value: float


def link_key(source: str, target: str) -> str:
    return f"link:{source}->{target}"


def split_link(key: str) -> tuple[str, str] | None:
    body = key[5:] if key.startswith("link:") else key
    if "->" in body:
        a, b = body.split("->", 1)
    elif key.startswith("link:") and body.count(":") == 1:
        a, b = body.split(":", 1)
    else:
        return None
    return a.strip(), b.strip()


def parse_changes(
    sets: Sequence[str] = (),
    shifts: Sequence[str] = (),
    *,
    model: Model | None = None,
) -> list[Change]:
    """Parse ``--set ID=VALUE`` and ``--shift ID=DELTA`` command-line arguments.

    Parameters
    ----------
    sets, shifts : sequence of str
        ``"nps=40"``, ``"wait_min=-1"``, ``"link:speed->loyalty=0.7"``.
    model : Model, optional
        When given, ids are checked against it (unknown ids raise with a suggestion).

    Returns
    -------
    list of Change
        In argument order, sets first.

    Raises
    ------
    InputError
        Naming the bad argument and how to write it.
    """
    out: list[Change] = []
    problems: list[Problem] = []
    for flag, args, op in (("--set", sets, "set"), ("--shift", shifts, "shift")):
        for arg in args:
            key, sep, text = str(arg).rpartition("=")
            example = f"{flag} nps=40" if op == "set" else f"{flag} wait_min=-1"
            if not sep or not key.strip():
                problems.append(
                    Problem(
                        f"{flag} {arg!r}: expected ID=VALUE.",
                        fix=f"write it like {example} (a link: {flag} 'link:speed->loyalty=0.7').",
                    )
                )
                continue
            try:
                value = float(text.strip())
            except ValueError:
                problems.append(
                    Problem(
                        f"{flag} {arg!r}: {text.strip()!r} is not a number.",
                        fix=f"write it like {example}.",
                    )
                )
                continue
            if not math.isfinite(value):
                problems.append(
                    Problem(f"{flag} {arg!r}: the value must be finite.", fix=f"e.g. {example}.")
                )
                continue
            out.append(Change(key.strip(), op, value))  # type: ignore[arg-type]
    if problems:
        raise InputError(problems)
    if model is not None:
        check_changes(model, out)
    return out


def as_changes(changes: Any) -> list[Change]:
    if changes is None:
        return []
    if isinstance(changes, Change):
        return [changes]
    if isinstance(changes, Mapping):
        items: Iterable[Any] = [(k, "set", v) for k, v in changes.items()]
    elif isinstance(changes, (str, bytes)):
        raise InputError(
            Problem(
                f"changes {changes!r} is a string.",
                fix="pass a mapping {'nps': 40} or a list of ('nps', 'set', 40) / ('nps', 'shift', 5).",
            )
        )
    else:
        items = changes
    out: list[Change] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        if isinstance(item, Change):
            out.append(item)
            continue
        if isinstance(item, (tuple, list)) and len(item) == 2:
            item = (item[0], "set", item[1])
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            problems.append(
                Problem(
                    f"change #{i} {item!r} is not (id, 'set'|'shift', value).",
                    fix="write it like ('nps', 'set', 40) or ('wait_min', 'shift', -1).",
                )
            )
            continue
        key, op, value = item
        if op not in ("set", "shift"):
            problems.append(
                Problem(
                    f"change #{i} for {key!r}: unknown operation {op!r}.",
                    fix=did_you_mean(op, ["set", "shift"]) or "use 'set' or 'shift'.",
                )
            )
            continue
        try:
            num = float(value)
        except (TypeError, ValueError):
            num = math.nan
        if isinstance(value, bool) or not math.isfinite(num):
            problems.append(
                Problem(
                    f"change #{i} for {key!r}: value {value!r} is not a finite number.",
                    fix="give a number, e.g. ('nps', 'set', 40).",
                )
            )
            continue
        out.append(Change(str(key), op, num))
    if problems:
        raise InputError(problems)
    return out


def check_changes(model: Model, changes: Sequence[Change]) -> None:
    leaves = [m.id for m in model.measures] + [kr.id for kr in model.key_results]
    link_keys = {(lk.source, lk.target) for lk in model.links}
    problems: list[Problem] = []
    for ch in changes:
        pair = split_link(ch.key)
        if pair is not None:
            if pair not in link_keys:
                options = [link_key(a, b) for a, b in link_keys]
                problems.append(
                    Problem(
                        f"there is no link {pair[0]} → {pair[1]} in the model.",
                        fix=did_you_mean(link_key(*pair), options)
                        or "change an existing link (written link:SOURCE->TARGET) or add it to the model.",
                    )
                )
            continue
        if ch.key in model and model.kind_of(ch.key) in ("measure", "key_result"):
            continue
        if ch.key in model:
            kind = model.kind_of(ch.key)
            problems.append(
                Problem(
                    f"{ch.key!r} is a {kind}; a what-if changes measures, key results or link weights.",
                    fix="change one of its measures or key results (their scores roll up to it).",
                )
            )
            continue
        problems.append(
            Problem(
                f"{ch.key!r} is not a measure or key result of the model.",
                fix=did_you_mean(ch.key, leaves)
                or "use a measure or key-result id, or link:SOURCE->TARGET for a link.",
            )
        )
    if problems:
        raise InputError(problems)
