"""Which list entries an open objection suspends.

Whether measures stay in force while an objection is open is the list's choice
(``during_objection``): the court's list keeps them (Art. 12), other lists suspend them by
default, so a person contesting a wrong record is not punished while the contest runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from socialcredit.dueprocess.cases import Objection
from socialcredit.lists import ListEntry
from socialcredit.schemes.loader import Registry


def apply_suspensions(
    entries: Sequence[ListEntry], objections: Sequence[Objection], registry: Registry
) -> list[ListEntry]:
    """The entries with ``suspended_by`` set where an open objection targets the entry or one of
    its grounds and the list suspends its measures during objections."""
    open_ = [o for o in objections if o.is_open]
    if not open_:
        return list(entries)
    out = []
    for e in entries:
        lst = registry.list_def(e.qualified_id)
        hit = None
        if lst.during_objection == "suspend":
            for o in open_:
                if o.list_id == e.qualified_id or set(o.record_ids) & set(e.grounds):
                    hit = o.id
                    break
        out.append(dataclasses.replace(e, suspended_by=hit) if hit else e)
    return out
