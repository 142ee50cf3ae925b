"""Consent to publicity and applying to an opt-in scheme (issue 19, point 3; decision 0042).

DOMAIN.md: "Red lists name the trustworthy, with 'stories of integrity' published." Rongcheng's
honour roll names a subject in public only while the subject consents, by a record of its own
(source ``self``), withdrawable at once (PIPL Art. 15: "individuals have the right to withdraw
their consent"); the entry, and the green lane the 2016 memorandum hangs on it, stand either way.
Honest Shanghai "rated those who asked": a subject applies over the API or the portal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from socialcredit.engines.base import rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.service import Question, System
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.apps import served
from tests.support.portal import client_for, post_form
from tests.support.records import feed, rec

P, Q = person(61), person(62)
HONOUR = "rongcheng/honour-roll"


def _honoured(system: System) -> None:
    """P reaches AAA (1,000 + 50 for a model worker's honour): on the honour roll, no notice."""
    feed(system, rec(1, P, "honour.model-worker", "trade-union", "2026-06-01"))
    assert system.view(P).scores["rongcheng"].grade == "AAA"


def _named(client: TestClient) -> list[object]:
    rows = client.get("/public/lists/rongcheng/honour-roll").json()["data"]
    return [r["name"] for r in rows]


def test_the_honour_roll_names_only_those_who_consent(
    system: System, client: TestClient, clock: Clock
) -> None:
    _honoured(system)
    system.register([SubjectRow(P, "person", name="Zhang Wei", district="Yatou")])
    mine = h(system, "subject", P)
    green = system.check(Question(P, "green-lane-services", system.operator(), purpose="services"))
    assert green.allowed  # on the roll, with its reward, before any consent
    assert "Zhang Wei" not in _named(client)  # but not named in public
    listing = client.get(f"/subjects/{P}/consents", headers=mine).json()["data"]
    assert [(c["list"], c["given"]) for c in listing] == [(HONOUR, False)]
    # nobody else may consent for P: another subject, an operator, an agency
    for other in (h(system, "subject", Q), h(system, "operator", "wang.fang"), h(system, "agency", "banks")):
        assert client.post(f"/subjects/{P}/consents/{HONOUR}/give", headers=other).status_code == 403
    given = client.post(f"/subjects/{P}/consents/{HONOUR}/give", headers=mine)
    assert given.status_code == 200, given.text
    assert given.json()["given"] is True
    assert _named(client) == ["Zhang Wei"]
    assert client.post(f"/subjects/{P}/consents/{HONOUR}/give", headers=mine).status_code == 409
    # withdrawn: off the published roll at once; the entry and the reward stand
    clock.advance(days=1)
    withdrawn = client.post(f"/subjects/{P}/consents/{HONOUR}/withdraw", headers=mine)
    assert withdrawn.status_code == 200 and withdrawn.json()["given"] is False
    assert "Zhang Wei" not in _named(client)
    assert [e.status for e in system.view(P).entries if e.qualified_id == HONOUR] == ["active"]
    assert system.check(Question(P, "green-lane-services", system.operator(), purpose="services")).allowed
    records = client.get(f"/subjects/{P}", headers=mine).json()["records"]
    assert [r["item"] for r in records if r["source"] == "self"] == [
        "rongcheng.publicity-consent",
        "rongcheng.publicity-withdrawn",
    ]
    # a list that asks no consent, an unknown one: named refusals
    assert client.post(f"/subjects/{P}/consents/rongcheng/d-grade/give", headers=mine).status_code == 404
    assert client.post(f"/subjects/{P}/consents/rongcheng/nope/withdraw", headers=mine).status_code == 404
    assert client.post(f"/subjects/{P}/consents/{HONOUR}/withdraw", headers=mine).status_code == 409


def test_the_list_counts_reconcile_with_consent(system: System, clock: Clock) -> None:
    """Issue 18's counts reconcile with decision 0042: an entry in force whose subject has not
    consented is counted apart (in force, not named), so the list page's rows, the report's
    "measures apply" and the census still add up, on the page and in the report."""
    _honoured(system)
    system.register([SubjectRow(P, "person", name="Zhang Wei", district="Yatou")])
    census = system.list_census()[HONOUR]
    assert (census.published, census.unnamed, census.in_force) == (0, 1, 1)
    assert len(system.public_list(HONOUR)) == census.published
    assert system.transparency()["lists"][HONOUR] == census.in_force

    page = client_for(served(system), None).get("/portal/lists/rongcheng/honour-roll").text
    assert "0 published + 0 through an organisation + 1 not named = 1" in page
    clock.advance(days=1)
    system.consent(P, HONOUR, system.authenticate(system.create_key("subject", P).token), give=True)
    census = system.list_census()[HONOUR]
    assert (census.published, census.unnamed, census.in_force) == (1, 0, 1)
    assert len(system.public_list(HONOUR)) == 1


def test_publication_in_the_past_follows_consent_as_it_stood(system: System, clock: Clock) -> None:
    _honoured(system)
    clock.now = dt.datetime(2026, 7, 1, 3)
    key = system.authenticate(system.create_key("subject", P).token)
    system.consent(P, HONOUR, key, give=True)
    clock.now = dt.datetime(2026, 8, 1, 3)
    system.consent(P, HONOUR, key, give=False)
    named = [len(system.public_list(HONOUR, dt.datetime(2026, m, 15))) for m in (6, 7, 8)]
    assert named == [0, 1, 0]


def test_applying_over_the_api_starts_the_rating(system: System, client: TestClient) -> None:
    feed(system, rec(1, Q, "traffic.red-light", "traffic-police", "2026-06-01"))
    mine = h(system, "subject", Q)
    standing = {e["scheme"]: e for e in client.get(f"/subjects/{Q}/enrolments", headers=mine).json()["data"]}
    assert standing["honest-shanghai"]["may_apply"] and not standing["sesame"]["may_apply"]
    assert (
        client.post(
            f"/subjects/{Q}/enrolments/honest-shanghai/apply", headers=h(system, "subject", P)
        ).status_code
        == 403
    )
    joined = client.post(f"/subjects/{Q}/enrolments/honest-shanghai/apply", headers=mine)
    assert joined.status_code == 200, joined.text
    assert joined.json()["status"] == "member"
    assert system.view(Q).scores["honest-shanghai"].grade == "good"
    again = client.post(f"/subjects/{Q}/enrolments/honest-shanghai/apply", headers=mine)
    assert again.status_code == 409 and "already a member" in again.json()["error"]
    # Sesame joins on the platform's identity check, which no subject reports; Rongcheng rates everyone
    sesame = client.post(f"/subjects/{Q}/enrolments/sesame/apply", headers=mine)
    assert sesame.status_code == 422 and "public-security" in sesame.json()["error"]
    assert client.post(f"/subjects/{Q}/enrolments/rongcheng/apply", headers=mine).status_code == 422
    assert client.post(f"/subjects/{Q}/enrolments/nope/apply", headers=mine).status_code == 404
    # the application is an administrative act: audited as the subject's own ingest
    audit = system.audit_log(system.operator(), limit=50)
    assert any(
        a["action"] == "ingest" and a["detail"].get("origin") == "apply:honest-shanghai" for a in audit
    )


def test_the_portal_has_apply_and_consent_buttons(system: System) -> None:
    _honoured(system)
    c = client_for(served(system), system.create_key("subject", P).token)
    page = c.get(f"/portal/subjects/{P}").text
    assert "Apply to Honest Shanghai" in page and "Consent to being named" in page
    r = post_form(c, f"/portal/subjects/{P}", f"/portal/subjects/{P}/enrolments/honest-shanghai/apply", {})
    assert r.status_code == 303, r.text
    r = post_form(c, f"/portal/subjects/{P}", f"/portal/subjects/{P}/consents/{HONOUR}/give", {})
    assert r.status_code == 303, r.text
    page = c.get(f"/portal/subjects/{P}").text
    assert 'data-testid="enrolment-honest-shanghai">member<' in page
    assert f'data-testid="consent-{HONOUR}">given<' in page and "Withdraw consent" in page
    zh = client_for(served(system), system.create_key("subject", P).token, lang="zh-CN")
    assert "撤回同意" in zh.get(f"/portal/subjects/{P}").text


def test_the_rescore_lists_whoever_consents(system: System, clock: Clock, tmp_path: Path) -> None:
    """Consent decides publication, not the entry: DuckDB's rescore lists P on the honour roll
    as the service does, with or without consent."""
    _honoured(system)
    clock.now = dt.datetime(2026, 7, 1, 3)
    system.consent(P, HONOUR, system.authenticate(system.create_key("subject", P).token), give=True)
    clock.now = dt.datetime(2026, 8, 1, 3)
    export_ledger(system.store, tmp_path / "export")
    # the honour roll's own scheme (Rongcheng's, whose grade A lists it): every shipped scheme's
    # rescore is the golden demo's; this test is about consent, and each scheme costs compiles
    rongcheng = [system.registry.scheme(HONOUR.split("/")[0])]
    engine = DuckDBEngine()
    try:
        for at in (dt.datetime(2026, 6, 15), dt.datetime(2026, 7, 15)):
            rescore(
                engine,
                tmp_path / "export",
                rongcheng,
                at,
                tmp_path / "s.parquet",
                list_schemes=rongcheng,
                lists_out=tmp_path / "l.parquet",
            )
            rows = pq.read_table(tmp_path / "l.parquet").to_pylist()
            got = sorted((r["subject"], r["status"]) for r in rows if r["list"] == HONOUR)
            want = sorted((P, e.status) for e in system.view(P, at).entries if e.qualified_id == HONOUR)
            assert got == want == [(P, "active")], at
    finally:
        engine.close()
