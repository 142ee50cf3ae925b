"""The points model compiled to arrays: one scheme's rules as vectors, for whole populations at once.

Why: the simulator (and any population run) must use *the same rules* as the live system, and must
score a million subjects a month in milliseconds. Reading the scheme again in a second
implementation would let the two drift apart; instead :class:`CompiledPoints` is built from the
same :class:`~socialcredit.schemes.model.Scheme` object that :func:`~socialcredit.scoring.points.
score_points` reads, holding exactly its parameters (each item's points and how long a record
counts, the base, the clamp and the grade thresholds), and ``tests/test_compiled.py`` proves on
random record sets that the two give the same score and grade.

The rule, as in :mod:`socialcredit.scoring.points`: a record of item ``i`` that occurred on day
``o`` (and has been reported) counts on day ``d`` when ``o <= d < o + counts_for_days[i]``; the
score is ``base + sum(points)`` of the counting records, clamped to ``[minimum, maximum]``; the
grade is the first (best) grade whose ``min_score`` the score reaches, the last grade otherwise.
Days are proleptic ordinals (:meth:`datetime.date.toordinal`).

>>> from socialcredit.schemes.loader import shipped_scheme
>>> cp = CompiledPoints.of(shipped_scheme("rongcheng"))
>>> counts = np.zeros((2, len(cp.items)), dtype=np.int64)
>>> counts[1, cp.index("court.fraud-conviction")] = 5
>>> cp.scores(counts).tolist(), [cp.grade_names[g] for g in cp.grades(cp.scores(counts))]
([1000, 500], ['A', 'D'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.model import Grade, PointsModel, Scheme
from socialcredit.sim import columns
from socialcredit.sim.ops import NP

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = ["CompiledPoints"]


@dataclass(frozen=True)
class CompiledPoints:
    """A scheme's points model as vectors over its catalogue (in catalogue order)."""

    scheme: str
    items: tuple[str, ...]
    points: IntArray
    windows: IntArray
    """Days each item's record counts (``counts_for_days``)."""
    base: int
    minimum: int | None
    maximum: int | None
    thresholds: FloatArray
    """``min_score`` of each grade, best grade first (strictly falling)."""
    grade_names: tuple[str, ...]
    grade_defs: tuple[Grade, ...]

    @classmethod
    def of(cls, scheme: Scheme) -> CompiledPoints:
        """Compile ``scheme``'s model; a scheme without a model has nothing to compile."""
        model = scheme.model
        if model is None:
            raise ValueError(f"scheme {scheme.id} has no scoring model")
        if not isinstance(model, PointsModel):
            raise ValueError(
                f"scheme {scheme.id} has a {model.kind} model; the compiled rules (the simulator's) cover "
                "points models only"
            )
        return cls(
            scheme=scheme.id,
            items=tuple(i.code for i in scheme.items),
            points=np.array([i.points for i in scheme.items], dtype=np.int64),
            windows=np.array([i.counts_for_days for i in scheme.items], dtype=np.int64),
            base=model.base,
            minimum=model.minimum,
            maximum=model.maximum,
            thresholds=np.array([g.min_score for g in model.grades], dtype=np.float64),
            grade_names=tuple(g.grade for g in model.grades),
            grade_defs=tuple(model.grades),
        )

    columns: int = 1
    """One running sum per subject: the points (see :class:`~socialcredit.sim.scorers.Scorer`)."""

    @property
    def rates(self) -> tuple[str, ...]:
        """A points model rates every kind of subject."""
        return ("person", "organisation")

    def column_feeds(
        self, codes: tuple[str, ...] | list[str]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], IntArray]:
        """One column, fed by every item this scheme scores (its points, until it stops counting)."""
        return columns.point_feeds(self.item_columns(codes), 1)

    def item_columns(self, codes: tuple[str, ...] | list[str]) -> IntArray:
        """Over another item universe: 0 for an item this scheme scores, -1 for the others."""
        pts, _win = self.reindex(codes)
        return np.where(pts != 0, 0, -1).astype(np.int64)

    def score_columns(self, raw: npt.ArrayLike) -> IntArray:
        """Scores from each subject's running sum of points (subjects x 1)."""
        return self.clamp(np.asarray(raw, dtype=np.int64)[:, 0])

    def clip(self, scores: npt.ArrayLike) -> IntArray:
        """Scores held within the model's bounds (a blended score, the relationships setting)."""
        return np.asarray(kernel.clamp(np.asarray(scores, dtype=np.int64), self.minimum, self.maximum, NP))

    def index(self, code: str) -> int:
        """The position of item ``code`` in :attr:`items`, or -1 when the scheme does not score it."""
        try:
            return self.items.index(code)
        except ValueError:
            return -1

    def reindex(self, codes: tuple[str, ...] | list[str]) -> tuple[IntArray, IntArray]:
        """``(points, windows)`` over another item universe (e.g. every item in force): items this
        scheme does not catalogue score 0 and get a window of 1 day (they never matter)."""
        pos: Mapping[str, int] = {c: i for i, c in enumerate(self.items)}
        idx = np.array([pos.get(c, -1) for c in codes], dtype=np.int64)
        known = idx >= 0
        pts = np.where(known, self.points[np.maximum(idx, 0)], 0).astype(np.int64)
        win = np.where(known, self.windows[np.maximum(idx, 0)], 1).astype(np.int64)
        return pts, win

    def clamp(self, raw: npt.ArrayLike) -> IntArray:
        """Scores from the summed points of counting records: ``base + raw``, clamped."""
        value = kernel.clamp(np.asarray(raw, dtype=np.int64) + self.base, self.minimum, self.maximum, NP)
        return np.asarray(value, dtype=np.int64)

    def scores(self, counts_in_window: npt.ArrayLike) -> IntArray:
        """Scores of subjects from their counts of counting records per item (subjects x items)."""
        counts = np.asarray(counts_in_window, dtype=np.int64)
        return self.clamp(counts @ self.points)

    def grades(self, scores: npt.ArrayLike) -> IntArray:
        """Grade of each score as an index into :attr:`grade_names` (0 = the best grade)."""
        index = kernel.grade_index(np.asarray(scores), self.grade_defs, NP)
        return np.asarray(index, dtype=np.int64)

    def counts_in_window(
        self, subject: npt.ArrayLike, item: npt.ArrayLike, occurred: npt.ArrayLike, on: int, n_subjects: int
    ) -> IntArray:
        """Counts (subjects x items) of the given records that count on day ``on``.

        ``subject`` are subject indices, ``item`` indices into :attr:`items` (-1 for an item the
        scheme does not catalogue), ``occurred`` day ordinals; the records must already be the
        effective ones reported by the time scored (as :func:`score_points` filters them)."""
        subj = np.asarray(subject, dtype=np.int64)
        it = np.asarray(item, dtype=np.int64)
        occ = np.asarray(occurred, dtype=np.int64)
        known = it >= 0
        window = self.windows[np.maximum(it, 0)]
        counting = known & kernel.counts(on - occ, window)
        out = np.zeros((n_subjects, len(self.items)), dtype=np.int64)
        np.add.at(out, (subj[counting], it[counting]), 1)
        return out
