"""Measures suspended while a simulated objection is open, by the live rule.

Why: a list whose ``during_objection`` is ``suspend`` stops its measures against a subject while
that subject's objection to one of the entry's grounds is open
(:mod:`socialcredit.dueprocess.suspension`). The court's list keeps them. Whether a scheme
suspends changes how many people are punished on a wrong record, so the simulator must show it.

When an objection is open is the live rule's (:func:`socialcredit.dueprocess.suspension.open_spans`,
over :func:`socialcredit.dueprocess.cases.fold_objection`), in whole days:
- open from filing until it is decided;
- if upheld, open until the correction;
- if rejected, closed until appealed, then open until the appeal is decided;
- if the appeal is upheld, open until the correction.
``tests/test_sim.py`` checks these spans against ``open_spans`` over the same events.

Where this is not the live rule: the simulator's objections are to wrong records, and an open
one suspends the objector's entry on every suspending list that counts the record's item as a
ground. Live, the record must also be one of that entry's grounds. The two differ only for a
record reported before an earlier entry ended, with the present entry opened by a later record.
An organisation's objection also suspends its legal representative's listing through it (the
entry's ``via``), as live.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def objection_spans(
    filed: IntArray,
    decided: IntArray,
    upheld: BoolArray,
    appealed: BoolArray,
    appeal_filed: IntArray,
    appeal_decided: IntArray,
    appeal_upheld: BoolArray,
    corrected: IntArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """The half-open day spans ``[start, end)`` in which each objection is open (see the module
    docstring), as ``(objection index, start, end)``: one span each, and a second for those
    appealed. ``corrected`` is the correction day of an objection upheld on review or on appeal
    (ignored for the others)."""
    n = len(filed)
    idx = np.arange(n, dtype=np.int64)
    first_end = np.where(upheld, corrected, decided)
    second = appealed & ~upheld
    second_end = np.where(appeal_upheld, corrected, appeal_decided)
    return (
        np.concatenate((idx, idx[second])),
        np.concatenate((filed, appeal_filed[second])).astype(np.int64),
        np.concatenate((first_end, second_end[second])).astype(np.int64),
    )


class OpenObjections:
    """Every simulated objection's open spans, with its filer and the item of the record it is
    about; spans that have ended are dropped as the run goes on."""

    def __init__(self) -> None:
        self.agent = np.zeros(0, dtype=np.int64)
        self.item = np.zeros(0, dtype=np.int64)
        self.start = np.zeros(0, dtype=np.int64)
        self.end = np.zeros(0, dtype=np.int64)

    def add(self, agent: IntArray, item: IntArray, start: IntArray, end: IntArray) -> None:
        self.agent = np.concatenate((self.agent, agent))
        self.item = np.concatenate((self.item, item))
        self.start = np.concatenate((self.start, start))
        self.end = np.concatenate((self.end, end))

    def open_on(self, day: int) -> tuple[IntArray, IntArray]:
        """(filer, item) of the objections open on ``day``; those ended by then are forgotten."""
        live = self.end > day
        self.agent, self.item, self.start, self.end = (
            self.agent[live],
            self.item[live],
            self.start[live],
            self.end[live],
        )
        now = self.start <= day
        return self.agent[now], self.item[now]

    @staticmethod
    def suspended(agent: IntArray, item: IntArray, grounds: BoolArray, n: int) -> BoolArray:
        """Over ``n`` subjects: who has an open objection to a record of one of ``grounds``."""
        out = np.zeros(n, dtype=np.bool_)
        out[agent[grounds[item]]] = True
        return out
