"""What every compiled model shares: a catalogue laid over the world's items, columns of state.

A compiled model knows its own catalogue; the world knows every item in force. These helpers lay
one over the other (an item the model does not read scores nothing and stops at once) and grade
scores by the kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.model import Grade
from socialcredit.sim.ops import NP

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def positions(catalogue: Sequence[str], codes: Sequence[str]) -> IntArray:
    """Each code's position in ``catalogue``, -1 where the catalogue lacks it."""
    pos = {c: i for i, c in enumerate(catalogue)}
    return np.array([pos.get(c, -1) for c in codes], dtype=np.int64)


def over(
    catalogue: Sequence[str], codes: Sequence[str], read: BoolArray, points: IntArray, windows: IntArray
) -> tuple[IntArray, IntArray]:
    """``(points, windows)`` of ``codes``: the catalogue's where the model ``read``s the item,
    0 points and a window of one day elsewhere (such records never matter)."""
    idx = positions(catalogue, codes)
    known = (idx >= 0) & read[np.maximum(idx, 0)]
    pts = np.where(known, points[np.maximum(idx, 0)], 0).astype(np.int64)
    win = np.where(known, windows[np.maximum(idx, 0)], 1).astype(np.int64)
    return pts, win


def grade_indices(scores: npt.ArrayLike, grades: Sequence[Grade]) -> IntArray:
    """Grade of each score as an index (0 = the best grade), by the kernel."""
    return np.asarray(kernel.grade_index(np.asarray(scores), grades, NP), dtype=np.int64)
