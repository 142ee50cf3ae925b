"""The public transparency report, computed from a population scan and the store: list sizes,
measures applied, objections, reviews and restorations and their outcomes, resolution times,
the sources' accuracy, score distributions by district and age band, and group fairness.

Why apart from the scan: the report has parts that follow the subjects (from the scan, kept in
the public state, service/publicstate.py) and parts that follow every decision (measures applied,
refusals by group: read from the store when the report is served live); :func:`decided` computes
the latter alone, so a decision made since the last rescan costs no scan.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from socialcredit import codes, fairness
from socialcredit.dueprocess.cases import Objection, Restoration
from socialcredit.rules.days import day_of
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context, operator
from socialcredit.service.scans import SubjectSummary

FAIRNESS_ATTRIBUTES = ("district", "age_band", "sex")

Groups = dict[str, dict[str, str]]
"""Each person's groups (district, age band, sex), by code: what a refusal is counted under."""


def report(
    context: Context,
    casefiles: CaseFiles,
    scan: Sequence[SubjectSummary],
    at: dt.datetime,
    accuracy: list[dict[str, Any]],
    known_at: dt.datetime | None = None,
) -> tuple[dict[str, Any], Groups]:
    """The report at ``at`` from ``scan`` (the population at ``at``), with each person's groups;
    with ``known_at``, every figure from what had been received or recorded by then."""
    list_sizes: Counter[str] = Counter()
    by_district: dict[str, dict[str, list[tuple[int, str]]]] = {}
    by_age: dict[str, dict[str, list[tuple[int, str]]]] = {}
    listed_people: list[tuple[dict[str, str], int, int]] = []
    groups_of: Groups = {}
    for s in scan:
        active = [e for e in s.entries if e.status == "active" and not e.suspended_by]
        for e in active:
            list_sizes[e.qualified_id] += 1
        if s.kind != "person":
            continue
        district = (s.row.district if s.row else None) or "unknown"
        band = age_band(age(codes.birth_date(s.code), day_of(at)))
        groups = groups_of[s.code] = {"district": district, "age_band": band, "sex": codes.sex(s.code)}
        listed_people.append((groups, 1, 1 if active else 0))
        for scheme_id, scored in s.scores.items():
            by_district.setdefault(scheme_id, {}).setdefault(district, []).append(scored)
            by_age.setdefault(scheme_id, {}).setdefault(band, []).append(scored)
    cases = casefiles.cases(principal=operator(), known_at=known_at)
    objections = [c for c in cases if isinstance(c, Objection) and c.kind == "objection"]
    reviews = [c for c in cases if isinstance(c, Objection) and c.kind == "review"]
    resolved = sorted((c.decided_at - c.filed_at).total_seconds() / 86400 for c in objections if c.decided_at)
    today = day_of(at)
    tiers = {s.id for s in context.registry.scored() if s.model is not None and s.model.kind == "tier"}

    def summary(scheme_id: str, groups: dict[str, list[tuple[int, str]]]) -> dict[str, dict[str, Any]]:
        """Each group's size, grades and mean score; no mean for a tier rating, whose score is
        a tier level (a mean of levels means nothing)."""
        return {
            g: {
                "subjects": len(v),
                "mean": None if scheme_id in tiers else round(sum(x for x, _ in v) / len(v), 1),
                "grades": dict(sorted(Counter(grade for _, grade in v).items())),
            }
            for g, v in sorted(groups.items())
        }

    out = {
        "as_of": at,
        "known_at": known_at,
        "subjects": len(scan),
        "records": 0,
        "lists": dict(sorted(list_sizes.items())),
        "measures_applied": {},
        "objections": {
            "filed": len(objections),
            "upheld": sum(1 for c in objections if c.status == "corrected" or c.status == "upheld"),
            "rejected": sum(1 for c in objections if c.status in ("rejected", "closed")),
            "open": sum(1 for c in objections if c.is_open),
            "overdue": sum(1 for c in objections if c.overdue(today)),
            "median_days_to_decide": median(resolved),
        },
        "reviews": {  # human reviews of listings derived by rule
            "filed": len(reviews),
            "set_aside": sum(1 for c in reviews if c.status in ("corrected", "upheld")),
            "confirmed": sum(1 for c in reviews if c.status in ("rejected", "closed")),
            "open": sum(1 for c in reviews if c.is_open),
            "overdue": sum(1 for c in reviews if c.overdue(today)),
        },
        "restorations": {
            "applied": sum(1 for c in cases if isinstance(c, Restoration)),
            "granted": sum(1 for c in cases if isinstance(c, Restoration) and c.status == "granted"),
        },
        "source_accuracy": accuracy,
        "scores_by_district": {k: summary(k, v) for k, v in by_district.items()},
        "scores_by_age_band": {k: summary(k, v) for k, v in by_age.items()},
        "fairness": {  # each attribute on its own; formulas in fairness.py and docs/fairness.md
            "listed": fairness.by_attribute(listed_people, FAIRNESS_ATTRIBUTES),
            "refused": {},
        },
    }
    return {**out, **decided(context, groups_of, out, known_at)}, groups_of


def decided(
    context: Context, groups_of: Groups, base: dict[str, Any], known_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The parts of the report that every decision changes, read from the store now: the records
    counted, the measures applied and each group's refusals (persons asked about, by their groups
    in the scan; a person asked about before the scan knew them is not in a group); with
    ``known_at``, as they stood then."""
    refused_people = []
    asked_about = context.store.decisions_by_subject(known_at)  # by pseudonym (decision 0060)
    pseudonym = context.store.sealing.pseudonym
    for code, groups in groups_of.items() if asked_about else ():
        asked, denied = asked_about.get(pseudonym(code), (0, 0))
        if asked:
            refused_people.append((groups, asked, denied))
    return {
        "records": context.store.count_records(known_at),
        "measures_applied": context.store.decision_counts(known_at),
        "fairness": {
            **base["fairness"],
            "refused": fairness.by_attribute(refused_people, FAIRNESS_ATTRIBUTES),
        },
    }


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_band(years: int) -> str:
    for upper, label in ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")):
        if years < upper:
            return label if years >= 18 else "under 18"
    return "65+"
