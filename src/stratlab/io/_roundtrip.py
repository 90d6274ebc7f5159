"""Write a model as YAML that respects the analyst's file (ruamel.yaml round-trip mode).

A model loaded from a YAML file remembers it (``Model.source``). Writing the
model (edited, calibrated) then starts from that file's parsed document and
changes only what changed, by a three-way comparison of

* ``doc``: the file's round-trip document (comments, key order, flow style,
  quoting, number formats),
* ``base``: the plain mapping of the model the file holds (``to_dict`` of it),
* ``new``: the plain mapping of the model being written.

Where ``new`` equals ``base`` the document is left exactly as written (a
``weight: 1.0`` the analyst wrote stays, although it is the default).
Changed scalars are replaced in place (their comments stay; a quoted string
keeps its quotes); new keys are inserted after their predecessor in ``new``;
records of a list are matched by ``id`` (links by ``from``/``to``), so an
edited, added or removed record leaves the others' comments alone. Nothing
here knows the model's keys: whatever :func:`stratlab.model.to_dict` writes
(driven by the field registry) is merged.

Without a usable source file the mapping is dumped fresh (block style, short
number pairs in flow style).
"""

from __future__ import annotations

import io
import math
from typing import Any

__all__ = ["dump_yaml", "round_sig"]

_MISSING = object()


def round_sig(x: float, digits: int) -> float:
    """``x`` at ``digits`` significant digits (finite floats; others unchanged)."""
    if isinstance(x, bool) or not isinstance(x, float) or not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{digits}g}")


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap the analyst's lines
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def dump_yaml(
    new: dict[str, Any], *, template: str | None = None, base: dict[str, Any] | None = None
) -> str:
    """YAML text of the model mapping ``new``.

    ``template`` is the text of the YAML file the model came from and ``base``
    the mapping of the model that file holds; with both, the file's formatting
    is kept wherever ``new`` agrees with ``base``. Otherwise ``new`` is dumped fresh.
    """
    yaml = _yaml()
    doc = None
    if template is not None and base is not None:
        try:
            doc = yaml.load(template)
        except Exception:
            doc = None
    if doc is None or base is None or not hasattr(doc, "keys"):
        doc = _fresh(new)
    else:
        doc = _merge(doc, base, new)
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)
    return bool(a == b)


def _ident(item: Any) -> Any:
    if isinstance(item, dict):
        if "id" in item:
            return ("id", item["id"])
        if "from" in item and "to" in item:
            return ("link", item["from"], item["to"])
    return None


def _merge(doc: Any, base: Any, new: Any) -> Any:
    """The document node for ``new``, reusing ``doc`` (which holds ``base``) where possible."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if base is not _MISSING and _same(base, new):
        return doc
    if isinstance(doc, CommentedMap) and isinstance(new, dict):
        base_map = base if isinstance(base, dict) else {}
        for key in list(doc.keys()):
            if key in new:
                doc[key] = _merge(doc[key], base_map.get(key, _MISSING), new[key])
            elif key in base_map:  # it meant something and is gone (or back to its default)
                del doc[key]
        keys = list(new)
        for i, key in enumerate(keys):
            if key in doc:
                continue
            prev = [k for k in keys[:i] if k in doc]
            pos = list(doc.keys()).index(prev[-1]) + 1 if prev else 0
            doc.insert(pos, key, _fresh(new[key]))
        return doc
    if isinstance(doc, CommentedSeq) and isinstance(new, list) and isinstance(base, list):
        merged = _merge_seq(doc, base, new)
        if merged is not None:
            return merged
    return _fresh(new, like=doc)


def _merge_seq(doc: Any, base: list[Any], new: list[Any]) -> Any:
    """Merge lists of records by identity, in place; None when they cannot be matched."""
    if len(doc) != len(base):
        return None
    base_ids = [_ident(b) for b in base]
    new_ids = [_ident(n) for n in new]
    if None in base_ids or None in new_ids or len(set(base_ids)) != len(base_ids):
        if len(base) == len(new):  # same length, no identities: position by position
            for i, item in enumerate(new):
                doc[i] = _merge(doc[i], base[i], item)
            return doc
        return None
    if len(set(new_ids)) != len(new_ids):
        return None
    kept = [i for i in base_ids if i in set(new_ids)]
    if kept != [i for i in new_ids if i in set(base_ids)]:  # reordered: rewrite the list
        return None
    for pos in reversed(range(len(base_ids))):  # removed records, from the end
        if base_ids[pos] not in set(new_ids):
            del doc[pos]
    where = {ident: pos for pos, ident in enumerate(kept)}
    for at, (item, ident) in enumerate(zip(new, new_ids, strict=True)):
        if ident in where:
            doc[at] = _merge(doc[at], base[base_ids.index(ident)], item)
        else:
            doc.insert(at, _fresh(item))
    return doc


def _fresh(value: Any, like: Any = None) -> Any:
    """A new document node for a plain value (styled like ``like`` where that makes sense)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import ScalarString

    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _fresh(v)
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_fresh(v) for v in value)
        flow = (
            like.fa.flow_style()
            if isinstance(like, CommentedSeq)
            else all(isinstance(v, int | float | str) and len(str(v)) < 20 for v in value)
        )
        if flow:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and isinstance(like, ScalarString):
        return type(like)(value)
    return value
