"""A decision served from a subject's stored state is worded in the asker's language like one
computed fresh (issue 18 point 2, decision 0096): over the API (``POST /decisions``), on the
portal's relying-party page and by ``socialcredit check --lang zh-CN``, on SQLite and PostgreSQL.
Before 0096 the state kept each reason's English only, and a Chinese reader of a stored state
got English reasons and reason codes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit import i18n, synth
from socialcredit.api import create_app
from socialcredit.cli import app
from socialcredit.decisions import Decision
from socialcredit.i18n import Text
from socialcredit.service import System, statecodec
from socialcredit.service.context import utcnow
from socialcredit.service.decisions import Question
from socialcredit.settings import get_settings
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.cli import runner
from tests.support.decisionstate import fresh
from tests.support.english import english_in, english_lines
from tests.support.portal import client_for, post_form

P, Q, ORG, NEW = person(91), person(92), org(91), person(93)
ZH = "zh_CN"


def world(system: System) -> None:
    """A person on the court's list rated bad by Honest Shanghai (a list reason, a grade reason
    with its reason codes), a person rated but not listed, an organisation on the court's list,
    and ``NEW``: each kind of reason a decision gives. Dated relative to now, since the command
    line answers at the real time."""
    day = (utcnow() - dt.timedelta(days=60)).date().isoformat()
    system.register(
        [
            SubjectRow(P, "person", "Zhang Wei"),
            SubjectRow(Q, "person", "Li Na"),
            SubjectRow(ORG, "organisation", "Example Ltd"),
        ]
    )
    rows = [
        (P, "court.dishonest.able-but-refuses", "court"),
        (P, "honest-shanghai.applied", "self"),
        (Q, "honest-shanghai.applied", "self"),
        (Q, "traffic.minor", "traffic-police"),
        (ORG, "court.dishonest.evades-enforcement", "court"),
    ]
    made = [
        {"subject": s, "item": i, "source": src, "source_record_id": f"zh-{n}", "occurred_on": day}
        for n, (s, i, src) in enumerate(rows)
    ]
    assert system.ingest(list(enumerate(made, 1)), origin="test", principal=system.operator()).accepted == 5


def worded(d: Decision | dict[str, Any]) -> list[tuple[str, list[str]]]:
    """A decision's reasons and reason codes as a Chinese reader is shown them (a decision of
    the service worded here; an API answer as it came)."""
    if isinstance(d, Decision):
        return [
            (i18n.translate(r.text, ZH), [i18n.translate(x, ZH) for x in r.explanation]) for r in d.reasons
        ]
    return [(r["text"], r["explanation"]) for r in d["reasons"]]


def ask(system: System, code: str, mid: str) -> Decision:
    return system.check(Question(code, mid, system.operator(), purpose="test"))


def test_a_stored_state_is_worded_in_chinese_like_a_fresh_decision(
    store_url: str, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    del env
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)  # the command line on this store
    get_settings.cache_clear()
    clock = Clock(utcnow())
    asked = [(P, "no-flights"), (P, "deposit-free-rental"), (Q, "deposit-free-rental"), (Q, "no-flights")]
    asked += [(Q, "sesame-consumer-loan"), (ORG, "enterprise-no-public-procurement"), (ORG, "no-flights")]
    asked += [(NEW, "no-flights")]
    with fresh(store_url, clock) as system:
        world(system)
        computed = {q: ask(system, *q) for q in asked}  # no state yet: each computed fresh
        assert all(isinstance(r.text, Text) for d in computed.values() for r in d.reasons)
        assert system.build_decision_state() == 3
    expected = {q: worded(d) for q, d in computed.items()}
    assert any(x for w in expected.values() for _, xs in w for x in xs)  # reason codes shown too
    assert english_in([t for w in expected.values() for t, xs in w for t in (t, *xs)]) == []
    with fresh(store_url, clock) as other:  # another process: what is stored answers
        for code in (P, Q, ORG):
            state = other.store.decision_state(code)
            assert state is not None and state.answers(other.decisions.basis(), clock.now), code
        for q, want in expected.items():
            assert worded(ask(other, *q)) == want, q
        api = create_app(other)
        airline = {"X-API-Key": other.create_key("operator", "airlines").token, "Accept-Language": "zh-CN"}
        portal = client_for(api, other.create_key("operator", "wang.fang").token, "zh-CN")
        for (code, mid), want in expected.items():
            body = {"subject": code, "measure": mid, "purpose": "ticket"}
            r = api_post(api, airline, body)
            assert worded(r) == want, (code, mid)
            page = post_form(portal, "/portal/decisions/new", "/portal/decisions/new", body).text
            for text, _ in want:
                assert html.escape(text, quote=False) in page or html.escape(text) in page, (code, mid, text)
    for (code, mid), want in expected.items():
        out = runner.invoke(app, ["--lang", "zh-CN", "check", code, mid, "--json"])
        assert out.exit_code in (0, 1), out.output
        assert worded(json.loads(out.stdout)) == want, (code, mid)
        said = runner.invoke(app, ["--lang", "zh-CN", "check", code, mid]).stdout
        assert all(text in said for text, _ in want) and english_lines(said) == [], (code, mid, said)


def api_post(api: FastAPI, headers: dict[str, str], body: dict[str, str]) -> dict[str, Any]:
    r = TestClient(api).post("/decisions", headers=headers, json=body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_every_text_of_a_citys_states_reads_back_as_it_was_made(store_url: str, clock: Clock) -> None:
    """Each reason's text and reason codes of a synthetic city's decisions, read back from the
    stored states, is the very template, values and scheme titles computed (no value kind falls
    back to its English), so it words in Chinese as the fresh one does."""
    with fresh(store_url, clock) as system:
        made = synth.generate_city(residents=40, seed=11, registry=system.registry)
        system.register(made.subjects)
        rows = synth.generate_records(made, registry=system.registry, seed=11)
        system.ingest(enumerate(rows, start=1), origin="state test", principal=system.operator())
        subjects = [s.code for s in made.subjects][::3]
        computed = {(c, mid): ask(system, c, mid) for c in subjects for mid in system.registry.measures()}
        assert system.build_decision_state() == len(made.subjects)
        kinds: set[str] = set()
        for code in subjects:
            state = system.store.decision_state(code)
            assert state is not None and state.payload is not None and state.as_of is not None
            stored = statecodec.decode(state.payload, code, state.as_of)[0]
            for mid, d in stored.items():
                fresh_ = computed[code, mid]
                assert [r.text for r in d.reasons] == [r.text for r in fresh_.reasons]  # the English
                for r, f in zip(d.reasons, fresh_.reasons, strict=True):
                    for got, want in ((r.text, f.text), *zip(r.explanation, f.explanation, strict=True)):
                        assert statecodec.held(got) == statecodec.held(want), (code, mid)
                        assert i18n.translate(got, ZH) == i18n.translate(want, ZH), (code, mid)
                        kinds.add(type(want).__name__)
        assert "Text" in kinds


FIXTURES = Path(__file__).parent / "data"


def test_payloads_of_format_2_still_read_their_english() -> None:
    """A payload written with dictionary 1 by the code before 0096 (``z1:``) and a plain one from
    before 0089 read as they were written: each text the English string it held."""
    plain = json.loads((FIXTURES / "decision-state-plain-524e947.json").read_text(encoding="utf-8"))
    z1 = json.loads((FIXTURES / "decision-state-z1-88ca593.json").read_text(encoding="utf-8"))
    assert z1["payload"].startswith("z1:") and z1["subject"] == plain["subject"]
    at = dt.datetime.fromisoformat(z1["as_of"])
    made = statecodec.decode(z1["payload"], z1["subject"], at)
    assert made == statecodec.decode(plain["payload"], plain["subject"], at)
    texts = [r.text for d in made[0].values() for r in d.reasons]
    assert texts and all(type(t) is str for t in texts)
    assert (
        statecodec.compress(statecodec.encode_plain({m: (d, {}) for m, d in made[0].items()}, made[1]), "1")
        == (z1["payload"])
    )


def test_a_state_of_format_2_is_due_and_never_answers_in_english(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row written under format 2 (its texts English only) does not answer under format 3: the
    question is computed, in Chinese, and the sweep writes the row again, words and all."""
    with fresh(store_url, clock) as system:
        world(system)
        with monkeypatch.context() as m:
            m.setattr(statecodec, "FORMAT", "2")
            m.setattr(statecodec, "DICTIONARY", "1")
            m.setattr(statecodec, "held", str)  # format 2 wrote each text's English
            assert system.build_decision_state() == 3
            old = system.store.decision_state(P)
            assert old is not None and old.payload is not None and old.payload.startswith("z1:")
            assert type(statecodec.decode(old.payload, P, clock.now)[0]["no-flights"].reasons[0].text) is str
    with fresh(store_url, clock) as other:
        basis = other.decisions.basis()
        assert sorted(other.store.decision_states_due(basis, clock.now, everyone=True)) == sorted([P, Q, ORG])
        d = ask(other, P, "no-flights")
        assert not d.allowed and isinstance(d.reasons[0].text, Text)
        assert i18n.translate(d.reasons[0].text, ZH) != str(d.reasons[0].text)
        assert other.build_decision_state() == 3
        again = other.store.decision_state(P)
        assert again is not None and again.payload is not None and again.payload.startswith("z2:")
        assert again.answers(basis, clock.now)


def test_a_receipt_of_a_stored_state_verifies_whatever_the_language(store_url: str, clock: Clock) -> None:
    """A receipt hashes no text (ids, times, chain positions, scheme file hashes) and the audit
    entry keeps each reason's English: a decision asked in Chinese from a stored state and one
    asked in English reproduce exactly, with the same reasons."""
    with fresh(store_url, clock) as system:
        world(system)
        system.build_decision_state()
    with fresh(store_url, clock) as other:
        api = TestClient(create_app(other))
        key = other.create_key("operator", "airlines")
        body = {"subject": P, "measure": "no-flights", "purpose": "ticket"}
        ids, texts = [], []
        for lang in ("zh-CN", "en"):
            r = api.post("/decisions", headers={"X-API-Key": key.token, "Accept-Language": lang}, json=body)
            assert r.status_code == 200, r.text
            ids.append(r.json()["receipt"]["decision_id"])
            texts.append(r.json()["reasons"][0]["text"])
        assert texts[0] != texts[1]
        done = [other.reproduce(i, other.operator()) for i in ids]
        assert all(x.exact for x in done)
        assert done[0].answered["detail"]["reasons"] == done[1].answered["detail"]["reasons"]
        assert done[0].answered["detail"]["reasons"] == [texts[1]]
