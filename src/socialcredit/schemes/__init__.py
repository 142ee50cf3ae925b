"""Schemes as data: catalogues of items, a scoring model, lists and measures, in one YAML file.

A scheme is validated by pydantic (:mod:`.model`), loaded from a file or from the shipped set
(:mod:`.loader`), and checked for safeguards by the linter (:mod:`.lint`). Shipping a new
city's catalogue needs a YAML file and no Python.
"""

from socialcredit.schemes.loader import SchemeError, Registry, load_scheme, shipped_registry
from socialcredit.schemes.model import (
    Grade,
    Item,
    ListDef,
    Measure,
    PointsModel,
    Scheme,
)

__all__ = [
    "Grade",
    "Item",
    "ListDef",
    "Measure",
    "PointsModel",
    "Registry",
    "Scheme",
    "SchemeError",
    "load_scheme",
    "shipped_registry",
]
