"""What the simulator reads of a scheme, and what it refuses (see :mod:`socialcredit.rules.fields`).

The simulator compiles a scheme into arrays and walks a population month by month. It models
records as reported on the day they occur and lists' removal as taking effect on the day of
fulfilment, so a removal's working-day deadline changes none of its figures; its extension
decisions state years it chooses (``compiled_lists.stated_years``), not read from details
(``Extension.years_field``), and what a revision says of a replaced version explains entries,
never changes them. It runs points, factor and tier models (``sim/scorers.py``), with decay (each
decaying record's whole-point steps scheduled on their days); an opt-in scheme scores the share of
persons its ``enrolment`` setting says joined. What it cannot compute it refuses by name rather
than computing something else:

- a relationships factor that counts: the simulator's ``--relationships`` setting blends contacts'
  scores into any model instead;
- a list by a kind of criterion it has no vector form of (:data:`FORMED`): that list alone, and
  the measures it triggers, are left out (``World.skipped``, naming them), the rest of the
  scheme is simulated (decision 0063).
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
"""The kinds of list criterion the simulator compiles (``sim/world.COMPILED``, which must match)."""
_LIST_READ, _LIST_INERT, _UNFORMED = listed_by(FORMED)

_REFUSED: set[str] = set()
_INERT = (
    INERT
    | REVISION
    | PUBLICATION
    | {"Removal.within_working_days", "Measure.implemented_by", "Extension.years_field"}
    | _LIST_INERT
)
_READ = frozenset((SCORING | DECIDING | DUE_PROCESS | INGEST | _LIST_READ) - _REFUSED - _INERT)

SIMULATOR = Declaration(
    "the simulator",
    read=_READ,
    inert=_INERT,
    refused=(CONTACTS,),
    lists=(_UNFORMED,),
)
"""The simulator's declaration; :class:`~socialcredit.sim.engine.World` checks every scheme in
force against it before compiling anything."""
