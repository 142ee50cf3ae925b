"""The synthetic city: valid and unique identity codes, determinism, volumes, and rows the
ledger accepts."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import pytest
from stdnum.cn import ric, uscc

from socialcredit import codes, synth
from socialcredit.intake import validate_row
from socialcredit.ledger import FIELDS
from socialcredit.schemes.loader import Registry, parse_scheme, shipped_registry
from socialcredit.store.sql import SubjectRow

NOW = dt.datetime(2026, 11, 1)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return shipped_registry()


@pytest.fixture(scope="module")
def city(registry: Registry) -> synth.City:
    return synth.generate_city(residents=2_000, registry=registry)


@pytest.fixture(scope="module")
def records(city: synth.City, registry: Registry) -> list[dict[str, object]]:
    return list(synth.generate_records(city, registry=registry))


def _persons(city: synth.City) -> list[SubjectRow]:
    return [s for s in city.subjects if s.kind == "person"]


def _orgs(city: synth.City) -> list[SubjectRow]:
    return [s for s in city.subjects if s.kind == "organisation"]


# ---------------------------------------------------------------------------------- the city


def test_city_shape(city: synth.City) -> None:
    assert len(_persons(city)) == 2_000
    assert len(_orgs(city)) == 100  # residents // 20
    assert city.subjects[:2_000] == _persons(city)  # residents first
    assert (city.start, city.end) == (dt.date(2023, 11, 1), dt.date(2026, 10, 31))
    assert len(city.agencies) == 20
    assert city.agencies == sorted(city.agencies)


def test_person_codes_are_valid_resident_ids(city: synth.City) -> None:
    first, last = synth.BIRTH_YEARS
    for s in _persons(city):
        assert ric.validate(s.code) == s.code
        assert first <= ric.get_birth_date(s.code).year <= last
        assert s.code[-1] == ric.calc_check_digit(s.code)
        assert s.sex == ("M" if int(s.code[16]) % 2 else "F")  # order code odd for men
        assert s.name and s.name.split()[0].isalpha()
        assert s.district in {d.name for d in synth.DISTRICTS}


def test_org_codes_are_valid_usccs(city: synth.City) -> None:
    for s in _orgs(city):
        assert uscc.validate(s.code) == s.code
        assert codes.validate(s.code, "organisation").value == s.code  # GB 11714 check too
        assert s.code.startswith("91")
        assert not ric.is_valid(s.code)  # never mistaken for a person
        assert s.name and s.name.endswith("Co., Ltd.")


def test_codes_are_unique() -> None:
    city = synth.generate_city(residents=20_000, organisations=5_000)
    codes = [s.code for s in city.subjects]
    assert len(set(codes)) == len(codes) == 25_000


def test_every_district_has_a_valid_code_for_every_birth_year() -> None:
    first, last = synth.BIRTH_YEARS
    for d in synth.DISTRICTS:
        assert ric.get_birth_place(f"{d.current_code}20200101" + "0010")  # the current code is real
        for year in range(first, last + 1):
            found = [
                code
                for code, _s, _e in d.region_codes
                if ric.is_valid(f"{code}{year}0701001" + ric.calc_check_digit(f"{code}{year}07010010"))
            ]
            assert found, (d.name, year)


def test_organisations_are_represented_by_adult_residents(city: synth.City) -> None:
    persons = {s.code: s for s in _persons(city)}
    for s in _orgs(city):
        assert s.legal_representative in persons
        assert s.representative_since is not None
        born = ric.get_birth_date(s.legal_representative)
        assert (s.representative_since - born).days >= 22 * 365
        assert s.representative_since < city.start


def test_default_city_size_and_explicit_organisations() -> None:
    assert len(_orgs(synth.generate_city(residents=10))) == 1
    small = synth.generate_city(residents=50, organisations=7, years=1, end=dt.date(2025, 3, 31))
    assert len(_orgs(small)) == 7
    assert (small.start, small.end) == (dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    with pytest.raises(ValueError):
        synth.generate_city(residents=0)


# ---------------------------------------------------------------------------------- determinism


def test_deterministic(city: synth.City, records: list[dict[str, object]], registry: Registry) -> None:
    again = synth.generate_city(residents=2_000, registry=registry)
    assert again == city
    assert list(synth.generate_records(again, registry=registry)) == records
    other = synth.generate_city(residents=2_000, seed=7, registry=registry)
    assert other.subjects != city.subjects


def test_independent_of_scheme_load_order(city: synth.City, records: list[dict[str, object]]) -> None:
    reg = shipped_registry()
    reversed_reg = Registry.of(reversed(list(reg.schemes.values())))
    out = list(synth.generate_records(city, registry=reversed_reg))
    assert json.dumps(out, sort_keys=True) == json.dumps(records, sort_keys=True)


# ---------------------------------------------------------------------------------- records


def test_count_close_to_estimate(
    city: synth.City, records: list[dict[str, object]], registry: Registry
) -> None:
    expected = synth.estimate_records(city, registry)
    assert abs(len(records) - expected) <= 0.1 * expected


def test_target_records_rescales(city: synth.City, registry: Registry) -> None:
    target = 10 * 2_000
    assert synth.estimate_records(city, registry, target_records=target) == target
    got = sum(1 for _ in synth.generate_records(city, registry=registry, target_records=target))
    assert abs(got - target) <= 0.1 * target
    assert list(synth.generate_records(city, registry=registry, target_records=0)) == []


def test_records_allowed_by_registry(
    city: synth.City, records: list[dict[str, object]], registry: Registry
) -> None:
    kinds = {s.code: s.kind for s in city.subjects}
    items = registry.items()
    allowed_kinds: dict[str, set[str]] = {}
    for s in registry.schemes.values():
        for it in s.items:
            allowed_kinds.setdefault(it.code, set()).update(it.subjects)
    for r in records:
        assert set(r) == set(FIELDS) - {"corrects_source_record_id"}  # an agency's own correction field
        assert r["item"] in items
        assert r["source"] in registry.sources_by_item[str(r["item"])]
        assert r["source"] in city.agencies or r["source"] in synth.NOT_AGENCIES
        assert kinds[str(r["subject"])] in allowed_kinds[str(r["item"])]


def test_rows_pass_ledger_validation(records: list[dict[str, object]], registry: Registry) -> None:
    for r in records:
        validate_row(r, registry=registry, now=NOW)


def test_ids_dates_and_lags(city: synth.City, records: list[dict[str, object]]) -> None:
    ids = [(r["source"], r["source_record_id"]) for r in records]
    assert len(set(ids)) == len(ids)
    for r in records:
        occurred = dt.date.fromisoformat(str(r["occurred_on"]))
        reported = dt.datetime.fromisoformat(str(r["reported_at"]))
        assert city.start <= occurred <= reported.date() <= city.end
        assert (reported.date() - occurred).days <= 30
        assert str(r["source_record_id"]).startswith(f"{r['source']}-")
        assert r["evidence"]


def test_spread_of_records_per_subject(city: synth.City, records: list[dict[str, object]]) -> None:
    per = Counter(str(r["subject"]) for r in records)
    counts = sorted(per.get(s.code, 0) for s in _persons(city))
    median, p99 = counts[len(counts) // 2], counts[int(len(counts) * 0.99)]
    assert 2 <= median <= 12
    assert p99 >= 3 * median  # a heavy tail


def test_court_listings_are_followed_by_fulfilment(
    records: list[dict[str, object]], registry: Registry
) -> None:
    lst = registry.list_def("court-dishonest-debtors/dishonest-debtors")
    grounds = [r for r in records if r["item"] in lst.criteria.items]
    fulfils = [r for r in records if r["item"] in (*lst.removal_items, *lst.extension_items)]
    assert grounds and fulfils
    by_case = {}
    for g in grounds:
        details = g["details"]
        assert isinstance(details, dict)
        assert set(details) == {"case_number", "court", "obligation", "performance"}
        assert details["performance"] == "none"
        assert " Zhi " in details["case_number"] and str(details["obligation"]).startswith("pay ")
        assert g["evidence"] == f"case {details['case_number']}"
        by_case[details["case_number"]] = g
    assert len(by_case) == len(grounds)  # case numbers are unique
    for f in fulfils:
        details = f["details"]
        assert isinstance(details, dict)
        g = by_case[details["case_number"]]
        assert g["subject"] == f["subject"]
        assert str(f["occurred_on"]) >= str(g["occurred_on"])
        days = (
            dt.date.fromisoformat(str(f["occurred_on"])) - dt.date.fromisoformat(str(g["occurred_on"]))
        ).days
        assert days >= synth.FULFILMENT_MIN_DAYS
        assert details["obligation"] == g["details"]["obligation"]  # type: ignore[index]
    assert 0.2 * len(grounds) <= len(fulfils) <= synth.FULFILMENT_SHARE * len(grounds) * 1.3


def test_custom_registry_and_agencies() -> None:
    scheme = parse_scheme(
        """
id: tiny
title: Tiny
jurisdiction: Test
items:
  - {code: a.bad, title: Bad, area: social, polarity: negative, points: -5, sources: [x, y],
     subjects: [person], base_rate_per_year: 2.0}
  - {code: a.good, title: Good, area: social, polarity: positive, points: 5, sources: [z],
     base_rate_per_year: 1.0}
  - {code: a.never, title: Never, area: social, polarity: negative, points: -5, sources: [x]}
"""
    )
    reg = Registry.of([scheme])
    city = synth.generate_city(residents=500, organisations=50, years=2, registry=reg)
    assert city.agencies == ["x", "y", "z"]
    rows = list(synth.generate_records(city, registry=reg))
    expected = synth.estimate_records(city, reg)
    assert expected == round((2.0 * 500 + 1.0 * 550) * city_days(city) / 365.25)
    assert abs(len(rows) - expected) <= 0.1 * expected
    assert {r["item"] for r in rows} == {"a.bad", "a.good"}
    assert {r["source"] for r in rows if r["item"] == "a.bad"} == {"x", "y"}
    for r in rows:
        validate_row(r, registry=reg, now=NOW)
    # An agency missing from the city: its items are not generated.
    narrowed = synth.City(city.subjects, ["z"], city.start, city.end)
    assert {r["item"] for r in synth.generate_records(narrowed, registry=reg)} == {"a.good"}


def city_days(city: synth.City) -> int:
    return (city.end - city.start).days + 1


@pytest.mark.slow
def test_full_city_timing(registry: Registry) -> None:
    t0 = time.perf_counter()
    city = synth.generate_city(residents=100_000, registry=registry)
    t1 = time.perf_counter()
    n = sum(1 for _ in synth.generate_records(city, registry=registry, target_records=1_000_000))
    t2 = time.perf_counter()
    print(
        f"\n100k residents + {len(_orgs(city))} organisations: city {t1 - t0:.2f} s, "
        f"{n:,} records in {t2 - t1:.2f} s ({n / (t2 - t1):,.0f}/s)"
    )
    assert n > 0
