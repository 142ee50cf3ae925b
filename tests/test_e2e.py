"""End to end: Debian's Chromium, driven by Playwright, against a real ``socialcredit serve``
process over a store prepared here. The issue's scenario, through the pages a person uses:

a subject logs in and reads the explanation of their grade; a relying party asks about a flight
ticket and is denied with the reasons; an agency enters a record and the subject's page changes;
the subject objects to the court's record; an operator upholds the objection; the subject's grade
and the flight decision change; the public list no longer shows them.

Each page visited is saved as a screenshot in ``tests/screenshots/`` (named in the README), or in the
committed ``docs/screenshots/`` when ``SOCIALCREDIT_UPDATE_SCREENSHOTS=1``.
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

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from tests.conftest import person
from tests.support.browser import SHOTS, chromium, serving

pytestmark = pytest.mark.slow

P, NAME = person(301), "Zhang Wei"
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"


@dataclass(frozen=True)
class Served:
    base: str
    keys: dict[str, str]


def _prepare(home: Path) -> dict[str, str]:
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
             "reported_at": day(60) + "T10:00", "evidence": "enforcement decision served",
             "details": {"case_number": "(2026) Lu 1082 Zhi 77", "court": "Rongcheng People's Court",
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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("e2e-home")
    keys = _prepare(home)
    with serving(home) as base:
        yield Served(base, keys)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_objection_upheld_end_to_end(served: Served, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = served.base

    def shot(page: Page, name: str, full: bool = True) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)

    def session(role: str | None) -> Page:
        """A separate browser profile (its own cookies), logged in through the login form."""
        page = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB").new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/portal/login")
        if role is not None:
            page.get_by_label("Your key").fill(served.keys[role])
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("socialcredit portal")
        return page

    # the public: the court's list shows the debtor with the published fields
    public = session(None)
    shot(public, "login")
    public.goto(f"{base}/portal/")
    shot(public, "home")
    public.goto(f"{base}/portal/lists/{COURT_LIST}")
    listed = public.locator("#public-list")
    expect(listed).to_contain_text(NAME)
    expect(listed).to_contain_text("(2026) Lu 1082 Zhi 77")
    expect(listed).not_to_contain_text(P)  # the ID number is published masked
    shot(public, "public-list")

    # the subject reads the explanation of their grade
    subject = session("subject")
    subject.get_by_role("link", name="My record").first.click()
    expect(subject.get_by_role("heading", level=1)).to_have_text("My record")
    rongcheng = subject.locator("#scheme-rongcheng")
    expect(rongcheng.get_by_test_id("score-rongcheng")).to_have_text("900")
    expect(rongcheng.get_by_test_id("grade-rongcheng")).to_have_text("B")
    lines = rongcheng.locator("table.explanation")  # how the score adds up: the base, the records
    expect(lines.locator("tbody tr")).to_have_count(2)
    expect(lines.locator("tfoot")).to_contain_text("900")
    table = rongcheng.locator("table.records")  # one row per counting record
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("dishonest judgment debtor")
    expect(table).to_contain_text("-100")
    expect(rongcheng.locator("li.current")).to_contain_text("B: 850 to 959")
    expect(rongcheng.locator("svg[role=img]")).to_be_visible()
    expect(subject.locator("#lists")).to_contain_text("List of Dishonest Judgment Debtors")
    shot(subject, "subject-full")

    def shot_down_to(page: Page, name: str, last: Locator) -> None:
        """The page from its top down to the end of ``last``: the README's picture of the
        subject page, the header and the first scheme, explained."""
        box = last.bounding_box()
        assert box is not None
        clip = {"x": 0.0, "y": 0.0, "width": 1100.0, "height": box["y"] + box["height"]}
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, clip=clip)  # type: ignore[arg-type]

    shot_down_to(subject, "subject", rongcheng)
    # the same page in Chinese (the portal's default), for the README beside the English one: the
    # switch keeps the page, and its titles, grades and reasons are in Chinese
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
    airline.get_by_role("link", name="Ask a decision").first.click()

    def ask_flight(purpose: str) -> str:
        airline.get_by_label("Subject's identity code").fill(P)
        airline.get_by_label("Measure").select_option("no-flights")
        airline.get_by_label("Purpose").fill(purpose)
        airline.get_by_role("button", name="Ask").click()
        return airline.get_by_test_id("answer").text_content() or ""

    assert ask_flight("ticket MU5101 Weihai-Shanghai") == "deny"
    reasons = airline.locator("#answer")
    expect(reasons).to_contain_text("List of Dishonest Judgment Debtors")
    expect(reasons).to_contain_text("How to resolve")
    expect(reasons).not_to_contain_text(P)
    shot(airline, "decision-deny")
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
    collector.get_by_role("link", name="Enter a record").first.click()
    collector.get_by_label("Subject's identity code").fill(P)
    collector.get_by_label("Item").select_option("traffic.red-light")
    collector.get_by_label("Source record id").fill("tp-7730")
    collector.get_by_label("Occurred on").fill(dt.date.today().isoformat())
    collector.get_by_label("Evidence reference").fill("camera 17, photo 2231")
    collector.get_by_role("button", name="Submit the record").click()
    expect(collector.locator("#outcome")).to_contain_text("Accepted")
    shot(collector, "agency-record")
    subject.reload()
    expect(rongcheng.get_by_test_id("score-rongcheng")).to_have_text("880")
    expect(subject.locator("#records")).to_contain_text("camera 17, photo 2231")
    expect(subject.locator("#watchers")).to_contain_text("ticket MU5101 Weihai-Shanghai")

    # the subject objects to the court's record
    subject.get_by_label("What you object to").select_option(f"record:{served.keys['court record']}")
    subject.get_by_label("Your statement").fill(
        "I repaid the 48,000 yuan in full before the decision was served; the court has the receipt."
    )
    subject.get_by_label("Evidence").fill("bank transfer 2026-08-20 ref 55120\ncourt receipt 2026-77")
    subject.get_by_role("button", name="File the objection").click()
    expect(subject.locator("#filed")).to_contain_text("under review")
    case_id = re.search(r"obj-[0-9a-f]+", subject.locator("#filed").inner_text())
    assert case_id is not None
    subject.locator("#cases").scroll_into_view_if_needed()
    shot(subject, "objection-filed", full=False)

    # an operator upholds it
    operator = session("operator")
    operator.get_by_role("link", name="Operator desk").first.click()
    case = operator.locator(f"#case-{case_id.group(0)}")
    expect(case).to_contain_text("I repaid the 48,000 yuan")
    shot(operator, "operator-desk")
    case.get_by_label("Uphold (correct the record)").check()
    case.get_by_label("Reason").fill("The court confirms full repayment on 2026-08-20.")
    case.get_by_role("button", name="Record the decision").click()
    expect(operator.locator("#decided")).to_contain_text("corrected")

    # the grade, the flight decision and the public list follow at once
    subject.reload()
    expect(rongcheng.get_by_test_id("score-rongcheng")).to_have_text("980")
    expect(rongcheng.get_by_test_id("grade-rongcheng")).to_have_text("A")
    expect(subject.locator("#cases")).to_contain_text("The court confirms full repayment")
    shot(subject, "subject-after", full=False)
    assert ask_flight("ticket MU5101, second attempt") == "allow"
    shot(airline, "decision-allow")
    public.goto(f"{base}/portal/lists/{COURT_LIST}")
    expect(public.get_by_role("main")).to_contain_text("Nobody is on this list now")
    expect(public.get_by_role("main")).not_to_contain_text(NAME)
    public.goto(f"{base}/portal/transparency")
    expect(public.get_by_test_id("objections-filed")).to_have_text("1")
    shot(public, "transparency")
    operator.goto(f"{base}/portal/audit")
    shot(operator, "audit")

    # keyboard users can reach the content first
    public.goto(f"{base}/portal/")
    public.keyboard.press("Tab")
    assert public.evaluate("document.activeElement.textContent") == "Skip to main content"
