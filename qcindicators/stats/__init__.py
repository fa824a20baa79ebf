"""Statistics for comparing units and watching trends: intervals, funnel limits, control charts."""
from .funnel import Funnel, funnel
from .intervals import INTERVAL_METHODS, interval, interval_method
from .spc import spc

__all__ = ["Funnel", "funnel", "INTERVAL_METHODS", "interval", "interval_method", "spc"]
