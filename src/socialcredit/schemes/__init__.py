"""Schemes as data: catalogues of items, a scoring model, lists and measures, in one YAML file.

A scheme is validated by pydantic (:mod:`.model`), loaded from a file or from the shipped set
(:mod:`.loader`), and checked for safeguards by the linter (:mod:`.lint`), which judges every
item by its category (:mod:`.categories`) and its words (:mod:`.keywords`); a scheme that fails is
never in force (:mod:`.safeguards`). Shipping a new city's catalogue needs a YAML file and no Python.
"""

from socialcredit.schemes.categories import Category, Vocabulary, shipped_vocabulary
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
    "Category",
    "Finding",
    "Grade",
    "Item",
    "ListDef",
    "Measure",
    "PointsModel",
    "Registry",
    "Scheme",
    "SchemeError",
    "Vocabulary",
    "lint",
    "lint_file",
    "load_scheme",
    "shipped_registry",
    "shipped_vocabulary",
]
