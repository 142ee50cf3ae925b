"""Schemes as data: catalogues of items, a scoring model, lists and measures, in one YAML file.

A scheme is validated by pydantic (:mod:`.model`), loaded from a file or from the shipped set
(:mod:`.loader`), and checked for safeguards by the linter (:mod:`.lint`). Shipping a new
city's catalogue needs a YAML file and no Python.
"""

from socialcredit.schemes.lint import Finding, lint, lint_file
from socialcredit.schemes.loader import Registry, SchemeError, load_scheme, shipped_registry
from socialcredit.schemes.model import (
    Grade,
    Item,
    ListDef,
    Measure,
    PointsModel,
    Scheme,
)

__all__ = [
    "Finding",
    "Grade",
    "Item",
    "ListDef",
    "Measure",
    "PointsModel",
    "Registry",
    "Scheme",
    "SchemeError",
    "lint",
    "lint_file",
    "load_scheme",
    "shipped_registry",
]
