"""What the relational engines read of a scheme, and what they refuse (see
:mod:`socialcredit.rules.fields`).

``rescore`` computes scores and list entries, not decisions, so measures and due-process deadlines
cannot change what it writes. It refuses one thing by name: a relationships factor that counts,
since no ledger export holds declared contacts' scores; such a scheme (and its lists by grade)
stays per subject.
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
)

RELATIONAL = Declaration(
    "the relational engines (rescore)",
    read=SCORING,
    inert=INERT | INGEST | DECIDING | DUE_PROCESS | REVISION | PUBLICATION,
    refused=(CONTACTS,),
)
"""The engines' declaration: ``rescore`` skips a scheme it refuses, naming the field."""
