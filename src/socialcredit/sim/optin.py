"""Leaving an opt-in scheme and joining it again, in the simulator, as the live rules have it.

The live rule (``scoring.dispatch.usable``): an opt-in scheme reads none of the records known by
its member's latest withdrawal, so a member who joins again starts afresh, from the records
reported after leaving (Sesame's terms: leaving ends the platform's use of the member's data; PIPL
Art. 15 and 47). The simulator keeps a member's state as running sums with the changes each record
still owes them scheduled ahead (its end, its decay steps), so on a withdrawal it clears the
leaver's sums and drops what their earlier records had scheduled (:func:`cut`), and feeds only
the records after the withdrawal in ledger order. Joining again (``Settings.rejoin``, a share a
month of those who left and are not members) is an enrolment record (:func:`rejoining`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialcredit.sim.world import Records

if TYPE_CHECKING:  # the simulation imports this module
    from socialcredit.sim.engine import Simulation

IntArray = npt.NDArray[np.int64]


def rejoining(sim: Simulation, t: int) -> Records | None:
    """This month's enrolment records of those who left and join again: each former member not
    a member now, with probability ``settings.rejoin``; None when there is no such draw (a rate
    of 0 draws nothing, so earlier results stand)."""
    if t == 0 or sim.enrolment_item < 0 or sim.settings.rejoin <= 0:
        return None
    former = np.flatnonzero(sim.ever_left & ~sim.scored)
    back = former[sim.rng.random(len(former)) < sim.settings.rejoin]
    sim.rejoined += len(back)
    return sim._records(back, np.full(len(back), sim.enrolment_item), np.zeros(len(back), np.bool_))


def cut(sim: Simulation, rec: Records, end: IntArray) -> tuple[Records, IntArray]:
    """Today's records that feed the scheme's state (with the day each ends): for a subject
    who withdraws today, only those after their last withdrawal in ledger order, their sums
    cleared and what their earlier records had scheduled dropped; every record otherwise."""
    if sim.withdrawal_item < 0:
        return rec, end
    marks = np.flatnonzero(rec.item == sim.withdrawal_item)
    if not len(marks):
        return rec, end
    who, first = np.unique(rec.agent[marks][::-1], return_index=True)
    last = marks[::-1][first]  # each leaver's last withdrawal today
    sim.ever_left[who] = True
    for sums in (sim.raw, sim.wrong_raw, sim.fab_raw):
        sums[who] = 0
    for t, pending in sim.expiries.items():
        kept = []
        for a, d, v, wrong, fab, col in pending:
            on = ~np.isin(a, who)
            kept.append((a[on], d[on], v[on], wrong[on], fab[on], col[on]))
        sim.expiries[t] = kept
    position = np.full(sim.pop.n, -1, dtype=np.int64)
    position[who] = last
    keep = np.arange(len(rec.agent)) > position[rec.agent]
    fed = Records(rec.agent[keep], rec.item[keep], rec.source[keep], rec.wrong[keep], rec.fabricated[keep])
    return fed, end[keep]
