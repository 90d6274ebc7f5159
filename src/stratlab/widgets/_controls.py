"""Shared pieces of the explorers' controls: slider grids, labels, numbers, a busy indicator."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

#: Shown while the kernel computes; CSS keeps it invisible for the first 300 ms,
#: so quick updates never flash it.
BUSY_HTML = (
    "<style>@keyframes stratlab-busy{to{opacity:1}}</style>"
    "<span class='stratlab-busy' style='opacity:0;animation:stratlab-busy 0s linear 0.3s forwards;"
    "color:#555;font-size:12px'>⏳ computing…</span>"
)


@dataclass(frozen=True)
class SliderSpec:
    """A slider whose grid ``lo + k·step`` contains ``value`` (and ``lo``/``hi``)."""

    lo: float
    hi: float
    step: float
    value: float
    decimals: int

    @property
    def readout_format(self) -> str:
        return f",.{self.decimals}f"


def nice_step(span: float, steps: int = 100) -> float:
    """1, 2 or 5 × 10^k, about ``span / steps``."""
    if not math.isfinite(span) or span <= 0:
        return 0.01
    raw = span / steps
    exp = math.floor(math.log10(raw))
    base = raw / 10**exp
    mult = 1 if base < 1.5 else 2 if base < 3.5 else 5 if base < 7.5 else 10
    return float(mult * 10.0**exp)


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def slider_spec(
    points: Iterable[float | None],
    value: float | None,
    *,
    floor: float | None = None,
    ceiling: float | None = None,
    pad: float = 0.15,
    steps: int = 100,
) -> SliderSpec:
    """The range and grid of a slider for a value among reference ``points``.

    The range spans the finite points (baseline, target, current value, history
    range…) with a margin of ``pad`` × their spread; ``floor``/``ceiling`` clip
    it (e.g. 0 for counts, 100 for a percentage) unless a point lies beyond them.
    The step is 1, 2 or 5 × 10^k (about ``span / steps``), the value is rounded
    to the step's decimals, and ``lo``/``hi`` are whole steps away from it, so
    the grid contains the value: clicking the handle without moving changes nothing.
    """
    finite = [float(p) for p in points if p is not None and math.isfinite(float(p))]
    if value is not None and math.isfinite(value):
        finite.append(float(value))
    if not finite:
        finite = [0.0, 1.0]
    lo, hi = min(finite), max(finite)
    span = hi - lo
    if span == 0:
        span = abs(lo) or 1.0
    lo, hi = lo - pad * span, hi + pad * span
    if floor is not None and min(finite) >= floor:
        lo = max(lo, floor)
    if ceiling is not None and max(finite) <= ceiling:
        hi = min(hi, ceiling)
    step = nice_step(hi - lo, steps)
    decimals = _decimals(step)
    v = float(value) if value is not None and math.isfinite(value) else (lo + hi) / 2
    v = round(v, decimals)
    k_lo = math.floor((v - lo) / step + 1e-9)
    k_hi = math.floor((hi - v) / step + 1e-9)
    lo_g = round(v - k_lo * step, decimals)
    hi_g = round(v + k_hi * step, decimals)
    if hi_g <= lo_g:
        hi_g = round(lo_g + step, decimals)
    return SliderSpec(lo_g, hi_g, step, min(max(v, lo_g), hi_g), decimals)


def has_unit(name: str, unit: str) -> bool:
    """Whether ``name`` already states ``unit`` (no "(% of COGS) (%)")."""
    if not unit:
        return True
    low = name.lower()
    u = unit.lower()
    return f"({u}" in low or low.endswith(f" {u}") or (u == "%" and "%" in low)


def label_text(name: str, unit: str) -> str:
    return name if has_unit(name, unit) else f"{name} ({unit})"


def fmt_number(x: Any, unit: str = "") -> str:
    """A readable number: thousands separators, no exponent; unit appended when given."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    a = abs(v)
    d = 0 if a >= 1000 else 1 if a >= 100 else 2
    text = f"{v:,.{d}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "−0"):
        text = "0"
    text = text.replace("-", "−")
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


class SharedParts:
    """Layouts and styles made once per panel and shared by every widget asking for the same.

    Every ``Layout`` and style is a widget of its own, and a front end builds a
    model for each (about 10 ms apiece in JupyterLab, one after another): a
    default layout and style per control doubled or tripled the models a panel
    costs.  Call it as a factory: ``make(w.HTML, value=..., layout={"width":
    "auto"})``.  Shared parts must not be changed afterwards.
    """

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], Any] = {}

    def part(self, klass: type, spec: dict[str, Any] | None = None) -> Any:
        """The shared ``klass(**spec)`` (a Layout or a style)."""
        key = (klass, tuple(sorted((spec or {}).items())))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = klass(**(spec or {}))
        return made

    def __call__(
        self,
        cls: type,
        *args: Any,
        layout: dict[str, Any] | None = None,
        style: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        traits = cls.class_traits()  # type: ignore[attr-defined]
        kwargs["layout"] = self.part(traits["layout"].klass, layout)
        if "style" in traits:
            kwargs["style"] = self.part(traits["style"].klass, style)
        return cls(*args, **kwargs)


@cache
def lazy_slider_class() -> type:
    """A ``FloatSlider`` whose comm opens only when it is first shown (:func:`shown`).

    Until then it is a complete widget in the kernel (its value can be set and
    observed; nothing is sent), and no front end builds a model for it: a
    panel of 1,350 controls costs the front end the models of one tab.
    """
    import ipywidgets as w

    class LazySlider(w.FloatSlider):  # type: ignore[misc]
        _stratlab_shown = False

        def open(self) -> None:
            if self._stratlab_shown:
                super().open()

    return LazySlider


def shown(widget: Any) -> Any:
    """``widget``, its comm opened if it is a lazy slider not shown yet (before display)."""
    if getattr(widget, "_stratlab_shown", True) is False:
        widget._stratlab_shown = True
        widget.open()
    return widget
