"""A subject page as known at K limits everything on it (issue 17: "the portal's subject page
shows both axes"): the cases, the documents and "who asked about me" as they stood at K, each
with a line saying how many later entries today's knowledge adds. Runs on SQLite and PostgreSQL.

Court's list, Art. 1(1) (DOMAIN.md) and the objection rules (15 days to review): an objection
filed after K was not known at K; the Supreme People's Court reported in 2018 that debtors evaded
bans "by buying tickets with passports", so documents are linked, and a link made after K was not
known at K; a relying party's question after K is not among the looks known at K."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI

from socialcredit.service import System
from socialcredit.service.decisions import Question
from socialcredit.store import SubjectRow
from tests.conftest import Clock, person
from tests.support.apps import served
from tests.support.dueprocess import feed, key, rec
from tests.support.portal import client_for

P = person(221)


def _section(page: str, ident: str) -> str:
    start = page.index(f'id="{ident}"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def app(system: System) -> FastAPI:
    system.register([SubjectRow(P, "person", "Qian Yu")])
    return served(system)  # the process's app, serving this test's system (decision 0085)


def _history(system: System, clock: Clock) -> dt.datetime:
    """Before K: a passport linked, an objection filed, a flight asked about; after K: a permit
    linked, a second objection, a second question. Returns K."""
    op = system.operator("wang.fang")
    me = key(system, "subject", P)
    first, second = feed(
        system,
        rec(1, P, "traffic.red-light", "traffic-police", "2026-10-01"),
        rec(2, P, "traffic.minor", "traffic-police", "2026-10-02"),
    )
    system.link_document(
        principal=op,
        code=P,
        type="passport",
        number="E12345678",
        issuing_state="CHN",
        evidence="bureau 2026-118",
    )
    system.file_objection(principal=me, subject=P, record_id=first, statement="I was abroad")
    system.check(Question(P, "no-flights", op, purpose="ticket before"))
    known = clock()
    clock.advance(days=1)
    system.link_document(
        principal=op, code=P, type="hkm-permit", number="H12345678", evidence="permit office 7"
    )
    system.file_objection(principal=me, subject=P, record_id=second, statement="not my car")
    system.check(Question(P, "no-flights", op, purpose="ticket after"))
    return known


def test_a_page_as_known_then_shows_cases_documents_and_looks_as_they_stood(
    system: System, app: FastAPI, clock: Clock
) -> None:
    known = _history(system, clock)
    c = client_for(app, system.create_key("subject", P).token)
    then = c.get(f"/portal/subjects/{P}", params={"known_at": known.isoformat(), "lang": "en"})
    assert then.status_code == 200, then.text
    page = then.text
    cases = _section(page, "cases")
    assert "I was abroad" in cases and "not my car" not in cases
    assert "today's knowledge adds 1 later entry" in cases  # the second objection's filing
    docs = _section(page, "documents")
    assert "passport:CHN:*****5678" in docs and "hkm-permit" not in docs
    assert "today's knowledge adds 1 later entry" in docs
    watchers = page[page.index('id="watchers"') :]
    assert "ticket before" in watchers and "ticket after" not in watchers
    assert 'data-testid="later-audit"' in watchers
    # today: everything, and no line about later entries
    now = c.get(f"/portal/subjects/{P}", params={"lang": "en"}).text
    assert "not my car" in _section(now, "cases") and "hkm-permit" in _section(now, "documents")
    assert "ticket after" in now[now.index('id="watchers"') :] and "later entr" not in now


def test_the_chinese_page_says_it_too(system: System, app: FastAPI, clock: Clock) -> None:
    known = _history(system, clock)
    c = client_for(app, system.create_key("subject", P).token, lang="zh-CN")
    page = c.get(f"/portal/subjects/{P}", params={"known_at": known.isoformat()}).text
    assert "如今所知另有 1 条后来的记录" in _section(page, "cases")
