"""qcindicators: hospital quality indicators (医疗质量/医政医管指标) from declarative definitions."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import (DefinitionError, InputDataError, MissingColumnError, MissingTableError, QCIError,
                     UnknownIndicatorError, UnknownTableError)
from .io.tables import Tables, read_tables
from .io.window import Window
from .validate import ValidationReport, validate
from .spec.load import Catalog, load_definitions
from .api import catalog, compute, explain
from .result.result import Result
from .check import check, target_sets
from .io.partitioned_write import write_partitioned
from .stats import funnel, spc
from .drugs import unmapped_drugs

__all__ = ["__version__", "read_tables", "Tables", "Window", "validate", "ValidationReport", "load_definitions", "Catalog",
           "catalog", "compute", "explain", "Result", "check", "target_sets", "write_partitioned", "funnel", "spc", "unmapped_drugs", "QCIError", "DefinitionError", "InputDataError",
           "MissingColumnError", "MissingTableError", "UnknownIndicatorError", "UnknownTableError"]
