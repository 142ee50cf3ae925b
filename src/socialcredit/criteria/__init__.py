"""The protocol every kind of list criterion implements, and how they are registered.

Why: what puts a subject on a list (records of given items, a grade of the scheme's model) used to
be told apart by ``isinstance`` in the per-subject walk, the engines, the simulator and the
scheme checks, so a new criterion touched six files. A criterion is now one core module
(``criteria/items.py``, ``criteria/grade.py``) exposing a ``CRITERION`` that implements
:class:`ListCriterion`: its scheme-file class (a :class:`~socialcredit.schemes.listdef.ListCriteria`
with its own ``by``), its checks of a scheme, and its per-subject walk. It is registered once
(``criteria/dispatch.py``); the scheme loader finds a list's criteria class there by ``by``, and
``lists.entries_for`` its walk. The fields of its class are declared for every evaluator from the
class itself (``rules.fields``): read where the evaluator has a population form of the criterion
(``engines/gradelists.FORMS``, ``sim/world.COMPILED``), else refused there, list by list, by its
``by`` (decision 0052).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Protocol

from socialcredit.entries import ListEntry
from socialcredit.ledger import Record
from socialcredit.schemes.listdef import ListCriteria, ListDef
from socialcredit.schemes.model import Scheme


class ListCriterion(Protocol):
    """One kind of list criterion, as the per-subject evaluator runs it."""

    @property
    def by(self) -> str:
        """The ``criteria.by`` a scheme file names (``items``, ``grade``)."""
        ...

    @property
    def criteria(self) -> type[ListCriteria]:
        """Its scheme-file class (``by: Literal[...]``), which a list's ``criteria`` is read as."""
        ...

    @property
    def by_records(self) -> bool:
        """Whether an entry is opened by a record (its first ground a record id): a revised
        scheme's entries are then compared with the replaced version's, and an organisation's
        entries reach its legal representative where the list says so."""
        ...

    def check(self, scheme: Scheme, lst: ListDef) -> str | None:
        """Why ``lst`` of ``scheme`` cannot be (a grade it does not have, no model...), or None:
        the scheme file is refused with it at load. A message of ours (``i18n.N_``), so that the
        refusal reads in the reader's language."""
        ...

    def rates(self, subject: str, scheme: Scheme) -> bool:
        """Whether a list of ``scheme`` by this criterion can hold ``subject`` at all."""
        ...

    def entries(
        self,
        subject: str,
        scheme: Scheme,
        lst: ListDef,
        records: Sequence[Record],
        as_of: dt.datetime,
        holidays: frozenset[dt.date],
    ) -> list[ListEntry]:
        """``subject``'s entries on ``lst``, past and present, at ``as_of``, from its effective
        records."""
        ...


def registry(*criteria: ListCriterion) -> Mapping[str, ListCriterion]:
    """The criteria by ``by``; one registered twice is a programming error."""
    out: dict[str, ListCriterion] = {}
    for c in criteria:
        if c.by in out:
            raise ValueError(f"list criterion by {c.by!r} registered twice")
        out[c.by] = c
    return out
