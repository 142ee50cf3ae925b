"""The retention run purges what the system wrote before an erasure (issue 21 point 2, decision
0055), on SQLite and PostgreSQL.

Issue 21: "Old exports and rescore outputs are purged by the same run." And the records erased
are "no longer exported": an export, a rescore output or a kept public snapshot made before the
erasure must not keep them readable once the run is over.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as pads

from socialcredit import engines
from socialcredit.engines.export import export_ledger, register_output
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.service.publicstate import SNAPSHOT
from socialcredit.shredding import Erasure
from socialcredit.store import Store
from tests.conftest import Clock, person
from tests.support.cli import jrun, run
from tests.support.records import red_light

P, Q = person(93), person(94)


RECENT = (1, red_light(P, "new-1", "2026-03-01"))  # still counts in November 2026
PAST = (2, red_light(P, "old-1", "2020-03-01"))  # 730 days counting + 730 archive: past by 2024


def exported(directory: Path) -> list[str]:
    table = pads.dataset(directory / "records", partitioning="hive").to_table()
    return sorted(table.column("record_id").to_pylist())


def test_a_retention_run_purges_what_was_made_before_the_erasure(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    op = system.operator()
    system.ingest([RECENT], origin="t", principal=op)
    before_old = tmp_path / "before-old"  # made before the erased record arrived: nothing of it
    export_ledger(system.store, before_old, clock=clock)
    system.ingest([PAST], origin="t", principal=op)
    export = tmp_path / "export"
    export_ledger(system.store, export, clock=clock)
    old_id, new_id = (system.store.stored_record_id("traffic-police", i) for i in ("old-1", "new-1"))
    assert exported(export) == sorted([old_id, new_id])
    runner = engines.engine("duckdb")
    try:
        # one scheme with lists: the files are what is purged, whatever schemes they hold
        rongcheng = [system.registry.scheme("rongcheng")]
        result = engines.rescore(runner, export, rongcheng, clock.now, tmp_path / "scores.parquet")
    finally:
        runner.close()
    outputs = [Path(p) for p in (result.output, result.lists_output) if p is not None]
    for output in outputs:
        register_output(system.store, output, export, clock.now)
        assert output.exists()
    system.disclosure.rescore()  # keeps a public snapshot computed from both records
    assert system.store.snapshot(SNAPSHOT) is not None

    clock.advance(hours=1)
    report = system.retention_run()
    assert (report.erased_keys, report.erased_records) == (1, 1)
    assert (report.purged_files, report.dropped_snapshots) == (1 + len(outputs), 1)
    assert not export.exists() and not any(o.exists() for o in outputs)
    assert exported(before_old) == [new_id]  # holds nothing erased: kept, and still registered
    assert [e.path for e in system.store.exports.exports()] == [str(before_old.resolve())]
    assert system.store.snapshot(SNAPSHOT) is None
    audit = [e for e in system.audit_log(op) if e["action"] == "retention"][-1]
    assert audit["detail"]["purged_files"] == 1 + len(outputs) and audit["subject"] is None

    # exported again after the erasure: a full export without the erased record, kept by the
    # next run; so is a snapshot computed after it
    export_ledger(system.store, export, clock=clock)
    assert exported(export) == [new_id]
    clock.advance(minutes=1)  # a snapshot of the erasure's very moment is dropped: it may be older
    system.disclosure.rescore()
    clock.advance(hours=1)
    again = system.retention_run()
    assert (again.erased_keys, again.purged_files, again.dropped_snapshots) == (0, 0, 0)
    assert export.exists() and system.store.snapshot(SNAPSHOT) is not None


def test_an_export_into_one_made_before_an_erasure_is_written_whole(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    """An erasure made by another path than the retention run (before any purge): appending to
    the earlier export would leave the erased record in its first generation's files."""
    system.ingest([RECENT, PAST], origin="t", principal=system.operator())
    export = tmp_path / "export"
    export_ledger(system.store, export, clock=clock)
    old_id, new_id = (system.store.stored_record_id("traffic-police", i) for i in ("old-1", "new-1"))
    assert exported(export) == sorted([old_id, new_id])
    vault = system.store.sealing.vault
    pair = (system.store.sealing.pseudonym(P), "2020")
    key = vault.store.wrapped_keys([pair])[pair]
    assert vault.erase([Erasure(pair[0], pair[1], key.key_id, clock.now, "test")]) == 1
    system.ingest([(3, red_light(P, "new-2", "2026-04-01"))], origin="t", principal=system.operator())
    result = export_ledger(system.store, export, clock=clock)
    assert (result.generation, result.appended) == (1, 2)  # not one record appended to the old
    assert exported(export) == sorted([new_id, system.store.stored_record_id("traffic-police", "new-2")])


def test_retention_run_command_purges_the_export_and_rescore_output(env: Path, tmp_path: Path) -> None:
    """End to end on the command line (real time: the 2020 record is long past keeping)."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for _, r in (RECENT, PAST)), encoding="utf-8")
    assert jrun("ingest", str(rows))["accepted"] == 2
    export, scores = tmp_path / "export", tmp_path / "scores.parquet"
    assert run("export", str(export)).exit_code == 0
    done = jrun("rescore", "--from", str(export), "--out", str(scores))
    assert scores.exists() and done["records"] == 2
    report = jrun("retention", "run")
    assert report["erased_records"] == 1 and report["purged_files"] >= 2
    assert not export.exists() and not scores.exists()
    text = run("retention", "run")
    assert text.exit_code == 0 and "purged 0 exports or rescore outputs" in text.stdout


def test_an_erasure_by_another_process_makes_every_process_drop_its_public_state(
    system: System, store_url: str, clock: Clock
) -> None:
    """Issue 21: erased records must not stay readable. An erasure appends to no chain the public
    state's key follows (a retention run appends nothing), so a second process sharing the
    database, a worker of ``serve --workers N``, kept serving pages computed before it, until its
    next day's rescore. ``other`` is that worker (its own public state, as each worker process
    has), ``system`` the one that erases. (Through a served ``--workers 2`` the pages' figures
    did not differ after a retention run, which erases only records that no longer count or
    ground an entry in force; hence this check of which state is served.)"""
    op = system.operator()
    system.ingest([RECENT, PAST], origin="t", principal=op)
    other = System(Store(store_url), shipped_registry(), clock=clock)
    try:
        before = other.disclosure.state()
        assert other.disclosure.state() is before  # kept while nothing changes
        clock.advance(hours=1)
        assert system.retention_run().erased_records == 1
        after = other.disclosure.state()
        assert after is not before and after.as_of == clock.now  # computed after the erasure
        fresh = System(Store(store_url), shipped_registry(), clock=clock)
        try:
            assert after.report == fresh.disclosure.state().report
        finally:
            fresh.store.close()
        # a snapshot kept before an erasure, read by a process starting before the purge drops
        # it, is not served: that process computes the state instead
        system.ingest([(3, red_light(Q, "old-2", "2021-03-01"))], origin="t", principal=op)
        other.disclosure.rescore()  # keeps a snapshot holding Q's record
        clock.advance(minutes=1)
        vault = system.store.sealing.vault
        pseudonym = vault.pseudonym(Q)
        key = vault.store.wrapped_keys([(pseudonym, "2021")])[(pseudonym, "2021")]
        vault.erase([Erasure(pseudonym, "2021", key.key_id, clock.now, "test")])  # not purged yet
        assert system.store.snapshot(SNAPSHOT) is not None
        starting = System(Store(store_url), shipped_registry(), clock=clock)
        try:
            starting.disclosure.background = True
            served = starting.disclosure.state()
            assert served.rescore_of is None and served.as_of == clock.now
            starting.disclosure.wait_for_rescore(60)
        finally:
            starting.store.close()
    finally:
        other.store.close()
