"""The vector form of a scheme's scoring model, for the simulator: any kind, from the registry.

The simulator keeps, per subject, one running sum per feed of the model
(:meth:`~socialcredit.scoring.kinds.ScoringModel.feeds`: the points; a factor model's factor sums;
a tier model's condition counts and sums, each over its window) and asks the model's own
population form (:meth:`~socialcredit.scoring.kinds.ScoringModel.score_of`) for scores from them,
on NumPy (:data:`~socialcredit.sim.ops.NP`). Nothing here knows a kind: a kind the per-subject
evaluator registers (``scoring.dispatch.KINDS``) is simulated as written in its core module, and
``tests/test_sim_parity.py`` holds the two to the same answers.

>>> from socialcredit.schemes.loader import shipped_scheme
>>> form = compile_scorer(shipped_scheme("honest-shanghai"))
>>> none = np.zeros((1, form.columns), dtype=np.int64)
>>> [form.grade_names[g] for g in form.grades(form.score_columns(none))]
['good']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.model import Scheme
from socialcredit.scoring.dispatch import model_of
from socialcredit.scoring.kinds import Feed, ScoringModel
from socialcredit.sim import columns
from socialcredit.sim.ops import NP

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Scorer:
    """A scheme's model over running sums: its feeds laid over the simulated world's items."""

    scheme: str
    source: Scheme
    model: ScoringModel
    feeds: tuple[Feed, ...]
    items: tuple[str, ...]
    """The scheme's catalogue, in its order."""
    points: IntArray
    windows: IntArray
    grade_names: tuple[str, ...]

    @classmethod
    def of(cls, scheme: Scheme) -> Scorer:
        """The vector form of ``scheme``'s model (ValueError for a scheme without one)."""
        model = model_of(scheme)
        assert scheme.model is not None
        return cls(
            scheme=scheme.id,
            source=scheme,
            model=model,
            feeds=model.feeds(scheme),
            items=tuple(i.code for i in scheme.items),
            points=np.array([i.points for i in scheme.items], dtype=np.int64),
            windows=np.array([i.counts_for_days for i in scheme.items], dtype=np.int64),
            grade_names=tuple(g.grade for g in scheme.model.grades),
        )

    @property
    def columns(self) -> int:
        """How many running sums a subject's state holds."""
        return len(self.feeds)

    @property
    def base(self) -> int:
        """The score with no counting record."""
        assert self.source.model is not None
        return self.source.model.base

    @property
    def rates(self) -> tuple[str, ...]:
        """The kinds of subject the model scores."""
        assert self.source.model is not None
        return tuple(self.source.model.subjects)

    def reindex(self, codes: tuple[str, ...] | list[str]) -> tuple[IntArray, IntArray]:
        """``(points, windows)`` of each item of another universe: items no feed reads score 0 and
        stop at once (they never matter)."""
        read = np.array([any(c in f.items for f in self.feeds) for c in self.items], dtype=np.bool_)
        return columns.over(self.items, codes, read, self.points, self.windows)

    def column_feeds(self, codes: tuple[str, ...] | list[str]) -> tuple[BoolArray, BoolArray, IntArray]:
        """Over another item universe: which items' records feed each column (columns x items),
        whether a column counts records (else it sums their points, decayed), and how many days
        after it occurred a record leaves a column (0: when it stops counting)."""
        feeds = np.array([[c in f.items for c in codes] for f in self.feeds], dtype=np.bool_)
        counts = np.array([f.counts for f in self.feeds], dtype=np.bool_)
        within = np.array([f.within or 0 for f in self.feeds], dtype=np.int64)
        return feeds.reshape(len(self.feeds), len(codes)), counts, within

    def score_columns(self, raw: npt.ArrayLike) -> IntArray:
        """Scores from the running sums (subjects x :attr:`columns`), by the model's own form."""
        sums = np.asarray(raw, dtype=np.int64)
        value = self.model.score_of(self.source, [sums[:, k] for k in range(self.columns)], NP)
        return np.broadcast_to(np.asarray(value, dtype=np.int64), (len(sums),)).copy()

    def grades(self, scores: npt.ArrayLike) -> IntArray:
        """Grade indices (0 = best) of scores."""
        assert self.source.model is not None
        return columns.grade_indices(scores, self.source.model.grades)

    def clip(self, scores: npt.ArrayLike) -> IntArray:
        """Scores held within the model's bounds (a blended score, the relationships setting)."""
        low, high = self.model.bounds(self.source)
        return np.asarray(kernel.clamp(np.asarray(scores, dtype=np.int64), low, high, NP), dtype=np.int64)


def compile_scorer(scheme: Scheme) -> Scorer:
    """The vector form of ``scheme``'s model (ValueError for a scheme without one)."""
    return Scorer.of(scheme)
