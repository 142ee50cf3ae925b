"""The synthetic city's credit records: per item and subject a Poisson count from the schemes'
base rates and the subject's propensities, court listings followed by their fulfilment, each an
ingest row in an agency's style (the package docstring, ``socialcredit.synth``, is the
specification)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Item
from socialcredit.subjects import SubjectRow
from socialcredit.synth import optin
from socialcredit.synth.city import DISTRICTS, BoolArray, City, FloatArray, IntArray

FULFILMENT_SHARE = 0.6
"""Share of court listings followed by a fulfilment record (if it falls inside the window)."""
FULFILMENT_MIN_DAYS = 30
FULFILMENT_MEAN_EXTRA_DAYS = 150.0
NEGATIVE_SHAPE = 0.5
"""Gamma shape of the misconduct propensity (mean 1): small means a heavy tail."""
POSITIVE_SHAPE = 0.7
"""Gamma shape of the good-deeds propensity (mean 1)."""
LAG_P = 0.15
MAX_LAG_DAYS = 30
BLOCK = 8192
"""Subjects per block of record generation (one random stream each)."""


_EVIDENCE: dict[str, tuple[str, str]] = {
    "banks": ("credit report entry", "CR"),
    "civil-affairs": ("civil affairs record", "CA"),
    "customs": ("penalty decision", "CUS"),
    "education": ("examination violation decision", "EDU"),
    "emergency-management": ("penalty decision", "EMB"),
    "environment": ("penalty decision", "EPB"),
    "health": ("blood donation certificate", "BD"),
    "housing": ("order to pay", "HPF"),
    "human-resources": ("labour inspection order", "HRSS"),
    "market-regulation": ("penalty decision", "AMR"),
    "power-grid": ("inspection report", "PG"),
    "public-security": ("penalty decision", "PS"),
    "red-cross": ("donation receipt", "RC"),
    "tax": ("tax notice", "TAX"),
    "trade-union": ("honour certificate", "TU"),
    "traffic-police": ("ticket", "TP"),
    "transport": ("fare notice", "TR"),
    "volunteer-federation": ("service log", "VOL"),
    "water-utility": ("final reminder", "WU"),
}
_EVIDENCE_POSITIVE: dict[str, tuple[str, str]] = {
    "human-resources": ("honour certificate", "HRSS"),
    "tax": ("tax credit rating notice", "TAX"),
}


@dataclass(frozen=True)
class _Plan:
    """What to generate, in a fixed (sorted) order."""

    items: list[Item]
    sources: list[tuple[str, ...]]
    independent: BoolArray  # generated on its own (not only as a follow-up)
    rate: FloatArray  # records per subject per day of the window, scaled
    sign: IntArray  # -1 negative, +1 positive, 0 neutral: which propensity applies
    person_ok: BoolArray
    org_ok: BoolArray
    ground: BoolArray  # a listing ground with follow-ups
    follow_person: list[tuple[IntArray, FloatArray]]  # per item: follow-up item indices, cum. probs
    follow_org: list[tuple[IntArray, FloatArray]]
    days: int
    stated: dict[str, tuple[tuple[str, int, int, str], ...]]
    """What a record of an item must state in its details (``Registry.stated_details``)."""


def _definitions(registry: Registry) -> tuple[dict[str, Item], dict[str, set[str]]]:
    """One definition per item code (from the scheme whose id sorts first, so the result does
    not depend on the order schemes were loaded in), and the subject kinds any scheme allows."""
    defs: dict[str, Item] = {}
    kinds: dict[str, set[str]] = {}
    for scheme_id in sorted(registry.schemes):
        for it in registry.schemes[scheme_id].items:
            defs.setdefault(it.code, it)
            kinds.setdefault(it.code, set()).update(it.subjects)
    return defs, kinds


def _plan(city: City, registry: Registry, scale: float) -> _Plan:
    agencies = set(city.agencies)
    defs, kinds = _definitions(registry)
    followers: dict[str, list[str]] = {}
    for _scheme, lst in sorted(registry.lists(), key=lambda p: (p[0].id, p[1].id)):
        for track in lst.tracks:  # a ground is followed by what removes (or extends) what it opens
            if track.removal.on_items:
                for code in track.grounds:
                    followers.setdefault(code, [*track.removal.on_items, *track.extension_items])
    follow_items = {c for cs in followers.values() for c in cs}
    items: list[Item] = []
    sources: list[tuple[str, ...]] = []
    for code in sorted(defs):
        srcs = tuple(sorted(registry.sources_by_item.get(code, frozenset()) & agencies))
        if not srcs:
            continue
        it = defs[code]
        if it.base_rate_per_year <= 0 and code not in follow_items:
            continue
        items.append(it)
        sources.append(srcs)
    index = {it.code: i for i, it in enumerate(items)}
    days = (city.end - city.start).days + 1
    n = len(items)
    independent = np.array([it.code not in follow_items for it in items], dtype=bool)
    rate = np.array([it.base_rate_per_year * scale / 365.25 for it in items], dtype=np.float64)
    sign = np.array([{"negative": -1, "positive": 1}.get(it.polarity, 0) for it in items], dtype=np.int64)
    person_ok = np.array(["person" in kinds.get(it.code, set()) for it in items], dtype=bool)
    org_ok = np.array(["organisation" in kinds.get(it.code, set()) for it in items], dtype=bool)
    ground = np.zeros(n, dtype=bool)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    follow_p: list[tuple[IntArray, FloatArray]] = [empty] * n
    follow_o: list[tuple[IntArray, FloatArray]] = [empty] * n
    for i, it in enumerate(items):
        options = [index[c] for c in followers.get(it.code, []) if c in index]
        if not options or not independent[i]:
            continue
        ground[i] = True
        for ok, target in ((person_ok, follow_p), (org_ok, follow_o)):
            opts = np.array([j for j in options if ok[j]], dtype=np.int64)
            if len(opts) == 0:
                continue
            w = np.array([items[j].base_rate_per_year for j in opts], dtype=np.float64)
            w = w if w.sum() > 0 else np.ones(len(opts))
            target[i] = (opts, np.cumsum(w) / w.sum())
    stated = dict(registry.stated_details)
    return _Plan(
        items, sources, independent, rate, sign, person_ok, org_ok, ground, follow_p, follow_o, days, stated
    )


def _follow_fraction(days: int) -> float:
    """Probability that a fulfilment drawn for a listing on a uniform day falls in the window."""
    remaining = np.arange(days, dtype=np.float64)  # days left after the listing day
    p = 1.0 - np.exp(-(remaining - FULFILMENT_MIN_DAYS + 1) / FULFILMENT_MEAN_EXTRA_DAYS)
    return float(np.where(remaining >= FULFILMENT_MIN_DAYS, p, 0.0).mean())


def _expected(city: City, plan: _Plan) -> float:
    persons = sum(1 for s in city.subjects if s.kind == "person")
    orgs = len(city.subjects) - persons
    frac = _follow_fraction(plan.days)
    total = 0.0
    for i in range(len(plan.items)):
        if not plan.independent[i]:
            continue
        for count, ok, follow in (
            (persons, plan.person_ok, plan.follow_person),
            (orgs, plan.org_ok, plan.follow_org),
        ):
            if not ok[i]:
                continue
            mean = float(plan.rate[i]) * plan.days * count
            total += mean
            if plan.ground[i] and len(follow[i][0]):
                total += mean * FULFILMENT_SHARE * frac
    return total


def estimate_records(city: City, registry: Registry, *, target_records: int | None = None) -> int:
    """The expected number of records :func:`generate_records` yields (with the same
    ``target_records``), for a progress bar; the actual count differs by chance."""
    return _scaled(city, registry, target_records)[1]


def _scaled(city: City, registry: Registry, target_records: int | None) -> tuple[_Plan, int, float]:
    """The plan at the scale that meets ``target_records`` (1 without one), its expected total
    with the subjects' and platforms' own records (``synth.optin``), and the scale."""
    plan = _plan(city, registry, 1.0)
    extra = optin.expected_extra(city, registry)
    base = _expected(city, plan) + extra
    if target_records is None:
        return plan, round(base), 1.0
    if target_records < 0:
        raise ValueError("target_records cannot be negative")
    scale = target_records / base if base > 0 else 0.0
    plan = _plan(city, registry, scale)
    return plan, round(_expected(city, plan) + extra * scale), scale


def generate_records(
    city: City,
    *,
    registry: Registry,
    seed: int = 2014,
    target_records: int | None = None,
) -> Iterator[dict[str, object]]:
    """Yield the city's credit records as ingest rows (the fields of :data:`ledger.FIELDS`).

    Subjects are taken in blocks of :data:`BLOCK`, in the city's order; a block's records come
    out ordered by subject, then date of occurrence. Only items whose allowed sources include one
    of ``city.agencies`` are generated. ``target_records`` rescales every base rate by one factor
    so that the expected total is the target (see the package docstring, ``socialcredit.synth``).
    """
    plan, _, scale = _scaled(city, registry, target_records)
    if not plan.items:
        return
    is_org = np.array([s.kind == "organisation" for s in city.subjects], dtype=bool)
    by_name = {d.name: i for i, d in enumerate(DISTRICTS)}
    district = np.array([by_name.get(s.district or "", 0) for s in city.subjects], dtype=np.int64)
    start = city.start
    dates = [(start + dt.timedelta(days=i)).isoformat() for i in range(plan.days)]
    years = [(start + dt.timedelta(days=i)).year for i in range(plan.days)]
    times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
    counters: dict[str, int] = {}
    cases: dict[tuple[int, int, str], int] = {}
    courts = [(d.current_code[2:], d.court) for d in DISTRICTS]
    for block, lo in enumerate(range(0, len(city.subjects), BLOCK)):
        hi = min(lo + BLOCK, len(city.subjects))
        rng = np.random.default_rng([seed, 1, block])
        yield from _block(
            rng,
            plan,
            city.subjects[lo:hi],
            is_org[lo:hi],
            district[lo:hi],
            dates,
            years,
            times,
            counters,
            cases,
            courts,
        )
    yield from optin.own_records(city, registry, seed, dates, times, scale)


def _block(
    rng: np.random.Generator,
    plan: _Plan,
    subjects: Sequence[SubjectRow],
    is_org: BoolArray,
    district: IntArray,
    dates: list[str],
    years: list[int],
    times: list[str],
    counters: dict[str, int],
    cases: dict[tuple[int, int, str], int],
    courts: list[tuple[str, str]],
) -> Iterator[dict[str, object]]:
    m = len(subjects)
    days = plan.days
    negative = rng.gamma(NEGATIVE_SHAPE, 1 / NEGATIVE_SHAPE, m)
    positive = rng.gamma(POSITIVE_SHAPE, 1 / POSITIVE_SHAPE, m)
    propensity = np.where(
        plan.sign[None, :] < 0, negative[:, None], np.where(plan.sign[None, :] > 0, positive[:, None], 1.0)
    )
    applies = np.where(is_org[:, None], plan.org_ok[None, :], plan.person_ok[None, :])
    applies &= plan.independent[None, :]
    lam = propensity * (plan.rate * days)[None, :] * applies
    counts = rng.poisson(lam)
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    subj = np.repeat(rows, reps).astype(np.int64)
    item = np.repeat(cols, reps).astype(np.int64)
    occurred = rng.integers(0, days, len(subj))
    parent = np.full(len(subj), -1, dtype=np.int64)

    # Follow-ups: fulfilment of a share of the listings, some months later, inside the window.
    g = np.flatnonzero(plan.ground[item])
    if len(g):
        performs = rng.random(len(g)) < FULFILMENT_SHARE
        delay = FULFILMENT_MIN_DAYS + np.floor(rng.exponential(FULFILMENT_MEAN_EXTRA_DAYS, len(g)))
        when = occurred[g] + delay.astype(np.int64)
        pick = rng.random(len(g))
        chosen = np.full(len(g), -1, dtype=np.int64)
        for k in range(len(g)):
            opts, cum = (plan.follow_org if is_org[subj[g[k]]] else plan.follow_person)[int(item[g[k]])]
            if len(opts):
                chosen[k] = opts[min(int(np.searchsorted(cum, pick[k], side="right")), len(opts) - 1)]
        keep = performs & (when < days) & (chosen >= 0)
        subj = np.concatenate([subj, subj[g][keep]])
        item = np.concatenate([item, chosen[keep]])
        occurred = np.concatenate([occurred, when[keep]])
        parent = np.concatenate([parent, g[keep]])

    n = len(subj)
    lag = np.minimum(rng.geometric(LAG_P, n) - 1, MAX_LAG_DAYS)
    reported = np.minimum(occurred + lag, days - 1)
    # office hours in China (08:00 to 20:00, UTC+8), stored as UTC like every time: a record is
    # reported on the day, in China, that its date says (rules.days)
    seconds = rng.integers(0, 12 * 3600, n)
    source_pick = rng.random(n)
    amount = np.round(rng.lognormal(np.log(30_000.0), 1.0, n) * np.where(is_org[subj], 10.0, 1.0), -3)
    order = np.lexsort((np.arange(n), occurred, subj))

    items = plan.items
    sources = plan.sources
    cols_l = item.tolist()
    subj_l = subj.tolist()
    occ_l = occurred.tolist()
    rep_l = reported.tolist()
    sec_l = seconds.tolist()
    pick_l = source_pick.tolist()
    amt_l = amount.tolist()
    par_l = parent.tolist()
    dist_l = district.tolist()
    ground_l = plan.ground.tolist()
    case_of: dict[int, tuple[str, str, str]] = {}
    for r in order.tolist():
        j = cols_l[r]
        it = items[j]
        srcs = sources[j]
        source = srcs[min(int(pick_l[r] * len(srcs)), len(srcs) - 1)]
        nr = counters.get(source, 0) + 1
        counters[source] = nr
        o = occ_l[r]
        year = years[o]
        details: dict[str, object] = {}
        p = par_l[r]
        if p >= 0 and p in case_of:
            case_number, court, obligation = case_of[p]
            evidence = f"case {case_number}: {it.title.lower()}"
            details = {
                "case_number": case_number,
                "court": court,
                "obligation": obligation,
                "performance": it.title,
            }
            for name, least, most, _list in plan.stated.get(it.code, ()):  # an extension's years
                details[name] = least + nr % (most - least + 1)
        elif source == "court":
            d = dist_l[subj_l[r]]
            code4, court = courts[d]
            kind = "Zhi" if ground_l[j] else "Xing Chu" if it.severity == "serious" else "Min Chu"
            key = (d, year, kind)
            cases[key] = cases.get(key, 0) + 1
            case_number = f"({year}) Lu {code4} {kind} {cases[key]}"
            evidence = f"case {case_number}"
            details = {"case_number": case_number, "court": court}
            if ground_l[j]:
                obligation = f"pay {int(amt_l[r]) or 1000:,} yuan"
                details["obligation"] = obligation
                details["performance"] = "none"
                case_of[r] = (case_number, court, obligation)
        else:
            label, prefix = (
                _EVIDENCE_POSITIVE.get(source) if it.polarity == "positive" else None
            ) or _EVIDENCE.get(source, ("reference", source.upper()))
            evidence = f"{label} {prefix}-{year}-{nr:07d}"
        yield {
            "subject": subjects[subj_l[r]].code,
            "item": it.code,
            "source": source,
            "source_record_id": f"{source}-{nr:09d}",
            "occurred_on": dates[o],
            "reported_at": f"{dates[rep_l[r]]}T{times[sec_l[r]]}",
            "evidence": evidence,
            "action": "report",
            "corrects": None,
            "details": details,
        }
