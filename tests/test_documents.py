"""A subject has several documents (issue 17.3): each validated by its published format, linked
to the subject's one code with evidence, a relying party's question by any of them answered and
audited as the question by the code, a wrong link ended by an upheld objection. Runs on SQLite
and PostgreSQL.

The Supreme People's Court reported in 2018 that debtors evaded flight and rail bans "by buying
tickets with passports instead of ID cards, so relying parties must match every document a person
holds" (DOMAIN.md, the court's list)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from stdnum.cn import ric

from socialcredit import access, codes, documents
from socialcredit.cli.common import open_system
from socialcredit.documents import DocumentError
from socialcredit.errors import Conflict, NotFound, Refused
from socialcredit.service import Question, System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.api import h
from tests.support.cli import jrun, run
from tests.support.dueprocess import feed, key, rec

P, Q, ORG = person(71), person(72), org(71)
PASSPORT = "passport:CHN:E12345678"
DEBTOR_GROUND = "court.dishonest.able-but-refuses"


def with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


HK_PERMIT = with_check("81000019900101001")  # residence permit of a Hong Kong resident
FPR_2023 = with_check("91184019800101001")  # 9, Beijing (11), USA (840), born 1980-01-01


# --------------------------------------------------------------------------- validation per type


def test_residence_permit_numbers_are_person_codes() -> None:
    """Residence Permit for Hong Kong, Macao and Taiwan Residents (2018): numbered as a Resident
    Identity Card (GB 11643-1999) with region 810000, 820000 or 830000 and the same check."""
    for region in ("810000", "820000", "830000"):
        code = with_check(f"{region}19900101002")
        assert codes.validate(code).kind == "person"
        assert codes.person_document(code) == "residence-permit"
    assert not ric.is_valid(HK_PERMIT)  # python-stdnum refuses the region: why codes.py adds it
    wrong = HK_PERMIT[:-1] + ("0" if HK_PERMIT[-1] != "0" else "1")
    with pytest.raises(codes.InvalidChecksum):
        codes.validate(wrong)
    with pytest.raises(codes.InvalidRegion):  # 840000 is no region, nor a permit's
        codes.validate(with_check("84000019900101002"))


def test_foreigners_permanent_residence_card_of_2023_is_a_person_code() -> None:
    """2023 card: 9, province, 3-digit nationality, birth date, order code, GB 11643 check."""
    assert codes.validate(FPR_2023) == codes.Code("person", FPR_2023)
    assert codes.person_document(FPR_2023) == "fpr"
    assert str(documents.validate("fpr", FPR_2023)) == f"fpr:{FPR_2023}"
    with pytest.raises(codes.InvalidRegion):  # 99 is no province
        codes.validate(with_check("99984019800101001"))
    # an all-digit USCC of authority 9 stays an organisation's code
    assert codes.validate(ORG).kind == "organisation"
    # the card before 2023: 3-letter nationality (ISO 3166-1 alpha-3) and 12 digits
    assert documents.validate("fpr", "USA110090816201").number == "USA110090816201"
    with pytest.raises(DocumentError) as e:
        documents.validate("fpr", "QQQ110090816201")
    assert e.value.field == "number"


def test_passport_follows_icao_9303() -> None:
    """ICAO Doc 9303: document code P and an optional letter (Part 4), issuing state as ISO
    3166-1 alpha-3 or a code of Part 3 (D for Germany, UNO, XXA...), number of at most 9."""
    assert documents.parse("passport:chn:e12345678") == documents.Document(
        "passport", "E12345678", "CHN", "P"
    )
    assert (
        documents.validate("passport", "C01X00T47", issuing_state="D", passport_type="PD").issuing_state
        == "D"
    )
    assert documents.validate("passport", "123", issuing_state="UNO").passport_type == "P"
    refusals = [
        ({"issuing_state": "ZZZ"}, "issuing_state"),
        ({"issuing_state": None}, "issuing_state"),
        ({"issuing_state": "CHN", "passport_type": "V"}, "passport_type"),
        ({"issuing_state": "CHN", "passport_type": "PDX"}, "passport_type"),
    ]
    for kw, field in refusals:
        with pytest.raises(DocumentError) as e:
            documents.validate("passport", "E12345678", **kw)
        assert e.value.field == field, kw
    for number in ("E123456789", "E1234567!", ""):
        with pytest.raises(DocumentError) as e:
            documents.validate("passport", number, issuing_state="CHN")
        assert e.value.field == "number"


def test_travel_permits_and_identity_cards() -> None:
    """Mainland Travel Permit for HK/Macao residents: H or M and 8 digits (10 on the card);
    for Taiwan residents: 8 digits; a RIC and a residence permit are told apart by region."""
    assert documents.validate("hkm-permit", "h12345678").number == "H12345678"
    assert documents.validate("hkm-permit", "M1234567801").number == "M1234567801"
    assert documents.validate("tw-permit", "01234567").number == "01234567"
    assert documents.validate("ric", P).code == P
    assert documents.validate("residence-permit", HK_PERMIT).code == HK_PERMIT
    bad = [
        ("hkm-permit", "X12345678", "number"),
        ("hkm-permit", "H123456789", "number"),
        ("tw-permit", "1234567", "number"),
        ("ric", HK_PERMIT, "number"),  # a residence permit, not a RIC
        ("residence-permit", P, "number"),
        ("ric", P[:-1] + "Y", "number"),
        ("visa", "123", "type"),
    ]
    for kind, number, field in bad:
        with pytest.raises(DocumentError) as e:
            documents.validate(kind, number)
        assert e.value.field == field, (kind, number)
    with pytest.raises(DocumentError) as e:
        documents.validate("tw-permit", "01234567", issuing_state="TWN")
    assert e.value.field == "issuing_state"
    with pytest.raises(DocumentError) as e:
        documents.parse("E12345678")
    assert e.value.field == "document"


@pytest.mark.parametrize("junk", [None, "", 0, object(), "x" * 10_000, b"P", ["passport"]])
def test_junk_never_crashes(junk: object) -> None:
    with pytest.raises(DocumentError):
        documents.validate(junk, junk)
    with pytest.raises(DocumentError):
        documents.parse(junk)


# --------------------------------------------------------------------------- links in the store


def register(system: System) -> None:
    system.register([SubjectRow(P, "person"), SubjectRow(Q, "person"), SubjectRow(ORG, "organisation")])


def link(system: System, code: str, kind: str, number: str, state: str | None = None) -> object:
    return system.link_document(
        principal=system.operator(),
        code=code,
        type=kind,
        number=number,
        issuing_state=state,
        evidence="exit-entry bureau record 2026-118",
    )


def test_link_list_and_refuse_a_second_subject(system: System) -> None:
    register(system)
    link(system, P, "passport", "E12345678", "CHN")
    link(system, P, "hkm-permit", "H12345678")
    assert [x.document for x in system.document_links(principal=system.operator(), code=P)] == [
        PASSPORT,
        "hkm-permit:H12345678",
    ]
    with pytest.raises(Conflict) as e:
        link(system, Q, "passport", "e12345678", "chn")
    assert e.value.status == 409 and e.value.field == "number"
    assert codes.mask(P) in str(e.value) and codes.mask(Q) in str(e.value)
    assert P not in str(e.value) and Q not in str(e.value)
    with pytest.raises(Conflict):  # another registered subject's own code
        link(system, P, "ric", Q)
    with pytest.raises(Refused) as r:
        link(system, ORG, "passport", "E7654321", "CHN")
    assert r.value.field == "code"
    with pytest.raises(NotFound):
        link(system, person(79), "passport", "E7654321", "CHN")
    with pytest.raises(access.AccessDenied):
        system.link_document(
            principal=key(system, "subject", P), code=P, type="tw-permit", number="01234567", evidence="mine"
        )
    with pytest.raises(Refused) as r:
        system.link_document(
            principal=system.operator(), code=P, type="tw-permit", number="01234567", evidence=" "
        )
    assert r.value.field == "evidence"
    # the subject sees its own documents; nobody else but an operator does
    assert len(system.document_links(principal=key(system, "subject", P), code=P)) == 2
    with pytest.raises(access.AccessDenied):
        system.document_links(principal=key(system, "subject", Q), code=P)
    # the links are entries of the registry's chain: verified with it
    assert system.verify()["registry"] == []
    assert [e.row.code for e in system.store.registry_history(P)] == [P]  # registrations only


def test_decision_by_passport_is_the_decision_by_code(system: System) -> None:
    register(system)
    feed(system, rec(1, P, DEBTOR_GROUND, "court", "2026-10-20"))
    link(system, P, "passport", "E12345678", "CHN")
    subject, doc = system.resolve_document(PASSPORT)
    assert subject == P and doc.type == "passport"
    by_code = system.check(Question(P, "no-flights", system.operator(), purpose="boarding"))
    by_passport = system.check(
        Question(subject, "no-flights", system.operator(), purpose="boarding", via=doc.type)
    )
    assert not by_code.allowed and not by_passport.allowed
    assert by_code.reasons == by_passport.reasons
    first, second = system.store.audit_entries(subject=P, limit=2)[::-1]
    assert first["subject"] == second["subject"] == P
    assert first["answer"] == second["answer"] == "deny"
    # the same answer and entry, but for the document noted and each decision's own id
    one, two = dict(first["detail"]), dict(second["detail"])
    ids = one.pop("receipt").pop("decision_id"), two.pop("receipt").pop("decision_id")
    assert ids[0] != ids[1] and two == {**one, "via": "passport"}
    # a document nobody holds is no question about nobody
    with pytest.raises(NotFound) as e:
        system.resolve_document("passport:CHN:E00000000")
    assert e.value.field == "document"
    # a number that is itself a person code names that person, linked or not
    assert system.resolve_document(f"ric:{Q}")[0] == Q


def test_wrong_link_ended_by_upheld_objection(system: System, clock: Clock) -> None:
    register(system)
    feed(system, rec(1, Q, DEBTOR_GROUND, "court", "2026-10-20"))
    link(system, Q, "passport", "E12345678", "CHN")  # P's passport, linked to the debtor Q by mistake
    assert system.resolve_document(PASSPORT)[0] == Q
    o = system.file_objection(
        principal=key(system, "subject", Q),
        subject=Q,
        document=PASSPORT.lower(),
        statement="This passport is not mine; I hold no passport.",
        evidence=["exit-entry bureau certificate 2026-77"],
    )
    assert o.document == PASSPORT and o.record_ids == ()
    with pytest.raises(Conflict):
        system.file_objection(principal=system.operator(), subject=Q, document=PASSPORT, statement="again")
    with pytest.raises(NotFound):
        system.file_objection(principal=system.operator(), subject=P, document=PASSPORT, statement="not P's")
    clock.advance(days=1)
    decided = system.decide_objection(
        principal=system.operator("wang.fang"), objection_id=o.id, upheld=True, reason="bureau confirms"
    )
    assert decided.status == "corrected"
    with pytest.raises(NotFound):
        system.resolve_document(PASSPORT)
    [ended] = system.document_links(principal=system.operator(), code=Q)
    assert ended.valid_to == clock.now and ended.ended_by == o.id and ended.ended is not None
    # the debtor's own record is untouched; the passport may now be linked to its holder
    assert not system.check(Question(Q, "no-flights", system.operator(), purpose="t")).allowed
    link(system, P, "passport", "E12345678", "CHN")
    assert system.resolve_document(PASSPORT)[0] == P
    assert system.verify() == {"records": [], "audit": [], "cases": [], "registry": []}


# --------------------------------------------------------------------------- API and command line


def test_api_link_list_decide_by_passport(system: System, client: TestClient) -> None:
    register(system)
    feed(system, rec(1, P, DEBTOR_GROUND, "court", "2026-10-20"))
    op = h(system, "operator", "wang.fang")
    body = {"type": "passport", "issuing_state": "CHN", "number": "E12345678", "evidence": "bureau 118"}
    r = client.post(f"/subjects/{P}/documents", json=body, headers=op)
    assert r.status_code == 201 and r.json()["document"] == PASSPORT and r.json()["current"]
    r = client.post(f"/subjects/{Q}/documents", json=body, headers=op)
    assert r.status_code == 409 and r.json()["ok"] is False
    assert codes.mask(P) in r.json()["error"] and codes.mask(Q) in r.json()["error"]
    r = client.post(f"/subjects/{P}/documents", json={**body, "issuing_state": "ZZZ"}, headers=op)
    assert r.status_code == 422 and "issuing_state" in r.json()["error"]
    r = client.post(f"/subjects/{P}/documents", json=body, headers=h(system, "subject", P))
    assert r.status_code == 403
    listed = client.get(f"/subjects/{P}/documents", headers=h(system, "subject", P)).json()
    assert listed["count"] == 1 and listed["data"][0]["document"] == PASSPORT
    airline = h(system, "relying_party", "airlines")
    ask = {"measure": "no-flights", "purpose": "boarding CA1234"}
    by_code = client.post("/decisions", json={**ask, "subject": P}, headers=airline).json()
    by_passport = client.post(
        "/decisions", json={**ask, "document": "passport:CHN:E12345678"}, headers=airline
    )
    assert by_passport.status_code == 200

    def same(reply: dict[str, Any]) -> dict[str, Any]:  # but for the time and the decision's id
        return {**reply, "at": None, "receipt": {**reply["receipt"], "decision_id": None}}

    assert same(by_passport.json()) == same(by_code)
    assert by_code["answer"] == "deny"
    latest = system.store.audit_entries(subject=P, limit=1)[0]
    assert latest["subject"] == P and latest["detail"]["via"] == "passport"
    unknown = client.post("/decisions", json={**ask, "document": "passport:CHN:E00000000"}, headers=airline)
    assert unknown.status_code == 404 and "document" in unknown.json()["error"]
    both = client.post("/decisions", json={**ask, "subject": P, "document": PASSPORT}, headers=airline)
    assert both.status_code == 422


def test_cli_documents_and_check_by_document(env: Path) -> None:
    system = open_system()
    register(system)
    feed(system, rec(1, P, DEBTOR_GROUND, "court", "2026-10-20"))
    r = run(
        "documents", "link", P, "passport", "E12345678", "--issuing-state", "CHN", "--evidence", "bureau 118"
    )
    assert r.exit_code == 0, r.output
    r = run("documents", "link", Q, "passport", "E12345678", "--issuing-state", "CHN", "--evidence", "x")
    assert r.exit_code == 2 and codes.mask(P) in r.output
    r = run("documents", "link", P, "tw-permit", "123", "--evidence", "x")
    assert r.exit_code == 2 and "number" in r.output
    assert [d["document"] for d in jrun("documents", "list", P)["data"]] == [PASSPORT]
    denied = jrun("check", PASSPORT, "no-flights")
    by_code = jrun("check", P, "no-flights")
    assert denied["answer"] == "deny"
    assert {
        **denied,
        "at": None,
        "receipt": {**denied["receipt"], "decision_id": None, "as_of": None, "known_at": None},
    } == {
        **by_code,
        "at": None,
        "receipt": {**by_code["receipt"], "decision_id": None, "as_of": None, "known_at": None},
    }
    r = run("check", "passport:CHN:E00000000", "no-flights")
    assert r.exit_code == 2 and "no subject is known by this document" in r.output
