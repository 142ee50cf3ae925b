"""An erasure on request erases the case files about the erased records (decision 0071), on
SQLite and PostgreSQL.

Issue 21 point 1: "Every table that holds personal data is covered the same way: records, audit
entries, case events..."; point 3: "Erasure on request ... The operator decides it as a case, with
the usual deadlines and a reason. The decision is audited; the audit entry names the subject
masked." DOMAIN.md: critics ask for "the right to correct and to be forgotten"; in the EU (GDPR)
"a person has rights of access, rectification and erasure".
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from socialcredit import access, codes
from socialcredit.dueprocess.cases import ErasureRequest
from socialcredit.errors import NotFound
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import caseepochs
from socialcredit.store import tables as t
from socialcredit.store.sql import Store
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.apps import served
from tests.support.dueprocess import rec
from tests.support.portal import client_for

P = person(81)
OPERATOR_2 = access.Principal("k-op2", "operator", "op-2")
ME = access.Principal("k-subject", "subject", P)


GAMES_ROW = rec(1, P, "consumption.video-game-hours", "online-platforms", "2026-02-01")
RED_ROW = rec(2, P, "traffic.red-light", "traffic-police", "2025-03-01")
ROWS = [GAMES_ROW, RED_ROW]


def _games(system: System) -> str:
    """The Sesame record's id, keyed by the test's store (decision 0080)."""
    return system.store.stored_record_id("online-platforms", "online-platforms-1")


def _old_red(system: System) -> str:
    return system.store.stored_record_id("traffic-police", "traffic-police-2")


def _rejected(system: System, record_id: str, statement: str) -> str:
    """An objection to ``record_id``, rejected (closed): its id."""
    o = system.file_objection(principal=ME, subject=P, record_id=record_id, statement=statement)
    system.decide_objection(
        principal=system.operator(), objection_id=o.id, upheld=False, reason="as recorded"
    )
    return o.id


def test_a_granted_erasure_erases_the_case_files_about_its_records(system: System, clock: Clock) -> None:
    op = system.operator()
    assert system.ingest(ROWS, origin="t", principal=op).accepted == 2
    about_games = _rejected(system, _games(system), "I never played that long")
    clock.now = dt.datetime(2027, 1, 4, 10)  # a case key per subject and filing year
    about_red = _rejected(system, _old_red(system), "the light was green")  # a record that stays
    case = system.file_erasure(principal=ME, subject=P, record_id=_games(system), statement="I left Sesame.")
    done = system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47")
    assert done.status == "granted"

    # the file about the erased record: unreadable, listed as "erased on D under rule R"
    live = {c.id for c in system.cases(principal=op, subject=P)}
    assert about_games not in live and {about_red, case.id} <= live
    with pytest.raises(NotFound) as gone:
        system.casefiles.objection(about_games)
    assert f"erased on {clock.now.date().isoformat()} under rule erasure on request, case {case.id}" in str(
        gone.value
    )
    erased = system.erased_cases(principal=ME, subject=P)
    assert [(e.case_id, e.case_kind, e.at, e.rule) for e in erased] == [
        (about_games, "objection", clock.now, done.rule)
    ]
    # the erasure's own file stays, and its decision is audited with the subject masked
    kept = system.casefiles.erasure(case.id)
    assert isinstance(kept, ErasureRequest) and kept.decision_reason == "PIPL Art. 47"
    [entry] = [e for e in system.audit_log(op) if e["detail"].get("case_id") == case.id]
    assert entry["action"] == "case-decide" and entry["subject"] == codes.mask(P)
    # every chain still verifies: the rows are there, only their key is gone
    assert system.verify() == {"records": [], "audit": [], "cases": [], "registry": []}

    # the subject may still object the same year: its next case is sealed under a new key
    clock.now += dt.timedelta(days=1)
    again = system.file_objection(
        principal=ME, subject=P, record_id=_old_red(system), statement="still green"
    )
    assert again.status == "under review"
    assert again.id in {c.id for c in system.cases(principal=op, subject=P)}
    assert system.verify()["cases"] == []


def test_a_case_file_about_a_kept_record_or_still_open_is_not_erased(system: System) -> None:
    """A case key holds every case the subject filed that year: it goes only if each of them is
    about the erased records and closed."""
    op = system.operator()
    system.ingest(ROWS, origin="t", principal=op)
    about_games = _rejected(system, _games(system), "I never played that long")
    about_red = system.file_objection(
        principal=ME, subject=P, record_id=_old_red(system), statement="green"
    ).id
    case = system.file_erasure(principal=ME, subject=P, record_id=_games(system), statement="I left Sesame.")
    system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47")
    live = {c.id for c in system.cases(principal=op, subject=P)}
    assert {about_games, about_red, case.id} <= live  # one key, an open case about a kept record
    assert system.erased_cases(principal=op, subject=P) == []


def _erased_objection(system: System) -> tuple[str, str]:
    """A closed objection about the Sesame record, erased with it on request: (its id, the
    request's)."""
    system.ingest(ROWS, origin="t", principal=system.operator())
    objection = _rejected(system, _games(system), "I never played that long")
    case = system.file_erasure(principal=ME, subject=P, record_id=_games(system), statement="I left Sesame.")
    system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47")
    return objection, case.id


def test_erased_case_files_are_listed_over_http(system: System, clock: Clock) -> None:
    objection, request = _erased_objection(system)
    client = TestClient(served(system))
    me = h(system, "subject", P)
    listed = client.get("/objections", params={"subject": P}, headers=me).json()
    assert objection not in {c["id"] for c in listed["data"]} and request in {c["id"] for c in listed["data"]}
    day = clock.now.date().isoformat()
    assert listed["erased"] == [
        {
            "id": objection,
            "kind": "objection",
            "filed_on": day,
            "erased_on": day,
            "rule": f"erasure on request, case {request}",
            "label": f"case {objection} was erased on {day} under rule erasure on request, case {request}",
        }
    ]
    assert "never played" not in json.dumps(listed)
    assert client.get("/objections", params={"subject": P, "open": "true"}, headers=me).json()["erased"] == []
    other = h(system, "subject", person(82))
    assert client.get("/objections", params={"subject": P}, headers=other).status_code == 403


def test_erased_case_files_are_listed_in_the_portal(system: System) -> None:
    objection, request = _erased_objection(system)
    app = served(system)
    page = f"/portal/subjects/{P}"
    shown = client_for(app, system.create_key("subject", P).token).get(page).text
    assert f'data-testid="erased-case-{objection}"' in shown and "never played" not in shown
    assert f"erasure on request, case {request}" in shown and "Erased case files" in shown
    chinese = client_for(app, system.create_key("subject", P).token, lang="zh-CN").get(page).text
    assert f'data-testid="erased-case-{objection}"' in chinese and f"依申请删除，案件 {request}" in chinese
    assert "Erased case files" not in chinese


def test_a_request_filed_before_0071_is_moved_off_its_years_case_key_and_its_grant_erases_them(
    store_url: str, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request filed before decision 0071 was sealed under ``cases.YEAR`` with the subject's
    other files of that year, so its grant could never destroy that key (the request's own file
    must stay readable) and those files outlived the records they were about. The first open of
    this release seals its events again under ``cases.era.YEAR`` as a new epoch of the cases
    chain (decision 0094), and the grant then erases the files about the erased record."""
    from socialcredit.settings import get_settings
    from socialcredit.store import cases as casestore
    from socialcredit.store import sealedcases

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    c = t.case_events.c
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        assert system.ingest(ROWS, origin="t", principal=system.operator()).accepted == 2
        about_games = _rejected(system, _games(system), "I never played that long")
        with monkeypatch.context() as m:  # as the release before 0071 sealed a request
            m.setattr(casestore, "case_class", lambda at, kind=None: sealedcases.case_class(at))
            case = system.file_erasure(
                principal=ME, subject=P, record_id=_games(system), statement="I left Sesame."
            )
        with store.engine.connect() as conn:
            assert {k for (k,) in conn.execute(select(c.klass).where(c.case_id == case.id))} == {"cases.2026"}
        heads = store.head("cases")
        with store.engine.begin() as conn:  # nor did that release keep the mark of a move
            conn.execute(delete(t.chain_heads).where(t.chain_heads.c.chain == caseepochs.MOVED))
    finally:
        store.close()

    store = Store(store_url)  # the first open of this release moves it
    try:
        system = System(store, shipped_registry(), clock=clock)
        with store.engine.connect() as conn:
            moved = {k for (k,) in conn.execute(select(c.klass).where(c.case_id == case.id))}
            epochs = conn.execute(select(t.epochs.c.count).where(t.epochs.c.chain == "cases")).scalars().all()
        assert moved == {"cases.era.2026"} and epochs == [heads[0]]
        assert store.head("cases")[0] == heads[0] and store.head("cases")[1] != heads[1]  # re-linked
        assert all(p == [] for p in system.verify().values()), system.verify()
        assert system.casefiles.erasure(case.id).status == "under review"  # reads as before
        done = system.decide_erasure(
            principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47"
        )
        live = {x.id for x in system.cases(principal=system.operator(), subject=P)}
        assert about_games not in live and case.id in live  # the file about it went with it
        assert system.casefiles.erasure(case.id).decision_reason == "PIPL Art. 47" and done.rule
        assert all(p == [] for p in system.verify().values()), system.verify()
    finally:
        store.close()
    store = Store(store_url)  # moved once: no further epoch
    try:
        with store.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(t.epochs).where(t.epochs.c.chain == "cases")
            )
            assert count.scalar_one() == 1
    finally:
        store.close()
        get_settings.cache_clear()


def test_an_erased_case_file_reads_on_the_day_in_china(system: System, clock: Clock) -> None:
    """Issue 21: what is erased reads "erased on D under rule R", and D is one day wherever it
    is shown: the day in China (``GET /objections``' ``erased_on``), also in the refusal to open
    the file. At 20:00 UTC on 4 January 2027 it is already 5 January in China."""
    system.ingest(ROWS, origin="t", principal=system.operator())
    about_games = _rejected(system, _games(system), "I never played that long")
    clock.now = dt.datetime(2027, 1, 4, 20)
    case = system.file_erasure(principal=ME, subject=P, record_id=_games(system), statement="I left Sesame.")
    system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47")
    with pytest.raises(NotFound) as gone:
        system.casefiles.objection(about_games)
    assert f"case {about_games} was erased on 2027-01-05 under rule" in str(gone.value)
