"""Chinese and English (issue 18.2): "All portal text, CLI messages and API error messages go
through gettext catalogues, with zh-CN and en complete. A test fails on any untranslated string.
The language is chosen by Accept-Language, with a switch on every page [...]. With no
Accept-Language, the portal is in Chinese."

The catalogues are checked against what the code marks (extracted as ``python -m
socialcredit.catalogues`` extracts), the templates for text left outside a translation, and each
portal page rendered in Chinese for any English text of the catalogue that the English page
shows."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from socialcredit import catalogues, i18n
from socialcredit.cli import app
from socialcredit.cli.common import language
from socialcredit.errors import AccessDenied, Refused
from socialcredit.i18n import N_
from socialcredit.schemes import titles
from socialcredit.schemes.loader import shipped_registry
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.apps import served
from tests.support.cli import runner
from tests.support.english import english_left, rated_world
from tests.support.portal import client_for, post_form

P, Q, ORG = person(81), person(82), org(81)


def test_every_marked_text_is_translated_and_the_compiled_catalogues_are_current() -> None:
    marked = {m.id for m in catalogues.extract() if m.id}
    assert len(marked) > 300  # the portal's pages, its refusals, the API's and CLI's messages
    for locale in i18n.LOCALES:
        catalog = catalogues.read(locale)
        held = {m.id for m in catalog if m.id}
        assert marked - held == set(), f"{locale}: not in the catalogue (python -m socialcredit.catalogues)"
        assert held - marked == set(), f"{locale}: no longer in the code (python -m socialcredit.catalogues)"
        untranslated = [m.id for m in catalog if m.id and not catalogues.translated(m.string)]
        assert untranslated == [], f"{locale}: untranslated"
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert fuzzy == []
        mo = catalogues.po_path(locale).with_suffix(".mo").read_bytes()
        assert mo == catalogues.compiled(catalog), (
            f"{locale}: the .mo is stale (python -m socialcredit.catalogues)"
        )


def test_a_translation_keeps_its_placeholders() -> None:
    """A Chinese text that lost or renamed a placeholder would fail (or lie) when filled."""
    for m in catalogues.read("zh_CN"):
        if not m.id:
            continue
        source = " ".join(m.id) if isinstance(m.id, tuple) else m.id
        target = " ".join(m.string) if isinstance(m.string, tuple) else m.string
        pattern = r"%\((\w+)\)[sd]|\{(\w+)(?:![rs])?\}"
        want = {a or b for a, b in re.findall(pattern, source)}
        assert {a or b for a, b in re.findall(pattern, target)} == want, m.id


ALLOWED_WORDS = {"socialcredit", "UTC", "sck_", "HTTP", "API", "JSON"}


def untranslated_text(source: str) -> list[str]:
    """The text of a template a reader sees that is outside every translation: what is left once
    comments, ``{% trans %}`` blocks, expressions, statements and tags are taken out, plus the
    attributes a reader meets (labels, titles)."""
    s = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    s = re.sub(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", " ", s, flags=re.S)
    attrs = re.findall(r'(?:aria-label|title|placeholder|label|alt)="([^"{]*)"', s)
    s = re.sub(r"\{\{.*?\}\}", " ", s, flags=re.S)
    s = re.sub(r"\{%.*?%\}", " ", s, flags=re.S)
    s = re.sub(r"<[^>]*>", " ", s, flags=re.S)
    return [
        t.strip()
        for t in [*attrs, *s.splitlines()]
        if any(w not in ALLOWED_WORDS for w in re.findall(r"[A-Za-z][A-Za-z'_]+", t))
    ]


def test_no_template_text_is_left_untranslated() -> None:
    folder = resources.files("socialcredit.web").joinpath("templates")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".html"):
            left = untranslated_text(entry.read_text(encoding="utf-8"))
            # an example of the JSON a field takes: its keys are the machine's, not words to read
            left = [t for t in left if not t.startswith('{"case_number"')]
            if left:
                found[entry.name] = left
    assert found == {}
    # and the scan does find English text outside a translation
    assert untranslated_text('<p>{{ _("Fine") }} Not fine</p>') == ["Not fine"]


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "zh_CN"),
        ("", "zh_CN"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("zh-TW", "zh_CN"),
        ("fr-FR,en;q=0.5,zh;q=0.4", "en"),
        ("en;q=0.2,zh;q=0.8", "zh_CN"),
        ("fr", "zh_CN"),
        ("en;q=0", "zh_CN"),
        ("*", "zh_CN"),
    ],
)
def test_accept_language_is_negotiated(header: str | None, locale: str) -> None:
    assert i18n.negotiate(header, "zh_CN") == locale


def test_a_refusal_is_worded_in_the_readers_language() -> None:
    """The field stays the interface's name; the message is worded again, English in ``str``."""
    exc = Refused(N_("log in with your key to see this page"), field="key")
    assert str(exc) == "key: log in with your key to see this page"
    with i18n.using("zh_CN"):
        assert exc.describe() == "key: 请使用您的密钥登录以查看此页面"
    assert exc.describe() == str(exc)
    with i18n.using("zh_CN"):
        assert AccessDenied("decide objections").describe().startswith("您的密钥无权")
    # a message nobody marked is shown as it is, in any language
    with i18n.using("zh_CN"):
        assert Refused("plain", field="x").describe() == "x: plain"


@pytest.fixture
def world(system: System) -> System:
    system.register([SubjectRow(P, "person", "Zhang Wei"), SubjectRow(ORG, "organisation", "Example Ltd")])
    rows = [
        {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
         "source_record_id": "c-1", "occurred_on": "2026-09-01", "reported_at": "2026-09-01T10:00"},
        {"subject": ORG, "item": "court.dishonest.evades-enforcement", "source": "court",
         "source_record_id": "c-2", "occurred_on": "2026-08-01"},
    ]  # fmt: skip
    result = system.ingest(list(enumerate(rows, 1)), origin="test", principal=system.operator())
    assert result.accepted == 2, result
    return system


def test_the_portal_is_chinese_without_accept_language_and_switches(world: System) -> None:
    app = served(world)
    c = TestClient(app)
    r = c.get("/portal/")
    assert r.status_code == 200 and '<html lang="zh-CN">' in r.text and "公开名单" in r.text
    assert r.headers["content-language"] == "zh-CN"
    assert 'href="?lang=en"' in r.text and 'href="?lang=zh-CN"' in r.text  # the switch
    r = c.get("/portal/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in r.text and "Public lists" in r.text
    # the switch is remembered (a cookie) over the browser's Accept-Language
    r = c.get("/portal/schemes?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in r.text and r.cookies.get("sc_lang") == "en"
    r = c.get("/portal/lists", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in r.text
    # an error page is in the reader's language too, its status and field unchanged
    r = TestClient(app).get("/portal/lists/nope/nothing")
    assert r.status_code == 404 and '<html lang="zh-CN">' in r.text and "未找到" in r.text


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [v for k, v in attrs if k in ("aria-label", "label", "title") and v]


def texts_of(html: str) -> set[str]:
    """The page's text nodes (and labels), each with its whitespace folded: a text of the
    catalogue is a whole node, where a word of a scheme's own prose is not."""
    p = _Text()
    p.feed(html)
    return {re.sub(r"\s+", " ", t).strip(" :") for t in p.parts}


PAGES = [
    "/portal/",
    "/portal/login",
    "/portal/search",
    "/portal/schemes",
    "/portal/schemes/court-dishonest-debtors",
    "/portal/schemes/sesame",
    "/portal/schemes/honest-shanghai",
    "/portal/lists",
    "/portal/lists/court-dishonest-debtors/dishonest-debtors",
    "/portal/transparency",
    f"/portal/public/{ORG}",
    f"/portal/subjects/{P}",
    "/portal/records/new",
    "/portal/decisions/new",
    "/portal/audit",
    "/portal/operator",
    "/portal/no-such-page",
]


def test_every_page_in_chinese_shows_none_of_the_english_texts(world: System) -> None:
    """Each page as the operator sees it (every menu and form) and as the public does, in both
    languages: no English text of the catalogue that the English page shows is left in the
    Chinese one."""
    app = served(world)
    token = world.create_key("operator", "wang.fang").token
    english = [
        m.id
        for m in catalogues.read("en")
        if isinstance(m.id, str) and m.id.strip(" :") and not re.search(r"%\(|\{|<", m.id)
    ]
    for who in (token, None):
        en, zh = client_for(app, who, "en"), client_for(app, who, "zh-CN")
        for path in PAGES:
            shown_en, page_zh = en.get(path), zh.get(path)
            assert shown_en.status_code == page_zh.status_code, path
            assert '<html lang="zh-CN">' in page_zh.text, path
            text_en, text_zh = texts_of(shown_en.text), texts_of(page_zh.text)
            shown = [t for t in english if t.strip(" :") in text_en]
            assert shown or page_zh.status_code >= 400, path  # the English page does show them
            left = [t for t in shown if t.strip(" :") in text_zh]
            assert left == [], (path, left)


def test_the_command_line_speaks_the_language_asked(env: Path) -> None:
    """``--lang`` first, then the environment's locale; English otherwise (the source)."""
    bad = ["score", P, "--at", "yesterday"]
    english = runner.invoke(app, bad, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"})
    assert english.exit_code == 2 and "error: --at: 'yesterday' is not an ISO date" in english.stderr
    chinese = runner.invoke(app, ["--lang", "zh-CN", *bad], env={"LANG": "en_GB.UTF-8"})
    assert chinese.exit_code == 2 and "错误： --at：'yesterday' 不是 ISO 日期" in chinese.stderr
    by_env = runner.invoke(app, bad, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "zh_CN.UTF-8"})
    assert by_env.exit_code == 2 and "不是 ISO 日期" in by_env.stderr
    assert runner.invoke(app, ["--lang", "fr", *bad]).exit_code == 2
    # the language is the command's only: the next one, asked nothing, is English again
    again = runner.invoke(app, bad, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "C"})
    assert "error: --at" in again.stderr


@pytest.mark.parametrize(
    ("env_vars", "locale"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW"}, "zh_CN"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
    ],
)
def test_the_command_lines_language_from_the_environment(env_vars: dict[str, str], locale: str) -> None:
    assert language(None, env_vars) == locale
    assert language("en", env_vars) == "en"


def test_an_api_error_is_worded_by_accept_language(world: System) -> None:
    """The ``error`` line follows Accept-Language (English without one); status, the field
    named and the shape stay the same, for a client's code to read."""
    c = TestClient(served(world))
    en = c.get("/audit", headers={"Authorization": "Bearer sck_nope"})
    zh = c.get(
        "/audit",
        headers={"Authorization": "Bearer sck_nope", "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert en.status_code == zh.status_code == 401
    assert en.json()["error"] == "unknown API key" and zh.json()["error"] == "未知的 API 密钥"
    assert set(en.json()) == set(zh.json())


def test_every_shipped_item_list_measure_and_factor_has_a_chinese_title() -> None:
    """Issue 18.2: "The shipped schemes carry Chinese titles for their items, lists and
    measures" (and a tier model's tiers and rules, which its reasons and chart name); the
    catalogue beside each scheme (schemes/shipped/zh-CN) names no thing the scheme does not
    have."""
    registry = shipped_registry()
    for scheme in registry.schemes.values():
        zh = titles.catalogue(scheme.id)
        assert zh.get("scheme", {}).get(scheme.id), scheme.id
        want = {
            "item": {i.code for i in scheme.items},
            "list": {lst.id for lst in scheme.lists},
            "measure": {m.id for m in scheme.measures},
            "factor": {f.id for f in getattr(scheme.model, "factors", None) or []},
            # a tier model's tiers, and its rules by the tier each gives (one rule per tier)
            "tier": {t.tier for t in getattr(scheme.model, "tiers", None) or []},
            "rule": {r.tier for r in getattr(scheme.model, "rules", None) or [] if r.title},
        }
        rules = [r.tier for r in getattr(scheme.model, "rules", None) or []]
        assert len(rules) == len(set(rules)), (scheme.id, "two rules give one tier: key them apart")
        for kind, ids in want.items():
            have = zh.get(kind, {})
            assert ids - set(have) == set(), (scheme.id, kind, "without a Chinese title")
            assert set(have) - ids == set(), (scheme.id, kind, "not in the scheme")
            assert all(re.search(r"[\u4e00-\u9fff]", have[k]) for k in ids), (scheme.id, kind)
    with i18n.using("zh_CN"):
        assert titles.title_of("measure", "no-flights", "No air travel") == "禁止乘坐飞机"
        assert titles.title_of("item", "no.such", "Its own title") == "Its own title"
    assert titles.title_of("measure", "no-flights", "No air travel") == "No air travel"


def test_the_chinese_scheme_page_shows_chinese_titles(world: System) -> None:
    zh = client_for(served(world), None, "zh-CN").get("/portal/schemes/joint-memorandum-2016").text
    assert "禁止乘坐飞机" in zh and "No air travel" not in zh
    en = client_for(served(world), None, "en").get("/portal/schemes/joint-memorandum-2016").text
    assert "No air travel" in en and "禁止乘坐飞机" not in en


@pytest.fixture
def rated(system: System, clock: Clock) -> System:
    """:func:`tests.support.english.rated_world`: a listed person, a rated one, an organisation
    rated red, and an objection whose review is overdue."""
    return rated_world(system, clock)


ASKED = [  # (subject, measure): each kind of reason a decision gives
    (P, "no-flights"),  # on a list: deny
    (Q, "no-flights"),  # nothing restricts: allow
    (ORG, "no-flights"),  # not for an organisation
    (ORG, "enterprise-no-public-procurement"),  # a tier (red) and a list: deny
    (ORG, "enterprise-fewer-inspections"),  # a reward wanting a tier (green)
    (Q, "cheaper-public-transport"),  # a reward wanting grades
    (person(99), "no-flights"),  # unknown to the system
    (P, "no-such-measure"),  # refused: no such measure
    ("123", "no-flights"),  # refused: not an identity code
    (P[:-1] + ("0" if P[-1] != "0" else "1"), "no-flights"),  # refused: a wrong check character
    (P, ""),  # refused: no purpose (below)
]


def test_reasons_overdue_lines_and_tiers_are_chinese_on_chinese_pages(rated: System) -> None:
    """Issue 18.2 ("All portal text [...] through gettext catalogues"): the reasons of a
    decision, its refusals, the case desk's overdue lines and a tier rating's rule and tiers,
    worded in Chinese on the Chinese pages and in English on the English ones."""
    app = served(rated)
    token = rated.create_key("operator", "wang.fang").token
    zh, en = client_for(app, token, "zh-CN"), client_for(app, token, "en")
    for subject, measure in ASKED:
        form = {"subject": subject, "measure": measure or "no-flights", "purpose": "test" if measure else ""}
        shown_zh = post_form(zh, "/portal/decisions/new", "/portal/decisions/new", form)
        shown_en = post_form(en, "/portal/decisions/new", "/portal/decisions/new", form)
        assert shown_zh.status_code == shown_en.status_code, (subject, measure)
        assert english_left(shown_zh.text) == [], (subject, measure)
        assert english_left(shown_en.text), (subject, measure)  # the English page does say it
    refused = zh.get("/portal/search?code=91371082MA00000000")  # an organisation code, wrong
    assert refused.status_code == 422 and english_left(refused.text) == [] and "校验码" in refused.text
    pages = [f"/portal/subjects/{P}", f"/portal/subjects/{Q}", f"/portal/subjects/{ORG}", "/portal/operator"]
    pages += ["/portal/schemes/honest-shanghai", "/portal/schemes/enterprise-credit", "/portal/transparency"]
    for path in pages:
        page = zh.get(path)
        assert page.status_code == 200 and english_left(page.text) == [], path
    desk = zh.get("/portal/operator").text
    assert "复核应于" in desk  # the overdue line, in Chinese
    rating = zh.get(f"/portal/subjects/{P}").text
    assert "较差" in rating and "因一条严重负面记录或多条一般负面记录评为较差" in rating
    english = en.get(f"/portal/subjects/{P}").text
    assert "rated bad for a serious negative record" in english and "较差" not in english
    # and the scan finds an English sentence where one is left
    assert english_left("<p>这是 <b>no list entry restricts</b></p><code>a b c d</code>") == [
        "no list entry restricts"
    ]


def test_a_decision_reply_is_worded_by_accept_language_and_never_served_across(rated: System) -> None:
    """The reply is rendered once per decision and language (``DecisionReplies``): asked in
    Chinese, then in English, then in Chinese again about the same subject (a cached view), each
    reader gets its own language; the answer, the field names and the audit stay the same."""
    c = TestClient(served(rated))
    token = rated.create_key("relying_party", "airlines").token
    body = {"subject": P, "measure": "no-flights", "purpose": "boarding"}
    replies = []
    for lang in ("zh-CN", "en", "zh-CN", None):
        headers = {"Authorization": f"Bearer {token}", **({"Accept-Language": lang} if lang else {})}
        r = c.post("/decisions", json=body, headers=headers)
        assert r.status_code == 200, r.text
        replies.append(r.json())
    zh, en, zh_again, default = (x["reasons"][0]["text"] for x in replies)
    assert "自 2026-06-01 起列入“失信被执行人名单”" in zh and zh_again == zh
    assert (
        en.startswith("on the list 'List of Dishonest Judgment Debtors' since 2026-06-01") and default == en
    )
    assert {x["answer"] for x in replies} == {"deny"}
    log = rated.audit_log(rated.operator(), limit=1000)
    audited = [e["detail"]["reasons"][0] for e in log if e.get("action") == "decision"]
    assert len(audited) == 4 and set(audited) == {en}  # the audit log keeps the English


def test_the_command_line_gives_reasons_in_its_language(
    rated: System, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check`` words its reasons, and ``--json`` its reply, in the command's language."""
    del rated, env
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)  # the store the fixture filled
    get_settings.cache_clear()
    ask = ["check", ORG, "enterprise-no-public-procurement"]
    zh = runner.invoke(app, ["--lang", "zh-CN", *ask])
    assert zh.exit_code == 1 and "在企业信用评级（生态环境和市场监管类）下的等级红色（失信）" in zh.stdout, (
        zh.stdout
    )
    en = runner.invoke(app, ["--lang", "en", *ask])
    assert en.exit_code == 1 and "grade red under enterprise-credit is one of red" in en.stdout, en.stdout
    as_json = runner.invoke(app, ["--lang", "zh-CN", *ask, "--json"])
    assert "红色（失信）" in as_json.stdout
