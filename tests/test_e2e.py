"""End to end: Debian's Chromium, driven by Playwright, against a real ``socialcredit serve``
process over a store prepared here. The issue's scenario, through the pages a person uses, in
English and in Chinese (issue 18: "every journey above passes a browser test in both languages"):

a subject logs in and reads the explanation of their grade; a relying party asks about a flight
ticket and is denied with the reasons; an agency enters a record and the subject's page changes;
the subject objects to the court's record; an operator upholds the objection; the subject's grade
and the flight decision change; the public list no longer shows them. In Chinese, each page of
the journey is checked for English left (``tests/support/english.py``), beyond codes, numbers and
what people typed; the court's list shows the debtor's conduct, performance and obligation worded.

Each page visited is saved as a screenshot in ``tests/screenshots/`` (named in the README), or in the
committed ``docs/screenshots/`` when ``SOCIALCREDIT_UPDATE_SCREENSHOTS=1``: the English run's, and
the Chinese subject page and denial it switches to; the Chinese run's go to ``tests/screenshots/``
with ``-zh-CN`` in their names.
Chromium is the system's (``/usr/bin/chromium``; ``scripts/test.sh`` installs it when missing):
Playwright's own browser download is never used.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from socialcredit import i18n
from socialcredit.schemes import shipped_registry, titles
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from socialcredit.web.base import STATUS_NAMES
from tests.conftest import person
from tests.support.browser import ROOT, SHOTS, chromium, serving
from tests.support.english import english_left

pytestmark = pytest.mark.slow

P, NAME = person(301), "Zhang Wei"
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"
LANGS = ["en", "zh-CN"]
# what people write, in the language they write in (a Chinese court writes its name in Chinese);
# the obligation and performance as the shipped courts state them, in English, worded on the list
TYPED = {
    "en": {
        "court": "Rongcheng People's Court",
        "served": "enforcement decision served",
        "camera": "camera 17, photo 2231",
        "purpose": "ticket MU5101 Weihai-Shanghai",
        "again": "ticket MU5101, second attempt",
        "statement": "I repaid the 48,000 yuan in full before the decision was served; "
        "the court has the receipt.",
        "evidence": "bank transfer 2026-08-20 ref 55120\ncourt receipt 2026-77",
        "reason": "The court confirms full repayment on 2026-08-20.",
    },
    "zh-CN": {
        "court": "荣成市人民法院",
        "served": "执行裁定已送达",
        "camera": "17号摄像头，照片2231",
        "purpose": "机票 MU5101 威海-上海",
        "again": "机票 MU5101，第二次",
        "statement": "我在裁定送达前已全额偿还48,000元，法院有收据。",
        "evidence": "银行转账 2026-08-20 编号55120\n法院收据 2026-77",
        "reason": "法院确认已于2026-08-20全额还款。",
    },
}
LOCALE = {"en": "en", "zh-CN": "zh_CN"}


def tr(lang: str, text: str) -> str:
    """``text`` (a message of the portal's) as the page in ``lang`` words it; in Chinese, a
    translation the catalogue must hold."""
    worded = i18n.translate(i18n.word(text), LOCALE[lang])
    assert lang == "en" or worded != text, f"no Chinese for {text!r}"
    return worded


def item_title(lang: str, code: str) -> str:
    english = shipped_registry().item_defs[code].title
    return titles.title_of("item", code, english, locale=LOCALE[lang])


@dataclass(frozen=True)
class Served:
    base: str
    keys: dict[str, str]
    lang: str


def _prepare(home: Path, lang: str) -> dict[str, str]:
    """A small city's worth of one person's record, as agencies would have reported it."""
    today = dt.date.today()

    def day(n: int) -> str:
        return (today - dt.timedelta(days=n)).isoformat()

    store = Store(f"sqlite:///{home / 'socialcredit.db'}")
    try:
        system = System(store, shipped_registry())
        system.register([SubjectRow(P, "person", NAME, sex="male", district="Rongcheng")])
        rows = [
            {"subject": P, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "tp-5521",
             "occurred_on": day(300), "reported_at": day(299) + "T09:00", "evidence": "ticket 5521"},
            {"subject": P, "item": "charity.donation", "source": "red-cross", "source_record_id": "rc-88",
             "occurred_on": day(200), "reported_at": day(199) + "T09:00", "evidence": "receipt 88"},
            {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
             "source_record_id": "(2026) Lu 1082 Zhi 77", "occurred_on": day(60),
             "reported_at": day(60) + "T10:00", "evidence": TYPED[lang]["served"],
             "details": {"case_number": "(2026) Lu 1082 Zhi 77", "court": TYPED[lang]["court"],
                         "obligation": "repay 48,000 yuan", "performance": "none"}},
        ]  # fmt: skip
        result = system.ingest(list(enumerate(rows, 1)), origin="e2e", principal=system.operator())
        assert result.accepted == 3, result
        return {
            "subject": system.create_key("subject", P, name="Zhang Wei").token,
            "relying_party": system.create_key("relying_party", "airlines", name="China Eastern desk").token,
            "agency": system.create_key("agency", "traffic-police", name="collector 12").token,
            "operator": system.create_key("operator", "li.na", name="credit office").token,
            # not a key: the court record's id, keyed by this store (decision 0080)
            "court record": store.stored_record_id("court", "(2026) Lu 1082 Zhi 77"),
        }
    finally:
        store.close()


@pytest.fixture(scope="module", params=LANGS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A city of its own for each language's journey (the journey changes it)."""
    lang = request.param
    home = tmp_path_factory.mktemp(f"e2e-home-{lang}")
    keys = _prepare(home, lang)
    with serving(home) as base:
        yield Served(base, keys, lang)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_objection_upheld_end_to_end(served: Served, browser: Browser) -> None:
    base, lang, typed = served.base, served.lang, TYPED[served.lang]
    english = lang == "en"
    own_shots = SHOTS if english else ROOT / "tests" / "screenshots"  # the docs show the English run's
    own_shots.mkdir(parents=True, exist_ok=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if english else f"-{lang}"

    def shot(page: Page, name: str, full: bool = True) -> None:
        page.screenshot(path=str(own_shots / f"{name}{suffix}.png"), full_page=full)

    def in_its_language(page: Page) -> None:
        """The page is in the journey's language: in Chinese, no English left beyond codes,
        numbers and what people typed (a name, a statement, a purpose)."""
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if not english:
            left = english_left(page.content())
            assert left == [], (page.url, left)

    def session(role: str | None) -> Page:
        """A separate browser profile (its own cookies) reading the journey's language, logged in
        through the login form."""
        page = browser.new_context(viewport={"width": 1100, "height": 900}, locale=lang).new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/portal/login?lang={lang}")
        in_its_language(page)
        if role is not None:
            page.locator("#f-key").fill(served.keys[role])
            page.locator("form button[type=submit]").click()
            page.wait_for_url(f"{base}/portal/")
            expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "socialcredit portal"))
        return page

    # the public: the court's list shows the debtor with the published fields, in its language
    public = session(None)
    shot(public, "login")
    public.goto(f"{base}/portal/")
    in_its_language(public)
    shot(public, "home")
    public.goto(f"{base}/portal/lists/{COURT_LIST}")
    listed = public.locator("#public-list")
    expect(listed).to_contain_text(NAME)
    expect(listed).to_contain_text("(2026) Lu 1082 Zhi 77")
    expect(listed).not_to_contain_text(P)  # the ID number is published masked
    expect(listed).to_contain_text(item_title(lang, "court.dishonest.able-but-refuses"))
    expect(listed).to_contain_text("repay 48,000 yuan" if english else "偿还48,000元")
    expect(listed).to_contain_text("none" if english else "全部未履行")
    in_its_language(public)
    shot(public, "public-list")

    # the subject reads the explanation of their grade
    subject = session("subject")
    subject.locator(f"nav a[href='/portal/subjects/{P}']").first.click()
    expect(subject.get_by_role("heading", level=1)).to_have_text(tr(lang, "My record"))
    rongcheng = subject.locator("#scheme-rongcheng")
    expect(rongcheng.get_by_test_id("score-rongcheng")).to_have_text("900")
    expect(rongcheng.get_by_test_id("grade-rongcheng")).to_have_text("B")
    lines = rongcheng.locator("table.explanation")  # how the score adds up: the base, the records
    expect(lines.locator("tbody tr")).to_have_count(2)
    expect(lines.locator("tfoot")).to_contain_text("900")
    table = rongcheng.locator("table.records")  # one row per counting record
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text(item_title(lang, "court.dishonest.able-but-refuses"))
    expect(table).to_contain_text("-100")
    expect(rongcheng.locator("li.current")).to_contain_text("850")
    expect(rongcheng.locator("svg[role=img]")).to_be_visible()
    expect(subject.locator("#lists")).to_contain_text(
        "List of Dishonest Judgment Debtors" if english else "失信被执行人名单"
    )
    # the court record's details, by their names, the performance worded as the list words it
    expect(subject.locator("#records")).to_contain_text("Performance: none" if english else "：全部未履行")
    in_its_language(subject)
    shot(subject, "subject-full")

    def shot_down_to(page: Page, name: str, last: Locator) -> None:
        """The page from its top down to the end of ``last``: the README's picture of the
        subject page, the header and the first scheme, explained."""
        box = last.bounding_box()
        assert box is not None
        clip = {"x": 0.0, "y": 0.0, "width": 1100.0, "height": box["y"] + box["height"]}
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, clip=clip)  # type: ignore[arg-type]

    if english:
        shot_down_to(subject, "subject", rongcheng)
        # the same page in Chinese (the portal's default), for the README beside the English one:
        # the switch keeps the page, and its titles, grades and reasons are in Chinese
        subject.locator('.lang-switch a[hreflang="zh-CN"]').click()
        expect(subject.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(subject.get_by_role("heading", level=1)).to_have_text("我的记录")
        expect(subject.locator("#lists")).to_contain_text("失信被执行人名单")
        shot_down_to(subject, "subject-zh", rongcheng)
        subject.locator('.lang-switch a[hreflang="en"]').click()
        expect(subject.locator("html")).to_have_attribute("lang", "en")
    subject.set_viewport_size({"width": 390, "height": 844})  # a phone
    shot(subject, "subject-phone", full=False)
    assert subject.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    subject.set_viewport_size({"width": 1100, "height": 900})

    # a relying party asks about a flight ticket: deny, with the reasons
    airline = session("relying_party")
    airline.locator("nav a[href='/portal/decisions/new']").first.click()

    def ask_flight(purpose: str) -> str:
        airline.locator("#f-subject").fill(P)
        airline.locator("#f-measure").select_option("no-flights")
        airline.locator("#f-purpose").fill(purpose)
        airline.locator("form.form button[type=submit]").click()
        answer = airline.get_by_test_id("answer")
        expect(answer).to_have_text(tr(lang, answer.get_attribute("data-answer") or ""))
        in_its_language(airline)
        return answer.get_attribute("data-answer") or ""

    assert ask_flight(typed["purpose"]) == "deny"
    reasons = airline.locator("#answer")
    if english:
        expect(reasons).to_contain_text("List of Dishonest Judgment Debtors")
    else:
        expect(reasons).to_contain_text("列入“失信被执行人名单”")
    expect(reasons).to_contain_text(tr(lang, "How to resolve:"))
    expect(reasons).not_to_contain_text(P)
    shot(airline, "decision-deny")
    if english:
        # the same question in Chinese: the reasons are worded in Chinese too
        airline.goto(f"{base}/portal/decisions/new?lang=zh-CN")
        airline.locator("#f-subject").fill(P)
        airline.locator("#f-measure").select_option("no-flights")
        airline.locator("#f-purpose").fill("机票 MU5101 威海-上海")
        airline.locator("form.form button[type=submit]").click()
        expect(airline.locator("#answer")).to_contain_text("列入“失信被执行人名单”")
        expect(airline.get_by_test_id("answer")).to_have_text("拒绝")  # the word; the value stays "deny"
        expect(airline.get_by_test_id("answer")).to_have_attribute("data-answer", "deny")
        shot(airline, "decision-deny-zh")
        airline.goto(f"{base}/portal/decisions/new?lang=en")

    # an agency enters a record with its evidence; the subject's page changes
    collector = session("agency")
    collector.locator("nav a[href='/portal/records/new']").first.click()
    in_its_language(collector)
    collector.locator("#f-subject").fill(P)
    collector.locator("#f-item").select_option("traffic.red-light")
    collector.locator("#f-source_record_id").fill("tp-7730")
    collector.locator("#f-occurred_on").fill(dt.date.today().isoformat())
    collector.locator("#f-evidence").fill(typed["camera"])
    collector.locator("form.form button[type=submit]").click()
    expect(collector.locator("#outcome")).to_contain_text(tr(lang, "Accepted"))
    in_its_language(collector)
    shot(collector, "agency-record")
    subject.reload()
    expect(rongcheng.get_by_test_id("score-rongcheng")).to_have_text("880")
    expect(subject.locator("#records")).to_contain_text(typed["camera"])
    expect(subject.locator("#watchers")).to_contain_text(typed["purpose"])
    in_its_language(subject)

    # the subject objects to the court's record
    subject.locator("#f-target").select_option(f"record:{served.keys['court record']}")
    subject.locator("#f-statement").fill(typed["statement"])
    subject.locator("#f-evidence").fill(typed["evidence"])
    subject.locator("#objection-form button[type=submit]").click()
    filed = subject.locator("#filed")
    expect(filed).to_contain_text(i18n.translate(STATUS_NAMES["under review"], LOCALE[lang]))
    case_id = re.search(r"obj-[0-9a-f]+", filed.inner_text())
    assert case_id is not None
    in_its_language(subject)
    subject.locator("#cases").scroll_into_view_if_needed()
    shot(subject, "objection-filed", full=False)

    # an operator upholds it
    operator = session("operator")
    operator.locator("nav a[href='/portal/operator']").first.click()
    case = operator.locator(f"#case-{case_id.group(0)}")
    expect(case).to_contain_text(typed["statement"][:20])
    in_its_language(operator)
    shot(operator, "operator-desk")
    case.locator("input[name=outcome][value=uphold]").check()
    case.locator(f"#reason-{case_id.group(0)}").fill(typed["reason"])
    case.locator("button[type=submit]").click()
    expect(operator.locator("#decided")).to_contain_text(
        i18n.translate(STATUS_NAMES["corrected"], LOCALE[lang])
    )
    in_its_language(operator)

    # the grade, the flight decision and the public list follow at once
    subject.reload()
    expect(rongcheng.get_by_test_id("score-rongcheng")).to_have_text("980")
    expect(rongcheng.get_by_test_id("grade-rongcheng")).to_have_text("A")
    expect(subject.locator("#cases")).to_contain_text(typed["reason"])
    in_its_language(subject)
    shot(subject, "subject-after", full=False)
    assert ask_flight(typed["again"]) == "allow"
    shot(airline, "decision-allow")
    public.goto(f"{base}/portal/lists/{COURT_LIST}")
    expect(public.get_by_role("main")).to_contain_text(tr(lang, "Nobody is on this list now."))
    expect(public.get_by_role("main")).not_to_contain_text(NAME)
    in_its_language(public)
    public.goto(f"{base}/portal/transparency")
    expect(public.get_by_test_id("objections-filed")).to_have_text("1")
    in_its_language(public)
    shot(public, "transparency")
    operator.goto(f"{base}/portal/audit")
    in_its_language(operator)
    shot(operator, "audit")

    # keyboard users can reach the content first
    public.goto(f"{base}/portal/")
    public.keyboard.press("Tab")
    assert public.evaluate("document.activeElement.textContent") == tr(lang, "Skip to main content")
