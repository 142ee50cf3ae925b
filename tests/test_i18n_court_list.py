"""The court list's published conduct, performance and obligation in the reader's language
(issue 18.2; decision 0097): on the portal's list page, in ``GET /public/lists/...`` by
``Accept-Language`` and in ``public list --lang``, from the public state a server keeps, from a
scan at another moment, and from a snapshot an earlier release kept (served as it is, not
rebuilt). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from socialcredit import i18n
from socialcredit.api import create_app
from socialcredit.cli import app
from socialcredit.schemes import shipped_registry, titles
from socialcredit.service import System, publicwords
from socialcredit.settings import get_settings
from socialcredit.store import Store, SubjectRow
from tests.conftest import Clock, org, person
from tests.support.cli import runner
from tests.support.english import english_in, english_left
from tests.support.portal import client_for

COURT_LIST = "court-dishonest-debtors/dishonest-debtors"
P, Q, ORG = person(61), person(62), org(61)
REFUSES, EVADES = "court.dishonest.able-but-refuses", "court.dishonest.evades-enforcement"
COURT = "荣成市人民法院"  # a court's own name: data, shown as it wrote it
WIDE = {"COLUMNS": "400", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}


def _chinese(code: str) -> str:
    english = shipped_registry().item_defs[code].title
    zh = titles.title_of("item", code, english, locale="zh_CN")
    assert zh != english and zh, code  # the shipped catalogue titles it
    return zh


@pytest.fixture
def listed(system: System) -> System:
    """A person listed by a court that stated the sum owed, an organisation by one that stated its
    obligation in words of its own."""
    system.register([SubjectRow(P, "person", "Zhang San"), SubjectRow(ORG, "organisation", "Weihai Ltd")])
    case = {"case_number": "(2026) Lu 1082 Zhi 77", "court": COURT, "obligation": "pay 48,000 yuan",
            "performance": "none"}  # fmt: skip
    rows = [
        {"subject": P, "item": REFUSES, "source": "court", "source_record_id": "c-1",
         "occurred_on": "2026-10-05", "details": case},
        {"subject": ORG, "item": EVADES, "source": "court", "source_record_id": "c-3",
         "occurred_on": "2026-10-06",
         "details": {**case, "case_number": "(2026) Lu 1082 Zhi 78", "obligation": "返还货款"}},
    ]  # fmt: skip
    assert system.ingest(list(enumerate(rows, 1)), origin="test", principal=system.operator()).accepted == 2
    return system


def _expected_zh() -> dict[str, dict[str, str]]:
    return {
        "Zhang San": {
            "conduct": _chinese(REFUSES),
            "performance": "全部未履行",
            "obligation": "支付48,000元",
        },
        "Weihai Ltd": {"conduct": _chinese(EVADES), "performance": "全部未履行", "obligation": "返还货款"},
    }


def _worded(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["name"]): {k: r[k] for k in ("conduct", "performance", "obligation")} for r in rows}


def test_the_service_words_the_rows_for_the_reader_and_keeps_them_in_english(listed: System) -> None:
    english = listed.public_list(COURT_LIST)
    with i18n.using("zh_CN"):
        chinese = listed.public_list(COURT_LIST)
        searched = listed.public_page(COURT_LIST, search="全部未履行").total
        past = listed.public_list(COURT_LIST, as_of=listed.context.clock())  # a scan, not the state
    assert _worded(chinese) == _worded(past) == _expected_zh()
    assert searched == 2  # a Chinese reader searches what they read
    person_en = next(r for r in english if r["name"] == "Zhang San")
    assert person_en["conduct"] == listed.registry.item_defs[REFUSES].title
    assert (person_en["performance"], person_en["obligation"]) == ("none", "pay 48,000 yuan")
    assert [r["name"] for r in chinese] == [r["name"] for r in english]  # the same order, every page
    # a new listing shows at once in Chinese too (the worded rows follow the state they came from)
    listed.register([SubjectRow(Q, "person", "Wang Wu")])
    row = {
        "subject": Q,
        "item": REFUSES,
        "source": "court",
        "source_record_id": "c-9",
        "occurred_on": "2026-10-07",
    }
    assert listed.ingest([(1, row)], origin="test", principal=listed.operator()).accepted == 1
    with i18n.using("zh_CN"):
        after = _worded(listed.public_list(COURT_LIST))
    assert after["Wang Wu"] == {"conduct": _chinese(REFUSES), "performance": None, "obligation": None}
    assert after["Zhang San"] == _expected_zh()["Zhang San"]


def test_the_api_the_portal_and_the_command_line_word_them(
    listed: System, client: TestClient, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    del env
    api = client.get(f"/public/lists/{COURT_LIST}", headers={"Accept-Language": "zh-CN"}).json()
    assert _worded(api["data"]) == _expected_zh()
    api_en = client.get(f"/public/lists/{COURT_LIST}", headers={"Accept-Language": "en"}).json()
    assert {r["performance"] for r in api_en["data"]} == {"none"}

    page = client.get(f"/portal/lists/{COURT_LIST}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    for row in _expected_zh().values():
        for value in row.values():
            assert value in page.text
    assert english_left(page.text) == [], english_left(page.text)
    en_page = client.get(f"/portal/lists/{COURT_LIST}", headers={"Accept-Language": "en"}).text
    assert listed.registry.item_defs[REFUSES].title in en_page and "pay 48,000 yuan" in en_page

    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    zh = runner.invoke(app, ["--lang", "zh-CN", "public", "list", COURT_LIST], env=WIDE)
    assert zh.exit_code == 0, zh.output
    for value in ("全部未履行", "支付48,000元", _chinese(EVADES)):
        assert value in zh.stdout, zh.stdout
    table = [line.replace("┃", " ").replace("│", " ") for line in zh.stdout.splitlines()]
    assert english_in(table) == [], english_in(table)
    js = runner.invoke(app, ["--lang", "zh-CN", "public", "list", COURT_LIST, "--json"], env=WIDE)
    assert js.exit_code == 0 and "全部未履行" in js.stdout


def test_a_snapshot_an_earlier_release_kept_is_served_worded(
    listed: System, store_url: str, clock: Clock
) -> None:
    """The public snapshot keeps the rows as the releases before this one wrote them (the court
    list's English, as stored): one kept so, read by a server just started, is served in Chinese
    as it is, with no rescore before the answer."""
    kept = listed.disclosure.state().snapshot()
    person_row = next(row for _kind, row in kept.payload["lists"][COURT_LIST] if row["name"] == "Zhang San")
    assert person_row["conduct"] == listed.registry.item_defs[REFUSES].title  # the English, as before
    assert (person_row["performance"], person_row["obligation"]) == ("none", "pay 48,000 yuan")
    earlier = json.loads(json.dumps(kept.payload))  # as the store reads any release's payload back
    listed.store.drop_snapshot(kept.name)
    assert listed.store.save_snapshot(dataclasses.replace(kept, payload=earlier))
    started = System(Store(store_url), shipped_registry(), clock=clock)
    started.disclosure.background = True
    try:
        with i18n.using("zh_CN"):
            found = started.public_page(COURT_LIST)
        assert found.rescore_of is not None  # the kept snapshot, not a rescore
        assert _worded(found.rows) == _expected_zh()
    finally:
        started.disclosure.wait_for_rescore()
        started.store.close()


def test_a_conduct_of_several_grounds_is_worded_title_by_title() -> None:
    """An entry on several grounds stores their titles joined by "; " (sorted in English): each
    worded, joined as Chinese joins them; a title no item has (a scheme since changed) kept."""
    registry = shipped_registry()
    words = publicwords.item_titles(registry, "zh_CN")
    english = [registry.item_defs[c].title for c in (EVADES, REFUSES)]
    stored = "; ".join([*sorted(english), "A conduct no item names"])
    worded = publicwords.conduct(stored, words, "zh_CN")
    assert worded.split("；") == [*(words[t] for t in sorted(english)), "A conduct no item names"]
    assert publicwords.conduct(stored, publicwords.item_titles(registry, "en"), "en") == stored
    assert publicwords.obligation("pay 1,000 yuan", "en") == "pay 1,000 yuan"
    assert publicwords.obligation(" repay 7 yuan ", "zh_CN") == "偿还7元"


def test_a_subjects_page_words_its_records_details(listed: System) -> None:
    """The court record's details on the subject's own page: each published field by its name,
    the obligation and performance as the list words them; the case number and court as stated."""
    app = create_app(listed)
    token = listed.create_key("subject", P).token
    zh = client_for(app, token, "zh-CN").get(f"/portal/subjects/{P}").text
    en = client_for(app, token, "en").get(f"/portal/subjects/{P}").text
    obligation, performance, court = (
        i18n.translate(publicwords.FIELD_NAMES[k], "zh_CN") for k in ("obligation", "performance", "court")
    )
    for shown in (f"{obligation}：支付48,000元", f"{performance}：全部未履行", f"{court}：{COURT}"):
        assert shown in zh, shown
    assert "performance: none" not in zh and "Performance: none" in en and "Obligation: pay 48,000 yuan" in en


def test_the_command_lines_lookup_names_items_and_lists_in_chinese(
    listed: System, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``public lookup --lang zh-CN`` of a listed organisation: its record's item and its list
    by their Chinese titles (they were the schemes' English)."""
    del env
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    zh = runner.invoke(app, ["--lang", "zh-CN", "public", "lookup", ORG], env=WIDE)
    assert zh.exit_code == 0, zh.output
    assert _chinese(EVADES) in zh.stdout and "失信被执行人名单" in zh.stdout, zh.stdout
    assert english_in(zh.stdout.splitlines()) == [], zh.stdout
    en = runner.invoke(app, ["--lang", "en", "public", "lookup", ORG], env=WIDE)
    assert listed.registry.item_defs[EVADES].title in en.stdout
