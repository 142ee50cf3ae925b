"""The command line: each command works, has --json, and fails with one clear line and status 2
on bad input. Runs on SQLite and PostgreSQL (through SOCIALCREDIT_DATABASE_URL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import person
from tests.support.cli import jrun, run
from tests.support.recordids import cli_record_id

P = person(31)


def test_ingest_score_check_verify(env: Path) -> None:
    f = env / "records.jsonl"
    rows = [
        {
            "subject": P,
            "item": "court.dishonest.able-but-refuses",
            "source": "court",
            "source_record_id": "c-1",
            "occurred_on": "2026-09-01",
            "reported_at": "2026-09-02T09:00:00",
        },
        {
            "subject": P,
            "item": "traffic.minor",
            "source": "traffic-police",
            "source_record_id": "t-1",
            "occurred_on": "2026-09-03",
        },
        {
            "subject": "12345",
            "item": "traffic.minor",
            "source": "traffic-police",
            "source_record_id": "t-2",
            "occurred_on": "2026-09-03",
        },
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = jrun("ingest", str(f))
    assert (out["submitted"], out["accepted"], out["duplicate"], out["quarantined"]) == (3, 2, 0, 1)
    assert out["quarantine"][0]["row_number"] == 3 and "invalid length" in out["quarantine"][0]["reasons"][0]
    again = jrun("ingest", str(f))
    assert (again["accepted"], again["duplicate"]) == (0, 2)

    score = jrun("score", P)
    rc = next(s for s in score["scores"] if s["scheme"] == "rongcheng")
    assert rc["score"] == 1000 - 100 - 5 and len(rc["explanation"]) == 2
    assert score["lists"][0]["list_id"] == "court-dishonest-debtors/dishonest-debtors"
    past = jrun("score", P, "--at", "2026-09-01")
    assert next(s for s in past["scores"] if s["scheme"] == "rongcheng")["score"] == 1000

    denied = run("check", P, "no-flights", "--json")
    assert denied.exit_code == 1
    body = json.loads(denied.stdout)
    assert body["answer"] == "deny" and body["reasons"][0]["since"] == "2026-09-02"
    assert run("check", P, "no-flights").exit_code == 1

    ok = jrun("verify")
    assert ok["ok"] and ok["records"] == 2 and ok["audit_entries"] >= 4


def test_score_names_the_cap_in_text_and_json(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Suining's maximum of 1,000 (suining-2010.yaml, ``maximum: 1000``): +100 - 50 - 20 would be
    1,030; the explanation has a line of its own for the 30 the cap takes (issue 16)."""
    f = env / "records.jsonl"
    rows = [
        ("honour.model-worker", "trade-union", "2025-03-01"),
        ("traffic.red-light", "traffic-police", "2025-04-01"),
        ("traffic.minor", "traffic-police", "2025-05-01"),
    ]
    f.write_text(
        "".join(
            json.dumps({"subject": P, "item": item, "source": source, "source_record_id": f"s-{n}",
                        "occurred_on": day, "reported_at": day + "T12:00:00"}) + "\n"
            for n, (item, source, day) in enumerate(rows)
        )
    )  # fmt: skip
    assert jrun("ingest", str(f))["accepted"] == 3
    (su,) = jrun("score", P, "--scheme", "suining-2010", "--at", "2025-12-31")["scores"]
    assert su["score"] == 1000 and [c["points"] for c in su["explanation"]] == [100, -50, -20]
    assert su["adjustments"] == [
        {"kind": "maximum", "points": -30, "bound": 1000, "text": "capped at the maximum of 1,000: -30"}
    ]
    assert su["start"] + sum(c["points"] for c in su["explanation"]) + su["adjustments"][0]["points"] == 1000
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    text = run("score", P, "--scheme", "suining-2010", "--at", "2025-12-31")
    assert text.exit_code == 0, text.output
    rows = [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in text.output.splitlines()
        if line.startswith("│")
    ]
    # the lines adding up: the base, the records (each a row of the table after), the cap, the score
    assert rows[:4] == [
        ["Base points", "1,000"],
        ["The counting records (one line each below)", "+30"],
        ["capped at the maximum of 1,000", "-30"],
        ["Score", "1,000"],
    ]
    assert sorted(r[4] for r in rows[4:]) == ["+100", "-20", "-50"]  # one row per record


def test_verify_names_a_tampered_record(env: Path, store_url: str) -> None:
    f = env / "r.csv"
    f.write_text(
        "subject,item,source,source_record_id,occurred_on\n"
        f"{P},traffic.minor,traffic-police,t-1,2026-09-03\n"
        f"{P},traffic.speeding,traffic-police,t-2,2026-09-04\n"
    )
    assert jrun("ingest", str(f))["accepted"] == 2
    url = store_url if store_url.startswith("postgresql") else f"sqlite:///{env / 'home' / 'socialcredit.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE records SET occurred_on = '2020-01-01' WHERE seq = 2"))
    engine.dispose()
    rid = cli_record_id("traffic-police", "t-2")
    result = run("verify")
    assert result.exit_code == 1 and result.stdout.splitlines() == [f"records: altered: seq 2 ({rid})"]
    body = json.loads(run("verify", "--json").stdout)
    assert body["problems"]["records"] == [
        {"seq": 2, "record_id": rid, "problem": "altered: seq 2", "kind": "altered", "seqs": [2]}
    ]


def test_keys_create_list_revoke(env: Path) -> None:
    made = jrun("keys", "create", "relying_party", "airlines", "--name", "Example Air")
    assert made["token"].startswith("sck_")
    listed = jrun("keys", "list")["data"]
    assert [k["key_id"] for k in listed] == [made["key_id"]] and "token" not in listed[0]
    revoked = jrun("keys", "revoke", made["key_id"])  # the keys now, as DELETE /keys/{id} answers
    assert revoked["data"][0]["revoked_at"] is not None
    assert jrun("keys", "list")["data"][0]["revoked_at"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "110105194912310021"], "CODE: invalid checksum"),
        (["score", "12"], "CODE: invalid length"),
        (["check", P, "no-such-measure"], "MEASURE: measure: no measure 'no-such-measure'"),
        (["score", P, "--at", "last tuesday"], "--at: 'last tuesday' is not an ISO date"),
        (["score", P, "--scheme", "atlantis"], "--scheme: no scheme 'atlantis'"),
        (["ingest", "/nonexistent/file.csv"], "no such file"),
        (["ingest", "notes.txt"], "cannot tell the format"),
        (["lint", "/nonexistent.yaml"], "no such file"),
        (["keys", "create", "king"], "ROLE: 'king' is not one of"),
        (["keys", "create", "subject", "123"], "PRINCIPAL: code '123'"),
        (["keys", "create", "operator"], "PRINCIPAL: an operator key must name the person who holds it"),
        (["keys", "revoke", "nope"], "KEY_ID: no active key 'nope'"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(env: Path, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_lint(env: Path) -> None:
    bad = env / "bad.yaml"
    bad.write_text("""
id: jiangsu-example
title: A pilot that should not ship
jurisdiction: example
items:
  - code: petition.to-higher-authorities
    title: Petitioning higher authorities
    area: administrative
    polarity: negative
    points: -50
    sources: [public-security]
""")
    result = run("lint", str(bad), "--json")
    assert result.exit_code == 1
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert {"no-legal-basis", "protected-activity"} <= rules
    from importlib import resources

    shipped = resources.files("socialcredit.schemes.shipped").joinpath("rongcheng.yaml")
    ok = run("lint", str(shipped))
    assert ok.exit_code == 0, ok.output
    broken = env / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    result = run("lint", str(broken))
    assert result.exit_code == 2 and "not valid YAML" in result.stderr


def test_demo_small_city(env: Path) -> None:
    out = jrun("demo", "--residents", "300", "--no-serve")
    assert out["residents"] == 300 and out["organisations"] >= 15 and out["agencies"] == 20
    assert out["submitted"] == out["accepted"] + out["duplicate"] + out["quarantined"]
    assert out["quarantined"] == 0 and out["accepted"] > 1000
    grades = out["grades"]["rongcheng"]
    assert sum(grades.values()) == 300
    assert set(out["keys"]) >= {"operator", "relying_party (airlines)"}
    # a second run recognises its own city and does not ingest it twice
    again = jrun("demo", "--residents", "300", "--no-serve")
    assert again["reused"] and again["grades"] == out["grades"] and again["lists"] == out["lists"]
    # another city replaces the demo's own (the README's smaller city after the first run)
    other = run("demo", "--residents", "400", "--no-serve", "--json")
    assert other.exit_code == 0, other.output
    assert "replacing the previous demo city" in other.stderr
    replaced = json.loads(other.stdout)
    assert replaced["residents"] == 400 and not replaced["reused"]
    assert sum(replaced["grades"]["rongcheng"].values()) == 400
    # each run's three keys replace the last run's: only three are live
    keys = json.loads(run("keys", "list", "--json").stdout)
    live = [k for k in keys["data"] if k["name"].startswith("demo ") and not k["revoked_at"]]
    assert len(live) == 3, keys


def test_the_demo_will_not_touch_a_database_holding_other_data(env: Path) -> None:
    f = env / "r.csv"
    f.write_text(
        "subject,item,source,source_record_id,occurred_on\n"
        f"{P},traffic.red-light,traffic-police,tp-9,2026-05-01\n"
    )
    assert run("ingest", str(f)).exit_code == 0
    other = run("demo", "--residents", "300", "--no-serve")
    assert other.exit_code == 2 and "already holds other data" in other.stderr


def test_a_busy_port_is_found_before_the_city_is_built(env: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run("demo", "--residents", "300", "--port", str(port))
    assert result.exit_code == 2
    assert f"--port, e.g. `socialcredit demo --port {port + 1}`" in result.stderr
    keys = json.loads(run("keys", "list", "--json").stdout)
    assert keys["data"] == []  # nothing was built: no city, no keys


def test_a_bad_rate_setting_is_found_before_the_city_is_built(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` and ``demo`` read the rate limits once, before anything starts (the app is given
    them): a bad value is one line naming the variable, and the demo builds nothing."""
    monkeypatch.setenv("SOCIALCREDIT_RATE_PER_KEY", "fast")
    for args in (("serve",), ("demo", "--residents", "300")):
        result = run(*args)
        assert (
            result.exit_code == 2 and "SOCIALCREDIT_RATE_PER_KEY: must be a positive number" in result.stderr
        )
    keys = json.loads(run("keys", "list", "--json").stdout)
    assert keys["data"] == []  # nothing was built: no city, no keys


def test_the_demo_names_the_command_as_it_can_be_typed() -> None:
    import sys

    from socialcredit.cli.demo import command_name

    name = command_name()
    assert name == "socialcredit" or Path(name).name == "socialcredit"
    assert name == "socialcredit" or Path(name).resolve().parent == Path(sys.executable).parent.resolve()


def test_register_subjects_and_representatives(env: Path) -> None:
    from tests.conftest import org

    f = env / "subjects.csv"
    f.write_text(
        "code,name,district,legal_representative\n"
        f"{P},Li Wei,Rongcheng,\n"
        f"{org(3)},Weihai Example Ltd,Rongcheng,{P}\n"
        f"{org(4)},Bad Rep Ltd,Rongcheng,{org(3)}\n"
        f"{person(32)},Self Rep,Rongcheng,{P}\n"
        "12345,Nobody,,\n"
    )
    out = jrun("register", str(f))
    assert (out["submitted"], out["added"], out["quarantined"]) == (5, 2, 3)
    reasons = {q["row_number"]: q["reasons"][0] for q in out["quarantine"]}
    assert reasons[4].startswith("legal_representative: invalid format")
    assert reasons[5] == "legal_representative: only an organisation has a legal representative"
    assert reasons[6].startswith("code: invalid length")
    again = jrun("register", str(f))
    assert (again["added"], again["unchanged"]) == (0, 2)
    # an organisation's listing reaches its representative
    rec = env / "r.jsonl"
    rec.write_text(
        json.dumps(
            {
                "subject": org(3),
                "item": "court.dishonest.able-but-refuses",
                "source": "court",
                "source_record_id": "c-9",
                "occurred_on": "2026-09-01",
            }
        )
        + "\n"
    )
    assert jrun("ingest", str(rec))["accepted"] == 1
    assert run("check", P, "no-flights").exit_code == 1


@pytest.mark.slow  # a real server process
def test_serve_answers_http(env: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).with_name("socialcredit"))
    proc = subprocess.Popen([exe, "serve", "--port", str(port)], env=dict(os.environ), stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert json.loads(r.read())["ok"] is True
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/schemes", timeout=5) as r:
            ids = {s["id"] for s in json.loads(r.read())["data"]}
        assert {"rongcheng", "suining-2010", "court-dishonest-debtors", "joint-memorandum-2016"} <= ids
    finally:
        proc.terminate()
        proc.wait(timeout=10)
