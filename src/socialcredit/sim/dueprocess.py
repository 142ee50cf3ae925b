"""Due process in the simulation: objections by the wrongly recorded, their decisions and
appeals, corrections, and credit restoration, each ending a record's effect on its day.

The periods are the scheme's (``due_process``: review, correction, appeal, appeal decision,
restoration decision); the propensities and accuracies are the simulation's settings and
assumptions (``sim/engine.py``'s constants, docs/simulation.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.sim.ops import NP
from socialcredit.sim.suspension import objection_spans

if TYPE_CHECKING:
    from socialcredit.sim.engine import Simulation
    from socialcredit.sim.world import Records

IntArray = npt.NDArray[np.int64]

REVIEW_ACCURACY = 0.9
APPEAL_PROPENSITY = 0.5
APPEAL_ACCURACY = 0.8


def record_ends(sim: Simulation, t: int, rec: Records) -> tuple[IntArray, IntArray, dict[str, int]]:
    """The day each record stops having effect (window end, correction or restoration), and
    the day of correction for records withdrawn on objection (-1: none)."""
    day = int(sim.days[t])
    end = day + sim.world.item_windows[rec.item]
    corrected = np.full(len(rec.agent), -1, dtype=np.int64)
    counts = {"filed": 0, "upheld": 0, "rejected": 0, "appealed": 0, "appeal_upheld": 0, "corrected": 0}
    s = sim.settings
    if not s.due_process:
        return end, corrected, counts
    dp = sim.world.scheme.due_process
    rng = sim.rng
    wrong = np.flatnonzero(rec.wrong)
    objects = wrong[rng.random(len(wrong)) < s.object_propensity]
    filed = day + rng.integers(1, 41, len(objects))
    decided = filed + rng.integers(1, dp.review_days + 1, len(objects))
    upheld = rng.random(len(objects)) < REVIEW_ACCURACY
    appeal = ~upheld & (rng.random(len(objects)) < APPEAL_PROPENSITY)
    appeal_filed = decided + rng.integers(1, dp.appeal_days + 1, len(objects))
    appeal_decided = appeal_filed + rng.integers(1, dp.appeal_decision_days + 1, len(objects))
    appeal_upheld = appeal & (rng.random(len(objects)) < APPEAL_ACCURACY)
    # correction within the working-day period: 7/5 calendar days per working day at most
    correction = rng.integers(1, dp.correction_working_days * 7 // 5 + 2, len(objects))
    when = np.where(upheld, decided, appeal_decided) + correction
    done = upheld | appeal_upheld
    corrected[objects[done]] = when[done]
    end[objects[done]] = np.minimum(end[objects[done]], when[done])
    np.add.at(sim.source_overturned, rec.source[objects[done]], 1)
    which, start, stop = objection_spans(
        filed, decided, upheld, appeal, appeal_filed, appeal_decided, appeal_upheld, when
    )
    sim.open_objections.add(rec.agent[objects][which], rec.item[objects][which], start, stop)
    counts.update(
        filed=len(objects),
        upheld=int(upheld.sum()),
        rejected=int((~upheld).sum()),
        appealed=int(appeal.sum()),
        appeal_upheld=int(appeal_upheld.sum()),
        corrected=int(done.sum()),
    )
    # restoration of right records after the minimum publication period
    cand = np.flatnonzero(sim.restorable[rec.item] & ~rec.wrong & ~rec.fabricated)
    cand = cand[rng.random(len(cand)) < s.restore_propensity]
    # decided within the scheme's working days, at most 7 calendar days for every 5 of them
    verdict = -(-dp.restoration_decision_working_days * 7 // 5)
    # the first day an application may be made: the kernel's, in calendar months from the penalty
    eligible = kernel.publication_over(day, sim.severity_months[rec.item[cand]], NP)
    restored_on = eligible + rng.integers(0, 91, len(cand)) + verdict
    early = restored_on < end[cand]
    end[cand[early]] = restored_on[early]
    counts["restored"] = int(early.sum())
    return end, corrected, counts
