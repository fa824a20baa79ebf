"""qcindicators: hospital quality indicators (医疗质量/医政医管指标) from declarative definitions."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import (DefinitionError, InputDataError, MissingColumnError, MissingTableError, QCIError,
                     UnknownIndicatorError, UnknownTableError)
from .tables import Tables, read_tables

__all__ = ["__version__", "read_tables", "Tables", "QCIError", "DefinitionError", "InputDataError",
           "MissingColumnError", "MissingTableError", "UnknownIndicatorError", "UnknownTableError"]
