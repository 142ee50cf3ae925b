"""What the relational engines read of a scheme, and what they refuse (see
:mod:`socialcredit.rules.fields`).

``rescore`` computes scores and list entries, not decisions, so measures and due-process deadlines
cannot change what it writes. It refuses two things by name: a relationships factor that counts,
since no ledger export holds declared contacts' scores (the scheme stays per subject), and a list
by a kind of criterion it has no population form of (:data:`FORMED`): that list alone stays per
subject, and the rest of its scheme is rescored (decision 0063).
"""

from __future__ import annotations

from socialcredit.rules.fields import (
    CONTACTS,
    DECIDING,
    DUE_PROCESS,
    INERT,
    INGEST,
    PUBLICATION,
    REVISION,
    SCORING,
    Declaration,
    listed_by,
)

FORMED = frozenset({"items", "grade"})
"""The kinds of list criterion the engines derive (``gradelists.FORMS``, which must match)."""
_LIST_READ, _LIST_INERT, _UNFORMED = listed_by(FORMED)

RELATIONAL = Declaration(
    "the relational engines (rescore)",
    read=SCORING | _LIST_READ,
    inert=INERT | INGEST | DECIDING | DUE_PROCESS | REVISION | PUBLICATION | _LIST_INERT,
    refused=(CONTACTS,),
    lists=(_UNFORMED,),
)
"""The engines' declaration: ``rescore`` skips a scheme it refuses, or a list it skips
(``listing.refused``), naming the field."""
