"""Statistics on KPI histories: correlations, partial correlations, Granger tests."""

from stratlab.stats.correlation import correlate
from stratlab.stats.granger import GrangerBest, granger, granger_best
from stratlab.stats.partial import partial_correlate

__all__ = ["GrangerBest", "correlate", "granger", "granger_best", "partial_correlate"]
