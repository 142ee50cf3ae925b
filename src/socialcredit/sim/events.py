"""A step's records as changes to the running sums of the scheme's model, and when they end.

Each record feeds the columns of the model's state its item feeds (the points; a factor's sum; a
tier condition's count or sum) on the day it occurs, and leaves each on the day it stops counting
there: its window's end, a correction or a restoration, or a tier condition's ``within_days``.
A decaying record also changes on each day its whole points step down (the kernel's
:func:`~socialcredit.rules.kernel.decayed`, tabled per item in ``World.decay``), so the running
sums are the live score on every day, not only at month ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from socialcredit.sim.engine import Simulation
    from socialcredit.sim.world import Records

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def feed(
    sim: Simulation, day: int, rec: Records, end: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Today's records as changes to the columns they feed (subject, value, the part from
    wrong records, the part from fabricated ones, column), with the day each leaves its
    column (its window, correction or restoration; a tier condition's ``within_days``)
    scheduled, and each decaying record's steps before then."""
    w = sim.world
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []
    for j in range(len(w.counts)):
        idx = np.flatnonzero(w.feeds[j][rec.item])
        if not len(idx):
            continue
        a, it, wrong, fab = rec.agent[idx], rec.item[idx], rec.wrong[idx], rec.fabricated[idx]
        value = np.ones(len(idx), dtype=np.int64) if w.counts[j] else w.item_points[it]
        leave = end[idx] if w.within[j] == 0 else np.minimum(end[idx], day + w.within[j])
        col = np.full(len(idx), j, dtype=np.int64)
        gone = -value  # what a record takes away when it leaves: its points (or 1) then
        for k, values in w.decay.items() if not w.counts[j] else ():
            mine = np.flatnonzero(it == k)
            if len(mine):
                gone[mine] = -_decay(sim, values, day, a[mine], leave[mine], j, wrong[mine], fab[mine])
        sim._schedule(
            leave, (a, leave, gone, np.where(wrong, gone, 0), np.where(fab, gone, 0), col), sim.expiries
        )
        parts.append((a, value, np.where(wrong, value, 0), np.where(fab, value, 0), col))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    a_s, p_s, w_s, f_s, c_s = (np.concatenate(x) for x in zip(*parts, strict=True))
    return a_s, p_s, w_s, f_s, c_s


def _decay(
    sim: Simulation,
    values: IntArray,
    day: int,
    agent: IntArray,
    end: IntArray,
    column: int,
    wrong: BoolArray,
    fab: BoolArray,
) -> IntArray:
    """Schedule the decay steps of records of one decaying item that occurred on ``day``: a
    change on each day its whole points change, while it counts (before ``end``); returns its
    points on its last day, which its end takes away."""
    ages = np.flatnonzero(values[1:] != values[:-1]) + 1
    steps = values[ages] - values[ages - 1]
    n, k = len(agent), len(ages)
    on = day + np.tile(ages, n)
    keep = on < np.repeat(end, k)
    who = np.repeat(np.arange(n), k)[keep]
    delta = np.tile(steps, n)[keep]
    sim._schedule(
        on[keep],
        (
            agent[who],
            on[keep],
            delta,
            np.where(wrong[who], delta, 0),
            np.where(fab[who], delta, 0),
            np.full(len(who), column, dtype=np.int64),
        ),
        sim.expiries,
    )
    last = np.minimum(end - day - 1, len(values) - 1)
    return values[last]
