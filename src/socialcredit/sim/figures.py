"""The figures a simulation reports: each month's, and the totals over the run.

Kept apart from the dynamics (:mod:`socialcredit.sim.engine`) because they only read the state:
the distribution of scores and grades among those the scheme scores, list sizes and measures, the
wrongly punished, group figures, ties and ostracism, and the sources' accuracy and anomalies.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from socialcredit.sim.engine import Simulation

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _any_column(m: BoolArray) -> BoolArray:
    """Rows with any True (all False for a matrix without columns)."""
    return np.asarray(m.any(axis=1), dtype=np.bool_)


def step_figures(
    sim: Simulation,
    t: int,
    score: IntArray,
    grade: IntArray,
    active: BoolArray,
    pending: IntArray,
    applied: BoolArray,
    punished: BoolArray,
    rewarded: BoolArray,
    wrongly: BoolArray,
    dp_counts: dict[str, int],
) -> dict[str, Any]:
    w = sim.world
    pop = sim.pop
    persons = sim.is_person
    n_g = len(w.scorer.grade_names)
    rated = persons & sim.scored  # persons with a score under the scheme (an opt-in one: who joined)
    if not rated.any():  # a rating of organisations only (the enterprise rating): its subjects' figures
        rated = sim.scored
    if sim.prev_grade is not None:
        np.add.at(sim.grade_transitions, (sim.prev_grade[sim.scored], grade[sim.scored]), 1)
    sim.prev_grade = grade
    ps = score[rated]
    days = int(sim.days[t + 1] - sim.days[t])
    black = np.array([x == "black" for x in w.list_kinds], dtype=np.bool_)
    listed_black = _any_column(active[:, black])
    groups: dict[str, Any] = {}
    for name, codes in (
        ("district", pop.district),
        ("age_band", pop.age_band),
        ("income_band", pop.income_band),
    ):
        c = codes[persons]
        k = int(c.max()) + 1
        cnt = np.bincount(c, minlength=k).astype(np.float64)
        in_p = rated[persons]
        n_rated = np.bincount(c, weights=in_p, minlength=k)
        total = np.bincount(c, weights=np.where(in_p, score[persons], 0), minlength=k)
        groups[name] = {
            "mean_score": (total / np.maximum(n_rated, 1)).tolist(),
            "listing_rate": (
                np.bincount(c, weights=listed_black[persons], minlength=k) / np.maximum(cnt, 1)
            ).tolist(),
        }
    buyers = sim.buyers & sim.scored
    fab = sim.fab_raw[buyers]
    out: dict[str, Any] = {
        "day": dt.date.fromordinal(int(sim.days[t])).isoformat(),
        "mean_score": float(ps.mean()) if len(ps) else None,
        "score_quantiles": np.percentile(ps, [10, 50, 90]).tolist() if len(ps) else None,
        "scored_persons": int(rated.sum()),
        "grades": np.bincount(grade[rated], minlength=n_g).tolist(),
        "grades_organisations": np.bincount(grade[~persons & sim.scored], minlength=n_g).tolist(),
        "list_sizes": active.sum(axis=0).tolist(),
        "pending_notice": pending.tolist(),
        "measures_applied": applied.sum(axis=0).tolist(),
        "punished_persons": int(punished[persons].sum()),
        "rewarded_persons": int(rewarded[persons].sum()),
        "wrongly_punished_persons": int(wrongly[persons].sum()),
        "wrongly_punished_person_days": int(wrongly[persons].sum()) * days,
        "objections": dp_counts,
        "groups": groups,
        "black_market_buyers": int(sim.buyers.sum()),
        # their own points score with and without the fabricated records (before any relationships blend)
        "black_market_inflation": float(
            (w.scorer.score_columns(sim.raw[buyers]) - w.scorer.score_columns(sim.raw[buyers] - fab)).mean()
        )
        if buyers.any()
        else 0.0,
    }
    c = sim.contacts
    if c.nnz and (t % 6 == 5 or t == sim.months - 1):  # every half year: it costs a pass over ties
        src = np.repeat(np.arange(pop.n_persons), np.diff(c.indptr))
        sample = slice(None, None, max(1, c.nnz // 500_000))  # every k-th tie: enough for a correlation
        ends = src[sample], c.indices[sample]
        both = sim.scored[ends[0]] & sim.scored[ends[1]]  # ties between persons who have a score
        a, b = score[ends[0][both]].astype(np.float64), score[ends[1][both]].astype(np.float64)
        varies = len(a) > 1 and a.std() > 0 and b.std() > 0  # no ties between scored persons: no figure
        out["tie_correlation"] = float(np.corrcoef(a, b)[0, 1]) if varies else 0.0
        indeg = np.bincount(c.indices, minlength=pop.n_persons)
        low = (grade[: pop.n_persons] >= n_g - 2) & sim.scored[: pop.n_persons]
        out["contacts_of_low_graded"] = float(indeg[low].mean()) if low.any() else None
        out["contacts_of_others"] = float(indeg[~low].mean()) if (~low).any() else None
    return out


def summary(sim: Simulation, steps: list[dict[str, Any]]) -> dict[str, Any]:
    w = sim.world
    trans = sim.grade_transitions.astype(np.float64)
    rows = trans.sum(axis=1, keepdims=True)
    src_n = sim.source_records
    # anomaly check: a source's share of an item's records against its expected share (the
    # item's sources report equally); and its positive records per month against its own first year
    anomalies = []
    for i, srcs in enumerate(w.item_sources):
        total = int(sim.item_source_counts[i].sum())
        if len(srcs) < 2 or total == 0 or w.item_points[i] <= 0:
            continue
        p = 1 / len(srcs)
        for s in srcs:
            x = int(sim.item_source_counts[i, s])
            z = (x - total * p) / np.sqrt(total * p * (1 - p))
            anomalies.append(
                {
                    "item": w.items[i],
                    "source": w.sources[s],
                    "records": x,
                    "of": total,
                    "z": float(z),
                    "flagged": bool(z > 4),
                }
            )
    accuracy = [
        {
            "source": s,
            "records": int(src_n[k]),
            "overturned": int(sim.source_overturned[k]),
            "overturned_share": float(sim.source_overturned[k] / src_n[k]) if src_n[k] else 0.0,
        }
        for k, s in enumerate(w.sources)
    ]
    return {
        "settings": sim.settings.__dict__ | {"label": sim.settings.label()},
        "scheme": w.scheme.id,
        "grades": list(w.scorer.grade_names),
        "lists": w.list_ids,
        "list_kinds": w.list_kinds,
        "measures": [m.id for m in w.measures],
        "measure_kinds": [m.kind for m in w.measures],
        "steps": steps,
        "grade_transitions": (trans / np.maximum(rows, 1)).tolist(),
        "source_accuracy": accuracy,
        "source_anomalies": anomalies,
        "black_market_source": w.sources[sim.bm_source] if sim.bm_source >= 0 else None,
        "black_market_item": w.items[sim.bm_item] if sim.bm_item >= 0 else None,
        "ever_in_spiral": int(sim.ever_spiral.sum()),
        "members_left": sim.left,
        "members_rejoined": sim.rejoined,
        "persons": sim.pop.n_persons,
        "organisations": sim.pop.n_orgs,
        "versions": versions_in_force(sim),
    }


def versions_in_force(sim: Simulation) -> list[dict[str, Any]]:
    """The versions of the schemes in force, each run of months under the same ones: its first
    month, that month's first day and the version of each scheme (decision 0064)."""
    out: list[dict[str, Any]] = []
    for t, found in enumerate(sim.versions.in_force[: sim.months]):
        if not out or out[-1]["in_force"] != found:
            day = dt.date.fromordinal(int(sim.days[t])).isoformat()
            out.append({"month": t, "from": day, "in_force": dict(found)})
    return out
