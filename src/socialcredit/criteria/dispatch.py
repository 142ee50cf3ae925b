"""The one registry of list criteria (:class:`~socialcredit.criteria.ListCriterion`), by ``by``.

A new criterion is one line here (``docs/extending.md``). Read through :func:`criterion_of` (and
the module attribute :data:`CRITERIA` at call time), so that a test may register one of its own.
"""

from __future__ import annotations

from socialcredit.criteria import ListCriterion, grade, items, registry
from socialcredit.schemes.listdef import ListDef

CRITERIA = registry(items.CRITERION, grade.CRITERION)
"""Every kind of list criterion, by the ``criteria.by`` a scheme file names."""


def criterion_of(lst: ListDef) -> ListCriterion:
    """The kind of criterion ``lst`` is by (its criteria were read by it: always registered)."""
    return CRITERIA[lst.criteria.by]
