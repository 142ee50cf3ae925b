"""The public pages and the subject's objection form in Debian's Chromium (Playwright), in Chinese
(the default) and in English, against a real ``socialcredit serve`` process (issue 18):

- every public page, and the subject's own page, fits a phone 390 px wide: the page itself never
  scrolls sideways (a table stacks its rows, each cell led by its column's name, or scrolls inside
  its own frame);
- a refused objection comes back with its error at the top of the form, in view and focused, and
  what was typed still there;
- the language switch shows the same page in the other language: a list's search and page, a
  record's valid and knowledge times, kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from tests.conftest import org, person
from tests.support.browser import SHOTS, chromium, serving

pytestmark = pytest.mark.slow

P, ORG, REP = person(501), org(501), person(502)
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"
LANGS = ["zh-CN", "en"]


def _prepare(home: Path) -> dict[str, str]:
    """A person and an organisation on the court's list (long names and codes, which must wrap),
    the organisation's legal representative listed through it, and a subject key."""
    day = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    applied = (dt.date.today() - dt.timedelta(days=365)).isoformat()
    details = {
        "case_number": "(2026) Lu 1082 Zhi 12345",
        "court": "Rongcheng Municipal People's Court of Weihai City, Shandong Province",
        "obligation": "repay 48,000 yuan with interest and the costs of enforcement",
        "performance": "none",
    }
    store = Store(f"sqlite:///{home / 'socialcredit.db'}")
    try:
        system = System(store, shipped_registry())
        system.register(
            [
                SubjectRow(P, "person", "Ouyang Zhangweiqiang", sex="male", district="Rongcheng"),
                SubjectRow(REP, "person", "Li Si"),
                SubjectRow(ORG, "organisation", "Weihai Example Shipbuilding and Logistics Co., Ltd.",
                           legal_representative=REP),
            ]
        )  # fmt: skip
        rows = [
            {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
             "source_record_id": "e2e-p", "occurred_on": day, "reported_at": day + "T10:00",
             "details": details},
            {"subject": ORG, "item": "court.dishonest.evades-enforcement", "source": "court",
             "source_record_id": "e2e-o", "occurred_on": day, "reported_at": day + "T10:00",
             "details": details},
            # the person asked for an Honest Shanghai rating (a tier model) a year before
            {"subject": P, "item": "honest-shanghai.applied", "source": "self", "source_record_id": "e2e-a",
             "occurred_on": applied, "reported_at": applied + "T09:00"},
        ]  # fmt: skip
        result = system.ingest(list(enumerate(rows, 1)), origin="e2e", principal=system.operator())
        assert result.accepted == 3, result
        return {"subject": system.create_key("subject", P).token}
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("e2e-public")
    keys = _prepare(home)
    with serving(home) as base:
        yield base, keys


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _phone(browser: Browser, base: str, lang: str, key: str | None = None) -> Page:
    """A phone-sized browser of its own, reading ``lang``, logged in with ``key`` if given."""
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/portal/login?lang={lang}")
    if key is not None:
        page.locator("#f-key").fill(key)
        page.locator("form.form button[type=submit]").click()
        page.wait_for_url(f"{base}/portal/")
    return page


PUBLIC_PAGES = [
    "/portal/",
    "/portal/login",
    "/portal/search",
    "/portal/lists",
    f"/portal/lists/{COURT_LIST}",
    "/portal/lists/enterprise-credit/serious-violators",
    "/portal/transparency",
    "/portal/schemes",
    "/portal/schemes/court-dishonest-debtors",
    "/portal/schemes/rongcheng",
    f"/portal/public/{ORG}",
    f"/portal/public/{P}",  # refused to a visitor: the error page must fit too
]


@pytest.mark.parametrize("lang", LANGS)
def test_every_public_page_fits_a_phone(
    served: tuple[str, dict[str, str]], browser: Browser, lang: str
) -> None:
    base, keys = served
    visitor = _phone(browser, base, lang)
    for path in PUBLIC_PAGES:
        visitor.goto(base + path)
        width = visitor.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (lang, path, width)
    # a stacked table names each cell's column beside it: the list's rows are readable on a phone
    visitor.goto(f"{base}/portal/lists/{COURT_LIST}")
    cell = visitor.locator("#public-list tbody tr").first.locator("td").first
    label = cell.evaluate("c => getComputedStyle(c, '::before').content")
    assert label.strip('"').startswith("姓名" if lang == "zh-CN" else "Name"), label
    me = _phone(browser, base, lang, keys["subject"])
    me.goto(f"{base}/portal/subjects/{P}")
    assert me.evaluate("document.documentElement.scrollWidth") <= 390, (lang, "subject page")


@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_objection_shows_its_error_in_view_and_focused(
    served: tuple[str, dict[str, str]], browser: Browser, lang: str
) -> None:
    base, keys = served
    page = _phone(browser, base, lang, keys["subject"])
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(f"{base}/portal/subjects/{P}")
    form = page.locator("#objection-form")
    form.locator("#f-target").select_option(index=1)
    form.locator("#f-statement").fill("   ")  # passes the browser's "required", refused as blank
    form.locator("#f-evidence").fill("receipt 88")
    form.locator("button[type=submit]").click()
    error = page.locator("#objection-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("statement")
    expect(error).to_contain_text("须为1至4000个字符" if lang == "zh-CN" else "must be 1 to 4000 characters")
    expect(error).to_be_focused()
    expect(error).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0  # the form is further down: the page was scrolled to it
    expect(form.locator("#f-evidence")).to_have_value("receipt 88")  # what was typed is kept
    assert form.locator("#f-target").input_value() != ""


@pytest.mark.parametrize("lang", LANGS)
def test_the_language_switch_keeps_the_search_the_page_and_the_times(
    served: tuple[str, dict[str, str]], browser: Browser, lang: str
) -> None:
    """Issue 18.2: "a switch on every page"; switching must not lose what the page shows (it
    dropped the list's search and page, and the times asked about)."""
    base, keys = served
    other = "en" if lang == "zh-CN" else "zh-CN"
    page = _phone(browser, base, lang, keys["subject"])
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(f"{base}/portal/lists/{COURT_LIST}?q=Ouyang&p=1")
    page.locator(f'.lang-switch a[hreflang="{other}"]').click()
    page.wait_for_url(lambda url: f"lang={other}" in url)
    assert parse_qs(urlparse(page.url).query) == {"q": ["Ouyang"], "p": ["1"], "lang": [other]}
    assert urlparse(page.url).path == f"/portal/lists/{COURT_LIST}"
    expect(page.locator("html")).to_have_attribute("lang", other)
    expect(page.locator("#f-q")).to_have_value("Ouyang")
    expect(page.locator("#public-list")).to_contain_text("Ouyang Zhangweiqiang")
    # and back, still the same search
    page.locator(f'.lang-switch a[hreflang="{lang}"]').click()
    page.wait_for_url(lambda url: f"lang={lang}" in url)
    assert parse_qs(urlparse(page.url).query) == {"q": ["Ouyang"], "p": ["1"], "lang": [lang]}
    # the subject's own record as it stood on a past day, as then known: both times kept
    day = (dt.date.today() - dt.timedelta(days=7)).isoformat()
    page.goto(f"{base}/portal/subjects/{P}?at={day}&known_at={day}")
    page.locator(f'.lang-switch a[hreflang="{other}"]').click()
    page.wait_for_url(lambda url: f"lang={other}" in url)
    assert parse_qs(urlparse(page.url).query) == {"at": [day], "known_at": [day], "lang": [other]}
    expect(page.locator("#f-at")).to_have_value(day)
    expect(page.locator("#f-known-at")).to_have_value(day)


@pytest.mark.parametrize("lang", LANGS)
def test_a_tier_rating_is_charted_by_its_tiers_names(
    served: tuple[str, dict[str, str]], browser: Browser, lang: str
) -> None:
    """Issue 18.6 ("honest axes"): the Honest Shanghai rating (a tier model, no points) is drawn
    by its tiers' names, best on top, never as the levels 0, 1, 2 it is stored as; the scheme
    page lists its tiers and rules, and says there are no points."""
    base, keys = served
    page = _phone(browser, base, lang, keys["subject"])
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(f"{base}/portal/subjects/{P}")
    section = page.locator("#scheme-honest-shanghai")
    names = ["很好", "良好", "较差"] if lang == "zh-CN" else ["very-good", "good", "bad"]
    expect(section.get_by_test_id("grade-honest-shanghai")).to_have_text(names[2])  # on the court's list
    chart = section.locator("svg[role=img]")
    labels = chart.locator('text[text-anchor="end"]').all_text_contents()
    assert sorted(labels) == sorted(names), labels  # the axis: the tiers by name, and no number
    tops = [chart.locator('text[text-anchor="end"]', has_text=n).first.bounding_box() for n in names]
    assert [box["y"] for box in tops if box] == sorted(box["y"] for box in tops if box)  # best on top
    for name in names:  # every label drawn whole, inside the chart
        box = chart.locator('text[text-anchor="end"]', has_text=name).first.bounding_box()
        frame = chart.bounding_box()
        assert box is not None and frame is not None and box["x"] >= frame["x"], name
    expect(section.locator("figcaption")).to_contain_text(
        "最好的在最上方" if lang == "zh-CN" else "the best on top"
    )
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SHOTS / f"tier-{lang}.png"))
    page.goto(f"{base}/portal/schemes/honest-shanghai")
    expect(page.get_by_test_id("tiers")).to_contain_text(names[0])
    expect(page.get_by_role("main")).not_to_contain_text("1 points" if lang == "en" else "1 分")
