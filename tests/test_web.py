"""The web portal for every user and for a visitor: every page for every role and for no login
(allowed pages 200, the others an HTML 401/403 that carries none of the data refused), the menu
each role sees, login and logout, CSRF rejection, every form refused to the roles that may not
use it, the public pages and search, and accessible markup. Runs on SQLite and PostgreSQL; each
user's own forms are in ``tests/test_web_partners.py`` (agency, airline, auditor),
``tests/test_web_subject.py`` (a subject, due process) and ``tests/test_web_staff.py``."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit.service import System
from tests.support import webworld
from tests.support.portal import ENGLISH, client_for, csrf_of, post_form
from tests.support.webworld import (
    ALL,
    COURT_LIST,
    NAME,
    ORG,
    OTHER,
    OTHER_NAME,
    OTHER_RECORD,
    REP,
    P,
)

# the shared world (tests/support/webworld.py), bound here by name as pytest finds fixtures
built, store, world, tokens = webworld.built, webworld.store, webworld.world, webworld.tokens
app, app_client = webworld.app, webworld.app_client


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
    court, other = webworld.court_record(world), webworld.other_record(world)
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
        for secret in (NAME, OTHER_NAME, OTHER, court, other, "Zhi 77"):
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
    other = webworld.other_record(world)
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
        assert r.status_code == 403 and OTHER_NAME not in r.text and other not in r.text


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
    other = webworld.other_record(world)
    data = {k: v.replace(OTHER_RECORD, other) for k, v in data.items()}
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
        assert OTHER_NAME not in r.text and other not in r.text
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
