"""Behaviour: which records the population's subjects produce in a month, at which rates.

Why its own module: this is the simulator's assumption about people (the rules are the scheme
files, compiled), so it is kept apart from the month's bookkeeping in :mod:`.engine`, and it is
built from one compiled world (:meth:`Behaviour.of`) so that a change of version mid-run
(``sim/versions.py``) brings the new version's items, base rates, removal items and restoration
rule with it from the month it is in force (decision 0072). The propensities, employment and
feedback stay the population's across the change.

For each kind of subject, items are split into classes (positive; "economic" negative items,
those of the commercial and judicial areas, which unemployment makes more likely; other negative
or neutral conduct); a subject's records of a class in a month are Poisson with mean
``sum(base_rate_per_year) x days/365.25 x weight`` (see :mod:`.engine` for the weights), the item
Poisson-split by base rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialcredit.dueprocess import restoration
from socialcredit.dueprocess.cases import MIN_PUBLICATION_MONTHS
from socialcredit.sim import optin
from socialcredit.sim.world import Records, World

if TYPE_CHECKING:  # the simulation imports this module
    from socialcredit.sim.engine import Simulation

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FULFIL_EMPLOYED = 0.08
FULFIL_UNEMPLOYED = 0.02
REWARD_CONDUCT = 0.85
UNEMPLOYED_DEFAULT = 3.0
ECONOMIC_AREAS = ("commercial", "judicial")
INCOME_DEFAULT = np.array([1.6, 1.0, 0.6])
"""Multiplier of economic negative rates by income band (low, middle, high): an assumption."""

Klass = tuple[bool, int, IntArray, FloatArray]
"""(persons?, class, item indices, their base rates per year): one class of conduct drawn."""


@dataclass(frozen=True)
class Behaviour:
    """What a world's items mean for the draw: the classes drawn at their base rates, the items
    that remove a listing (drawn as fulfilment, not at a rate), each item's minimum publication
    period and whether credit restoration may end it, and each item's sources."""

    classes: list[Klass]
    removal_items: BoolArray
    severity_months: IntArray
    restorable: BoolArray
    n_sources: IntArray
    source_table: IntArray

    @classmethod
    def of(cls, w: World) -> Behaviour:
        """The behaviour under the items of ``w``, as its version defines them."""
        registry_items = w.registry.items()
        kinds = w.registry.kinds_by_item
        removal = np.zeros(len(w.items), dtype=np.bool_)
        for lst in w.item_lists:
            removal |= lst.removal
        rate = np.array([registry_items[c].base_rate_per_year for c in w.items])
        positive = np.array([registry_items[c].polarity == "positive" for c in w.items])
        negative = np.array([registry_items[c].polarity == "negative" for c in w.items])
        economic = negative & np.array([registry_items[c].area in ECONOMIC_AREAS for c in w.items])
        # classes: 0 positive, 1 economic negative, 2 other conduct (negative or neutral)
        cls_of = np.where(positive, 0, np.where(economic, 1, 2))
        # joining or leaving an opt-in scheme is a choice, not conduct drawn at a rate (see scored)
        enrolment = w.scheme.enrolment
        codes = (enrolment.item, enrolment.withdrawal_item) if enrolment is not None else ()
        marks = np.array([c in codes for c in w.items], dtype=np.bool_)
        classes: list[Klass] = []
        for is_person, kind in ((True, "person"), (False, "organisation")):
            applies = np.array([kind in kinds[c] for c in w.items]) & ~removal & (rate > 0) & ~marks
            for c in range(3):
                idx = np.flatnonzero(applies & (cls_of == c))
                if len(idx):
                    classes.append((is_person, c, idx, rate[idx]))
        severity_months = np.array(
            [MIN_PUBLICATION_MONTHS.get(registry_items[c].severity, 3) for c in w.items], dtype=np.int64
        )
        # the national measures' rule (dueprocess.restoration): never a judicial record, nor one
        # that can start a judicial listing
        void = restoration.unrestorable(w.registry.schemes.values())
        restorable = (w.item_points < 0) & ~removal & np.array([c not in void for c in w.items])
        n_sources = np.array([len(x) for x in w.item_sources], dtype=np.int64)
        source_table = np.zeros((len(w.items), int(n_sources.max())), dtype=np.int64)
        for i, srcs in enumerate(w.item_sources):
            source_table[i, : len(srcs)] = srcs
        return cls(classes, removal, severity_months, restorable, n_sources, source_table)


def weights(sim: Simulation, cls: int, is_person: bool) -> FloatArray:
    """Each subject's weight in a class, over the subjects of one kind (persons or organisations)."""
    p = sim.pop
    s = sim.settings
    part = slice(0, p.n_persons) if is_person else slice(p.n_persons, p.n)
    w = (p.pos_propensity if cls == 0 else p.neg_propensity)[part]
    if cls == 1 and is_person and s.heterogeneity:  # defaults are likelier on a low income
        w = w * INCOME_DEFAULT[p.income_band[part]]
    if s.feedback and cls != 0:
        w = np.where(sim.prev_rewarded[part], w * REWARD_CONDUCT, w)
        if cls == 1 and is_person:
            w = np.where(p.labour_force[part] & ~sim.employed[part], w * UNEMPLOYED_DEFAULT, w)
    return w


def draw(sim: Simulation, t: int) -> Records:
    """Month ``t``'s records, in ledger order (by subject, then as drawn)."""
    days = float(sim.days[t + 1] - sim.days[t])
    w = sim.world
    parts: list[Records] = []
    for is_person, cls, idx, rates in sim.behaviour.classes:
        weight = weights(sim, cls, is_person)
        total = rates.sum() * days / 365.25
        cum = np.cumsum(weight)
        if cum[-1] <= 0:
            continue
        k = int(sim.rng.poisson(total * cum[-1]))
        # sorted uniforms make the search cache-friendly and the agents come out in order
        u = np.sort(sim.rng.random(k)) * cum[-1]
        agents = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1).astype(np.int64)
        if not is_person:
            agents += sim.pop.n_persons
        items = idx[sim.rng.choice(len(idx), size=k, p=rates / rates.sum())]
        parts.append(errors(sim, agents, items, is_person, total, cum[-1]))
    if t == 0 and sim.enrolment_item >= 0:  # those who join, on the first day
        joined = np.flatnonzero(sim.joins)
        parts.append(
            records(sim, joined, np.full(len(joined), sim.enrolment_item), np.zeros(len(joined), np.bool_))
        )
    if t > 0 and sim.withdrawal_item >= 0 and sim.settings.withdrawal > 0:  # members who leave
        members = np.flatnonzero(sim.scored)
        left = members[sim.rng.random(len(members)) < sim.settings.withdrawal]
        sim.left += len(left)
        parts.append(
            records(sim, left, np.full(len(left), sim.withdrawal_item), np.zeros(len(left), np.bool_))
        )
    again = optin.rejoining(sim, t)  # former members who join again
    if again is not None:
        parts.append(again)
    # fulfilment of item listings
    for j, lst in enumerate(w.item_lists):
        listed = np.flatnonzero(sim.prev_listed_item[:, j])
        if not len(listed) or not lst.removal.any():
            continue
        p = np.full(len(listed), FULFIL_EMPLOYED)
        if sim.settings.feedback:
            out_of_work = sim.pop.labour_force[listed] & ~sim.employed[listed]
            p = np.where(out_of_work, FULFIL_UNEMPLOYED, p)
        who = listed[sim.rng.random(len(listed)) < p]
        ridx = np.flatnonzero(lst.removal)
        rrate = np.array([max(w.registry.items()[w.items[i]].base_rate_per_year, 1e-9) for i in ridx])
        its = ridx[sim.rng.choice(len(ridx), size=len(who), p=rrate / rrate.sum())]
        parts.append(records(sim, who, its, np.zeros(len(who), dtype=np.bool_)))
    if sim.bm_item >= 0 and sim.buyers.any():
        buyers = np.flatnonzero(sim.buyers)
        per_buyer = sim.rng.poisson(sim.settings.black_market_per_month, len(buyers))
        who = np.repeat(buyers, per_buyer)
        rec = Records(
            who,
            np.full(len(who), sim.bm_item, dtype=np.int64),
            np.full(len(who), sim.bm_source, dtype=np.int64),
            np.zeros(len(who), dtype=np.bool_),
            np.ones(len(who), dtype=np.bool_),
        )
        parts.append(rec)
    if not parts:
        return records(sim, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_))
    recs = Records.concat(parts)
    order = np.argsort(recs.agent, kind="stable")  # ledger order: by subject, then as drawn
    return Records(
        recs.agent[order], recs.item[order], recs.source[order], recs.wrong[order], recs.fabricated[order]
    )


def records(sim: Simulation, agents: IntArray, items: IntArray, wrong: BoolArray) -> Records:
    """Records of ``items`` about ``agents``, each from one of its item's sources at random."""
    src = np.zeros(len(items), dtype=np.int64)
    if len(items):
        pick = (sim.rng.random(len(items)) * sim.behaviour.n_sources[items]).astype(np.int64)
        src = sim.behaviour.source_table[items, pick]
    return Records(agents, items, src, wrong, np.zeros(len(items), dtype=np.bool_))


def errors(
    sim: Simulation, agents: IntArray, items: IntArray, is_person: bool, total: float, weight: float
) -> Records:
    """The drawn records with the sources' errors: some given to the wrong subject of the same
    kind, and ``error_rate`` times as many that never happened, to random subjects."""
    e = sim.settings.error_rate
    if e <= 0:
        return records(sim, agents, items, np.zeros(len(agents), dtype=np.bool_))
    lo, hi = (0, sim.pop.n_persons) if is_person else (sim.pop.n_persons, sim.pop.n)
    wrong = sim.rng.random(len(agents)) < e
    agents = agents.copy()
    agents[wrong] = sim.rng.integers(lo, hi, int(wrong.sum()))
    k = int(sim.rng.poisson(e * total * weight))
    phantom_items = items[sim.rng.integers(0, len(items), k)] if len(items) else np.zeros(0, np.int64)
    k = len(phantom_items)
    return records(
        sim,
        np.concatenate((agents, sim.rng.integers(lo, hi, k))),
        np.concatenate((items, phantom_items)),
        np.concatenate((wrong, np.ones(k, dtype=np.bool_))),
    )
