"""The staff journeys of issue 18 in Debian's Chromium (Playwright) against a real ``socialcredit
serve``, in Chinese (the portal's default) and in English (``?lang=en``):

an agency uploads a CSV file and sees each row's outcome, then its batch history and a batch's
quarantined rows; an operator works the desk in deadline order, makes a key (its token shown
once) and cannot revoke its own last operator key; an auditor filters the audit log and
downloads the filtered entries as CSV, and the download is itself in the log."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from tests.conftest import person
from tests.served import home_env, start_server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
P, Q = person(311), person(312)
# the words each journey reads, in both languages (?lang= chooses; Chinese is the default)
WORDS = {
    "zh-CN": {"accepted": "已接受", "yours": "您的", "last key": "您正在使用"},
    "en": {"accepted": "accepted", "yours": "yours", "last key": "the key you are using"},
}


def _prepare(home: Path) -> dict[str, str]:
    store = Store(f"sqlite:///{home / 'socialcredit.db'}")
    try:
        system = System(store, shipped_registry())
        system.register([SubjectRow(P, "person", "Zhang Wei"), SubjectRow(Q, "person", "Li Lei")])
        rows = [
            (1, {"subject": P, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "s-1",
                 "occurred_on": "2026-03-01"}),
            (2, {"subject": Q, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "s-2",
                 "occurred_on": "2026-03-01"}),
        ]  # fmt: skip
        assert system.ingest(rows, origin="e2e", principal=system.operator()).accepted == 2
        for code, srid in ((P, "s-1"), (Q, "s-2")):
            subject = system.authenticate(system.create_key("subject", code).token)
            system.file_objection(
                principal=subject,
                subject=code,
                record_id=store.stored_record_id("traffic-police", srid),
                statement=f"not mine ({srid})",
            )
        return {
            "agency": system.create_key("agency", "traffic-police", name="collector 12").token,
            "operator": system.create_key("operator", "li.na", name="credit office").token,
            "auditor": system.create_key("auditor", None, name="audit office").token,
        }
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("e2e-staff")
    keys = _prepare(home)
    env = home_env(home)
    base, proc = start_server(env)
    try:
        yield base, keys
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh or apt-get install chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_staff_journeys(
    served: tuple[str, dict[str, str]], browser: Browser, lang: str, tmp_path: Path
) -> None:
    base, keys = served
    words = WORDS[lang]
    switch = "" if lang == "zh-CN" else "?lang=en"

    def session(role: str) -> Page:
        page = browser.new_context(
            viewport={"width": 1100, "height": 900}, locale="zh-CN", accept_downloads=True
        ).new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/portal/login{switch}")
        page.locator("#f-key").fill(keys[role])
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{base}/portal/")
        return page

    # the agency uploads a file: one row accepted, one quarantined naming the field
    agency = session("agency")
    agency.goto(f"{base}/portal/batches")
    expect(agency.locator("html")).to_have_attribute("lang", lang)
    upload = tmp_path / f"june-{lang}.csv"
    upload.write_text(
        "subject,item,source_record_id,occurred_on\n"
        f"{P},traffic.minor,{lang}-1,2026-06-02\n"
        f"{Q},no.such.item,{lang}-2,2026-06-02\n"
    )
    agency.locator("#f-file").set_input_files(str(upload))
    agency.locator("#upload button[type=submit]").click()
    outcome = agency.locator("#outcome")
    expect(outcome).to_contain_text(words["accepted"])
    expect(outcome.get_by_test_id("accepted")).to_have_text("1")
    expect(outcome.get_by_test_id("quarantined")).to_have_text("1")
    expect(agency.locator("#outcome-quarantine")).to_contain_text("item")
    history = agency.locator("#batches")
    expect(history).to_contain_text(f"portal:june-{lang}.csv")
    # the quarantined count links to the batch's rows with their reasons
    history.locator(f"tr:has-text('portal:june-{lang}.csv') a[href$='#quarantine']").click()
    expect(agency.locator("#quarantine-rows")).to_contain_text("no.such.item")

    # the operator's desk, soonest deadline first; the keys page, its new token once
    operator = session("operator")
    operator.goto(f"{base}/portal/operator")
    cases = operator.locator("article.case")
    expect(cases).to_have_count(2)
    operator.goto(f"{base}/portal/keys")
    expect(operator.locator("#keys")).to_contain_text(words["yours"])
    operator.locator("#f-role").select_option("agency")
    operator.locator("#f-principal").fill("court")
    operator.locator("form[aria-labelledby=h-create] button[type=submit]").click()
    token = operator.get_by_test_id("new-token").inner_text()
    assert token.startswith("sck_")
    operator.reload()
    expect(operator.locator("body")).not_to_contain_text(token)
    own = operator.locator("tr", has=operator.locator("strong", has_text=words["yours"]))
    own.locator("form[action$='/revoke'] button").click()
    expect(operator.locator("main")).to_contain_text(words["last key"])

    # the auditor filters the log to key creations and downloads them; the export is logged
    auditor = session("auditor")
    auditor.goto(f"{base}/portal/audit")
    auditor.locator("#f-action").select_option("key-create")
    auditor.locator("#audit-filters button[type=submit]").click()
    expect(auditor.locator("#audit-log tbody")).to_contain_text("key-create")
    expect(auditor.locator("#audit-log tbody")).not_to_contain_text("ingest")
    with auditor.expect_download() as got:
        auditor.locator("#export").click()
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text())))
    assert rows and {r["action"] for r in rows} == {"key-create"}
    auditor.goto(f"{base}/portal/audit?action=audit-export")
    expect(auditor.locator("#audit-log tbody tr").first).to_contain_text("audit-export")
