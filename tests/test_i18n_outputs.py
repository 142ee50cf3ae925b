"""Everything a Chinese reader sees, in Chinese (issue 18.2: "All portal text, CLI messages and
API error messages go through gettext catalogues [...] The language is chosen by
Accept-Language [...] and --lang or LANG for the CLI"): a quarantined row's reasons and a list
entry's end reason (stored as English, worded again by catalogue look-up, decision 0059), the
answer's allow/deny word, the command line's output, and every API route's errors and texts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit import i18n, intake
from socialcredit.cli import app
from socialcredit.entries import END_REASONS
from socialcredit.ledger import RowError
from socialcredit.schemes import titles
from socialcredit.schemes.loader import shipped_registry
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.apps import served
from tests.support.cli import runner
from tests.support.english import (
    ORG,
    P,
    Q,
    english_in,
    english_left,
    english_lines,
    rated_world,
    shipped_prose,
)
from tests.support.portal import client_for, post_form

CJK = re.compile(r"[\u4e00-\u9fff]")
NOW = dt.datetime(2026, 9, 1, 12, 0)
GOOD = {"subject": P, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "t-1",
        "occurred_on": "2026-06-01"}  # fmt: skip
BAD_ROWS: list[tuple[dict[str, Any], str | None]] = [  # (what changes in a good row, the agency)
    ({"bogus": 1}, None),
    ({"source": "court"}, "traffic-police"),
    ({"subject": "", "item": "", "source": "", "source_record_id": "", "occurred_on": ""}, None),
    ({"subject": "123"}, None),
    ({"subject": P[:-1] + ("0" if P[-1] != "0" else "1")}, None),
    ({"item": "no.such.item"}, None),
    ({"item": "charity.donation"}, None),
    ({"subject": org(5)}, None),
    ({"occurred_on": "2031-01-01"}, None),
    ({"occurred_on": "1900-01-01"}, None),
    ({"occurred_on": "yesterday"}, None),
    ({"occurred_on": 5}, None),
    ({"reported_at": "2031-01-01T00:00"}, None),
    ({"reported_at": "2026-05-01T00:00"}, None),
    ({"reported_at": "soon"}, None),
    ({"reported_at": 5}, None),
    ({"action": "delete"}, None),
    ({"action": "withdraw"}, None),
    ({"corrects": "abc"}, None),
    ({"details": "{"}, None),
    ({"details": "[1]"}, None),
    ({"details": {"x": "a" * 5000}}, None),
    ({"source_record_id": "a" * 200}, None),
    ({"source_record_id": "a\x01b"}, None),
    ({"source_record_id": [1]}, None),
]


def _reasons() -> list[str]:
    registry = shipped_registry()
    found: list[str] = []
    for change, agency in BAD_ROWS:
        with pytest.raises(RowError) as refused:
            intake.validate_row({**GOOD, **change}, registry=registry, now=NOW, source=agency)
        found.extend(refused.value.reasons)
    for item, stated in registry.stated_details.items():  # a detail a list reads, missing
        name, _least, _most, _list = stated[0]
        kind = next(iter(registry.kinds_by_item[item]))
        source = sorted(registry.sources_by_item[item])[0]
        row = {**GOOD, "subject": P if kind == "person" else ORG, "item": item, "source": source}
        with pytest.raises(RowError) as refused:
            intake.validate_row(row, registry=registry, now=NOW)
        found.extend(r for r in refused.value.reasons if r.startswith(f"details.{name}"))
        break
    return found


def test_a_stored_quarantine_reason_is_worded_again_from_the_catalogue() -> None:
    """A reason is stored as the English it always was; read back as plain text, the catalogue
    finds its template and words it in Chinese exactly as the reason itself would be worded."""
    reasons = _reasons()
    assert len(reasons) >= len(BAD_ROWS) + 5
    for r in reasons:
        stored = str(r)  # what the store keeps, and gives back
        zh = i18n.reword(stored, "zh_CN")
        assert zh == i18n.translate(r, "zh_CN"), stored
        assert CJK.search(zh), stored
        assert i18n.reword(stored, "en") == stored
    # nothing of ours: a name, a code, a reason an operator wrote, given back as it is
    for text in ("Zhang Wei", P, "the court confirms payment", ""):
        assert i18n.reword(text, "zh_CN") == text


def test_a_list_entrys_end_reason_is_worded_for_the_reader() -> None:
    """The engines write "expired", "grade changed", "fulfilled: ..." in their own columns (and
    the golden results); a reader of Chinese reads them in Chinese."""
    ended = [
        *(str(r) for r in END_REASONS if "{" not in r),
        "fulfilled: court.dishonest.able-but-refuses (0123456789abcdef)",
        f"no longer the legal representative of {ORG} from 2026-05-01",
        "withdrawn on 2026-06-02 by record 0123456789abcdef",
        "credit restored on 2026-06-02 by record 0123456789abcdef: 已还款",
    ]
    for text in ended:
        zh = i18n.reword(text, "zh_CN")
        assert CJK.search(zh) and english_in([zh]) == [], (text, zh)


def test_quarantine_reasons_in_the_api_and_on_the_batch_page(system: System) -> None:
    system.register([SubjectRow(P, "person", "Zhang Wei")])
    app_ = served(system)
    token = system.create_key("operator", "wang.fang").token
    rows = [{**GOOD, **change, "source_record_id": f"q-{i}"} for i, (change, _a) in enumerate(BAD_ROWS[3:12])]
    auth = {"Authorization": f"Bearer {token}"}
    c = TestClient(app_)
    zh = c.post("/records", json={"records": rows}, headers={**auth, "Accept-Language": "zh-CN"}).json()
    en = c.post("/records", json={"records": rows}, headers=auth).json()
    assert zh["quarantined"] == len(rows) and set(zh) == set(en)
    said = [r for q in zh["quarantine"] for r in q["reasons"]]
    assert all(CJK.search(r) for r in said), said
    assert en["quarantine"][0]["reasons"][0].startswith("subject: invalid length")
    # the stored batch, read back on the agency's page in Chinese, and its CSV
    page = client_for(app_, token, "zh-CN")
    batch = zh["batch_id"]
    shown = page.get(f"/portal/batches/{batch}")
    assert shown.status_code == 200 and english_left(shown.text) == [], english_left(shown.text)
    assert "在未来" in shown.text  # occurred_on: 2031-01-01 is in the future
    csv = page.get(f"/portal/batches/{batch}/quarantine.csv").text
    assert "在未来" in csv and "is in the future" not in csv
    english = client_for(app_, token, "en").get(f"/portal/batches/{batch}").text
    assert "is in the future" in english


@pytest.fixture
def rated(system: System, clock: Clock) -> System:
    world = rated_world(system, clock)
    court = next(r for r in world.view(P).records if r.source == "court")
    withdraw = {"subject": P, "item": court.item, "source": "court", "source_record_id": "c-1w",
                "occurred_on": "2026-07-01", "action": "withdraw", "corrects": court.record_id}  # fmt: skip
    assert world.ingest([(1, withdraw)], origin="test", principal=world.operator()).accepted == 1
    return world


def test_the_answer_and_an_ended_listing_are_worded_on_the_portal(rated: System) -> None:
    app_ = served(rated)
    token = rated.create_key("operator", "wang.fang").token
    zh, en = client_for(app_, token, "zh-CN"), client_for(app_, token, "en")
    form = {"subject": ORG, "measure": "no-flights", "purpose": "ticket"}
    for subject, answer, word in ((ORG, "deny", "拒绝"), (Q, "allow", "允许")):
        form = {"subject": subject, "measure": "enterprise-no-public-procurement", "purpose": "tender"}
        if subject == Q:
            form["measure"] = "no-flights"
        page = post_form(zh, "/portal/decisions/new", "/portal/decisions/new", form).text
        assert f'data-answer="{answer}">{word}<' in page
        page = post_form(en, "/portal/decisions/new", "/portal/decisions/new", form).text
        assert f'data-answer="{answer}">{answer}<' in page
    subject_zh = zh.get(f"/portal/subjects/{P}").text
    assert "已撤回" in subject_zh and english_left(subject_zh) == [], english_left(subject_zh)
    assert "withdrawn on" in en.get(f"/portal/subjects/{P}").text
    audit = zh.get("/portal/audit").text
    assert "data-answer" not in audit or english_left(audit) == []


COMMANDS = [
    ["score", P],
    ["score", Q],
    ["score", ORG],
    ["history", Q],
    ["check", P, "no-flights"],
    ["check", Q, "no-flights"],
    ["check", ORG, "enterprise-no-public-procurement"],
    ["check", person(99), "no-flights"],
    ["cases", "list"],
    ["cases", "overdue"],
    ["cases", "notices"],
    ["verify"],
    ["retention", "run"],
]


def test_the_command_lines_output_is_chinese(
    rated: System, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command a subject's case is read with, in Chinese by ``--lang zh-CN`` and by
    ``LANG=zh_CN.UTF-8``: no English sentence is left (the scheme's own prose aside); in English
    each says something; ``--json`` keeps the machine's keys and values in both."""
    del env
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)  # the store the fixture filled
    get_settings.cache_clear()
    for args in COMMANDS:
        zh = runner.invoke(app, ["--lang", "zh-CN", *args])
        en = runner.invoke(app, ["--lang", "en", *args])
        assert zh.exit_code == en.exit_code and zh.exit_code in (0, 1), (args, zh.output)
        assert english_lines(zh.stdout) == [], (args, zh.stdout)
        assert zh.stdout != en.stdout or not en.stdout.strip(), args  # the English is English
    by_env = runner.invoke(app, ["check", P, "no-flights"], env={"LC_ALL": "", "LANG": "zh_CN.UTF-8"})
    assert "拒绝" in by_env.stdout and "DENY" not in by_env.stdout
    assert "DENY" in runner.invoke(app, ["--lang", "en", "check", P, "no-flights"]).stdout
    zh_json = json.loads(runner.invoke(app, ["--lang", "zh-CN", "check", P, "no-flights", "--json"]).stdout)
    en_json = json.loads(runner.invoke(app, ["--lang", "en", "check", P, "no-flights", "--json"]).stdout)
    assert zh_json["answer"] == en_json["answer"] == "deny" and set(zh_json) == set(en_json)


def _api_routes(app_: FastAPI) -> list[tuple[str, str]]:
    """Every operation of the API (as its OpenAPI document lists them), its path parameters
    filled with nonsense."""
    paths: dict[str, dict[str, Any]] = app_.openapi()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in paths.items()
        for method in operations
        if method.upper() != "HEAD"
    ]


def test_every_api_routes_errors_are_worded_by_accept_language(rated: System) -> None:
    """Every route, asked without a key or with nonsense in its path: a refusal whose ``error``
    line is Chinese when Accept-Language asks for it, English without; status and shape alike.
    So are the protocol's own refusals (no such path, a method not taken, a body not JSON, an
    invalid field, a code with a wrong check character)."""
    app_ = served(rated)
    c = TestClient(app_)
    token = rated.create_key("operator", "wang.fang").token
    asked: list[tuple[str, str, str | None, dict[str, str]]] = [
        (m, p, None, {}) for m, p in _api_routes(app_)
    ]
    assert len(asked) > 20
    auth = {"Authorization": f"Bearer {token}"}
    asked += [
        ("GET", "/no/such/path", None, {}),
        ("DELETE", "/records", None, auth),
        ("POST", "/records", "{not json", {**auth, "Content-Type": "application/json"}),
        ("POST", "/records", "a,b", {**auth, "Content-Type": "text/csv"}),
        ("POST", "/records", json.dumps({"records": "x"}), {**auth, "Content-Type": "application/json"}),
        ("POST", "/decisions", json.dumps({"subject": P, "measure": "no-flights"}),
         {**auth, "Content-Type": "application/json"}),
        ("GET", f"/subjects/{P[:-1]}{'0' if P[-1] != '0' else '1'}", None, auth),
        ("GET", "/schemes/no-such-scheme", None, auth),
        ("GET", "/audit?since=yesterday", None, auth),
    ]  # fmt: skip
    seen = 0
    for method, path, body, headers in asked:
        en = c.request(method, path, content=body, headers=headers)
        zh = c.request(method, path, content=body, headers={**headers, "Accept-Language": "zh-CN"})
        assert en.status_code == zh.status_code, (method, path)
        if en.status_code < 400:
            continue
        seen += 1
        e, z = en.json(), zh.json()
        assert set(e) == set(z) == {"ok", "error", "errors", "status"}, (method, path)
        assert CJK.search(z["error"]) and not CJK.search(e["error"]), (method, path, z["error"])
        assert all(CJK.search(x) for x in z["errors"]), (method, path, z["errors"])
    assert seen > 20


def test_api_replies_word_their_texts_by_accept_language(rated: System) -> None:
    """A subject's reply (scores explained, list entries ended) and a batch's quarantined rows:
    the human texts in Chinese, the machine's values the same."""
    c = TestClient(served(rated))
    auth = {"Authorization": f"Bearer {rated.create_key('operator', 'wang.fang').token}"}
    zh = c.get(f"/subjects/{P}", headers={**auth, "Accept-Language": "zh-CN"}).json()
    en = c.get(f"/subjects/{P}", headers=auth).json()
    texts = _human(zh)
    assert texts and english_in(texts) == [], english_in(texts)
    assert english_in(_human(en))
    assert [s["score"] for s in zh["scores"]] == [s["score"] for s in en["scores"]]


HUMAN = {"text", "headline", "label", "end_reason", "next_tier", "caption"}


def _human(value: object, key: str = "") -> list[str]:
    """The human texts of a reply: the values of its text fields, wherever they are."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _human(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _human(v, key)]
    return [value] if key in HUMAN and isinstance(value, str) and value else []


def test_every_shipped_sentence_of_prose_has_a_chinese_translation() -> None:
    """Issue 18.2: the schemes are Chinese, so is what they say about themselves (decision
    0035 catalogued titles only; the prose is catalogued by its English, schemes/shipped/zh-CN/
    prose.yaml): none missing, none for a sentence no scheme says any more."""
    catalogued = titles._prose()
    shipped = shipped_prose()
    assert shipped - set(catalogued) == set(), "without a Chinese translation"
    assert set(catalogued) - shipped == set(), "no longer in any shipped scheme"
    assert all(CJK.search(catalogued[p]) for p in shipped)
    sentence = next(iter(sorted(shipped)))
    with i18n.using("zh_CN"):
        assert (
            titles.prose(sentence) == catalogued[sentence]
            and titles.prose("Our own words") == "Our own words"
        )
    assert titles.prose(sentence) == sentence  # English, as the scheme writes it
