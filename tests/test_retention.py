"""Erasure that happens on its own (issue 21 point 2), on SQLite and PostgreSQL.

Issue 21: "`socialcredit retention run` (and a daily task in `serve`) destroys a key when every
record under it has passed its retention period plus the scheme's archive period. It never does
so while a record under that key still counts, or still grounds an entry in force (a ground (1)
court listing stands until removed)." "An agency re-sending an erased record is told it was
erased; it is not taken in again." "Backups made after the erasure do not hold the key. A backup
made before keeps it. ... the restore re-applies erasures by replaying an erasure log."
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from pathlib import Path

from socialcredit import backup
from socialcredit.rules.days import day_of
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System
from socialcredit.store import Store
from tests.conftest import Clock, org, person
from tests.support.records import red_light

P, ORG = person(91), org(91)


def ids(system: System) -> tuple[str, str, str]:
    """The ids of P's old and new records and the court's, keyed by the test's store (decision 0080)."""
    stored = system.store.stored_record_id
    return stored("traffic-police", "old-1"), stored("traffic-police", "new-1"), stored("court", "c-1")


ROWS = [
    (1, red_light(P, "old-1", "2020-03-01")),  # 730 days counting + 730 archive: past by 2024
    (2, red_light(P, "new-1", "2026-03-01")),  # still counts
    (
        3,
        {
            "subject": ORG,
            "item": "court.dishonest.able-but-refuses",  # ground (1): listed until removed
            "source": "court",
            "source_record_id": "c-1",
            "occurred_on": "2019-06-01",
            "reported_at": "2019-06-01T12:00:00",
            "details": {"case_number": "(2019) Lu 1082 Zhi 9"},
        },
    ),
]


def test_retention_erases_only_keys_past_keeping(system: System, clock: Clock) -> None:
    op = system.operator()
    assert system.ingest(ROWS, origin="t", principal=op).accepted == 3
    old, new, court = ids(system)
    assert any(e.status == "active" for e in system.view(ORG).entries)
    report = system.retention_run()
    assert (report.erased_keys, report.erased_records, report.kept_counting, report.kept_in_force) == (
        1,
        1,
        1,
        1,
    )
    # erased: still counted by verify, not readable, "erased on D under rule R"
    assert system.verify()["records"] == [] and system.store.head("records")[0] == 3
    assert [r.record_id for r in system.store.records_for(P)] == [new]
    assert system.store.record(old) is None
    erasure = system.erasure_of(old)
    assert erasure is not None and erasure.at == clock.now and erasure.rule == "retention"
    assert system.erasure_of(new) is None and system.store.record(court) is not None
    # re-sent by the agency: told it was erased, not taken in again
    again = system.ingest([ROWS[0]], origin="again", principal=op)
    assert (again.accepted, again.duplicate, again.quarantined) == (0, 0, 1)
    assert (
        "was erased on 2026-11-02 under rule 'retention'" in again.quarantine[0].reasons[0]
        and old in again.quarantine[0].reasons[0]
    )
    # a second run finds nothing more; the runs are audited without naming anyone
    assert system.retention_run().erased_keys == 0
    runs = [e for e in system.audit_log(op) if e["action"] == "retention"]
    assert len(runs) == 2 and all(e["subject"] is None for e in runs)


def court(n: int, subject: str, item: str, occurred: str, **details: object) -> tuple[int, dict[str, object]]:
    return n, {
        "subject": subject,
        "item": item,
        "source": "court",
        "source_record_id": f"court-{n}",
        "occurred_on": occurred,
        "reported_at": f"{occurred}T12:00:00",
        "details": {"case_number": f"(2021) Lu 1082 Zhi {n}", **details},
    }


def test_a_removal_or_an_extension_is_not_erased_while_the_listing_it_shaped_is_kept(
    system: System, clock: Clock
) -> None:
    """Issue 21: retention "never does so while a record under that key still counts, or still
    grounds an entry in force (a ground (1) court listing stands until removed)". SPC Art. 2: a
    ground (1) listing has no fixed period, "the debtor stays listed until a removal ground of
    Art. 10"; on grounds (2) to (6) "the court may extend it by 1 to 3 years".

    P is listed on ground (1) in 2021 and pays in 2022 (Art. 10(1)); a drunk-driving record of
    2021 (1825 days) keeps P's 2021 key, so the listing record stays. The 2022 key is past its
    dates, but erasing the payment alone would put P back on the list. Q is listed on ground (2)
    on 2021-12-01 and the court extends it by 3 years in 2022: in force until 2026-12-01.
    Erasing the 2022 extension alone would end the listing two years after it began."""
    Q = person(92)
    op = system.operator()
    rows = [
        court(1, P, "court.dishonest.able-but-refuses", "2021-11-01"),
        (2, {**red_light(P, "dd-1", "2021-12-20"), "item": "traffic.drunk-driving"}),
        court(3, P, "court.fulfilment.performed", "2022-01-15"),
        court(4, Q, "court.dishonest.obstructs-enforcement", "2021-12-01"),
        court(5, Q, "court.decision.extension", "2022-01-10", extension_years=3),
    ]
    assert system.ingest(rows, origin="t", principal=op).accepted == 5
    before = {code: [(e.status, e.until) for e in system.view(code).entries] for code in (P, Q)}
    assert before[P] == [("removed", dt.date(2022, 1, 15))]
    assert before[Q] == [("active", dt.date(2026, 12, 2))]
    report = system.retention_run()
    assert report.erased_keys == 0 and report.erased_records == 0
    after = {code: [(e.status, e.until) for e in system.view(code).entries] for code in (P, Q)}
    assert after == before
    assert system.check(Question(P, "no-flights", op, purpose="boarding")).allowed
    assert not system.check(Question(Q, "no-flights", op, purpose="boarding")).allowed
    # once the listing's own records may go too, the keys go together
    clock.advance(days=800)  # 2029-01-10: the drunk driving is past 1825 + 730 days
    report = system.retention_run()
    assert report.erased_records == 5
    assert [e.status for code in (P, Q) for e in system.view(code).entries] == []


def test_a_restore_of_a_backup_taken_before_an_erasure_replays_it(
    system: System, clock: Clock, tmp_path: Path, other_url: str
) -> None:
    op = system.operator()
    system.ingest(ROWS, origin="t", principal=op)
    old, new, _ = ids(system)
    before = tmp_path / "before.jsonl.gz"
    backup.dump(system.store, before, clock.now)
    system.retention_run()
    after = tmp_path / "after.jsonl.gz"
    backup.dump(system.store, after, clock.now)
    pseudonym = system.store.sealing.pseudonym(P)

    def keys_in(path: Path) -> set[tuple[str, str]]:
        with gzip.open(path, "rt") as f:
            lines = [json.loads(line) for line in f]
        return {(x["r"]["pseudonym"], x["r"]["klass"]) for x in lines if x.get("t") == "data_keys"}

    assert (pseudonym, "2020") in keys_in(before)  # a backup made before keeps the key
    assert (pseudonym, "2020") not in keys_in(after)  # one made after does not hold it
    # the live installation is lost; its key store (kept apart) survives and the older backup
    # is restored into a new database beside it (on the same backend): the erasure is applied again
    restored = Store(other_url, vault=system.store.sealing.vault)
    try:
        backup.restore(before, restored)
        again = System(restored, shipped_registry(), clock=clock)
        assert again.verify()["records"] == []
        assert [r.record_id for r in restored.records_for(P)] == [new]
        assert restored.record(old) is None and again.erasure_of(old) is not None
    finally:
        restored.close()


def test_an_erased_record_is_not_exported(system: System, tmp_path: Path) -> None:
    """Issue 21: erased records are "no longer exported": the engines' input (the Parquet export,
    opened by the store's one decryption) holds the readable records, in the clear, and no other."""
    import pyarrow.dataset as pads

    from socialcredit.engines.export import export_ledger

    system.ingest(ROWS, origin="t", principal=system.operator())
    _, new, court = ids(system)
    system.retention_run()
    export_ledger(system.store, tmp_path / "export")
    table = pads.dataset(tmp_path / "export" / "records", partitioning="hive").to_table()
    assert sorted(table.column("record_id").to_pylist()) == sorted([new, court])
    assert sorted(table.column("subject").to_pylist()) == sorted([P, ORG])
    assert "camera 7" in table.column("evidence").to_pylist()


def test_another_systems_retention_run_reaches_its_cached_views(store_url: str, clock: Clock) -> None:
    """Two processes on one database (a server and `socialcredit retention run`): the run's
    erasure moves the marker every view cache checks (decision 0094), so the other's cached view
    of the subject is not served again with the erased record: at once on a blocking read, and
    on the event loop's path (the watcher's marker) within its freshness, well under a second."""
    ours = System(Store(store_url), shipped_registry(), clock=clock)
    theirs = System(Store(store_url), shipped_registry(), clock=clock)
    try:
        assert ours.ingest(ROWS, origin="t", principal=ours.operator()).accepted == 3
        old, new, _ = ids(ours)
        views = theirs.context.views
        assert {r.record_id for r in theirs.view(P).records} == {old, new}
        assert views.get(P, clock.now) is not None  # cached in the other process
        views.current(may_block=False)  # the event loop's path: starts the watcher
        deadline = time.monotonic() + 5
        while views.current(may_block=False) is None:
            assert time.monotonic() < deadline, "the watcher never read the marker"
            time.sleep(0.01)
        before = theirs.store.heads()["erasures"]
        assert ours.retention_run().erased_records == 1
        assert theirs.store.heads()["erasures"][0] == before[0] + 1
        start = time.monotonic()
        while views.get(P, clock.now) is not None:  # nothing blocking asked: the watcher applied it
            assert time.monotonic() - start < 1.0, "the erasure did not reach the other's views"
            time.sleep(0.005)
        view = theirs.view(P)
        assert [r.record_id for r in view.records] == [new]
        assert [e.record_id for e in view.erased] == [old]
    finally:
        ours.store.close()
        theirs.store.close()


def test_an_erasure_reads_on_one_day_in_china_wherever_it_is_shown(system: System, clock: Clock) -> None:
    """Issue 21: the records "then read as 'erased on D under rule R'"; "an agency re-sending an
    erased record is told it was erased". One erasure, one day D: the day in China, which every
    rule counts in (docs/reliability.md), on the subject's record and in the agency's refusal
    alike. At 20:00 UTC on 2 November it is already 3 November in China."""
    clock.now = dt.datetime(2026, 11, 2, 20, 0)
    op = system.operator()
    system.ingest(ROWS, origin="t", principal=op)
    old, _, _ = ids(system)
    assert system.retention_run().erased_records == 1
    [shown] = system.view(P).erased
    assert day_of(shown.at) == dt.date(2026, 11, 3)
    again = system.ingest([ROWS[0]], origin="again", principal=op)
    assert "was erased on 2026-11-03 under rule 'retention'" in again.quarantine[0].reasons[0]
    assert "2026-11-02" not in again.quarantine[0].reasons[0]


def test_a_new_record_of_a_year_retention_erased_is_taken_in_under_the_year_s_next_key(
    system: System,
) -> None:
    """Issue 21: "An agency re-sending an erased record is told it was erased; it is not taken in
    again." Only the erased record: SPC Art. 2, a ground (1) listing "has no fixed period: the
    debtor stays listed until a removal ground of Art. 10". P's records of 2020 were erased by
    retention; the court then reports its listing decision of May 2020, never sent before. It
    is taken in (under the year's next key, ``2020.1``) and P is listed; the erased red light
    re-sent is still refused."""
    op = system.operator()
    system.ingest(ROWS[:2], origin="t", principal=op)
    assert system.retention_run().erased_records == 1
    listing = court(7, P, "court.dishonest.able-but-refuses", "2020-05-01")
    taken = system.ingest([listing], origin="court", principal=op)
    assert (taken.accepted, taken.quarantined) == (1, 0), taken.quarantine
    [entry] = system.view(P).entries
    assert entry.status == "active" and entry.planned_end is None
    assert not system.check(Question(P, "no-flights", op, purpose="boarding")).allowed
    stored = system.store.record(system.store.stored_record_id("court", "court-7"))
    assert stored is not None and stored.stored is not None and stored.stored[0] == "2020.1"
    again = system.ingest([ROWS[0]], origin="again", principal=op)
    assert (again.accepted, again.quarantined) == (0, 1)
    assert "was erased on 2026-11-02 under rule 'retention'" in again.quarantine[0].reasons[0]
    # the listing grounds an entry in force: the next run keeps its key
    report = system.retention_run()
    assert (report.erased_keys, report.kept_in_force) == (0, 1)


def test_a_withdrawal_is_not_erased_while_the_record_it_withdrew_is_kept(
    system: System, clock: Clock
) -> None:
    """Issue 21: retention "never does so while a record under that key still counts, or still
    grounds an entry in force (a ground (1) court listing stands until removed)". The court
    listed P on ground (1) in November 2021 and withdrew the listing as wrong in January 2022.
    P's 2021 key is kept by a drunk-driving record (1825 days); the 2022 key is past its dates,
    but erasing the withdrawal alone would put P on the list again, for nothing."""
    op = system.operator()
    rows = [
        court(1, P, "court.dishonest.able-but-refuses", "2021-11-01"),
        (2, {**red_light(P, "dd-1", "2021-12-20"), "item": "traffic.drunk-driving"}),
        (
            3,
            {
                **court(3, P, "court.dishonest.able-but-refuses", "2022-01-15")[1],
                "action": "withdraw",
                "corrects_source_record_id": "court-1",
            },
        ),
    ]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    assert system.view(P).entries == []
    report = system.retention_run()
    assert (report.erased_keys, report.kept_counting, report.kept_in_force) == (0, 1, 1)
    assert system.view(P).entries == []
    assert system.check(Question(P, "no-flights", op, purpose="boarding")).allowed
    clock.advance(days=800)  # both years past: they go together
    assert system.retention_run().erased_records == 3
    assert system.view(P).entries == []
