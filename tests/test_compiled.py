"""The points model's vector form is the live one: on random record sets the score and grade the
simulator computes from the model's running sums (``sim.scorers.Scorer``, the model's own
``score_of`` on NumPy) equal :func:`socialcredit.scoring.points.score_points`, record for record."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.ledger import Record, effective
from socialcredit.rules import kernel
from socialcredit.schemes.loader import shipped_registry, shipped_scheme
from socialcredit.scoring.points import score_points
from socialcredit.sim.scorers import Scorer
from tests.conftest import person

SCHEMES = ["rongcheng", "suining-2010"]
ITEMS = sorted(shipped_registry().items())  # every item in force, including ones a scheme does not score
START = dt.date(2024, 1, 1)

record_st = st.tuples(
    st.integers(0, 5),  # subject
    st.sampled_from(ITEMS),
    st.integers(0, 2000),  # occurred, days after START
    st.integers(0, 40),  # reporting lag in days
    st.integers(0, 86399),  # second of the reporting day
)


def _records(rows: list[tuple[int, str, int, int, int]]) -> list[Record]:
    out = []
    for n, (subj, item, occ, lag, sec) in enumerate(rows, start=1):
        occurred = START + dt.timedelta(days=occ)
        reported = dt.datetime.combine(occurred, dt.time()) + dt.timedelta(days=lag, seconds=sec)
        out.append(
            Record(
                record_id=f"r{n}",
                subject=person(subj),
                subject_kind="person",
                item=item,
                source="s",
                source_record_id=str(n),
                occurred_on=occurred,
                reported_at=reported,
                seq=n,
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(
    scheme_id=st.sampled_from(SCHEMES),
    rows=st.lists(record_st, max_size=60),
    at_day=st.integers(0, 2100),
    at_second=st.integers(0, 86399),
)
def test_compiled_scores_and_grades_equal_score_points(
    scheme_id: str, rows: list[tuple[int, str, int, int, int]], at_day: int, at_second: int
) -> None:
    scheme = shipped_scheme(scheme_id)
    cp = Scorer.of(scheme)
    as_of = dt.datetime.combine(START, dt.time()) + dt.timedelta(days=at_day, seconds=at_second)
    records = _records(rows)
    known = effective(records, as_of)  # reported by as_of, as score_points sees them
    feeds, _counts, _within = cp.column_feeds(ITEMS)
    points, windows = cp.reindex(ITEMS)
    index = {person(n): n for n in range(6)}
    raw = np.zeros((6, cp.columns), dtype=np.int64)
    for r in known:  # the running sums the simulator keeps: each counting record's points
        i = ITEMS.index(r.item)
        if kernel.counts((as_of.date() - r.occurred_on).days, int(windows[i])):
            raw[index[r.subject]] += feeds[:, i] * points[i]
    scores = cp.score_columns(raw)
    grades = cp.grades(scores)
    for subj in range(6):
        mine = [r for r in records if r.subject == person(subj)]
        live = score_points(person(subj), mine, scheme, as_of)
        assert int(scores[subj]) == live.score
        assert cp.grade_names[int(grades[subj])] == live.grade


@given(score=st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-5000, 5000))
def test_grade_thresholds_equal_grade_of(score: float) -> None:
    for scheme_id in SCHEMES:
        model = shipped_scheme(scheme_id).model
        assert model is not None
        cp = Scorer.of(shipped_scheme(scheme_id))
        assert cp.grade_names[int(cp.grades([score])[0])] == model.grade_of(score)


def test_clip_and_reindex() -> None:
    cp = Scorer.of(shipped_scheme("suining-2010"))
    assert cp.clip([-5000, 0, 500]).tolist() == [0, 0, 500]  # minimum 0, maximum 1000
    assert cp.clip([5000]).tolist() == [1000]
    pts, win = cp.reindex(["honour.model-worker", "charity.donation"])
    assert pts.tolist() == [100, 0] and win.tolist() == [1825, 1]
    with pytest.raises(ValueError, match="no scoring model"):
        Scorer.of(shipped_scheme("court-dishonest-debtors"))
    assert np.array_equal(cp.score_columns(np.zeros((3, cp.columns), dtype=np.int64)), [1000, 1000, 1000])


def test_the_compiled_modules_compute_with_the_kernel() -> None:
    """The simulator's compiled rules live in sim/ and take their formulas from the rules kernel
    (with NumPy operations), not from a copy of their own; its scorer has no code of a kind."""
    src = Path(__file__).resolve().parents[1] / "src" / "socialcredit" / "sim"
    for name in ("scorers.py", "compiled_lists.py"):
        imported = {
            node.module
            for node in ast.walk(ast.parse((src / name).read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert {"socialcredit.rules", "socialcredit.sim.ops"} <= imported, name
