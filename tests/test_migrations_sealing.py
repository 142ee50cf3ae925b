"""Upgrades that seal what an earlier release stored in the clear (issue 21), each once, as a new
epoch with a signed checkpoint naming the old chain's head, and the checkpoints signed before it
still proven against its record (split from tests/test_migrations.py, which holds the rest)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, func, select, text

from socialcredit.knowledge import Known
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System, statecodec
from socialcredit.store import migrations
from socialcredit.store import tables as t
from socialcredit.store.sql import Store
from socialcredit.subjects import SubjectRow
from tests.conftest import org as organisation
from tests.conftest import person
from tests.support.release import replay_release
from tests.support.tlog import independent_root

LOG = "http://log.example"  # the witness's URL of a log answered in process


def test_a_ledger_stored_in_the_clear_is_sealed_once_as_a_new_epoch(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: "Existing ledgers migrate once. A new chain epoch over the encrypted form begins
    with a signed checkpoint naming the old chain's head; the old plaintext rows are then
    erased." The previous release's ledger, upgraded through 0006 when opened."""
    from socialcredit import checkpoints
    from socialcredit.settings import get_settings

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    rows = replay_release(store_url)
    old = {r["chain"]: r for r in rows["chain_heads"]}["records"]
    codes = {r["subject"] for r in rows["records"]}
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            stored = [dict(m) for m in conn.execute(select(t.records)).mappings()]
            of_records = select(t.epochs).where(t.epochs.c.chain == "records")
            [epoch] = [dict(m) for m in conn.execute(of_records).mappings()]
        assert len(stored) == len(rows["records"]) and all(m["sealed"] for m in stored)
        assert not any(code in json.dumps(m, default=str) for m in stored for code in codes)
        assert all(m["evidence"] is None and m["details"] == "" for m in stored)
        signed = json.loads(epoch["checkpoint"])
        checkpoints.check_signed(signed)
        assert (signed["count"], signed["old_head"]) == (old["count"], old["head"])
        assert signed["new_head"] == store.head("records")[1] != old["head"]
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        assert all(problems == [] for problems in system.verify().values()), system.verify()
        before = {(r["record_id"], r["subject"], r["evidence"], r["details"]) for r in rows["records"]}
        after = {
            (r.record_id, r.subject, r.evidence, json.dumps(r.details, separators=(",", ":"), sort_keys=True))
            for page in store.iter_records()
            for r in page
        }
        assert after == before
    finally:
        store.close()
    again = Store(store_url)  # sealed once: a second open finds nothing to seal
    try:
        with again.engine.connect() as conn:
            # one epoch per chain re-linked: the records (0006), the audit log (0011), the cases
            # (0012), the registry (0015)
            assert conn.execute(select(func.count()).select_from(t.epochs)).scalar() == 4
    finally:
        again.close()
        get_settings.cache_clear()


def test_an_audit_log_in_the_clear_is_pseudonymised_once_as_a_new_epoch(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: "Every table that holds personal data is covered the same way: records, audit
    entries, ..." and "Existing ledgers migrate once. A new chain epoch over the encrypted form
    begins with a signed checkpoint naming the old chain's head". The previous release's audit
    log (decisions naming their subjects in the clear), upgraded through 0011 when opened
    (decision 0060): no code left in the table, ``verify`` and the log's tree agree with the new
    chain, and each entry still reads with its subject's code and is found by it."""
    from socialcredit import checkpoints
    from socialcredit.settings import get_settings

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    rows = replay_release(store_url)
    old = {r["chain"]: r for r in rows["chain_heads"]}["audit"]
    subjects = [r["subject"] for r in sorted(rows["audit"], key=lambda r: r["seq"])]
    assert subjects and all(subjects)
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            stored = [dict(m) for m in conn.execute(select(t.audit).order_by(t.audit.c.seq)).mappings()]
            of_audit = select(t.epochs).where(t.epochs.c.chain == "audit")
            [epoch] = [dict(m) for m in conn.execute(of_audit).mappings()]
        assert len(stored) == len(subjects) and all(m["sealed"] for m in stored)
        assert not any(code in json.dumps(m, default=str) for m in stored for code in subjects)
        signed = json.loads(epoch["checkpoint"])
        checkpoints.check_signed(signed)
        assert (signed["count"], signed["old_head"], signed["old_tree"]) == (
            old["count"],
            old["head"],
            "audit@1",
        )
        assert signed["new_head"] == store.head("audit")[1] != old["head"]
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        # verify checks each entry against its leaf in the log's tree (decision 0057): regrown
        assert system.verify()["audit"] == []
        assert [e["subject"] for e in reversed(store.audit_entries())] == subjects
        assert [e["subject"] for e in store.audit_entries(subject=subjects[0])] == [subjects[0]]
    finally:
        store.close()
        get_settings.cache_clear()


def test_case_events_and_quarantined_rows_stored_in_the_clear_are_sealed_once(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: "Every table that holds personal data is covered the same way: records, audit
    entries, case events, quarantined rows, the registry" (decision 0061). The previous
    release's case events, upgraded through 0012 when opened: sealed as a new epoch of the cases
    chain, whose signed checkpoint names the old head; no code or statement stays in the clear,
    the chain verifies, and the cases read as they did."""
    from socialcredit import checkpoints
    from socialcredit.settings import get_settings

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    rows = replay_release(store_url)
    old = {r["chain"]: r for r in rows["chain_heads"]}["cases"]
    codes = {r["subject"] for r in rows["case_events"]}
    statements = {json.loads(r["payload"]).get("statement") for r in rows["case_events"]} - {None}
    assert codes and statements
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            stored = [dict(m) for m in conn.execute(select(t.case_events)).mappings()]
            by_chain = select(t.epochs).where(t.epochs.c.chain == "cases")
            [epoch] = [dict(m) for m in conn.execute(by_chain).mappings()]
        assert len(stored) == len(rows["case_events"]) and all(m["sealed"] for m in stored)
        dumped = json.dumps(stored, default=str)
        assert not any(secret in dumped for secret in codes | statements)
        assert {m["klass"] for m in stored} == {"cases.2025"} and {m["payload"] for m in stored} == {""}
        signed = json.loads(epoch["checkpoint"])
        checkpoints.check_signed(signed)
        assert (signed["count"], signed["old_head"]) == (old["count"], old["head"])
        assert signed["new_head"] == store.head("cases")[1] != old["head"]
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        assert all(problems == [] for problems in system.verify().values()), system.verify()
        before = [
            (r["case_id"], r["kind"], r["subject"], json.loads(r["payload"])) for r in rows["case_events"]
        ]
        after = [(e.case_id, e.kind, e.subject, dict(e.payload)) for e in store.case_events()]
        assert after == before
        [code] = codes
        assert [e.case_id for e in store.case_events(subject=code)] == [r[0] for r in before]
        # 0012 too: the quarantined rows, sealed under the month their batch was received in, read
        # as they were sent; nothing of them stays in the clear but the fields their reasons name
        with store.engine.connect() as conn:
            kept = [dict(m) for m in conn.execute(select(t.quarantine)).mappings()]
        assert len(kept) == len(rows["quarantine"]) and all(m["klass"] for m in kept)
        assert not any(json.loads(r["raw"])["subject"] in json.dumps(kept) for r in rows["quarantine"])
        for batch_id in {r["batch_id"] for r in rows["quarantine"]}:
            sent = sorted(
                (r["row_number"], r["raw"], r["reasons"])
                for r in rows["quarantine"]
                if r["batch_id"] == batch_id
            )
            read = [
                (q["row_number"], q["raw"], q["reasons"]) for q in store.quarantine_of(batch_id, limit=10_000)
            ]
            assert read == [(n, json.loads(raw), json.loads(why)) for n, raw, why in sent]
    finally:
        store.close()
        get_settings.cache_clear()


def test_checkpoints_signed_before_the_sealing_epoch_verify_against_its_record(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22 (decision 0056): a checkpoint of the records log signed before the ledger was
    sealed is of the clear chain's tree, which the sealed chain no longer is. ``checkpoint verify``
    and a witness read the epoch record instead: the old checkpoint is consistent with the tree
    the epoch closed (kept, its root signed in the record), and the log now extends the tree the
    epoch began. A JSON checkpoint of the previous release verifies by the epoch's old head."""
    from typer.testing import CliRunner

    from socialcredit import checkpoints
    from socialcredit.cli import app
    from socialcredit.cli import tlog as witnessing
    from socialcredit.settings import get_settings
    from socialcredit.tlog import note

    home = tmp_path / "home"
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(home))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    rows = replay_release(store_url)
    clear = sorted(rows["records"], key=lambda r: r["seq"])
    # the clear chain's tree, computed here from the previous release's rows alone
    leaves, prev = [], "0" * 64
    for r in clear:
        at = dt.datetime.fromisoformat(r["received_at"]).isoformat(timespec="seconds")
        link = f"{prev}|{r['seq']}|{r['content_hash']}|{at}|{r['batch_id']}".encode()
        assert hashlib.sha256(link).hexdigest() == r["chain_hash"]
        leaves.append(hashlib.sha256(b"\x00" + link).digest())
        prev = r["chain_hash"]
    key = checkpoints.load_or_create_key(home)  # the installation's, which the open signs the epoch with
    log = note.Signer(checkpoints.DEFAULT_ORIGIN, key)
    count = len(clear)
    old = tmp_path / "old.checkpoint"
    old.write_text(
        log.sign(note.Checkpoint(f"{log.name}/records", count - 1, independent_root(leaves[:-1])).body())
    )
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(log.sign(note.Checkpoint(f"{log.name}/records", count - 1, b"\x05" * 32).body()))
    heads = {r["chain"]: r for r in rows["chain_heads"]}
    legacy = {
        "format": checkpoints.LEGACY,
        "created_at": "2025-06-30T00:00:00Z",
        "chains": {c: {"count": heads[c]["count"], "head": heads[c]["head"]} for c in ("records", "audit")},
    }
    (tmp_path / "old.json").write_text(json.dumps(checkpoints.sign(legacy, key)))
    pem = tmp_path / "log.pem"
    pem.write_text(checkpoints.public_pem(key.public_key()))
    store = Store(store_url)  # sealed now, as a new epoch
    try:
        system = System(store, shipped_registry(), signer=log)
        row = {"subject": person(5), "item": "traffic.minor", "source": "traffic-police",
               "source_record_id": "after-epoch", "occurred_on": "2025-07-01"}  # fmt: skip
        assert system.ingest([(0, row)], origin="t", principal=system.operator()).accepted == 1
        [epoch] = store.epoch_records("records")
        assert epoch["old_root"] == independent_root(leaves).hex() and epoch["count"] == count
        runner = CliRunner()
        said = runner.invoke(app, ["--lang", "en", "checkpoint", "verify", str(old), "--key", str(pem)])
        assert said.exit_code == 0, said.output
        assert f"verified against the pre-sealing epoch of {epoch['created_at'][:10]}" in said.stdout
        out = json.loads(
            runner.invoke(app, ["checkpoint", "verify", str(old), "--key", str(pem), "--json"]).stdout
        )
        assert out["ok"] and out["epoch"] == epoch["created_at"][:10] and out["size_now"] == count + 1
        no = runner.invoke(app, ["checkpoint", "verify", str(forged), "--key", str(pem)])
        assert no.exit_code == 1 and "rewritten" in no.stdout, no.output
        both = runner.invoke(
            app, ["--lang", "en", "checkpoint", "verify", str(tmp_path / "old.json"), "--key", str(pem)]
        )
        assert both.exit_code == 0, both.output
        # both chains were re-linked, the records by 0006 and the audit log by 0011 (decision 0060)
        assert "the checkpoint (records" in both.stdout and "the checkpoint (audit" in both.stdout
        assert both.stdout.count("pre-sealing epoch") == 2
        # a witness, over HTTP: the epoch record, and a proof in the tree it closed
        from fastapi.testclient import TestClient

        from socialcredit.api import create_app

        with TestClient(create_app(system)) as client:
            served = client.get("/log/records/epochs").json()["epochs"]
            read = checkpoints.read_epoch(served[0], key.public_key())
            newest = note.Checkpoint.parse(client.get("/log/records/checkpoint").text.split("\n\n")[0] + "\n")
            to_epoch = client.get(
                "/log/records/consistency", params={"from": count - 1, "to": count, "epoch": 1}
            ).json()["hashes"]
            from_epoch = client.get(
                "/log/records/consistency", params={"from": count, "to": newest.size}
            ).json()["hashes"]
            # the witness command, its requests answered by the app in process: it saw the old
            # checkpoint, and cosigns the newest across the epoch; a forged past is refused
            monkeypatch.setattr(witnessing, "_get", lambda url: client.get(url.removeprefix(LOG)).content)
            runs = {}
            for saw in (old, forged):
                state = tmp_path / f"witness-{saw.stem}"
                state.mkdir()
                (state / f"{log.name}_records.checkpoint").write_text(saw.read_text())
                args = ["witness", f"{LOG}/log/records", "--state", str(state), "--key", str(pem), "--json"]
                runs[saw.stem] = runner.invoke(app, args)
        checkpoints.across_epoch(
            note.Checkpoint(f"{log.name}/records", count - 1, independent_root(leaves[:-1])),
            read,
            [bytes.fromhex(x) for x in to_epoch],
            newest,
            [bytes.fromhex(x) for x in from_epoch],
        )
        assert runs["old"].exit_code == 0, runs["old"].output
        cosigned = json.loads(runs["old"].stdout)
        assert cosigned["epoch"] == epoch["created_at"][:10] and cosigned["previous_size"] == count - 1
        assert cosigned["size"] == newest.size
        assert runs["forged"].exit_code == 1 and "not cosigned" in runs["forged"].stderr
    finally:
        store.close()
        get_settings.cache_clear()


def test_a_checkpoint_before_an_epoch_record_of_an_earlier_release_is_said_unprovable(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22 (decision 0066): an epoch record made before decision 0056 names no root of the
    clear chain's tree, and that tree was not kept; sealing overwrote the clear content hashes its
    leaves cover. A checkpoint signed before such an epoch can then be neither proved nor
    disproved: ``checkpoint verify`` says exactly that (exit 3, not "rewritten", exit 1), and a
    witness that saw it cosigns nothing, saying why. A checkpoint after the epoch is checked as
    ever. The earlier release's record is the record made now without the fields 0056 added,
    signed again, and its kept tree dropped."""
    from typer.testing import CliRunner

    from socialcredit import checkpoints
    from socialcredit.cli import app
    from socialcredit.cli import tlog as witnessing
    from socialcredit.settings import get_settings
    from socialcredit.tlog import note

    home = tmp_path / "home"
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(home))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    count = len(replay_release(store_url)["records"])
    key = checkpoints.load_or_create_key(home)
    log = note.Signer(checkpoints.DEFAULT_ORIGIN, key)
    pem = tmp_path / "log.pem"
    pem.write_text(checkpoints.public_pem(key.public_key()))
    old = tmp_path / "old.checkpoint"  # of the clear chain (its root cannot matter: nothing to check it by)
    old.write_text(log.sign(note.Checkpoint(f"{log.name}/records", count - 1, b"\x07" * 32).body()))
    store = Store(store_url)  # sealed now, as a new epoch
    try:
        system = System(store, shipped_registry(), signer=log)
        with store.engine.begin() as conn:
            of_records = t.epochs.c.chain == "records"  # the audit log and the cases have theirs too
            made = json.loads(conn.execute(select(t.epochs.c.checkpoint).where(of_records)).scalar_one())
            added = ("old_tree", "old_root", "new_root", "public_key", "key_fingerprint", "signature")
            earlier = checkpoints.sign({k: v for k, v in made.items() if k not in added}, key)
            conn.execute(t.epochs.update().where(of_records).values(checkpoint=json.dumps(earlier)))
            conn.execute(t.tlog_tiles.delete().where(t.tlog_tiles.c.chain == "records@1"))
        after = tmp_path / "after.checkpoint"
        after.write_text(system.checkpoint("records").note)
        runner = CliRunner()
        said = runner.invoke(app, ["--lang", "en", "checkpoint", "verify", str(old), "--key", str(pem)])
        assert said.exit_code == 3, said.output
        assert "cannot be checked" in said.stdout and "rewritten" not in said.stdout
        assert f"pre-sealing epoch of {made['created_at'][:10]}" in said.stdout
        out = json.loads(
            runner.invoke(app, ["checkpoint", "verify", str(old), "--key", str(pem), "--json"]).stdout
        )
        assert out["ok"] is False and out["problems"] == [] and out["unbridged"] == made["created_at"][:10]
        fine = runner.invoke(app, ["checkpoint", "verify", str(after), "--key", str(pem)])
        assert fine.exit_code == 0, fine.output
        from fastapi.testclient import TestClient

        from socialcredit.api import create_app

        with TestClient(create_app(system)) as client:
            monkeypatch.setattr(witnessing, "_get", lambda url: client.get(url.removeprefix(LOG)).content)
            state = tmp_path / "witness"
            state.mkdir()
            (state / f"{log.name}_records.checkpoint").write_text(old.read_text())
            args = ["--lang", "en", "witness", f"{LOG}/log/records", "--state", str(state), "--key", str(pem)]
            run = runner.invoke(app, args)
        assert run.exit_code == 1 and "precedes the log's pre-sealing epoch" in run.stderr, run.output
        assert (state / f"{log.name}_records.checkpoint").read_text() == old.read_text()  # nothing cosigned
    finally:
        store.close()
        get_settings.cache_clear()


def test_a_decision_state_of_revision_0012_is_named_by_pseudonyms_after_0013(store_url: str) -> None:
    """Issue 21: "Every table that holds personal data is covered the same way: records, audit
    entries, case events, quarantined rows, the registry" (decision 0068). A database of 0012
    kept each subject's decision state under its code; upgraded through 0013, no row is named by a
    code and no person's code is left in ``decision_state``, and the sweep builds everyone's state
    again, named by pseudonym, each equal to the decisions computed from the ledger."""
    now = dt.datetime(2026, 11, 2, 10)
    rep, org, debtor = person(13), organisation(13), person(14)
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=lambda: now)
        org_row = SubjectRow(org, "organisation", "Upgrade Ltd", None, None, rep, dt.date(2020, 1, 1))
        system.register([org_row])
        row = {"item": "court.dishonest.able-but-refuses", "source": "court", "occurred_on": "2026-10-20"}
        sent = [{**row, "subject": debtor, "source_record_id": "up-1", "reported_at": "2026-10-20T10:00:00"}]
        assert system.ingest(list(enumerate(sent)), origin="t", principal=system.operator()).accepted == 1
    finally:
        store.close()
    engine = create_engine(store_url)
    with engine.begin() as conn:  # 0012's table, as the previous release kept it: by code
        conn.execute(text("DROP TABLE decision_state"))
        conn.execute(
            text(
                "CREATE TABLE decision_state (code VARCHAR(18) PRIMARY KEY, epoch BIGINT NOT NULL, "
                "basis VARCHAR(64), as_of TIMESTAMP, valid_until TIMESTAMP, payload TEXT)"
            )
        )
        conn.execute(text("CREATE INDEX ix_decision_state_valid_until ON decision_state (valid_until)"))
        for code in (rep, org, debtor):
            conn.execute(text("INSERT INTO decision_state (code, epoch) VALUES (:c, 1)"), {"c": code})
        conn.execute(text("DROP INDEX ix_audit_person_at"))  # and 0017's
        conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    engine.dispose()
    store = Store(store_url)  # opening it upgrades it
    try:
        system = System(store, shipped_registry(), clock=lambda: now)
        assert system.build_decision_state() == 3  # the organisation, its representative, the debtor
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
            rows = [dict(m) for m in conn.execute(select(t.decision_state)).mappings()]
        # each payload as it reads (compressed in the row, decision 0089)
        stored = json.dumps([{**m, "payload": statecodec.opened(m["payload"])} for m in rows], default=str)
        # no person's code; the organisation's only in the state of its representative, which names
        # the organisation it answers for (decision 0068: the registry is still in the clear)
        assert not any(code in stored for code in (rep, debtor))
        assert all(store.sealing.pseudonym(code) in stored for code in (rep, org, debtor))
        with store.engine.connect() as conn:
            named = conn.execute(select(t.decision_state.c.subject, t.decision_state.c.payload)).all()
        opened = [(s, statecodec.opened(payload) if payload else "") for s, payload in named]
        assert [s for s, payload in opened if org in s + payload] == [store.sealing.pseudonym(rep)]
        measures = system.registry.measures()
        for code in (rep, org, debtor):
            state = store.decision_state(code)
            assert (
                state is not None
                and state.payload is not None
                and state.answers(system.decisions.basis(), now)
            )
            kept = statecodec.decode(state.payload, code, now)[0]
            assert kept == {
                m: system.decisions.recompute(code, m, now, Known(), system.registry) for m in measures
            }
        assert not system.check(
            Question(debtor, "no-flights", system.operator(), purpose="after 0013")
        ).allowed
    finally:
        store.close()


def test_subject_numbers_of_revision_0015_are_keyed_by_pseudonym_after_0016(
    store_url: str, tmp_path: Path
) -> None:
    """Issue 21: "Every table that holds personal data is covered the same way" (decision 0075).
    A database of 0015 numbered the export's subjects by code; upgraded through 0016 the table
    holds no code, the export made before the upgrade is rewritten whole, not appended to (its
    files' numbers are no longer the database's), and the subjects it writes are the same."""
    from socialcredit.engines.export import export_ledger

    now = dt.datetime(2026, 11, 2, 10)
    rep, org, debtor = person(21), organisation(21), person(22)
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=lambda: now)
        system.register(
            [SubjectRow(org, "organisation", "Numbered Ltd", None, None, rep, dt.date(2020, 1, 1))]
        )
        row = {"item": "court.dishonest.able-but-refuses", "source": "court", "occurred_on": "2026-10-20"}
        sent = [{**row, "subject": debtor, "source_record_id": "no-1", "reported_at": "2026-10-20T10:00:00"}]
        assert system.ingest(list(enumerate(sent)), origin="t", principal=system.operator()).accepted == 1
        before = export_ledger(store, tmp_path / "export")
        subjects = pq.read_table(tmp_path / "export" / "subjects.parquet").to_pylist()
    finally:
        store.close()
    engine = create_engine(store_url)
    with engine.begin() as conn:  # 0015's table, as the previous release kept it: by code
        conn.execute(text("DROP TABLE subject_numbers"))
        conn.execute(
            text(
                "CREATE TABLE subject_numbers (subject_no BIGINT PRIMARY KEY, "
                "code VARCHAR(18) NOT NULL UNIQUE, kind VARCHAR(12) NOT NULL)"
            )
        )
        for s in subjects:
            values = {"n": s["subject_no"], "c": s["code"], "k": s["kind"]}
            conn.execute(text("INSERT INTO subject_numbers VALUES (:n, :c, :k)"), values)
        conn.execute(text("DROP INDEX ix_audit_person_at"))  # and 0017's
        conn.execute(text("UPDATE alembic_version SET version_num = '0015'"))
    engine.dispose()
    store = Store(store_url)  # opening it upgrades it
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
            assert conn.execute(select(func.count()).select_from(t.subject_numbers)).scalar_one() == 0
        again = export_ledger(store, tmp_path / "export")
        assert (again.generation, again.records, again.subjects) == (1, before.records, before.subjects)
        rewritten = pq.read_table(tmp_path / "export" / "subjects.parquet").to_pylist()
        assert sorted((s["code"], s["kind"]) for s in rewritten) == sorted(
            (s["code"], s["kind"]) for s in subjects
        )
        with store.engine.connect() as conn:
            stored = json.dumps([dict(m) for m in conn.execute(select(t.subject_numbers)).mappings()])
        assert not any(code in stored for code in (rep, org, debtor))
        assert {org, debtor} <= {s["code"] for s in subjects}
        assert all(store.sealing.pseudonym(s["code"]) in stored for s in subjects)
    finally:
        store.close()


def test_the_registry_stored_in_the_clear_is_sealed_once_and_reads_the_same(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: "Every table that holds personal data is covered the same way: records, audit
    entries, case events, quarantined rows, the registry" and "No hash kept in the clear may be
    computed from guessable personal data without a key" (decision 0074). The previous release's
    subjects, backfilled into the registry's chain by 0002 and sealed after 0015 as a new epoch:
    no code or name is left in a raw row of the registry, subjects or terms, the chain verifies,
    and every registration, representative and term reads as it did."""
    from socialcredit import checkpoints
    from socialcredit.settings import get_settings

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    rows = replay_release(store_url)
    old = rows["subjects"]
    secrets = {r["code"] for r in old} | {r["name"] for r in old if r["name"]}
    secrets |= {r["legal_representative"] for r in old if r["legal_representative"]}
    assert any(r["legal_representative"] for r in old)
    store = Store(store_url)
    try:
        with store.engine.connect() as conn:
            raw = {
                x.name: [dict(m) for m in conn.execute(select(x)).mappings()]
                for x in (t.registry, t.subjects, t.tenures)
            }
            [epoch] = [
                dict(m)
                for m in conn.execute(select(t.epochs).where(t.epochs.c.chain == "registry")).mappings()
            ]
        assert len(raw["registry"]) == len(old) and all(
            m["sealed"] and m["own_hash"] for m in raw["registry"]
        )
        dumped = json.dumps(raw, default=str)
        assert not [s for s in secrets if s in dumped]
        signed = json.loads(epoch["checkpoint"])
        checkpoints.check_signed(signed)
        assert signed["count"] == len(old) and signed["new_head"] == store.head("registry")[1]
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        assert all(problems == [] for problems in system.verify().values()), system.verify()

        def row(r: dict[str, object]) -> SubjectRow:
            since = r["representative_since"]
            return SubjectRow(
                str(r["code"]), str(r["kind"]), r["name"], r["sex"], r["district"],  # type: ignore[arg-type]
                r["legal_representative"],  # type: ignore[arg-type]
                dt.date.fromisoformat(str(since)) if since else None,
            )  # fmt: skip

        assert store.subject_rows() == sorted((row(r) for r in old), key=lambda s: s.code)
        reps = {str(r["code"]): str(r["legal_representative"]) for r in old if r["legal_representative"]}
        assert store.representatives() == reps
        for org_code, rep in reps.items():
            assert org_code in store.represented_by(rep)
            assert [
                (x.organisation, x.valid_to) for x in store.terms(person=rep) if x.organisation == org_code
            ] == [(org_code, None)]
        first = old[0]
        assert store.subject(str(first["code"])) == row(first)
        with store.engine.connect() as conn:
            at = conn.execute(
                select(t.subjects.c.registered_at).where(
                    t.subjects.c.subject == store.sealing.pseudonym(str(first["code"]))
                )
            ).scalar()
        assert at == dt.datetime.fromisoformat(str(first["registered_at"]))
    finally:
        store.close()
        get_settings.cache_clear()
