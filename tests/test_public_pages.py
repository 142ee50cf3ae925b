"""The public and relying-party pages as issue 18 found them wanting, in both languages: the
court's list, the transparency report and the demo's summary counting the same entries and
saying how; a public list searched, paged and downloaded (organisations only) alike on the
portal, the API and the command line; a keyless visitor addressed as a visitor; the subject's
own looks counted apart from others'; and a decision worded so that ALLOW cannot be read as
allowing the ban, nor an unknown code as a clean record. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit.service import Question, System
from socialcredit.store import Store, SubjectRow
from tests.conftest import Clock, org, person
from tests.support.apps import served
from tests.support.cli import jrun, run
from tests.support.portal import client_for, post_form
from tests.support.prepared import Prepared
from tests.support.worlds import world_store

COURT_LIST = "court-dishonest-debtors/dishonest-debtors"
DEBTORS = [(person(400 + n), f"Debtor {n:02d}") for n in range(55)]
ORG, REP, CLEAN = org(401), person(470), person(471)
UNKNOWN = person(472)  # a valid code nobody registered or reported
DETAILS = {"case_number": "(2026) Lu 1082 Zhi 9", "court": "Rongcheng People's Court"}


def _row(n: int, subject: str, item: str, srid: str) -> tuple[int, dict[str, Any]]:
    return n, {"subject": subject, "item": item, "source": "court", "source_record_id": srid,
               "occurred_on": "2026-09-01", "reported_at": "2026-09-01T10:00",
               "details": DETAILS}  # fmt: skip


def build_city(system: System) -> None:
    """55 persons on the court's list (ground 1: a served decision lists at once), an organisation
    on it too, whose legal representative is therefore listed through it, and a person with a
    clean record."""
    system.register(
        [
            *(SubjectRow(code, "person", name) for code, name in DEBTORS),
            SubjectRow(REP, "person", "Li Si"),
            SubjectRow(CLEAN, "person", "Qian Wu"),
            SubjectRow(ORG, "organisation", "Weihai Example Ltd", legal_representative=REP),
        ]
    )
    item = "court.dishonest.able-but-refuses"
    rows = [_row(n, code, item, f"c-{n}") for n, (code, _) in enumerate(DEBTORS)]
    rows.append(_row(99, ORG, "court.dishonest.evades-enforcement", "c-org"))
    result = system.ingest(rows, origin="test", principal=system.operator())
    assert result.accepted == len(DEBTORS) + 1, result


@pytest.fixture
def store(store_url: str, prepared: Prepared, clock: Clock) -> Iterator[Store]:
    """A test's store starts from the city: built once per test process and copied into the
    test's own database (tests/support/worlds.py, decision 0093), since the tests write to it."""
    s, _ = world_store(store_url, prepared, clock, "public-pages-city", build_city)
    yield s
    s.close()


@pytest.fixture
def city(system: System) -> System:
    """The test's system on its copy of the city (``build_city``)."""
    return system


@pytest.fixture
def app(city: System) -> FastAPI:
    return served(city)  # the process's app, serving this test's system (decision 0085)


def test_list_page_transparency_and_demo_counts_reconcile(city: System, app: FastAPI) -> None:
    """SPC Provisions (2017), Art. 6: an organisation's entry publishes its "name, code and legal
    representative's name", so the representative listed through it has no row of their own.
    The list page counts rows (56), the transparency report and the demo the entries whose
    measures apply (57): each page says which, and the figures add up on one system."""
    census = city.list_census()[COURT_LIST]
    assert (census.published, census.via, census.suspended, census.pending) == (56, 1, 0, 0)
    assert len(city.public_list(COURT_LIST)) == census.published
    report = city.transparency()
    assert report["lists"][COURT_LIST] == census.in_force == 57
    assert city.population(report["as_of"]).lists[COURT_LIST] == census.in_force  # the demo's figure
    for lang, words in (
        ("en", ["56 entries published here", "1 legal representative is listed", "56 published + 1 through"]),
        ("zh-CN", ["本页公布 56 条", "另有 1 名法定代表人", "公布 56 条 + 因单位列入 1 条 = 57 条"]),
    ):
        page = client_for(app, None, lang).get(f"/portal/lists/{COURT_LIST}").text
        census_panel = page[page.index('id="census"') :]
        for w in words:
            assert w in census_panel, (lang, w)
        report_page = client_for(app, None, lang).get("/portal/transparency").text
        sizes = report_page[report_page.index('id="list-sizes"') :]
        cells = re.findall(r'<td class="num"[^>]*>(\d+)</td>', sizes[: sizes.index("</table>")])
        assert cells[:5] == ["57", "56", "1", "0", "0"], (lang, cells[:5])


def _rows(html: str) -> list[str]:
    table = html[html.index('id="public-list"') : html.index("</table>", html.index('id="public-list"'))]
    return re.findall(r'data-label="(?:Name|姓名)">([^<]*)</td>', table)


def test_public_list_is_searched_and_paged_alike_on_portal_api_and_cli(city: System, app: FastAPI) -> None:
    names = sorted([name for _, name in DEBTORS] + ["Weihai Example Ltd"])
    visitor = client_for(app, None)
    first, second = (visitor.get(f"/portal/lists/{COURT_LIST}?p={n}").text for n in (1, 2))
    assert _rows(first) == names[:50] and _rows(second) == names[50:]
    assert "Rows 51 to 56 of 56" in second and 'aria-current="page" href="?q=&amp;p=2"' in second
    api = TestClient(app)
    body = api.get(f"/public/lists/{COURT_LIST}", params={"page": 2}).json()
    assert [r["name"] for r in body["data"]] == names[50:]
    assert (body["count"], body["total"], body["page"], body["pages"]) == (6, 56, 2, 2)
    # a fragment of a name, or of a masked ID number's visible digits, finds; a full ID does not
    found = visitor.get(f"/portal/lists/{COURT_LIST}", params={"q": "debtor 1"}).text
    assert _rows(found) == [f"Debtor {n}" for n in range(10, 20)]
    assert api.get(f"/public/lists/{COURT_LIST}", params={"q": "DEBTOR 1"}).json()["total"] == 10
    assert api.get(f"/public/lists/{COURT_LIST}", params={"q": DEBTORS[0][0]}).json()["total"] == 0
    zh = client_for(app, None, "zh-CN").get(f"/portal/lists/{COURT_LIST}", params={"q": "nobody"}).text
    assert "没有公布的条目匹配“nobody”" in zh


def test_public_list_api_refuses_a_bad_page(app: FastAPI) -> None:
    api = TestClient(app)
    r = api.get(f"/public/lists/{COURT_LIST}", params={"per_page": 0})
    assert r.status_code == 422 and "per_page" in r.json()["error"]


def test_csv_download_holds_organisations_only_with_the_published_fields(city: System, app: FastAPI) -> None:
    """Issue 18: "There is no bulk download of persons: copies would outlive a removal" (SPC
    Provisions, Art. 10: removal within 3 working days); an organisation's published fields are
    public information (Art. 6), downloaded exactly."""
    lst = city.registry.list_def(COURT_LIST)
    for lang in ("en", "zh-CN"):
        r = client_for(app, None, lang).get(f"/portal/lists/{COURT_LIST}/organisations.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert rows[0] == list(lst.published_fields)
        assert len(rows) == 2 and rows[1][rows[0].index("id_number_masked")] == ORG
        assert "Li Si" in rows[1][rows[0].index("legal_representative")]
        assert not any(code in r.text or name in r.text for code, name in DEBTORS)
    page = client_for(app, None).get(f"/portal/lists/{COURT_LIST}").text
    assert "Persons are not offered for download" in page and 'data-testid="csv"' in page


def test_a_keyless_visitor_is_spoken_to_as_a_visitor(app: FastAPI) -> None:
    """A person's record is private; a visitor refused it is not told about a key they lack."""
    for lang, refused, said in (
        ("en", "not open to the public", "This is not open to the public"),
        ("zh-CN", "不对公众开放", "此内容不对公众开放"),
    ):
        r = client_for(app, None, lang).get(f"/portal/public/{DEBTORS[0][0]}")
        assert r.status_code == 403
        assert refused in r.text and said in r.text
        assert "your key" not in r.text.lower() and "您的密钥" not in r.text
        api = TestClient(app).get(f"/public/subjects/{DEBTORS[0][0]}", headers={"Accept-Language": lang})
        assert api.status_code == 403 and refused in api.json()["error"]
        assert "your key" not in api.json()["error"]


def test_own_looks_are_counted_apart_from_others(city: System, app: FastAPI) -> None:
    code = DEBTORS[0][0]
    token = city.create_key("subject", code).token
    airline = city.create_key("relying_party", "airlines").token
    city.check(Question(code, "no-flights", city.authenticate(airline), purpose="ticket MU5101"))
    # three looks in each language: the second language's add to the first's
    for lang, said in (("en", "You looked at your own record 3 times"), ("zh-CN", "您查看了自己的记录 6 次")):
        me = client_for(app, token, lang)
        me.get(f"/portal/subjects/{code}")
        me.get(f"/portal/subjects/{code}")
        page = me.get(f"/portal/subjects/{code}").text
        watchers = page[page.index('id="watchers"') :]
        assert said in watchers, lang
        assert "ticket MU5101" in watchers
        body = watchers[watchers.index("<tbody>") : watchers.index("</tbody>")]
        assert "relying_party: airlines" in body
        assert "portal: subject page" not in body and "(you)" not in body  # no own view listed
    audit = city.audit_log(city.operator(), subject=code, limit=1000)
    own = [a["action"] for a in audit if a["role"] == "subject"]
    # own looks stay audited: each page view a read, and the listing of its documents (issue 17)
    assert own.count("documents") == 6 and len(own) == 12


def test_decision_page_words_the_answer_for_the_desk(city: System, app: FastAPI) -> None:
    token = city.create_key("relying_party", "airlines").token
    cases = [
        (DEBTORS[0][0], "deny",
         "Refused: “No air travel” applies because the subject is on List of Dishonest Judgment Debtors",
         "拒绝：适用“禁止乘坐飞机”，因为该主体自"),
        (CLEAN, "allow", "May proceed: “No air travel” does not apply to this subject",
         "可以办理：“禁止乘坐飞机”不适用于该主体"),
        (UNKNOWN, "allow", "This code is unknown to the system: no record, so no measure applies",
         "本系统不认识此代码：没有任何记录，因此不适用任何措施"),
    ]  # fmt: skip
    for code, answer, en, zh in cases:
        for lang, words in (("en", en), ("zh-CN", zh)):
            desk = client_for(app, token, lang)
            data = {"subject": code, "measure": "no-flights", "purpose": "ticket MU5101"}
            page = post_form(desk, "/portal/decisions/new", "/portal/decisions/new", data).text
            assert f'data-testid="answer" data-answer="{answer}">' in page
            verdict = page[page.index('data-testid="verdict"') :]
            assert words in verdict[: verdict.index("</p>")], (code, lang)
            assert ('data-testid="unknown"' in page) == (code == UNKNOWN)
            assert "(punishment)" not in page


def test_command_line_pages_the_list_and_words_the_check(env: Path) -> None:
    """``public list`` pages and searches as ``GET /public/lists`` does; ``check`` words its
    answer as the portal does, an unknown code said to be unknown, in English and Chinese."""
    listed = [(person(480 + n), f"Debtor {n}") for n in range(3)]
    (env / "subjects.csv").write_text("code,name\n" + "".join(f"{c},{n}\n" for c, n in listed))
    assert run("register", str(env / "subjects.csv")).exit_code == 0
    item = "court.dishonest.able-but-refuses"
    rows = [_row(n, code, item, f"cli-{n}")[1] for n, (code, _) in enumerate(listed)]
    (env / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert run("ingest", str(env / "records.jsonl")).exit_code == 0
    body = jrun("public", "list", COURT_LIST, "--per-page", "2", "--page", "2")
    assert [r["name"] for r in body["data"]] == ["Debtor 2"]
    assert (body["count"], body["total"], body["page"], body["pages"]) == (1, 3, 2, 2)
    assert jrun("public", "list", COURT_LIST, "--search", "debtor 1")["total"] == 1
    for lang, deny, unknown in (
        (
            "en",
            "DENY — Refused: “No air travel” applies because the subject is on",
            "ALLOW — This code is unknown",
        ),
        ("zh-CN", "拒绝 — 拒绝：适用“禁止乘坐飞机”，因为该主体自", "允许 — 本系统不认识此代码"),
    ):
        r = run("--lang", lang, "check", listed[0][0], "no-flights")
        assert r.exit_code == 1 and deny in " ".join(r.output.split()), r.output
        r = run("--lang", lang, "check", UNKNOWN, "no-flights")
        assert r.exit_code == 0 and unknown in r.output, r.output
