"""The application services, shared by the API, the CLI and the portal.

:class:`System` is assembled from three parts, each a file of its own: :mod:`.base` (ingestion,
views, audited decisions, keys, integrity), :mod:`.casework` (due process) and :mod:`.disclosure`
(population scans, public lists, the transparency report).
"""

from socialcredit.service.base import (
    NotFound,
    RegisterResult,
    Row,
    SubjectSummary,
    SubjectView,
    Unauthenticated,
    utcnow,
)
from socialcredit.service.casework import Notice, SourceAccuracy
from socialcredit.service.disclosure import Disclosure, PopulationSummary


class System(Disclosure):
    """One installation: a store, the schemes in force, a clock and a holiday calendar."""


__all__ = [
    "Notice",
    "NotFound",
    "PopulationSummary",
    "RegisterResult",
    "Row",
    "SourceAccuracy",
    "SubjectSummary",
    "SubjectView",
    "System",
    "Unauthenticated",
    "utcnow",
]
