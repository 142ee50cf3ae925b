"""What a record's id is computed from (decisions 0069, 0080). Issue 21 point 1: "No hash kept in
the clear may be computed from guessable personal data without a key: an identity code plus an
item plus a date can be brute-forced." A record's id is keyed: an HMAC under the installation's
pseudonym key of (source, agency's reference), so whoever guesses a court's case number cannot
confirm it against a stored id, a proof or a URL. A record stored before keeps its unkeyed id
(``ledger.record_id_for``), and is still recognised when re-sent, corrected or erased. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, select

from socialcredit import backup, intake, ledger
from socialcredit.access import Principal
from socialcredit.engines.export import export_ledger
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.shredding import Erasure
from socialcredit.store import Store
from socialcredit.store import tables as t
from socialcredit.store.recordids import MARK
from socialcredit.store.records import PendingChunk
from socialcredit.tlog import offline
from tests.conftest import Clock, person
from tests.support.release import replay_release

P, Q = person(81), person(82)
CASE = "(2026) Jing 0105 Zhi 4472"
"""A court's case number: guessable, and it names a person's case."""
COURT = Principal("k-court", "agency", "court", "the court")


def _row(srid: str, subject: str) -> dict[str, str]:
    return {"subject": subject, "item": "traffic.red-light", "source": "traffic-police",
            "source_record_id": srid, "occurred_on": "2026-05-01"}  # fmt: skip


def _case(srid: str = CASE, **more: Any) -> dict[str, Any]:
    return {"subject": person(76), "item": "court.dishonest.able-but-refuses", "source": "court",
            "source_record_id": srid, "occurred_on": "2026-10-20", **more}  # fmt: skip


def test_a_record_id_is_keyed_and_not_computed_from_code_item_date_or_reference(
    system: System, other_url: str
) -> None:
    op = system.operator()
    rows = [(1, _row("a-1", P)), (2, _row("a-2", P)), (3, _row("a-3", Q))]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    with system.store.engine.connect() as conn:
        stored = list(conn.execute(select(t.records).order_by(t.records.c.seq)).mappings())
    # the same code, item and date twice: two ids, so the id is no function of them
    assert stored[0]["record_id"] != stored[1]["record_id"]
    opened = {r.record_id: r for page in system.store.iter_records() for r in page}
    for m in stored:
        srid = opened[m["record_id"]].source_record_id
        assert m["source_record_id"] == ""  # the reference is sealed (decision 0075)
        # keyed: the store's id of (source, reference), not the unkeyed hash a guesser computes
        assert m["record_id"] == system.store.sealing.record_id(m["source"], srid)
        assert m["record_id"] == system.store.stored_record_id(m["source"], srid)
        assert m["record_id"] != ledger.record_id_for(m["source"], srid)
        for text in (
            f"{m['source']}\x1f{srid}",
            srid,
            f"record\x1f{ledger.record_id_for(m['source'], srid)}",
        ):
            assert hashlib.sha256(text.encode()).hexdigest()[:32] != m["record_id"]
        for guess in (P, Q):
            for text in (f"{guess}\x1ftraffic.red-light\x1f2026-05-01", guess):
                assert hashlib.sha256(text.encode()).hexdigest()[:32] != m["record_id"]
    # another installation (another pseudonym key) gives the same record another id: the id
    # cannot be recomputed without this installation's key
    elsewhere = Store(other_url)
    try:
        again = System(elsewhere, shipped_registry(), clock=system.clock)
        assert again.ingest(rows[:1], origin="t", principal=again.operator()).accepted == 1
        [theirs] = [r.record_id for page in elsewhere.iter_records() for r in page]
        assert theirs == elsewhere.sealing.record_id("traffic-police", "a-1") != stored[0]["record_id"]
    finally:
        elsewhere.close()
    # a ledger begun with keyed ids never looks up unkeyed ones (the mark counts no older record)
    with system.store.engine.connect() as conn:
        assert conn.execute(select(t.chain_heads.c.count).where(t.chain_heads.c.chain == MARK)).scalar() == 0


def _stored_as_before(store: Store, clock: Clock, raws: list[dict[str, Any]]) -> None:
    """Append rows as the release before decision 0080 did: sealed under their unkeyed ids, with
    no mark kept (what that release's ledger holds)."""
    convert = store.stored_row()
    plain = [convert(intake.seal_row(raw, registry=shipped_registry(), now=clock())) for raw in raws]
    sealed = store.sealing.seal_rows(plain, keep_ids=True)
    chunk = PendingChunk(len(raws), plain, [], list(range(1, len(raws) + 1)), raws, (list(sealed), {}))
    store.begin_batch(batch_id="before-0080", origin="t", source=None, submitted_by=None, at=clock())
    for _chunk, outcome in store.append_chunks([chunk], batch_id="before-0080", received_at=clock(),
                                               may_correct_any=True):  # fmt: skip
        assert outcome.accepted == len(raws)
    with store.engine.begin() as conn:
        conn.execute(delete(t.chain_heads).where(t.chain_heads.c.chain == MARK))


@pytest.mark.parametrize("era", ["before", "after"])
def test_a_record_is_recognised_by_the_id_it_was_stored_under(
    era: str, store_url: str, other_url: str, clock: Clock, tmp_path: Path
) -> None:
    """A duplicate, a conflict, a correction by reference and by id, an erased re-send, verify, an
    inclusion proof, the export and a backup restored: the same for a record stored before keyed
    ids (its unkeyed id kept) as for one stored since."""
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        if era == "before":
            _stored_as_before(store, clock, [_case(), _case("other case")])
            rid, other = (ledger.record_id_for("court", s) for s in (CASE, "other case"))
        else:
            assert (
                system.ingest([(1, _case()), (2, _case("other case"))], origin="t", principal=COURT).accepted
                == 2
            )
            rid, other = (store.sealing.record_id("court", s) for s in (CASE, "other case"))
            assert rid != ledger.record_id_for("court", CASE)
        assert store.stored_record_id("court", CASE) == rid
        assert {r.record_id for r in store.records_for(person(76))} == {rid, other}
        again = system.ingest([(1, _case())], origin="t", principal=COURT)
        assert (again.accepted, again.duplicate) == (0, 1)
        changed = system.ingest([(1, _case(evidence="another judgment"))], origin="t", principal=COURT)
        assert changed.quarantined == 1
        assert any(CASE in r and rid in r and "already accepted" in r for r in changed.quarantine[0].reasons)
        # a new record after: keyed, and the mark counts the records stored before
        new = system.ingest([(1, _case("a new case"))], origin="t", principal=COURT)
        assert new.accepted == 1 and store.record(store.sealing.record_id("court", "a new case")) is not None
        with store.engine.connect() as conn:
            mark = conn.execute(select(t.chain_heads.c.count).where(t.chain_heads.c.chain == MARK)).scalar()
        assert mark == (2 if era == "before" else 0)
        # corrections: by the agency's reference, and by the id the ledger holds
        by_ref = _case("withdrawal 1", action="withdraw", corrects_source_record_id=CASE)
        by_id = _case("withdrawal 2", action="withdraw", corrects=other)
        assert system.ingest([(1, by_ref), (2, by_id)], origin="t", principal=COURT).accepted == 2
        held = {r.source_record_id: r for r in store.records_for(person(76))}
        assert held["withdrawal 1"].corrects == rid and held["withdrawal 2"].corrects == other
        assert held["withdrawal 1"].record_id == store.sealing.record_id("court", "withdrawal 1")
        assert {r.source_record_id for r in ledger.effective(list(held.values()))} == {"a new case"}
        # a re-sent correction is a duplicate
        assert system.ingest([(1, by_ref)], origin="t", principal=COURT).duplicate == 1
        # another source cannot name the court's record by the unkeyed id of its reference
        nosy = Principal("k-tp", "agency", "traffic-police", "traffic police")
        probe = {**_row("probe", person(76)), "action": "withdraw",
                 "corrects": ledger.record_id_for("court", "a new case")}  # fmt: skip
        refused = system.ingest([(1, probe)], origin="t", principal=nosy)
        assert refused.quarantined == 1 and "no record" in refused.quarantine[0].reasons[0]
        # verify, an inclusion proof by id, the export
        assert all(p == [] for p in system.verify().values()), system.verify()
        proof = system.tlog.record_proof(system.operator(), rid)
        offline.verify_proof(proof.to_json(), system.tlog.signer.public)
        export_ledger(store, tmp_path / "export")
        exported = {
            r["record_id"]: r["source_record_id"]
            for r in pq.read_table(tmp_path / "export" / "records").to_pylist()
        }
        assert exported[rid] == CASE and exported[other] == "other case"
        # a backup restored: the same ids, and a re-send still a duplicate
        backup.dump(store, tmp_path / "b.jsonl.gz", clock())
        restored = Store(other_url)
        try:
            backup.restore(tmp_path / "b.jsonl.gz", restored)
            there = System(restored, shipped_registry(), clock=clock)
            assert all(p == [] for p in there.verify().values())
            assert restored.stored_record_id("court", CASE) == rid
            assert there.ingest([(1, _case())], origin="t", principal=COURT).duplicate == 1
        finally:
            restored.close()
        # erased: a re-send is told so, by either id
        vault = store.sealing.vault
        pair = (vault.pseudonym(person(76)), "2026")
        (w,) = vault.store.wrapped_keys([pair]).values()
        vault.erase([Erasure(*pair, w.key_id, dt.datetime(2026, 11, 1), "retention")])
        erased = system.ingest([(1, _case())], origin="t", principal=COURT)
        assert (erased.accepted, erased.duplicate, erased.quarantined) == (0, 0, 1)
        # the reason names the id the ledger holds it under (the unkeyed one of a record stored
        # before keyed ids: the one the agency can find), never the keyed id it would have had
        [reason] = erased.quarantine[0].reasons
        assert "erased on 2026-11-01" in reason and f"record {rid} " in reason, reason
        assert store.sealing.record_id("court", CASE) not in reason or era == "after"
        assert store.record(rid) is None
    finally:
        store.close()


def test_the_previous_releases_ledger_keeps_its_ids_and_recognises_them(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous release's database (tests/support/release.py), upgraded and sealed when opened:
    its records keep their unkeyed ids, a re-send of one is a duplicate, a correction by reference
    names it by that id, and a record sent after is keyed."""
    from socialcredit.settings import get_settings

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    old = replay_release(store_url)["records"]
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        first = old[0]
        assert first["record_id"] == ledger.record_id_for(first["source"], first["source_record_id"])
        held = {r.record_id for page in store.iter_records() for r in page}
        assert held == {r["record_id"] for r in old}
        assert store.stored_record_id(first["source"], first["source_record_id"]) == first["record_id"]
        sent = {k: first[k] for k in ("subject", "item", "source", "source_record_id", "occurred_on")}
        sent |= {"reported_at": first["reported_at"], "evidence": first["evidence"]}
        op = system.operator()
        assert system.ingest([(1, sent)], origin="t", principal=op).duplicate == 1
        fix = {**sent, "source_record_id": "fix-1", "action": "withdraw",
               "corrects_source_record_id": first["source_record_id"]}  # fmt: skip
        assert system.ingest([(1, fix)], origin="t", principal=op).accepted == 1
        [withdrawal] = [r for r in store.records_for(first["subject"]) if r.source_record_id == "fix-1"]
        assert withdrawal.corrects == first["record_id"]
        assert withdrawal.record_id == store.sealing.record_id(first["source"], "fix-1")
        assert withdrawal.record_id != ledger.record_id_for(first["source"], "fix-1")
        with store.engine.connect() as conn:
            mark = conn.execute(select(t.chain_heads.c.count).where(t.chain_heads.c.chain == MARK)).scalar()
        assert mark == len(old)
        assert all(p == [] for p in system.verify().values()), system.verify()
    finally:
        store.close()
        get_settings.cache_clear()
