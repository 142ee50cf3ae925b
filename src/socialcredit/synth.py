"""A synthetic city: residents, organisations and the credit records agencies report about them.

The city is modelled on Weihai prefecture (Shandong), home of the Rongcheng pilot: residents live
in Rongcheng, Huancui, Wendeng or Rushan; most organisations are small companies whose legal
representative is one of the residents. Everything is invented, but every identity code is valid:
a person's code is a Resident ID number that python-stdnum's ``stdnum.cn.ric.validate`` accepts
(a region code of the district as it was coded in the birth year, the birth date, an order code
odd for men and even for women, and the MOD 11-2 check digit), and an organisation's code is a
Unified Social Credit Code that ``stdnum.cn.uscc.validate`` accepts, whose organisation code
also passes its own GB 11714 check (``codes.organisation_check_character``).

Records follow the base rates of the scheme catalogues: for every item that applies to a kind of
subject, the number of records a subject gets over the window is Poisson with mean
``base_rate_per_year x years x propensity``. Propensities are gamma distributed with mean 1 and a
heavy tail (one for misconduct, one for good deeds), so most subjects have a few records and a
minority many, which gives a realistic spread of grades. Court listings (the grounds of a list
that is removed on fulfilment) are followed, for about 60 per cent of them, by a fulfilment record
some months later, so listings also come off; a fulfilment that would fall after the window is
not generated. Fulfilment items are only generated this way, never on their own.

Each record is an ingest row (the fields of ``ledger.FIELDS``): a source drawn from the item's
allowed sources, ``source_record_id`` ``f"{source}-{n:09d}"`` numbered per source within one run
(so two runs with different seeds collide: ingest one of them), ``occurred_on`` uniform in the
window, ``reported_at`` 0-30 days later (mostly within a week, never after the window; in office
hours in China, 08:00 to 20:00 there, stored as UTC), an
evidence reference in the agency's style, and for court records ``details`` naming the case
number and court (listings also the obligation and ``"performance": "none"``; a fulfilment
repeats the listing's case, court and obligation and says how it was performed).

``target_records``: the shipped base rates give about 9 records per resident over 3 years (about
940,000 for the default 100,000 residents and 5,000 organisations); a caller that wants a given
volume passes ``target_records`` and every rate is multiplied by the same factor, so the expected
total equals the target and the mix of items is unchanged (:func:`estimate_records` gives the
expected total, for a progress bar).

Why deterministic: the demo, the tests and the benchmarks must show the same city every time, and
a bug seen in a generated ledger must be reproducible. So every random draw comes from numpy
``default_rng`` seeded by ``seed`` (records: one stream per block of subjects, so a block's
records do not depend on how the output is consumed), items and sources are taken in sorted
order rather than dict order, and the same arguments give byte-identical output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from socialcredit import codes
from socialcredit.schemes.loader import Registry, shipped_registry
from socialcredit.schemes.model import Item
from socialcredit.subjects import SubjectRow

__all__ = [
    "BIRTH_YEARS",
    "DISTRICTS",
    "FULFILMENT_SHARE",
    "City",
    "District",
    "estimate_records",
    "generate_city",
    "generate_records",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

BIRTH_YEARS = (1940, 2006)
"""Residents are born in these years (inclusive)."""
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


@dataclass(frozen=True)
class District:
    """A district of the city: its name, its court, how many live there, and its region codes.

    ``region_codes`` lists every code the district has had, oldest first, as
    ``(code, first_year, last_year)``; stdnum checks a person's region code against the birth year.
    """

    name: str
    current_code: str
    court: str
    weight: float
    region_codes: tuple[tuple[str, int | None, int | None], ...]


DISTRICTS: tuple[District, ...] = (
    District(
        "Rongcheng",
        "371082",
        "Rongcheng People's Court",
        0.55,
        (("372133", None, 1983), ("370633", 1983, 1987), ("371023", 1987, 1988), ("371082", 1989, None)),
    ),
    District(
        "Huancui",
        "371002",
        "Weihai Huancui District People's Court",
        0.2,
        (("372102", None, 1983), ("370620", 1983, 1987), ("371002", 1987, None)),
    ),
    District(
        "Wendeng",
        "371003",
        "Weihai Wendeng District People's Court",
        0.15,
        (
            ("372132", None, 1983),
            ("370632", 1983, 1987),
            ("371022", 1987, 1988),
            ("371081", 1989, 2014),
            ("371003", 2014, None),
        ),
    ),
    District(
        "Rushan",
        "371083",
        "Rushan People's Court",
        0.1,
        (("372130", None, 1983), ("370630", 1983, 1987), ("371021", 1987, 1993), ("371083", 1993, None)),
    ),
)

# Pinyin names, surnames roughly by frequency in Shandong.
# fmt: off
_SURNAMES = (
    "Wang", "Zhang", "Li", "Liu", "Chen", "Yang", "Zhao", "Sun", "Yu", "Zhou", "Xu", "Gao", "Ma", "Song",
    "Wu", "Guo", "Tang", "Cong", "Bi", "Qu", "Lin", "Hu", "Huang", "Zhu", "Lu", "Jiang", "Tian", "Han",
    "Yue", "Du"
)
_MALE = (
    "wei", "qiang", "jun", "yong", "jie", "tao", "ming", "hao", "lei", "gang", "peng", "bin", "hui", "jian",
    "feng", "bo", "chao", "long", "guo", "hai", "dong", "xin", "zhi", "cheng", "kai", "liang", "shan",
    "tian", "wen", "yu"
)
_FEMALE = (
    "xiu", "ying", "fang", "li", "na", "min", "jing", "yan", "hong", "mei", "juan", "lan", "xia", "ping",
    "yun", "qin", "hui", "ling", "xue", "dan", "lin", "ting", "yu", "qian", "zhen", "shu", "jie", "rong",
    "hua", "wen"
)
_BRAND = (
    "hai", "xing", "hua", "jin", "long", "xiang", "xin", "yuan", "heng", "tai", "rui", "feng", "sheng",
    "da", "fu", "kang", "shi", "dao", "tong", "ming", "cheng", "yu"
)
# fmt: on
_INDUSTRY = (
    "Seafood",
    "Fishing",
    "Marine Products",
    "Machinery",
    "Construction",
    "Trading",
    "Food",
    "Textile",
    "Logistics",
    "Tourism",
    "Pharmaceutical",
    "Electronics",
    "Tyre",
    "Auto Parts",
    "Agricultural Products",
    "Property Management",
)
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
class City:
    """A generated city: its subjects (residents first, then organisations), the agencies that
    report about them, and the window of time its records fall in (inclusive)."""

    subjects: list[SubjectRow]
    agencies: list[str]
    start: dt.date
    end: dt.date


# ---------------------------------------------------------------------------------- the city


@cache
def _region_table() -> tuple[tuple[int, ...], ...]:
    """For each district and birth year, the region code stdnum accepts for that year (the
    newest of the district's codes in force then)."""
    first, last = BIRTH_YEARS
    table: list[tuple[int, ...]] = []
    for d in DISTRICTS:
        row: list[int] = []
        for year in range(first, last + 1):
            chosen = None
            for code, _start, _end in reversed(d.region_codes):
                try:
                    ric.get_birth_place(f"{code}{year}0701" + "0010")
                except StdnumError:
                    continue
                chosen = int(code)
                break
            if chosen is None:  # pragma: no cover - the table above is checked by the tests
                raise AssertionError(f"no region code of {d.name} is valid in {year}")
            row.append(chosen)
        table.append(tuple(row))
    return tuple(table)


def _window(end: dt.date, years: int) -> dt.date:
    try:
        before = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        before = end.replace(year=end.year - years, day=28)
    return before + dt.timedelta(days=1)


def _person_codes(
    rng: np.random.Generator, district: IntArray, male: BoolArray
) -> tuple[list[str], IntArray]:
    """Unique valid resident ID numbers, and each person's birth date as days since 1970."""
    n = len(district)
    first, last = BIRTH_YEARS
    lo = np.datetime64(f"{first}-01-01", "D")
    span = int((np.datetime64(f"{last + 1}-01-01", "D") - lo).astype(np.int64))
    born = lo + rng.integers(0, span, n)
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = born.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (born - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    table = np.array(_region_table(), dtype=np.int64)
    region = table[district, year - first]
    stem = region * 10**11 + (year * 10_000 + month * 100 + day) * 1000
    sexbit = male.astype(np.int64)
    body = stem + 2 * rng.integers(1, 500, n) + sexbit
    while True:  # redraw the order code of the (rare) duplicates until all are unique
        _, first_at = np.unique(body, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first_at] = False
        k = int(dup.sum())
        if k == 0:
            break
        body[dup] = stem[dup] + 2 * rng.integers(1, 500, k) + sexbit[dup]
    out = []
    for b in body.tolist():
        text = f"{b:017d}"
        out.append(text + ric.calc_check_digit(text + "0"))
    days = born.astype(np.int64)
    return out, days


def _org_codes(rng: np.random.Generator, district: IntArray) -> list[str]:
    """Unique valid USCCs: '91' (market regulation, enterprise), the district's region code, an
    organisation code of the post-2015 'MA' series with its GB 11714 check, the USCC check."""
    alphabet = np.array(list(uscc._alphabet))
    n = len(district)
    seen: set[str] = set()
    out: list[str] = []
    for d in district.tolist():
        while True:
            tail = "".join(alphabet[rng.integers(0, len(alphabet), 6)].tolist())
            code8 = "MA" + tail
            if code8 not in seen:
                break
        seen.add(code8)
        head = "91" + DISTRICTS[d].current_code + code8 + codes.organisation_check_character(code8)
        out.append(head + uscc.calc_check_digit(head + "0"))
    assert len(out) == n
    return out


def _person_names(rng: np.random.Generator, male: BoolArray) -> list[str]:
    n = len(male)
    ranks = np.arange(1, len(_SURNAMES) + 1, dtype=np.float64)
    weights = 1.0 / ranks**0.8
    surname = rng.choice(len(_SURNAMES), size=n, p=weights / weights.sum())
    two = rng.random(n) < 0.7
    a = rng.random(n)
    b = rng.random(n)
    out = []
    for s, m, t, x, y in zip(
        surname.tolist(), male.tolist(), two.tolist(), a.tolist(), b.tolist(), strict=True
    ):
        pool = _MALE if m else _FEMALE
        given = pool[int(x * len(pool))].capitalize() + (pool[int(y * len(pool))] if t else "")
        out.append(f"{_SURNAMES[s]} {given}")
    return out


def generate_city(
    *,
    residents: int = 100_000,
    organisations: int | None = None,
    years: int = 3,
    seed: int = 2014,
    end: dt.date = dt.date(2026, 10, 31),
    registry: Registry | None = None,
) -> City:
    """Generate the residents and organisations of a city, deterministically from ``seed``.

    ``organisations`` defaults to one per 20 residents (at least one). The window of records is
    the ``years`` years ending on ``end``. The agencies are every source the registry (default:
    the shipped schemes) allows to report an item.
    """
    if residents < 1:
        raise ValueError("a city needs at least one resident")
    if years < 1:
        raise ValueError("years must be at least 1")
    n_org = max(1, residents // 20) if organisations is None else organisations
    if n_org < 0:
        raise ValueError("organisations cannot be negative")
    registry = registry if registry is not None else shipped_registry()
    start = _window(end, years)
    rng = np.random.default_rng(seed)
    weights = np.array([d.weight for d in DISTRICTS])
    weights = weights / weights.sum()

    district = rng.choice(len(DISTRICTS), size=residents, p=weights).astype(np.int64)
    male = rng.random(residents) < 0.5
    codes, born = _person_codes(rng, district, male)
    names = _person_names(rng, male)
    subjects = [
        SubjectRow(code=c, kind="person", name=nm, sex="M" if m else "F", district=DISTRICTS[d].name)
        for c, nm, m, d in zip(codes, names, male.tolist(), district.tolist(), strict=True)
    ]

    if n_org:
        o_district = rng.choice(len(DISTRICTS), size=n_org, p=weights).astype(np.int64)
        o_codes = _org_codes(rng, o_district)
        brand_a = rng.integers(0, len(_BRAND), n_org)
        brand_b = rng.integers(0, len(_BRAND), n_org)
        industry = rng.integers(0, len(_INDUSTRY), n_org)
        # Legal representatives: residents at least 22 years old at the start of the window,
        # chosen with replacement (some people represent several companies).
        start_day = int(np.datetime64(start, "D").astype(np.int64))
        adult = np.flatnonzero(born <= start_day - 22 * 365)
        pool = adult if len(adult) else np.arange(residents)
        rep = pool[rng.integers(0, len(pool), n_org)]
        earliest = np.maximum(born[rep] + 22 * 365, int(np.datetime64("1995-01-01", "D").astype(np.int64)))
        latest = np.maximum(earliest, start_day - 30)
        since = earliest + (rng.random(n_org) * (latest - earliest + 1)).astype(np.int64)
        epoch = dt.date(1970, 1, 1)
        for i in range(n_org):
            d = int(o_district[i])
            brand = _BRAND[int(brand_a[i])].capitalize() + _BRAND[int(brand_b[i])]
            subjects.append(
                SubjectRow(
                    code=o_codes[i],
                    kind="organisation",
                    name=f"{DISTRICTS[d].name} {brand} {_INDUSTRY[int(industry[i])]} Co., Ltd.",
                    district=DISTRICTS[d].name,
                    legal_representative=codes[int(rep[i])],
                    representative_since=epoch + dt.timedelta(days=int(since[i])),
                )
            )
    agencies = sorted(
        {s for sources in registry.sources_by_item.values() for s in sources if s not in NOT_AGENCIES}
    )
    return City(subjects=subjects, agencies=agencies, start=start, end=end)


# ---------------------------------------------------------------------------------- the records


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


def _expected_extra(city: City, registry: Registry) -> float:
    """The expected number of :func:`_applications` and :func:`_platform_records` rows."""
    total = 0.0
    for scheme in registry.schemes.values():
        rule = scheme.enrolment
        if rule is None or scheme.model is None or "self" not in scheme.item_index[rule.item].sources:
            continue
        rated = set(scheme.model.subjects) & set(scheme.item_index[rule.item].subjects)
        total += APPLY_SHARE * sum(1 for s in city.subjects if s.kind in rated)
    defs, kinds = _definitions(registry)
    years = ((city.end - city.start).days + 1) / 365.25
    for code, it in defs.items():
        if "online-platforms" in registry.sources_by_item.get(code, frozenset()):
            n = sum(1 for s in city.subjects if s.kind in kinds.get(code, set()))
            total += it.base_rate_per_year * years * n
    return total


def _scaled(city: City, registry: Registry, target_records: int | None) -> tuple[_Plan, int, float]:
    """The plan at the scale that meets ``target_records`` (1 without one), its expected total
    with the subjects' and platforms' own records, and the scale."""
    plan = _plan(city, registry, 1.0)
    extra = _expected_extra(city, registry)
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
    so that the expected total is the target (see the module docstring).
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
    yield from _applications(city, registry, seed, dates, times, scale)
    yield from _platform_records(city, registry, seed, dates, times, scale)


NOT_AGENCIES = ("self", "online-platforms")
"""Sources that are not the city's agencies: the subject itself (joining or leaving an opt-in
scheme) and a private platform (its purchase records). Their records are drawn in streams of
their own (:func:`_applications`, :func:`_platform_records`), after the agencies', so adding an
opt-in scheme or a platform's item leaves every agency record of the city as it was."""

APPLY_SHARE = 0.6
"""The share of the subjects an opt-in scheme rates who apply to it themselves (source ``self``)."""


def _applications(
    city: City, registry: Registry, seed: int, dates: list[str], times: list[str], scale: float
) -> Iterator[dict[str, object]]:
    """Applications to each opt-in scheme whose enrolment item the subject reports itself (source
    ``self``; Honest Shanghai): :data:`APPLY_SHARE` of the subjects its model rates, each on a
    uniform day of the window. Drawn from a stream of their own, after the agencies' records, so
    that adding an opt-in scheme leaves every other record of the city as it was."""
    n = 0
    for k, scheme in enumerate(sorted(registry.schemes.values(), key=lambda s: s.id)):
        rule = scheme.enrolment
        if rule is None or scheme.model is None or "self" not in scheme.item_index[rule.item].sources:
            continue
        rated = set(scheme.model.subjects) & set(scheme.item_index[rule.item].subjects)
        rng = np.random.default_rng([seed, 2, k])
        apply = rng.random(len(city.subjects)) < APPLY_SHARE * scale
        day = rng.integers(0, len(dates), len(city.subjects))
        second = rng.integers(0, 12 * 3600, len(city.subjects))
        for i, subject in enumerate(city.subjects):
            if not apply[i] or subject.kind not in rated:
                continue
            n += 1
            yield {
                "subject": subject.code,
                "item": rule.item,
                "source": "self",
                "source_record_id": f"self-{n:09d}",
                "occurred_on": dates[day[i]],
                "reported_at": f"{dates[day[i]]}T{times[second[i]]}",
                "evidence": f"application in the app {scheme.id}-{n:07d}",
                "action": "report",
                "corrects": None,
                "details": {},
            }


def _platform_records(
    city: City, registry: Registry, seed: int, dates: list[str], times: list[str], scale: float
) -> Iterator[dict[str, object]]:
    """A private platform's records (source ``online-platforms``: Sesame's purchase records):
    Poisson at the item's base rate over the window for every subject of a kind it applies to,
    on uniform days, reported the same day."""
    defs, kinds = _definitions(registry)
    years = len(dates) / 365.25
    n = 0
    for k, code in enumerate(sorted(defs)):
        it = defs[code]
        if "online-platforms" not in registry.sources_by_item.get(code, frozenset()):
            continue
        rng = np.random.default_rng([seed, 3, k])
        counts = rng.poisson(it.base_rate_per_year * years * scale, len(city.subjects))
        for i, subject in enumerate(city.subjects):
            if subject.kind not in kinds.get(code, set()):
                continue
            for _ in range(int(counts[i])):
                n += 1
                day = int(rng.integers(0, len(dates)))
                yield {
                    "subject": subject.code,
                    "item": code,
                    "source": "online-platforms",
                    "source_record_id": f"online-platforms-{n:09d}",
                    "occurred_on": dates[day],
                    "reported_at": f"{dates[day]}T{times[int(rng.integers(0, 12 * 3600))]}",
                    "evidence": f"purchase record OP-{n:07d}",
                    "action": "report",
                    "corrects": None,
                    "details": {},
                }


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
