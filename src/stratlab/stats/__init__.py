"""Statistics on KPI histories: correlations, partial correlations, Granger tests,
link verdicts, link suggestions, calibration and process-behaviour (XmR) charts."""

from stratlab.stats._common import TRANSFORMS, as_wide, transform_frame
from stratlab.stats.calibration import CalibrationResult, calibrate
from stratlab.stats.correlation import correlate
from stratlab.stats.granger import GrangerBest, granger, granger_best
from stratlab.stats.links import check_links, objective_evidence, suggest_links
from stratlab.stats.partial import partial_correlate
from stratlab.stats.spc import spc

__all__ = [
    "TRANSFORMS",
    "CalibrationResult",
    "GrangerBest",
    "as_wide",
    "calibrate",
    "check_links",
    "correlate",
    "granger",
    "granger_best",
    "objective_evidence",
    "partial_correlate",
    "spc",
    "suggest_links",
    "transform_frame",
]
