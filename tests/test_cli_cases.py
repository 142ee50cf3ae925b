"""``socialcredit cases ...`` and ``socialcredit public ...`` on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from socialcredit.cli import common
from socialcredit.service import System
from tests.conftest import NOW, Clock, org, person
from tests.support.cli import jrun, run

P, ORG = person(61), org(61)


def _seed(home: Path) -> str:
    subjects = home / "s.csv"
    subjects.write_text(f"code,name,district\n{P},Zhou Li,Rongcheng\n{ORG},Example Ltd,Rongcheng\n")
    assert jrun("register", str(subjects))["added"] == 2
    f = home / "r.jsonl"
    rows = [
        {
            "subject": P,
            "item": "court.dishonest.able-but-refuses",
            "source": "court",
            "source_record_id": "c-1",
            "occurred_on": "2026-09-01",
            "details": {"case_number": "(2026) Lu 1082 Zhi 5", "court": "Rongcheng"},
        },
        {
            "subject": ORG,
            "item": "environment.violation",
            "source": "environment",
            "source_record_id": "e-1",
            "occurred_on": "2026-09-02",
        },
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert jrun("ingest", str(f))["accepted"] == 2
    return "court-dishonest-debtors/dishonest-debtors"


def test_objection_decided_from_the_command_line(env: Path) -> None:  # noqa: F811
    court_list = _seed(env)
    assert run("check", P, "no-flights").exit_code == 1
    case = jrun(
        "cases",
        "object",
        P,
        "--list",
        court_list,
        "--statement",
        "paid on 2026-08-30",
        "--evidence",
        "bank transfer 88",
    )
    assert (
        case["status"] == "under review"
        and case["detail"]["measures_stay"]
        and case["detail"]["evidence"] == ["bank transfer 88"]
    )
    assert [c["id"] for c in jrun("cases", "list", P, "--open")["data"]] == [case["id"]]
    rows = jrun("public", "list", court_list)["data"]
    assert [r["name"] for r in rows] == ["Zhou Li"] and P not in json.dumps(rows)
    decided = jrun(
        "cases", "decide", case["id"], "--uphold", "--reason", "transfer verified", "--by", "wang.fang"
    )
    assert decided["status"] == "corrected"
    assert run("check", P, "no-flights").exit_code == 0
    assert jrun("public", "list", court_list)["data"] == []
    assert jrun("cases", "overdue")["data"] == []
    sources = {s["source"]: s for s in jrun("public", "sources")["data"]}
    assert sources["court"]["overturned"] == 1 and sources["environment"]["overturned"] == 0
    report = jrun("public", "transparency")
    assert report["objections"]["filed"] == 1 and report["objections"]["upheld"] == 1
    assert jrun("verify")["ok"]


def test_appeal_from_the_command_line_names_another_decider(env: Path) -> None:  # noqa: F811
    """SPC provisions, Art. 12 (DOMAIN.md): the first decision and the review "are made by
    different bodies": ``--by`` names who decides, and the objection's decider may not decide its
    appeal."""
    court_list = _seed(env)
    case = jrun("cases", "object", P, "--list", court_list, "--statement", "paid")
    jrun("cases", "decide", case["id"], "--reject", "--reason", "no receipt", "--by", "wang.fang")
    jrun("cases", "appeal", case["id"], "--statement", "receipt attached")
    same = run("cases", "decide", case["id"], "--uphold", "--reason", "ok", "--by", "wang.fang")
    assert same.exit_code == 2
    assert "refused: may not decide the appeal" in " ".join(same.stderr.split())
    assert "wang.fang decided the objection" in " ".join(same.stderr.split())
    done = jrun("cases", "decide", case["id"], "--uphold", "--reason", "receipt verified", "--by", "li.na")
    assert (done["detail"]["decided_by"], done["detail"]["appeal_decided_by"], done["status"]) == (
        "wang.fang",
        "li.na",
        "corrected",
    )
    assert [h["by"] for h in done["detail"]["history"] if h["by"]] == ["wang.fang", "li.na", "li.na"]
    shown = run("cases", "list", P)
    text = " ".join(shown.stdout.split())
    assert "by wang.fang: no receipt" in text and "appeal decided" in text and "by li.na" in text


def test_review_from_the_command_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """GDPR (DOMAIN.md): no "solely automated decision with significant effects without human
    review". ``cases review`` asks for one of a listing by grade; the command-line user who filed
    it (``local``) is involved and may not decide it; it is late in ``cases overdue`` after 15
    days; an uninvolved operator (``--by``) decides it."""
    clock = Clock(NOW)
    monkeypatch.setattr(common, "System", functools.partial(System, clock=clock))
    f = env / "d.jsonl"
    rows = [
        {"subject": P, "item": item, "source": source, "source_record_id": f"d-{n}",
         "occurred_on": f"2026-09-{n:02d}", "reported_at": f"2026-09-{n:02d}T09:00:00"}
        for n, (item, source) in enumerate(
            [("court.fraud-conviction", "court")] * 4 + [("traffic.drunk-driving", "traffic-police")] * 2, 1
        )
    ]  # fmt: skip
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert jrun("ingest", str(f))["accepted"] == 6
    case = jrun("cases", "review", P, "--list", "rongcheng/d-grade", "--statement", "I was in hospital")
    assert (case["kind"], case["status"], case["detail"]["measures_stay"]) == (
        "review",
        "under review",
        False,
    )
    assert run("check", P, "extra-scrutiny-subsidies").exit_code == 0  # suspended meanwhile
    court = run(
        "cases", "review", P, "--list", "court-dishonest-debtors/dishonest-debtors", "--statement", "x"
    )
    assert court.exit_code == 2 and "no current entry" in court.stderr
    involved = run("cases", "decide", case["id"], "--reject", "--reason", "x", "--by", "local")
    assert involved.exit_code == 2 and "local is already involved" in " ".join(involved.stderr.split())
    clock.advance(days=16)
    late = run("cases", "overdue", "--json")
    assert late.exit_code == 1
    [row] = json.loads(late.stdout)["data"]
    assert (row["kind"], row["id"], row["late"]) == (
        "review",
        case["id"],
        [f"review was due by {case['detail']['review_due']}"],
    )
    done = jrun("cases", "decide", case["id"], "--reject", "--reason", "records stand", "--by", "wang.fang")
    assert (done["status"], done["detail"]["decided_by"]) == ("rejected", "wang.fang")
    assert run("check", P, "extra-scrutiny-subsidies").exit_code == 1
    assert jrun("cases", "overdue")["data"] == []


def test_public_lookup_and_bad_input(env: Path) -> None:  # noqa: F811
    _seed(env)
    found = jrun("public", "lookup", ORG)
    assert found["name"] == "Example Ltd" and found["records"][0]["item"] == "environment.violation"
    private = run("public", "lookup", P)
    assert private.exit_code == 2 and "private" in private.stderr
    for args, message in [
        (["cases", "object", P, "--statement", "x"], "give either a record_id or a list_id"),
        (["cases", "object", "123", "--statement", "x", "--record", "r"], "CODE: invalid length"),
        (
            ["cases", "decide", "obj-nope", "--reject", "--reason", "x", "--by", "wang.fang"],
            "CASE_ID: no case 'obj-nope'",
        ),
        (["cases", "decide", "obj-nope", "--reject", "--reason", "x", "--by", " "], "--by: an operator key"),
        (
            [
                "cases",
                "restore",
                P,
                "f" * 32,
                "--conduct-corrected",
                "a",
                "--obligations-fulfilled",
                "b",
                "--commitment",
                "c",
            ],
            "record_id: no record",
        ),
        (["public", "list", "nothing/here"], "list_id: no list"),
    ]:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.stderr.split()), (args, result.stderr)


def test_holiday_calendar_moves_deadlines(env: Path) -> None:  # noqa: F811
    import datetime as dt

    from socialcredit.dueprocess import WorkingCalendar

    _seed(env)
    rid = jrun("score", P)["scores"][0]["explanation"][0]["record_id"]
    today = dt.datetime.now(dt.UTC).date()
    holidays = [today + dt.timedelta(days=d) for d in (1, 2, 3)]
    (env / "home").mkdir(parents=True, exist_ok=True)  # with PostgreSQL nothing else creates it
    (env / "home" / "holidays.txt").write_text("# public holidays\n" + "".join(f"{d}\n" for d in holidays))
    case = jrun("cases", "object", P, "--record", rid, "--statement", "wrong person")
    decided = jrun("cases", "decide", case["id"], "--uphold", "--reason", "checked", "--by", "wang.fang")
    expected = WorkingCalendar(frozenset(holidays)).add_working_days(today, 3)
    assert decided["detail"]["correction_due"] == expected.isoformat()
    assert expected > WorkingCalendar().add_working_days(today, 3)
    (env / "home" / "holidays.txt").write_text("not-a-date\n")
    bad = run("cases", "list")
    assert bad.exit_code == 2 and "holidays: holidays line 1" in bad.stderr


def test_a_late_removal_is_overdue_and_counts_against_its_source(env: Path) -> None:  # noqa: F811
    """SPC Provisions, Art. 10: removal "within 3 working days of any of: (1) all obligations
    performed; ...". A performance on Friday 30 October 2026 reported on 10 November was due by
    Wednesday 4 November: ``cases overdue`` says so (exit 1) and ``public sources`` counts it
    against the court (median days late)."""
    f = env / "late.jsonl"
    rows = [
        {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
         "source_record_id": "c-1", "occurred_on": "2026-03-02", "reported_at": "2026-03-02T02:00:00"},
        {"subject": P, "item": "court.fulfilment.performed", "source": "court", "source_record_id": "c-2",
         "occurred_on": "2026-10-30", "reported_at": "2026-11-10T02:00:00"},
    ]  # fmt: skip
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert jrun("ingest", str(f))["accepted"] == 2
    late = run("cases", "overdue", "--json")
    assert late.exit_code == 1
    [row] = json.loads(late.stdout)["data"]
    assert (row["kind"], row["subject"], row["removal_due"], row["days_late"]) == (
        "late removal", P, "2026-11-04", 6
    )  # fmt: skip
    text = run("cases", "overdue")
    assert "late removal" in text.stdout and "6 days late" in text.stdout
    court = {s["source"]: s for s in jrun("public", "sources")["data"]}["court"]
    assert (court["removals"], court["removed_late"], court["median_days_late"]) == (1, 1, 6.0)
