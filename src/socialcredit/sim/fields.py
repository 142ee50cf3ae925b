"""What the simulator reads of a scheme, and what it refuses (see :mod:`socialcredit.rules.fields`).

The simulator compiles a scheme into arrays and walks a population month by month. It models
records as reported on the day they occur and lists' removal as taking effect on the day of
fulfilment, so a removal's working-day deadline changes none of its figures. What it cannot yet
compute it refuses by name rather than computing something else:

- a decaying item (``half_life_days``): the monthly sweep keeps each subject's running sum of
  points, which a record's decay changes on days no event marks;
- an opt-in scheme (``enrolment``): its synthetic population has no enrolment records, and
  scoring everyone would simulate a different scheme;
- tier and factor models: the compiled scores are the points model's.
"""

from __future__ import annotations

from collections.abc import Iterable

from socialcredit.rules.fields import (
    DECIDING,
    DUE_PROCESS,
    INERT,
    INGEST,
    SCORING,
    Declaration,
    Refusal,
    model_kind_refusal,
)
from socialcredit.schemes.model import FactorModel, Scheme, TierModel


def _decaying(scheme: Scheme) -> Iterable[str]:
    if scheme.model is None:  # a scheme without a score (the court's list) never decays anything
        return []
    return [f"item {i.code}" for i in scheme.items if i.half_life_days is not None]


def _opt_in(scheme: Scheme) -> Iterable[str]:
    return ["the scheme"] if scheme.enrolment is not None else []


_REFUSED = {"Item.half_life_days", "Scheme.enrolment", "Enrolment.item", "Enrolment.withdrawal_item"}
_READ = (
    (SCORING | DECIDING | DUE_PROCESS | INGEST)
    - _REFUSED
    - {
        "Removal.within_working_days",
        "Measure.implemented_by",
    }
)
_READ = frozenset(
    f
    for f in _READ
    if not f.startswith(("TierModel.", "FactorModel.", "Tier.", "TierRule.", "Condition."))
    and not f.startswith(("Selector.", "Factor."))
)

SIMULATOR = Declaration(
    "the simulator",
    read=_READ,
    inert=INERT | {"Removal.within_working_days", "Measure.implemented_by"},
    refused=(
        Refusal(
            "Item.half_life_days",
            _decaying,
            "the simulator's monthly sweep does not decay points; simulate the scheme without it",
        ),
        Refusal(
            "Scheme.enrolment",
            _opt_in,
            "the simulated population has no enrolment records; an opt-in scheme would score everyone",
            frozenset({"Enrolment.item", "Enrolment.withdrawal_item"}),
        ),
        model_kind_refusal(TierModel, "the simulator compiles points models only", _READ | INERT),
        model_kind_refusal(FactorModel, "the simulator compiles points models only", _READ | INERT),
    ),
)
"""The simulator's declaration; :class:`~socialcredit.sim.engine.World` checks every scheme in
force against it before compiling anything."""
