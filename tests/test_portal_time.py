"""The portal's subject page on both time axes and with the subject's documents (issue 17, points
1 and 3 as the portal shows them). Runs on SQLite and PostgreSQL.

Court's list, Art. 1(1) (DOMAIN.md): a debtor "able to perform but refuses" is listed with no fixed
period, until a removal ground of Art. 10; a withdrawal the court dates back but the system
receives later is not known before it arrives, so the page as known then shows the listing and
says that today's knowledge ends it. Art. 6 publishes a person's ID number masked, and the Supreme
People's Court reported in 2018 that debtors evaded bans "by buying tickets with passports", so a
subject sees the documents it is known by, and every look at them."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI

from socialcredit.service import System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.apps import served
from tests.support.late import listed_then_late_news
from tests.support.portal import client_for

P = person(181)
PASSPORT = "passport:CHN:E12345678"


def _text(page: str, ident: str) -> str:
    """The text of the element ``id=ident`` up to its section's end, tags dropped."""
    part = page[page.index(f'id="{ident}"') :]
    part = part[: part.index("</div>") if "</div>" in part else len(part)]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part)))


@pytest.fixture
def app(system: System) -> FastAPI:
    system.register([SubjectRow(P, "person", "Chen Jing")])
    return served(system)  # the process's app, serving this test's system (decision 0085)


def test_the_page_states_both_axes_and_what_todays_knowledge_changes(
    system: System, app: FastAPI, clock: Clock
) -> None:
    # a withdrawal the court dates 21 October, received 30 days later, and a traffic record of
    # September reported late: neither was known on 2 November
    before, late = listed_then_late_news(system, clock, P, "traffic.minor")
    subject = system.create_key("subject", P).token
    c = client_for(app, subject)
    at = before.isoformat()
    then = c.get(f"/portal/subjects/{P}", params={"at": at, "known_at": at})
    assert then.status_code == 200, then.text
    top = _text(then.text, "time-axes")
    assert (
        "As the rules stood on 2026-11-02 10:00 UTC, with what the system knew on 2026-11-02 10:00 UTC" in top
    )
    # as known then: listed; today: the withdrawal ends it and the late traffic record counts
    assert "List of Dishonest Judgment Debtors" in then.text[then.text.index('id="lists"') :]
    assert "listed as known on 2026-11-02 10:00 UTC; not listed with today's knowledge" in top
    assert f"Record {late}" in top and "arrived 2026-12-02 10:00 UTC, after 2026-11-02 10:00 UTC" in top
    # the same valid time as known now agrees with itself: no differences claimed
    now = c.get(f"/portal/subjects/{P}", params={"at": at, "known_at": clock().isoformat()}).text
    assert "Today's knowledge gives the same answer for that time." in now
    assert (
        "List of Dishonest Judgment Debtors" not in now[now.index('id="lists"') : now.index('id="notices"')]
    )
    # without a knowledge time the page says it answers with what is known now
    plain = c.get(f"/portal/subjects/{P}", params={"at": "2026-11-02"}).text
    assert "with what the system knows now" in _text(plain, "time-axes")
    # the read is audited with both axes
    reads = [e for e in system.store.audit_entries(subject=P, limit=50) if e["action"] == "read"]
    assert any(e["detail"].get("known_at", "").startswith(at[:16]) for e in reads)


@pytest.mark.parametrize(
    ("query", "field"), [({"known_at": "yesterday"}, "known_at"), ({"at": "2026-13-40"}, "at")]
)
def test_a_bad_time_is_refused_naming_the_parameter(
    system: System, app: FastAPI, query: dict[str, str], field: str
) -> None:
    c = client_for(app, system.create_key("subject", P).token)
    r = c.get(f"/portal/subjects/{P}", params=query)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert f"{field}:" in r.text and "is not an ISO date or date-time" in r.text


def test_the_subject_sees_its_documents_masked_and_every_look_at_them(system: System, app: FastAPI) -> None:
    system.link_document(
        principal=system.operator(),
        code=P,
        type="passport",
        number="E12345678",
        issuing_state="CHN",
        evidence="exit-entry bureau record 2026-118",
    )
    page = client_for(app, system.create_key("subject", P).token).get(f"/portal/subjects/{P}").text
    docs = page[page.index('id="documents"') : page.index("</section>", page.index('id="documents"'))]
    assert "passport:CHN:*****5678" in docs and "E12345678" not in page
    assert "exit-entry bureau record 2026-118" in docs and "current" in docs
    operator = client_for(app, system.create_key("operator", "wang.fang").token)
    assert PASSPORT in operator.get(f"/portal/subjects/{P}").text
    # every listing of the documents is audited (portal, API): the subject sees each look
    looks = [e for e in system.store.audit_entries(subject=P, limit=50) if e["action"] == "documents"]
    assert [(e["role"], e["purpose"], e["detail"]) for e in looks] == [
        ("operator", "portal: subject page", {"documents": 1}),
        ("subject", "portal: subject page", {"documents": 1}),
    ]
    again = client_for(app, system.create_key("subject", P).token).get(f"/portal/subjects/{P}").text
    watchers = again[again.index('id="watchers"') :]
    # the operator's look is listed; the subject's own looks are counted apart (issue 18)
    assert watchers.count(">documents<") == 1 and "wang.fang" in watchers
    api = client_for(app, None).get(f"/subjects/{P}/documents", headers=h(system, "subject", P))
    assert api.status_code == 200 and api.json()["count"] == 1
    latest = system.store.audit_entries(subject=P, limit=1)[0]
    assert (latest["action"], latest["purpose"]) == ("documents", "subject's documents")
