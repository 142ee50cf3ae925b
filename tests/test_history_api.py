"""A subject's score history in the API and on the command line, on both time axes (issue 17,
point 1: "where the answer as known then differs from the current truth, both are shown").
Runs on SQLite and PostgreSQL.

Suining county's 2010 pilot (DOMAIN.md): "up to 1,000 points; minor traffic violation -20". The
court's list, Art. 1(1): a debtor "able to perform but refuses" is listed with no fixed period;
the scheme scores the listing too. A withdrawal the court dates back, and a traffic record of
September, both received 30 days after K, were not known at K: the history as known at K has
neither, today's has both, and each day whose value differs names the records behind it."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.errors import AccessDenied
from socialcredit.service import System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.cli import jrun, run
from tests.support.late import listed_then_late_news

P = person(193)
SUINING = "suining-2010"


def _scheme(body: dict[str, Any], sid: str = SUINING) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["schemes"] if s["scheme"] == sid)
    return found


def _values(points: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(p["day"], p["score"], p["grade"]) for p in points]


@pytest.fixture
def late(system: System, clock: Clock) -> tuple[dt.datetime, str]:
    system.register([SubjectRow(P, "person", "Li Lei")])
    return listed_then_late_news(system, clock, P, "traffic.minor")


def test_the_history_as_known_then_and_today_both_with_what_arrived_between(
    system: System, client: TestClient, late: tuple[dt.datetime, str]
) -> None:
    known, record = late
    r = client.get(
        f"/subjects/{P}/history", params={"known_at": known.isoformat()}, headers=h(system, "subject", P)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["known_at"].startswith("2026-11-02T10:00") and body["from_day"] is None
    s = _scheme(body)
    # as known at K: the listing alone (1000, then -100 for the listing, Suining's grade B)
    assert _values(s["points"]) == [("2026-10-20", 900, "B")]
    assert {p["version"] for p in s["points"]} == {"1"}
    # today: the late traffic record counts from its day (-20), the withdrawal ends the listing
    assert _values(s["today"]) == [
        ("2026-09-15", 980, "A"),
        ("2026-10-20", 880, "B"),
        ("2026-10-21", 980, "A"),
    ]
    first, *_, last = s["differences"]
    assert (first["day"], first["then"]["score"], first["now"]["score"]) == ("2026-09-15", 1000, 980)
    assert [a["record_id"] for a in first["arrived"]] == [record]
    assert (last["day"], last["then"]["score"], last["now"]["score"]) == ("2026-10-21", 900, 980)
    assert {a["action"] for a in last["arrived"]} == {"withdraw", "report"}
    assert "as known on 2026-11-02 10:00 UTC" in last["text"] and "make it 980, grade A" in last["text"]
    # without a knowledge time: today's history, nothing to compare
    now = _scheme(client.get(f"/subjects/{P}/history", headers=h(system, "subject", P)).json())
    assert _values(now["points"]) == _values(s["today"]) and now["today"] is None and now["differences"] == []


def test_the_range_starts_with_the_value_in_force_on_its_first_day(
    system: System, client: TestClient, late: tuple[dt.datetime, str]
) -> None:
    params = {"from": "2026-10-01", "to": "2026-10-20"}
    body = client.get(
        f"/subjects/{P}/history", params=params, headers=h(system, "operator", "wang.fang")
    ).json()
    assert body["from_day"] == "2026-10-01" and body["to"].startswith("2026-10-20T15:59:59")
    assert _values(_scheme(body)["points"]) == [("2026-10-01", 980, "A"), ("2026-10-20", 880, "B")]


def test_every_history_read_is_a_look_the_subject_sees(
    system: System, client: TestClient, late: tuple[dt.datetime, str]
) -> None:
    client.get(
        f"/subjects/{P}/history",
        params={"purpose": "loan application"},
        headers=h(system, "operator", "wang.fang"),
    )
    others, _own, _last = system.looks_about(system.operator(), P)
    look = others[0]
    assert (look["action"], look["principal"], look["purpose"]) == (
        "history",
        "wang.fang",
        "loan application",
    )


def test_only_who_may_read_the_record_reads_its_history(
    system: System, client: TestClient, late: tuple[dt.datetime, str]
) -> None:
    r = client.get(f"/subjects/{P}/history", headers=h(system, "subject", person(192)))
    assert r.status_code == 403, r.text
    with pytest.raises(AccessDenied):
        system.score_history(
            P, system.authenticate(system.create_key("subject", person(192)).token), purpose="t"
        )  # type: ignore[arg-type]
    assert not [e for e in system.store.audit_entries(subject=P, limit=50) if e["action"] == "history"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"known_at": "soon"}, "known_at"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-13-01"}, "from"),
    ],
)
def test_bad_times_are_refused_naming_the_parameter(
    system: System, client: TestClient, late: tuple[dt.datetime, str], params: dict[str, str], field: str
) -> None:
    r = client.get(f"/subjects/{P}/history", params=params, headers=h(system, "operator", "wang.fang"))
    assert r.status_code == 422 and field in r.json()["error"], r.text


def test_a_range_that_ends_before_it_starts_is_empty(system: System, late: tuple[dt.datetime, str]) -> None:
    """Not refused: any two valid times make a range, as the API's schema says."""
    h = system.score_history(
        P, system.operator(), purpose="t", since=dt.date(2027, 1, 1), until=dt.datetime(2026, 12, 1)
    )
    assert h.schemes and all(s.points == [] and s.differences == [] for s in h.schemes)


def test_the_command_line_shows_the_history_as_known_then_and_today(env: Path) -> None:
    def ingest(n: int, day: str) -> None:
        f = env / f"r{n}.jsonl"
        row = {
            "subject": P,
            "item": "traffic.minor",
            "source": "traffic-police",
            "source_record_id": f"sh-{n}",
            "occurred_on": day,
            "reported_at": f"{day}T10:00:00",
        }
        f.write_text(json.dumps(row) + "\n")
        assert jrun("ingest", str(f))["accepted"] == 1

    ingest(1, "2026-03-10")
    time.sleep(1.1)  # received_at is kept to the second
    known = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    time.sleep(1.1)
    ingest(2, "2026-02-01")  # reported late: not known at K
    body = jrun("history", P, "--known-at", known)
    s = _scheme(body)
    assert _values(s["points"]) == [("2026-03-10", 980, "A")]
    assert _values(s["today"]) == [("2026-02-01", 980, "A"), ("2026-03-10", 960, "B")]
    assert [d["day"] for d in s["differences"]] == ["2026-02-01", "2026-03-10"]
    assert jrun("history", P, "--from", "2026-03-01")["schemes"][0]["points"][0]["day"] == "2026-03-01"
    shown = run("history", P, "--known-at", known)
    assert shown.exit_code == 0, shown.output
    assert "suining-2010" in shown.stdout and "2026-03-10" in shown.stdout
    assert "make it 960, grade B" in " ".join(shown.stdout.split())
    bad = run("history", P, "--from", "soon")
    assert bad.exit_code == 2 and "--from" in bad.output
