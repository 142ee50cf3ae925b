"""The ledger: every row accepted, duplicate or quarantined with a reason; the chain catches
every alteration, removal and reordering. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from socialcredit import formats, ledger
from socialcredit.service import Question, System
from tests.conftest import org, person

P1, P2, O1 = person(1), person(2), org(1)


def row(**kw: Any) -> dict[str, Any]:
    base = {
        "subject": P1,
        "item": "traffic.red-light",
        "source": "traffic-police",
        "source_record_id": "tp-1",
        "occurred_on": "2026-05-01",
        "reported_at": "2026-05-02T08:00:00",
    }
    base.update(kw)
    return base


MIXED = [
    row(),  # 1 accepted
    row(source_record_id="tp-2", subject=P2),  # 2 accepted
    row(),  # 3 duplicate of 1
    row(source_record_id="tp-3", subject="110105194912310021"),  # 4 bad checksum
    row(source_record_id="tp-4", subject="12345"),  # 5 bad length
    row(source_record_id="tp-5", item="petition.to-beijing"),  # 6 unknown item
    row(source_record_id="tp-6", occurred_on="2026-02-30"),  # 7 bad date
    row(source_record_id="tp-7", occurred_on="2027-01-01"),  # 8 future date
    row(source_record_id="tp-8", item="court.dishonest.able-but-refuses"),  # 9 source not allowed
    row(
        source_record_id="tp-9",
        subject=O1,
        item="court.dishonest.able-but-refuses",
        source="court",
        details={"case_number": "(2026) Lu 1082 Zhi 1"},
    ),  # 10 accepted (org)
    row(source_record_id="", subject=P2),  # 11 missing id
    row(source_record_id="tp-2", subject=P2, occurred_on="2026-05-02"),  # 12 conflicts with 2
]
EXPECTED = {"submitted": 12, "accepted": 3, "duplicate": 1, "quarantined": 8}
REASONS = {
    4: "subject: invalid checksum",
    5: "subject: invalid length",
    6: "item: 'petition.to-beijing' is not an item of any scheme in force",
    7: "occurred_on: '2026-02-30' is not an ISO date",
    8: "occurred_on: 2027-01-01 is in the future",
    9: "source: 'traffic-police' may not report item 'court.dishonest.able-but-refuses'",
    11: "source_record_id: is required",
    12: "already accepted with different content",
}


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".csv":
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(ledger.FIELDS))
            w.writeheader()
            for r in rows:
                w.writerow({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in r.items()})
    else:
        cols = {
            f: [(json.dumps(r[f]) if isinstance(r.get(f), dict) else r.get(f)) for r in rows]
            for f in ledger.FIELDS
        }
        pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()}), path)
    return path


def check_counts(result: ledger.IngestResult) -> None:
    got = {k: getattr(result, k) for k in EXPECTED}
    assert got == EXPECTED
    reasons = {q.row_number: " | ".join(q.reasons) for q in result.quarantine}
    assert set(reasons) == set(REASONS)
    for n, want in REASONS.items():
        assert want in reasons[n], (n, reasons[n])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_mixed_file_exact_counts_and_reasons(system: System, tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"batch{suffix}", MIXED)
    header_offset = 1 if suffix == ".csv" else 0
    result = system.ingest(formats.read_rows(path), origin=path.name, principal=system.operator())
    # CSV row numbers are file line numbers (the header is line 1)
    shifted = ledger.IngestResult(
        result.batch_id,
        result.submitted,
        result.accepted,
        result.duplicate,
        result.quarantined,
        tuple(ledger.Quarantined(q.row_number - header_offset, q.raw, q.reasons) for q in result.quarantine),
    )
    check_counts(shifted)
    assert system.store.count_records() == 3
    kept = system.store.quarantine_of(result.batch_id)
    assert len(kept) == 8 and all(k["reasons"] for k in kept)
    batch = system.store.batch(result.batch_id)
    assert batch is not None and (batch["accepted"], batch["duplicate"], batch["quarantined"]) == (3, 1, 8)
    # the same file again: nothing new, nothing counted twice
    again = system.ingest(formats.read_rows(path), origin=path.name, principal=system.operator())
    assert (again.accepted, again.duplicate, again.quarantined) == (0, 4, 8)
    assert system.store.count_records() == 3
    assert system.verify() == {"records": [], "audit": [], "cases": [], "registry": []}


def test_malformed_lines_are_quarantined_not_dropped(system: System, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(
        json.dumps(row()).encode()
        + b"\n"
        + b"{not json\n"
        + b"[1, 2]\n"
        + b'{"subject": "\xff\xfe"}\n'
        + json.dumps(row(source_record_id="tp-x", colour="red")).encode()
        + b"\n"
    )
    result = system.ingest(formats.read_rows(path), origin="bad", principal=system.operator())
    assert (result.submitted, result.accepted, result.quarantined) == (5, 1, 4)
    reasons = {q.row_number: q.reasons[0] for q in result.quarantine}
    assert "not valid JSON" in reasons[2]
    assert "must be a JSON object" in reasons[3]
    assert "not UTF-8" in reasons[4]
    assert "colour: unknown field" in reasons[5]


def test_csv_with_unknown_column_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("subject,item,colour\n1,2,3\n")
    with pytest.raises(formats.FileRefused, match="unknown column 'colour'"):
        list(formats.read_rows(path))
    with pytest.raises(formats.FileRefused, match="cannot tell the format"):
        formats.read_rows(tmp_path / "x.txt") if (tmp_path / "x.txt").write_text("") is not None else None


def test_corrections_reference_and_supersede(system: System) -> None:
    op = system.operator()
    system.ingest([(1, row())], origin="t", principal=op)
    original = system.store.stored_record_id("traffic-police", "tp-1")
    # a correction moves the record to the right person
    fix = row(source_record_id="tp-1-fix", subject=P2, action="correct", corrects=original)
    r = system.ingest([(1, fix)], origin="t", principal=op)
    assert r.accepted == 1
    assert system.view(P1).records == []
    assert [x.subject for x in system.view(P2).records] == [P2]
    # a correction of something that does not exist is quarantined
    bad = system.ingest(
        [(1, row(source_record_id="z", action="withdraw", corrects="f" * 32))], origin="t", principal=op
    )
    assert bad.quarantined == 1 and "no record" in bad.quarantine[0].reasons[0]


def _tamper(system: System, sql: str) -> None:
    with system.store.engine.begin() as conn:
        conn.execute(text(sql))


def _ingest_five(system: System) -> list[str]:
    rows = [
        (i, row(source_record_id=f"tp-{i}", occurred_on=f"2026-05-0{i}", reported_at=f"2026-05-0{i}T09:00"))
        for i in range(1, 6)
    ]
    assert system.ingest(rows, origin="t", principal=system.operator()).accepted == 5
    return [system.store.stored_record_id("traffic-police", f"tp-{i}") for i in range(1, 6)]


def test_verify_names_an_altered_record(system: System) -> None:
    ids = _ingest_five(system)
    assert system.verify()["records"] == []
    _tamper(system, f"UPDATE records SET item = 'volunteer.service' WHERE record_id = '{ids[2]}'")
    [problem] = system.verify()["records"]
    assert problem.problem == "altered: seq 3" and problem.entries == (ids[2],)


def test_verify_names_a_removed_record(system: System) -> None:
    ids = _ingest_five(system)
    _tamper(system, f"DELETE FROM records WHERE record_id = '{ids[1]}'")
    # the untouched record after it (seq 3) is not named
    assert [p.problem for p in system.verify()["records"]] == ["missing between seq 1 and 3"]


def test_verify_names_removed_newest_records(system: System) -> None:
    _ingest_five(system)
    _tamper(system, "DELETE FROM records WHERE seq >= 4")
    assert [p.problem for p in system.verify()["records"]] == ["missing after seq 3"]


def test_verify_names_reordered_records(system: System) -> None:
    ids = _ingest_five(system)
    _tamper(system, "UPDATE records SET seq = 100 WHERE seq = 2")
    _tamper(system, "UPDATE records SET seq = 2 WHERE seq = 4")
    _tamper(system, "UPDATE records SET seq = 4 WHERE seq = 100")
    [problem] = system.verify()["records"]  # the records after each (seq 3, seq 5) are not named
    assert problem.problem == "reordered: seq 2 and seq 4" and problem.entries == (ids[3], ids[1])


def test_verify_names_altered_audit_entry(system: System) -> None:
    _ingest_five(system)
    for _ in range(3):
        system.check(Question(P1, "no-flights", system.operator(), purpose="test"))
    assert system.verify()["audit"] == []
    _tamper(system, "UPDATE audit SET answer = 'deny' WHERE seq = 2")
    assert [p.problem for p in system.verify()["audit"]] == ["altered: seq 2"]
