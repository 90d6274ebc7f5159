"""Plotly figures for every stratlab result (returned, never shown).

Every function takes a model and/or a result DataFrame (the column contracts of
:func:`stratlab.score`, ``whatif``, ``sensitivity``, ``simulate``,
:func:`stratlab.stats.correlate` and ``check_links``) and returns a
``plotly.graph_objects.Figure``.  plotly is imported inside the functions, so
``import stratlab`` stays fast.

Status colours come from :data:`stratlab.render.STATUS_COLORS` (colour-blind
safe) and are always doubled by a marker symbol and a text label.  Every piece
of user text (names, units, rationales) is HTML-escaped before it reaches a
plotly label or hover text, which plotly renders as HTML.

One module per family of figures: :mod:`.map` (strategy map), :mod:`.scorecard`,
:mod:`.history`, :mod:`.spc` (XmR charts), :mod:`.correlation`, :mod:`.simulation`, :mod:`.scenarios`
(what-if) and :mod:`.review` (review summaries); :mod:`._common` holds the
palette and helpers they share.  :func:`use_white_template` makes the charts'
template (plotly_white, cut to 2-D charts) plotly's default, for figures of
one's own to match.
"""

from __future__ import annotations

from ._common import STATUS_SYMBOLS, VERDICT_COLORS, esc, use_white_template
from .correlation import correlation_heatmap, lead_lag, verdict_map
from .history import kpi_trends
from .map import MapLayout, map_layout, strategy_map, update_link_widths, update_strategy_map
from .review import (
    attainment_by_period,
    attainment_over_time,
    objective_tornados,
    outlook_fan,
    status_counts,
)
from .scenarios import whatif_chart, whatif_scenarios
from .scorecard import okr_progress, scorecard
from .simulation import attainment_distribution, fan_chart, tornado, variance_attribution
from .spc import spc_chart

__all__ = [
    "STATUS_SYMBOLS",
    "VERDICT_COLORS",
    "MapLayout",
    "attainment_by_period",
    "attainment_distribution",
    "attainment_over_time",
    "correlation_heatmap",
    "esc",
    "fan_chart",
    "kpi_trends",
    "lead_lag",
    "map_layout",
    "objective_tornados",
    "okr_progress",
    "outlook_fan",
    "scorecard",
    "spc_chart",
    "status_counts",
    "strategy_map",
    "tornado",
    "update_link_widths",
    "update_strategy_map",
    "use_white_template",
    "variance_attribution",
    "verdict_map",
    "whatif_chart",
    "whatif_scenarios",
]
