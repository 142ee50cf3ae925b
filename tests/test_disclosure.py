"""Disclosure: public lists publish exactly their published fields; public lookup follows the
schemes; the transparency report adds up. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from socialcredit import access, codes
from socialcredit.service import NotFound, Question, System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.dueprocess import feed, key, rec

P, REP, ORG = person(51), person(52), org(51)
COURT_FIELDS = [
    "name",
    "sex",
    "age",
    "id_number_masked",
    "legal_representative",
    "obligation",
    "performance",
    "conduct",
    "case_number",
    "court",
]


@pytest.fixture
def listed(system: System) -> System:
    system.register(
        [
            SubjectRow(P, "person", "Zhang San", district="Rongcheng"),
            SubjectRow(REP, "person", "Li Si", district="Huancui"),
            SubjectRow(ORG, "organisation", "Weihai Example Ltd", legal_representative=REP),
        ]
    )
    details = {
        "case_number": "(2026) Lu 1082 Zhi 77",
        "court": "Rongcheng People's Court",
        "obligation": "pay 48,000 yuan",
        "performance": "none",
    }
    feed(
        system,
        rec(1, P, "court.dishonest.able-but-refuses", "court", "2026-10-05", details=details),
        rec(
            2,
            ORG,
            "court.dishonest.evades-enforcement",
            "court",
            "2026-10-06",
            details={**details, "case_number": "(2026) Lu 1082 Zhi 78"},
        ),
        rec(3, P, "traffic.minor", "traffic-police", "2026-10-07"),
    )
    return system


def test_court_list_publishes_exactly_its_fields(listed: System) -> None:
    rows = listed.public_list("court-dishonest-debtors/dishonest-debtors")
    assert len(rows) == 2  # the person and the organisation; the representative is on the org's row
    for row in rows:
        assert list(row) == COURT_FIELDS
    person_row = next(r for r in rows if r["name"] == "Zhang San")
    assert person_row["id_number_masked"] == codes.mask(P) and P not in str(rows)
    assert person_row["sex"] == "M" and person_row["age"] == 36
    assert person_row["conduct"] == listed.registry.item_defs["court.dishonest.able-but-refuses"].title
    assert (person_row["case_number"], person_row["obligation"]) == (
        "(2026) Lu 1082 Zhi 77",
        "pay 48,000 yuan",
    )
    org_row = next(r for r in rows if r["name"] == "Weihai Example Ltd")
    assert org_row["id_number_masked"] == ORG
    with pytest.raises(NotFound):
        listed.public_list("court/nothing")


def test_an_organisations_row_names_its_legal_representative_only(listed: System) -> None:
    """Art. 6: the published fields are "(for an organisation: name, code and legal
    representative's name)": the representative's name, not their ID number, masked or not
    (it was published with their masked ID number beside the name)."""
    rows = listed.public_list("court-dishonest-debtors/dishonest-debtors")
    org_row = next(r for r in rows if r["name"] == "Weihai Example Ltd")
    assert org_row["legal_representative"] == "Li Si"
    assert REP not in str(rows) and codes.mask(REP) not in str(rows)


def test_public_list_drops_an_overturned_listing(listed: System) -> None:
    me = key(listed, "subject", P)
    o = listed.file_objection(
        principal=me, subject=P, list_id="court-dishonest-debtors/dishonest-debtors", statement="paid"
    )
    assert len(listed.public_list("court-dishonest-debtors/dishonest-debtors")) == 2  # the court list stays
    listed.decide_objection(principal=listed.operator(), objection_id=o.id, upheld=True, reason="paid")
    names = [r["name"] for r in listed.public_list("court-dishonest-debtors/dishonest-debtors")]
    assert names == ["Weihai Example Ltd"]


def test_public_lookup_follows_the_schemes(listed: System) -> None:
    found = listed.public_lookup(ORG)
    assert found["name"] == "Weihai Example Ltd" and [r["item"] for r in found["records"]] == [
        "court.dishonest.evades-enforcement"
    ]
    assert found["lists"][0]["list"] == "court-dishonest-debtors/dishonest-debtors"
    with pytest.raises(access.AccessDenied, match="private"):
        listed.public_lookup(P)


def test_transparency_report(listed: System, clock: Clock) -> None:
    for _ in range(2):
        listed.check(Question(P, "no-flights", listed.operator(), purpose="ticket"))
    listed.check(Question(REP, "no-flights", listed.operator(), purpose="ticket"))
    me = key(listed, "subject", P)
    minor = next(r.record_id for r in listed.view(P).records if r.item == "traffic.minor")
    listed.file_objection(principal=me, subject=P, record_id=minor, statement="not me")
    report = listed.transparency()
    assert report["lists"] == {
        "court-dishonest-debtors/dishonest-debtors": 3,  # person, org, representative
        "enterprise-credit/red-rated": 1,  # the org: a court listing rates it red
    }
    assert report["measures_applied"] == {"no-flights": {"deny": 3}}
    assert report["objections"]["filed"] == 1 and report["objections"]["open"] == 1
    assert report["subjects"] == 3 and report["records"] == 3
    rc = report["scores_by_district"]["rongcheng"]
    assert rc["Rongcheng"] == {"subjects": 1, "mean": 1000 - 100 - 5, "grades": {"B": 1}}
    assert rc["Huancui"] == {"subjects": 1, "mean": 1000.0, "grades": {"A": 1}}
    assert sum(v["subjects"] for v in report["scores_by_age_band"]["rongcheng"].values()) == 2
    assert {a["source"] for a in report["source_accuracy"]} == {"court", "traffic-police"}


def test_incremental_scan_equals_a_full_scan(listed: System) -> None:
    first = listed.scan()
    assert {s.code for s in first} == {P, REP, ORG}
    # new records (one for a new subject), an objection and a correction since the last scan
    feed(
        listed,
        rec(10, person(53), "traffic.red-light", "traffic-police", "2026-10-20"),
        rec(11, REP, "health.blood-donation", "red-cross", "2026-10-21"),
    )
    me = key(listed, "subject", P)
    o = listed.file_objection(
        principal=me, subject=P, list_id="court-dishonest-debtors/dishonest-debtors", statement="paid"
    )
    listed.decide_objection(principal=listed.operator(), objection_id=o.id, upheld=True, reason="paid")
    incremental = listed.scan()
    listed.disclosure.scans.forget()
    full = listed.scan()
    assert incremental == full
    assert {s.code for s in full} == {P, REP, ORG, person(53)}
    assert not [e for s in full if s.code == P for e in s.entries if e.status == "active"]


def test_public_lookup_publishes_a_penalty_only_within_its_publication_period(
    system: System, clock: Clock
) -> None:
    """National credit restoration measures (DOMAIN.md): "Publication of administrative penalties
    lasts: minor, not published or at most 3 months; general, 3 months to 1 year; serious, 1 to
    3 years." An organisation's serious customs penalty of 2021 and a general tax penalty of
    2025 were still looked up by the public in November 2026, as long as they counted for the
    score (5 and 3 years). They count still; they are no longer published."""
    o = org(77)
    feed(
        system,
        rec(1, o, "customs.violation", "customs", "2021-12-01"),  # serious: published to 2024-12-01
        rec(2, o, "tax.arrears", "tax", "2025-01-01"),  # general: published to 2026-01-01
        rec(3, o, "tax.arrears", "tax", "2026-06-01"),  # general, within its year
        rec(4, o, "tax.a-grade-taxpayer", "tax", "2025-01-01"),  # not a penalty
    )
    shown = [(r["item"], str(r["occurred_on"])) for r in system.public_lookup(o)["records"]]
    assert sorted(shown) == [("tax.a-grade-taxpayer", "2025-01-01"), ("tax.arrears", "2026-06-01")]
    assert system.view(o).scores["rongcheng"].score == 1000 - 50 - 30 - 30 + 20  # they count still
    clock.now = dt.datetime(2027, 6, 1, 15, 59)  # 23:59 on 1 June 2027 in China: its last day
    assert ("tax.arrears", "2026-06-01") in [
        (r["item"], str(r["occurred_on"])) for r in system.public_lookup(o)["records"]
    ]
    clock.now = dt.datetime(2027, 6, 1, 16, 0)  # 2 June in China
    assert [r["item"] for r in system.public_lookup(o)["records"]] == ["tax.a-grade-taxpayer"]
