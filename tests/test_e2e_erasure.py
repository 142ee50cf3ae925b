"""End to end, erasure on request (issue 21 point 3, decision 0054): Debian's Chromium, driven by
Playwright, against a real ``socialcredit serve``. A Sesame member asks on their own page for
their Sesame records to be erased; the operator desk lists the request with its due date and an
operator grants it with a reason; the member's page then shows each record as a line "erased on
D under rule R", with no content, in English and in Chinese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from socialcredit.rules.days import day_of
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from tests.conftest import person
from tests.support.browser import SHOTS, chromium, serving

pytestmark = pytest.mark.slow

P = person(302)


def _prepare(home: Path) -> dict[str, str]:
    """A Sesame member with two records of this year, both of items only Sesame knows."""
    today = dt.date.today()
    first = dt.date(today.year, 1, 1)
    second = min(first + dt.timedelta(days=1), today)
    store = Store(f"sqlite:///{home / 'socialcredit.db'}")
    try:
        system = System(store, shipped_registry())
        system.register([SubjectRow(P, "person", "Li Ming", sex="male", district="Rongcheng")])
        rows = [
            {"subject": P, "item": "identity.verified", "source": "public-security",
             "source_record_id": "id-302", "occurred_on": first.isoformat()},
            {"subject": P, "item": "consumption.video-game-hours", "source": "online-platforms",
             "source_record_id": "vg-302", "occurred_on": second.isoformat(), "evidence": "orders 4471-4490"},
        ]  # fmt: skip
        assert (
            system.ingest(list(enumerate(rows, 1)), origin="e2e", principal=system.operator()).accepted == 2
        )
        return {
            "subject": system.create_key("subject", P, name="Li Ming").token,
            "operator": system.create_key("operator", "zhao.lei", name="credit office").token,
            # not keys: the records' ids, keyed by this store (decision 0080)
            "joined": store.stored_record_id("public-security", "id-302"),
            "games": store.stored_record_id("online-platforms", "vg-302"),
        }
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("e2e-erasure")
    keys = _prepare(home)
    with serving(home) as base:
        yield base, keys


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_erasure_asked_granted_and_shown(served: tuple[str, dict[str, str]], browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base, keys = served
    joined, games = keys["joined"], keys["games"]

    def session(role: str) -> Page:
        page = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB").new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/portal/login?lang=en")
        page.get_by_label("Your key").fill(keys[role])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("socialcredit portal")
        return page

    member = session("subject")
    member.goto(f"{base}/portal/subjects/{P}?lang=en")
    expect(member.locator("#scheme-sesame")).to_be_visible()
    form = member.locator("#erasure-form")
    form.get_by_label("Record to erase").select_option(games)
    form.get_by_label("Your request").fill("I have left Sesame Credit; erase my data (PIPL Art. 47).")
    form.get_by_role("button", name="Ask for erasure").click()
    cases = member.locator("#cases")
    expect(cases).to_contain_text("erase record")
    expect(cases).to_contain_text("with the 2 records of its year under the same key")
    expect(cases).to_contain_text("decision due by")
    case_id = (cases.locator("tr[id^=case-era-] code").first.text_content() or "").strip()
    assert case_id.startswith("era-")

    desk = session("operator")
    desk.goto(f"{base}/portal/operator?lang=en")
    article = desk.locator(f"#case-{case_id}")
    expect(article).to_contain_text("Erasure request")
    today = day_of(dt.datetime.now(dt.UTC).replace(tzinfo=None))  # the day in China, as cases count
    due = (today + dt.timedelta(days=15)).isoformat()
    expect(article.get_by_test_id(f"due-{case_id}")).to_contain_text(due)
    desk.screenshot(path=str(SHOTS / "erasure-desk.png"), full_page=True)
    article.get_by_label("Grant").check()
    article.get_by_label("Reason").fill("Member left; only Sesame's own records under this key.")
    article.get_by_role("button", name="Record the decision").click()
    expect(desk.locator("#decided")).to_contain_text(case_id)

    member.goto(f"{base}/portal/subjects/{P}?lang=en")
    for rid in (joined, games):
        line = member.get_by_test_id(f"erased-{rid}")
        expect(line).to_contain_text(f"erased on {today.isoformat()}")
        expect(line).to_contain_text(f"erasure on request, case {case_id}")
    expect(member.locator("#records")).not_to_contain_text("orders 4471-4490")  # no content left
    expect(member.locator("#scheme-sesame")).to_have_count(0)  # no member's record is read
    expect(member.get_by_test_id(f"reason-{case_id}")).to_contain_text("Member left")
    member.screenshot(path=str(SHOTS / "erasure-subject.png"), full_page=True)
    member.goto(f"{base}/portal/subjects/{P}?lang=zh-CN")
    expect(member.get_by_test_id(f"erased-{games}")).to_contain_text(f"依申请删除，案件 {case_id}")
