"""The web portal: every page for every role and for no login (allowed pages 200, the others an
HTML 401/403 that carries none of the data refused), login and logout, CSRF rejection, and each
form doing what the service does: records, decisions, objections, appeals, restoration and the
operator's decisions. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.ledger import record_id_for
from socialcredit.service import System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.portal import ENGLISH, client_for, csrf_of, post_form

P, OTHER, ORG, REP = person(61), person(62), org(61), person(63)
NAME, OTHER_NAME = "Zhang Wei", "Wang Fang"
ROLES: dict[str, str | None] = {
    "operator": "wang.fang",
    "agency": "traffic-police",
    "relying_party": "airlines",
    "subject": P,
    "auditor": None,
}
ALL = [*ROLES, "none"]
COURT_RECORD = record_id_for("court", "c-1")
OTHER_RECORD = record_id_for("traffic-police", "o-1")
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"


def row(
    subject: str, item: str, source: str, srid: str, occurred: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    return (1, {"subject": subject, "item": item, "source": source, "source_record_id": srid,
                "occurred_on": occurred, **kw})  # fmt: skip


@pytest.fixture
def world(system: System) -> System:
    """P is on the court's list (a served decision, so immediately) with a minor traffic record;
    OTHER has a record of their own; ORG is a registered organisation with a court record."""
    system.register(
        [
            SubjectRow(P, "person", NAME, district="Rongcheng"),
            SubjectRow(OTHER, "person", OTHER_NAME, district="Huancui"),
            SubjectRow(REP, "person", "Li Si"),
            SubjectRow(ORG, "organisation", "Weihai Example Ltd", legal_representative=REP),
        ]
    )
    details = {"case_number": "(2026) Lu 1082 Zhi 77", "court": "Rongcheng People's Court"}
    rows = [
        row(P, "court.dishonest.able-but-refuses", "court", "c-1", "2026-09-01",
            reported_at="2026-09-01T10:00", details=details, evidence="enforcement file 77"),
        row(P, "traffic.minor", "traffic-police", "t-1", "2026-06-01", reported_at="2026-06-02T09:00"),
        row(OTHER, "traffic.red-light", "traffic-police", "o-1", "2026-07-01"),
        row(ORG, "court.dishonest.evades-enforcement", "court", "c-2", "2026-08-01", details=details),
    ]  # fmt: skip
    result = system.ingest(
        [(n, r) for n, (_, r) in enumerate(rows, 1)], origin="test", principal=system.operator()
    )
    assert result.accepted == 4, result
    return system


@pytest.fixture
def tokens(world: System) -> dict[str, str]:
    return {role: world.create_key(role, principal).token for role, principal in ROLES.items()}  # type: ignore[arg-type]


@pytest.fixture
def app(world: System) -> FastAPI:
    """One app per test; each client below is a separate browser (its own cookies) on it."""
    return create_app(world)


@pytest.fixture
def app_client(app: FastAPI) -> Iterator[TestClient]:
    c = TestClient(app, headers=ENGLISH)  # not entered: no lifespan, as ``client`` (decision 0067)
    yield c
    c.close()


# (path, roles allowed -> 200); everyone else: 401 without a key, 403 with one
PAGES: list[tuple[str, set[str]]] = [
    ("/portal/", set(ALL)),
    ("/portal/login", set(ALL)),
    ("/portal/search", set(ALL)),
    ("/portal/schemes", set(ALL)),
    ("/portal/schemes/court-dishonest-debtors", set(ALL)),
    ("/portal/lists", set(ALL)),
    (f"/portal/lists/{COURT_LIST}", set(ALL)),
    ("/portal/transparency", set(ALL)),
    (f"/portal/public/{ORG}", set(ALL)),
    (f"/portal/public/{P}", set()),  # persons are private: refused to everyone, even logged in
    (f"/portal/subjects/{P}", {"operator", "subject"}),
    (f"/portal/subjects/{OTHER}", {"operator"}),
    ("/portal/records/new", {"operator", "agency"}),
    ("/portal/decisions/new", {"operator", "relying_party"}),
    ("/portal/audit", {"operator", "auditor"}),
    ("/portal/operator", {"operator"}),
]


@pytest.mark.parametrize(("path", "allowed"), PAGES, ids=[p for p, _ in PAGES])
def test_page_access_matrix(
    app: FastAPI, world: System, tokens: dict[str, str], path: str, allowed: set[str]
) -> None:
    for role in ALL:
        c = client_for(app, tokens.get(role))
        r = c.get(path)
        if role in allowed:
            assert r.status_code == 200, (role, r.status_code, r.text[:500])
            assert r.headers["content-type"].startswith("text/html")
            continue
        want = 401 if role == "none" and path != f"/portal/public/{P}" else 403
        assert r.status_code == want, (role, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
        assert f"<title>{want} " in r.text and '<main id="main"' in r.text
        # a refusal names what was refused, nothing about the subject asked about
        for secret in (NAME, OTHER_NAME, OTHER, COURT_RECORD, OTHER_RECORD, "Zhi 77"):
            assert secret not in r.text, (role, path, secret)
        if role != "subject":  # a subject's own code is in its own menu
            assert P not in r.text, (role, path)


def test_nav_shows_what_the_role_may_do(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    public = {"Public lists", "Transparency report", "Schemes"}
    links = {
        "none": {"Search by code", *public},
        "subject": {"My record", "Search by code", *public},
        "agency": {"Enter a record", *public},
        "relying_party": {"Ask a decision", *public},
        "auditor": {"Audit log", *public},
        "operator": {
            "Search by code",
            "Enter a record",
            "Ask a decision",
            "Audit log",
            "Operator desk",
            *public,
        },
    }
    every = set().union(*links.values())
    for role in ALL:
        html = client_for(app, tokens.get(role)).get("/portal/").text
        nav = html[html.index('<nav class="wrap"') : html.index("</nav>")]
        shown = {label for label in every if f">{label}</a>" in nav}
        assert shown == links[role], role


def test_unknown_page_and_bad_code_are_html(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["operator"])
    r = c.get("/portal/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = c.get("/portal/subjects/123")
    assert r.status_code == 422 and "subject: invalid length" in r.text
    r = c.get(f"/portal/subjects/{P}?as_of=yesterday")
    assert r.status_code == 422 and "as_of" in r.text
    r = c.get("/portal/search", params={"code": "110105194912310021"})
    assert r.status_code == 422 and "code: invalid checksum" in r.text


def test_api_is_unchanged_and_root_leads_to_the_portal(app_client: TestClient) -> None:
    r = app_client.get(f"/subjects/{P}")
    assert r.status_code == 401 and r.json()["ok"] is False  # the API still answers JSON
    assert app_client.get("/health").json()["ok"] is True
    r = app_client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/portal/"
    css = app_client.get("/portal/static/portal.css")
    assert css.status_code == 200 and ":focus-visible" in css.text and "@media" in css.text


def test_login_cookie_and_logout(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = TestClient(app, headers=ENGLISH)
    form = c.get("/portal/login")
    r = c.post("/portal/login", data={"key": "sck_nope_" + "x" * 30, "csrf_token": csrf_of(form.text)})
    assert r.status_code == 401 and "key: unknown API key" in r.text
    r = c.post(
        "/portal/login",
        data={"key": tokens["subject"], "csrf_token": csrf_of(r.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("sc_key="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/portal" in cookie
    assert c.get(f"/portal/subjects/{P}").status_code == 200
    r = post_form(c, "/portal/", "/portal/logout", {})
    assert r.status_code == 303
    assert c.get(f"/portal/subjects/{P}").status_code == 401


def test_revoked_key_logs_out(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    key = world.create_key("subject", P)
    c = client_for(app, key.token)
    assert c.get(f"/portal/subjects/{P}").status_code == 200
    world.store.revoke_key(key.key_id, world.clock())
    r = c.get(f"/portal/subjects/{P}")
    assert r.status_code == 401 and "revoked" in r.text and NAME not in r.text


def test_csrf_rejected(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["agency"])
    good = {
        "subject": OTHER,
        "item": "traffic.minor",
        "source_record_id": "csrf-1",
        "occurred_on": "2026-10-01",
    }
    n = world.store.head("records")[0]
    for token in (None, "", "0" * 64, csrf_of(client_for(app, None).get("/portal/login").text)):
        data = dict(good) if token is None else {**good, "csrf_token": token}
        r = c.post("/portal/records/new", data=data)
        assert r.status_code == 403 and "csrf_token" in r.text
    assert world.store.head("records")[0] == n  # nothing was submitted
    # a login form posted from another session is refused too
    other = client_for(app, None)
    r = other.post("/portal/login", data={"key": tokens["operator"], "csrf_token": "0" * 64})
    assert r.status_code == 403 and "sc_key" not in r.headers.get("set-cookie", "")
    assert post_form(c, "/portal/records/new", "/portal/records/new", good).status_code == 200


def test_agency_enters_a_record(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["agency"])
    form = c.get("/portal/records/new").text
    assert 'value="traffic.minor"' in form and 'value="court.dishonest.able-but-refuses"' not in form
    data = {
        "subject": P,
        "item": "traffic.red-light",
        "source_record_id": "web-1",
        "occurred_on": "2026-10-20",
        "evidence": "camera 17, photo 2231",
    }
    r = post_form(c, "/portal/records/new", "/portal/records/new", data)
    assert r.status_code == 200 and "Accepted" in r.text
    assert record_id_for("traffic-police", "web-1") in r.text
    assert [r.evidence for r in world.view(P).records if r.source_record_id == "web-1"] == [data["evidence"]]
    r = post_form(c, "/portal/records/new", "/portal/records/new", data)
    assert r.status_code == 200 and "Duplicate" in r.text
    r = post_form(
        c,
        "/portal/records/new",
        "/portal/records/new",
        {**data, "source_record_id": "web-2", "subject": "123"},
    )
    assert "Quarantined" in r.text and "subject: invalid length" in r.text
    assert 'value="web-2"' in r.text  # what was typed is kept
    r = post_form(
        c,
        "/portal/records/new",
        "/portal/records/new",
        {**data, "source_record_id": "web-3", "item": "court.dishonest.able-but-refuses"},
    )
    assert "Quarantined" in r.text and "may not report item" in r.text
    # the subject's page follows at once: the red light counts against the score
    page = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}").text
    assert "Running a red light" in page or "traffic.red-light" in page
    assert "camera 17, photo 2231" in page


def test_operator_enters_a_record_for_any_source(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["operator"])
    data = {
        "subject": OTHER,
        "item": "court.dishonest.able-but-refuses",
        "source": "court",
        "source_record_id": "op-1",
        "occurred_on": "2026-10-01",
        "details": '{"case_number": "(2026) Lu 1082 Zhi 99"}',
    }
    r = post_form(c, "/portal/records/new", "/portal/records/new", data)
    assert "Accepted" in r.text
    r = post_form(
        c, "/portal/records/new", "/portal/records/new", {**data, "source_record_id": "op-2", "details": "{"}
    )
    assert "Quarantined" in r.text and "details: is not valid JSON" in r.text


def test_relying_party_asks_a_decision(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["relying_party"])
    form = c.get("/portal/decisions/new").text
    assert 'value="no-flights"' in form and 'value="no-new-loans"' not in form
    data = {"subject": P, "measure": "no-flights", "purpose": "ticket MU5101"}
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", data)
    assert r.status_code == 200
    assert 'data-answer="deny">deny<' in r.text
    assert "List of Dishonest Judgment Debtors" in r.text and "How to resolve" in r.text
    answer = r.text[r.text.index('id="answer"') : r.text.index("</section>", r.text.index('id="answer"'))]
    assert P not in answer and NAME not in r.text and "*" in answer  # a masked code only
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "subject": OTHER})
    assert 'data-answer="allow">allow<' in r.text
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "measure": "no-new-loans"})
    assert r.status_code == 403 and "ask about measure no-new-loans" in r.text
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "subject": "123"})
    assert r.status_code == 422 and "subject: invalid length" in r.text
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "purpose": " "})
    assert r.status_code == 422 and "purpose" in r.text
    # the subject sees who asked, why and what was answered
    page = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}").text
    watchers = page[page.index('id="watchers"') :]
    assert "relying_party: airlines" in watchers and "ticket MU5101" in watchers
    assert "no-flights" in watchers and 'data-answer="deny">deny' in watchers


def test_subject_page_explains_the_grade(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    page = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}").text
    rongcheng = page[
        page.index('id="scheme-rongcheng"') : page.index("</section>", page.index('id="scheme-rongcheng"'))
    ]
    # base 1000, court listing -100... each counting record is one explained line
    view = world.view(P)
    score = view.scores["rongcheng"]
    assert f'data-testid="score-rongcheng">{score.score}<' in rongcheng
    assert f'data-testid="grade-rongcheng">{score.grade}<' in rongcheng
    for c in score.contributions:
        assert c.record_id in rongcheng and f"{c.points:+d}" in rongcheng
    assert "<svg" in rongcheng and 'role="img"' in rongcheng and "score history" in rongcheng
    assert "(current)" in rongcheng
    lists = page[page.index('id="lists"') :]
    assert "List of Dishonest Judgment Debtors" in lists and "own record" in lists
    assert "2026-09-01" in lists
    # an earlier day shows the record as it stood then
    past = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}?as_of=2026-08-01").text
    assert 'data-testid="score-rongcheng">' in past and "List of Dishonest Judgment Debtors" not in past


def _explanation(page: str, scheme: str) -> tuple[str, list[tuple[str, str, float]]]:
    """A scheme's "how the score adds up" table on the subject page, and its lines (kind, label,
    points)."""
    start = page.index(f'id="scheme-{scheme}"')
    table = page[page.index('<table class="explanation"', start) : page.index("</table>", start)]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    lines = re.findall(
        r'<tr class="line-(\w+)"><th scope="row">(.*?)</th><td class="num" data-points="([^"]*)">', body
    )
    return table, [(kind, label, float(points)) for kind, label, points in lines]


def test_a_clamp_or_a_rounding_is_a_line_of_its_own(
    app: FastAPI, world: System, tokens: dict[str, str]
) -> None:
    """Suining's maximum (suining-2010.yaml: "a national honour adds points back up to the
    maximum", ``maximum: 1000``): OTHER's +100 and -50 would make 1,050; a line set apart from the
    records says where the 50 went, and the lines add up to the score (issue 16)."""
    honour = row(OTHER, "honour.model-worker", "trade-union", "h-1", "2026-08-01")[1]
    joins = row(OTHER, "identity.verified", "public-security", "i-1", "2026-08-01")[1]  # Sesame's enrolment
    applies = row(OTHER, "honest-shanghai.applied", "self", "a-1", "2026-08-01")[1]  # Honest Shanghai's
    rows = [(1, honour), (2, joins), (3, applies)]
    assert world.ingest(rows, origin="test", principal=world.operator()).accepted == 3
    page = client_for(app, tokens["operator"]).get(f"/portal/subjects/{OTHER}?lang=en").text
    table, lines = _explanation(page, "suining-2010")
    assert [(k, p) for k, _, p in lines] == [("start", 1000), ("part", 50), ("adjustment", -50)]
    assert lines[-1][1] == "capped at the maximum of 1,000" and "<strong>1000</strong>" in table
    assert all(k != "adjustment" for k, _, _ in _explanation(page, "rongcheng")[1])  # no maximum hit
    # Sesame (a factor model): the minimum, the factors and the rounding add up to the score
    _table, lines = _explanation(page, "sesame")
    assert lines[0][:2] == ("start", "Minimum") and lines[-1][0] == "adjustment"
    assert abs(sum(p for _, _, p in lines) - world.view(OTHER).scores["sesame"].score) < 1e-9
    # a tier model (Honest Shanghai) has no points: its records are listed, never summed
    tier = page[page.index('id="scheme-honest-shanghai"') :].split("</section>")[0]
    assert 'class="explanation"' not in tier and 'class="records"' in tier
    assert 'data-testid="score-honest-shanghai"' not in tier  # no score shown for a rating


def test_public_pages_show_only_what_is_published(app: FastAPI) -> None:
    c = client_for(app, None)
    html = c.get(f"/portal/public/{ORG}").text
    assert "Weihai Example Ltd" in html and "List of Dishonest Judgment Debtors" in html
    assert "Zhi 77" not in html and REP not in html  # no case details, no representative's code
    listing = c.get(f"/portal/lists/{COURT_LIST}").text
    table = listing[listing.index('id="public-list"') :]
    assert NAME in table and P not in table and "(2026) Lu 1082 Zhi 77" in table
    header = table[: table.index("</thead>")]
    assert "ID number (masked)" in header and "Case number" in header and "Grade" not in header
    report = c.get("/portal/transparency").text
    assert report.count("<svg") >= 2 and COURT_LIST in report


def test_search_routes_each_role(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    r = client_for(app, tokens["operator"]).get(
        "/portal/search", params={"code": OTHER}, follow_redirects=False
    )
    assert r.headers["location"] == f"/portal/subjects/{OTHER}"
    r = client_for(app, tokens["subject"]).get("/portal/search", params={"code": P}, follow_redirects=False)
    assert r.headers["location"] == f"/portal/subjects/{P}"
    for role in ("subject", "none"):
        c = client_for(app, tokens.get(role))
        r = c.get("/portal/search", params={"code": ORG}, follow_redirects=False)
        assert r.headers["location"] == f"/portal/public/{ORG}"
        r = c.get("/portal/search", params={"code": OTHER})
        assert r.status_code == 403 and OTHER_NAME not in r.text and OTHER_RECORD not in r.text


def _case_id(html: str) -> str:
    found = re.search(r"(obj|res|rev)-[0-9a-f]{12}", html)
    assert found, "no case id on the page"
    return found.group(0)


def test_objection_upheld_changes_grade_decision_and_list(
    app: FastAPI, world: System, tokens: dict[str, str], clock: Clock
) -> None:
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    before = world.view(P).scores["rongcheng"]
    # an empty statement is refused next to the form, and nothing is filed
    r = post_form(subject, me, f"{me}/objections", {"target": f"record:{COURT_RECORD}", "statement": " "})
    assert r.status_code == 422 and "statement" in r.text and 'id="objection-error"' in r.text
    assert world.cases(principal=world.operator()) == []
    r = post_form(
        subject,
        me,
        f"{me}/objections",
        {
            "target": f"record:{COURT_RECORD}",
            "statement": "I paid the judgment in full in August; the court was told.",
            "evidence": "bank transfer 2026-08-20\nreceipt of the court",
        },
    )
    assert r.status_code == 303
    page = subject.get(r.headers["location"]).text
    case_id = _case_id(page)
    assert 'id="filed"' in page and "under review" in page and "bank transfer 2026-08-20" in page
    desk = operator.get("/portal/operator").text
    assert case_id in desk and "I paid the judgment in full" in desk
    # a subject may not decide; a decision needs a reason
    r = post_form(subject, me, f"/portal/cases/{case_id}/decision", {"outcome": "uphold", "reason": "x"})
    assert r.status_code == 403
    r = post_form(operator, "/portal/operator", f"/portal/cases/{case_id}/decision", {"outcome": "uphold"})
    assert r.status_code == 422 and "reason" in r.text
    clock.advance(days=2)
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "the court confirms payment on 2026-08-20"},
    )
    assert r.status_code == 303 and operator.get(r.headers["location"]).status_code == 200
    after = world.view(P).scores["rongcheng"]
    assert after.score > before.score
    page = subject.get(me).text
    assert f'data-testid="score-rongcheng">{after.score}<' in page and "the court confirms payment" in page
    rp = client_for(app, tokens["relying_party"])
    r = post_form(
        rp,
        "/portal/decisions/new",
        "/portal/decisions/new",
        {"subject": P, "measure": "no-flights", "purpose": "t"},
    )
    assert 'data-answer="allow">allow<' in r.text
    assert NAME not in client_for(app, None).get(f"/portal/lists/{COURT_LIST}").text


def test_rejected_objection_is_appealed(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    r = post_form(
        subject, me, f"{me}/objections", {"target": f"list:{COURT_LIST}", "statement": "wrong person"}
    )
    case_id = _case_id(subject.get(r.headers["location"]).text)
    post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "reject", "reason": "same ID"},
    )
    page = subject.get(me).text
    assert "rejected" in page and f'action="/portal/cases/{case_id}/appeal"' in page
    r = post_form(
        subject, me, f"/portal/cases/{case_id}/appeal", {"statement": "the ID was mistyped by the court"}
    )
    assert r.status_code == 303
    assert "under appeal" in subject.get(me).text
    r = post_form(subject, me, f"/portal/cases/{case_id}/appeal", {"statement": "again"})
    assert r.status_code == 409 and "only a rejected objection or review can be appealed" in r.text
    desk = operator.get("/portal/operator").text
    assert "the ID was mistyped by the court" in desk and "on the appeal" in desk
    assert "someone other than wang.fang" in desk
    # Art. 12: the appeal is decided by someone other than the objection's decider
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "mistyped"},
    )
    assert r.status_code == 403 and "wang.fang decided the objection" in r.text and 'id="err-' in r.text
    assert "under appeal" in subject.get(me).text
    colleague = client_for(app, world.create_key("operator", "li.na").token)
    r = post_form(
        colleague,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "mistyped"},
    )
    assert r.status_code == 303
    page = subject.get(me).text
    assert 'by <span class="decider">wang.fang</span>: same ID' in page
    assert 'by <span class="decider">li.na</span>: mistyped' in page
    assert world.view(P).entries == [] or all(e.qualified_id != COURT_LIST for e in world.view(P).entries)


def test_restoration_applied_and_granted(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    minor = record_id_for("traffic-police", "t-1")
    fields = {
        "conduct_corrected": "took the course",
        "obligations_fulfilled": "fine paid",
        "commitment": "I will",
    }
    r = post_form(subject, me, f"{me}/restorations", {"record_id": minor, **fields, "commitment": ""})
    assert r.status_code == 422 and "commitment" in r.text and 'id="restoration-error"' in r.text
    assert f'<option value="{COURT_RECORD}"' not in subject.get(me).text  # a court listing: never offered
    r = post_form(subject, me, f"{me}/restorations", {"record_id": COURT_RECORD, **fields})
    assert r.status_code == 422 and "is a judicial record" in r.text and "Art. 10" in r.text
    r = post_form(subject, me, f"{me}/restorations", {"record_id": minor, **fields})
    assert r.status_code == 303
    case_id = _case_id(subject.get(r.headers["location"]).text)
    assert case_id.startswith("res-") and case_id in operator.get("/portal/operator").text
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "x"},
    )
    assert r.status_code == 422 and "grant or refuse" in r.text
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "grant", "reason": "done"},
    )
    assert r.status_code == 303
    page = subject.get(me).text
    assert "granted" in page


def test_human_review_asked_next_to_a_listing_by_rule(
    app: FastAPI, world: System, tokens: dict[str, str]
) -> None:
    """GDPR (DOMAIN.md): no "solely automated decision with significant effects without human
    review". The subject page offers a review next to each listing derived by rule (Rongcheng's
    D list, by grade) and not next to the court's (a court's decision: objected to); the desk
    refuses an operator involved in the subject's cases and an uninvolved one decides."""
    rows = [row(P, "court.fraud-conviction", "court", f"f-{n}", f"2026-09-{n:02d}",
                reported_at=f"2026-09-{n:02d}T10:00") for n in range(2, 6)]  # fmt: skip
    assert world.ingest(rows, origin="test", principal=world.operator()).accepted == 4
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    page = subject.get(me).text
    assert page.count("Ask for a human review") == 1 and "decided by a court: object instead" in page
    # the operator (wang.fang) decides an objection of P's first: involved from then on
    r = post_form(subject, me, f"{me}/objections", {"target": f"record:{COURT_RECORD}", "statement": "x"})
    objection = _case_id(subject.get(r.headers["location"]).text)
    post_form(operator, "/portal/operator", f"/portal/cases/{objection}/decision",
              {"outcome": "reject", "reason": "the judgment stands"})  # fmt: skip
    before = len(world.cases(principal=world.operator()))
    for role in ("agency", "relying_party", "auditor", None):
        c = client_for(app, tokens[role] if role else None)
        r = post_form(c, "/portal/login", f"{me}/reviews", {"list_id": "rongcheng/d-grade", "statement": "s"})
        assert r.status_code == (403 if role else 401)
    assert len(world.cases(principal=world.operator())) == before
    r = post_form(subject, me, f"{me}/reviews", {"list_id": COURT_LIST, "statement": "look"})
    assert r.status_code == 422 and "listed by a court" in r.text and 'id="review-error"' in r.text
    r = post_form(
        subject, me, f"{me}/reviews", {"list_id": "rongcheng/d-grade", "statement": "I was in hospital"}
    )
    assert r.status_code == 303
    page = subject.get(r.headers["location"]).text
    review = _case_id(page.split('id="filed"', 1)[1])
    assert review.startswith("rev-") and "Human review" in page and "Ask for a human review" not in page
    desk = operator.get("/portal/operator").text
    assert review in desk and "not involved so far (not: wang.fang)" in desk and "Confirm the listing" in desk
    r = post_form(operator, "/portal/operator", f"/portal/cases/{review}/decision",
                  {"outcome": "reject", "reason": "the records stand"})  # fmt: skip
    assert r.status_code == 403 and "wang.fang is already involved" in r.text
    colleague = client_for(app, world.create_key("operator", "li.na").token)
    r = post_form(colleague, "/portal/operator", f"/portal/cases/{review}/decision",
                  {"outcome": "reject", "reason": "the records stand"})  # fmt: skip
    assert r.status_code == 303
    assert 'by <span class="decider">li.na</span>: the records stand' in subject.get(me).text


def test_auditor_sees_masked_trail_and_verifies(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}")  # an audited read
    html = client_for(app, tokens["auditor"]).get("/portal/audit?verify=true").text
    assert "portal: subject page" in html and P not in html and "Every chain verifies" in html
    html = client_for(app, tokens["operator"]).get("/portal/audit").text
    assert P in html


# (action, form data, roles allowed to act); the rest are refused before anything is done
POSTS: list[tuple[str, dict[str, str], set[str]]] = [
    (
        "/portal/records/new",
        {"subject": OTHER, "item": "traffic.minor", "source_record_id": "m-1", "occurred_on": "2026-10-01"},
        {"agency", "operator"},
    ),
    (
        "/portal/decisions/new",
        {"subject": OTHER, "measure": "no-flights", "purpose": "t"},
        {"relying_party", "operator"},
    ),
    (
        f"/portal/subjects/{OTHER}/objections",
        {"target": f"record:{OTHER_RECORD}", "statement": "s"},
        {"operator"},
    ),
    (
        f"/portal/subjects/{OTHER}/restorations",
        {
            "record_id": OTHER_RECORD,
            "conduct_corrected": "a",
            "obligations_fulfilled": "b",
            "commitment": "c",
        },
        {"operator"},
    ),
]


@pytest.mark.parametrize(("action", "data", "allowed"), POSTS, ids=[a for a, _, _ in POSTS])
def test_form_access_matrix(
    app: FastAPI, world: System, tokens: dict[str, str], action: str, data: dict[str, str], allowed: set[str]
) -> None:
    for role in ALL:
        c = client_for(app, tokens.get(role))
        before = (
            world.store.head("records")[0],
            world.store.head("audit")[0],
            len(world.cases(principal=world.operator())),
        )
        r = post_form(c, "/portal/login", action, data)
        if role in allowed:
            assert r.status_code in (200, 303), (role, r.status_code, r.text[:300])
            continue
        assert r.status_code == (401 if role == "none" else 403), (role, r.status_code)
        assert OTHER_NAME not in r.text and OTHER_RECORD not in r.text
        after = (
            world.store.head("records")[0],
            world.store.head("audit")[0],
            len(world.cases(principal=world.operator())),
        )
        assert after == before, role  # refused before anything was written


class _Markup(HTMLParser):
    """Collects what the accessibility checks need from one page."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[tuple[str, str | None]] = []
        self.tags: list[str] = []
        self.lang: str | None = None
        self.svgs: list[dict[str, str | None]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "radio", "submit"):
            self.controls.append((tag, a.get("id")))
        if tag == "svg":
            self.svgs.append(a)


def test_pages_are_accessible_markup(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    """Every page: a language, one h1, a main landmark and a labelled nav, every form control with
    a label, unique ids, and every chart an image with a title and description."""
    pages = {
        "none": ["/portal/", "/portal/login", "/portal/search", "/portal/lists", "/portal/transparency",
                 f"/portal/lists/{COURT_LIST}", "/portal/schemes", f"/portal/public/{ORG}", "/portal/nope"],
        "subject": [f"/portal/subjects/{P}", f"/portal/subjects/{OTHER}"],
        "operator": ["/portal/operator", "/portal/audit", "/portal/records/new", "/portal/decisions/new"],
    }  # fmt: skip
    for role, paths in pages.items():
        c = client_for(app, tokens.get(role))
        for path in paths:
            html = c.get(path).text
            m = _Markup()
            m.feed(html)
            assert m.lang == "en", path
            assert m.tags.count("h1") == 1 and m.tags.count("main") == 1 and "nav" in m.tags, path
            assert 'aria-label="Main"' in html and 'class="skip-link" href="#main"' in html, path
            for tag, ident in m.controls:
                assert ident and ident in m.labels, (path, tag, ident)
            assert len(m.ids) == len(set(m.ids)), (path, sorted(i for i in m.ids if m.ids.count(i) > 1))
            for svg in m.svgs:
                assert svg.get("role") == "img" and "-title" in str(svg.get("aria-labelledby")), path
