"""The synthetic city's subjects: residents with valid Resident ID numbers in Weihai's four
districts, and organisations with valid Unified Social Credit Codes whose legal representatives
are residents (the package docstring, ``socialcredit.synth``, is the specification)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from socialcredit import codes
from socialcredit.schemes.loader import Registry, shipped_registry
from socialcredit.subjects import SubjectRow

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

BIRTH_YEARS = (1940, 2006)
"""Residents are born in these years (inclusive)."""


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


NOT_AGENCIES = ("self", "online-platforms")
"""Sources that are not the city's agencies: the subject itself (joining or leaving an opt-in
scheme) and a private platform (its purchase records). Their records are drawn in streams of
their own (``synth.optin``), after the agencies', so adding an opt-in scheme or a platform's item
leaves every agency record of the city as it was."""


@dataclass(frozen=True)
class City:
    """A generated city: its subjects (residents first, then organisations), the agencies that
    report about them, and the window of time its records fall in (inclusive)."""

    subjects: list[SubjectRow]
    agencies: list[str]
    start: dt.date
    end: dt.date


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
