"""Upgrades, not rebuilds: every database this project ever made opens, upgraded in place.

Against Alembic's own comparison (``compare_metadata``), not ours: replaying every revision from
nothing gives exactly the schema ``tables.py`` declares. And against a database made by the
previous release (``tests/data/release-78452da``, written by ``scripts/release_fixture.py`` on
that release's checkout): replayed into SQLite and PostgreSQL, it upgrades when opened, keeps
every row and every chain intact, and answers as before.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text

from socialcredit.knowledge import Known
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System, statecodec
from socialcredit.store import caseepochs, migrations
from socialcredit.store import tables as t
from socialcredit.store.base import ERASURES_MARKER
from socialcredit.store.sql import LOGS, Store
from socialcredit.subjects import SubjectRow
from socialcredit.tlog import merkle
from tests.conftest import org as organisation
from tests.conftest import person
from tests.support.release import RELEASE, replay_release


def test_head_constant_is_the_newest_revision_and_history_is_one_line() -> None:
    script = ScriptDirectory.from_config(migrations.config())
    assert script.get_heads() == [migrations.HEAD]  # one head: no unmerged branches
    assert migrations.revisions()[0] == migrations.BASELINE


@pytest.mark.slow
def test_replaying_every_revision_gives_the_declared_schema(store_url: str) -> None:
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), t.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.slow
def test_a_database_of_the_previous_release_upgrades_in_place(store_url: str) -> None:
    rows = replay_release(store_url)
    with create_engine(store_url).connect() as conn:
        assert migrations.current(conn) == migrations.BASELINE  # no alembic_version: inferred
        assert "alembic_version" not in inspect(conn).get_table_names()
    store = Store(store_url)  # opening it upgrades it
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == migrations.HEAD
            for name, table_rows in rows.items():
                table = t.metadata.tables[name]
                count = select(func.count()).select_from(table)
                if name == "chain_heads":  # opening adds the marks of decision 0094, no chains
                    count = count.where(table.c.chain.not_in([ERASURES_MARKER, caseepochs.MOVED]))
                assert conn.execute(count).scalar() == len(table_rows), name
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        assert all(problems == [] for problems in system.verify().values()), system.verify()
        # 0002: the registry's history begins with one entry per registered subject, and each
        # organisation's representative holds a term from representative_since
        assert store.head("registry")[0] == len(rows["subjects"])
        orgs = [s for s in rows["subjects"] if s["legal_representative"]]
        assert {(x.organisation, x.person) for x in store.terms()} == {
            (s["code"], s["legal_representative"]) for s in orgs
        }
        # 0007: every chain's transparency log holds every entry already stored, leaf by leaf
        for chain in LOGS:
            leaves = [merkle.leaf_hash(x) for x in store.leaves(chain)]
            assert len(leaves) == store.tree_size(chain) > 0, chain
            assert store.tree_root(chain, len(leaves)) == merkle.root(
                merkle.MemorySource(leaves), len(leaves)
            )
        # it still answers: the same airline key, the same subject, audited on the same chain
        audit_before = len(rows["audit"])
        [key] = rows["api_keys"]
        subject = rows["audit"][0]["subject"]
        principal = system.operator()
        decision = system.check(Question(subject, "no-flights", principal, purpose="after the upgrade"))
        assert decision.subject == subject
        assert store.head("audit")[0] == audit_before + 1
        assert key["role"] == "relying_party"
    finally:
        store.close()
    again = Store(store_url)  # a second open finds it current and changes nothing
    with again.engine.connect() as conn:
        assert migrations.current(conn) == migrations.HEAD
    again.close()


def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    with pytest.raises(migrations.SchemaTooNew, match="revision ffff, made by a newer release"):
        Store(url)


def test_a_new_database_is_stamped_current_and_reset_keeps_it_so(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    with store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.HEAD
    store.reset()
    with store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.HEAD
        # the four chains and the erasures' mark (decision 0094); the old requests' move mark is
        # written when a store is opened, not by a reset
        names = {c for (c,) in conn.execute(select(t.chain_heads.c.chain))}
        assert names == {"records", "audit", "cases", "registry", "erasures"}
    store.close()


def test_db_status_and_upgrade_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from socialcredit.cli import app
    from socialcredit.settings import get_settings

    url = f"sqlite:///{tmp_path / 'old.db'}"
    replay_release(url)
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        before = runner.invoke(app, ["db", "status"])
        assert before.exit_code == 1, before.output
        assert "run `socialcredit db upgrade`" in before.output
        up = runner.invoke(app, ["db", "upgrade"])
        assert up.exit_code == 0, up.output
        after = runner.invoke(app, ["db", "status", "--json"])
        assert after.exit_code == 0, after.output
        assert json.loads(after.output) == {
            "database": migrations.HEAD,
            "release": migrations.HEAD,
            "current": True,
        }
    finally:
        get_settings.cache_clear()


def release_backup(path: Path) -> None:
    """A backup as release 78452da wrote one (``socialcredit-backup/1`` without a schema
    revision) of the release fixture's database: header, a line per row, a checksummed trailer."""

    with gzip.open(RELEASE / "rows.json.gz", "rt") as f:
        rows: dict[str, list[dict[str, Any]]] = json.load(f)
    heads = {r["chain"]: {"count": r["count"], "head": r["head"]} for r in rows["chain_heads"]}
    header = {
        "format": "socialcredit-backup/1",
        "created_at": "2025-07-01T04:00:00Z",
        "tables": {name: len(table_rows) for name, table_rows in rows.items()},
        "chains": heads,
    }
    digest = hashlib.sha256()
    with gzip.open(path, "wb") as fh:
        lines = [header, *({"t": name, "r": r} for name, table_rows in rows.items() for r in table_rows)]
        for obj in lines:
            line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            digest.update(line)
            fh.write(line)
        total = len(lines) - 1
        fh.write(json.dumps({"end": True, "rows": total, "sha256": digest.hexdigest()}).encode() + b"\n")


@pytest.mark.slow
def test_a_backup_of_the_previous_release_restores_upgraded(store_url: str, tmp_path: Path) -> None:
    from socialcredit import backup

    old = tmp_path / "release.jsonl.gz"
    release_backup(old)
    target = Store(store_url)
    try:
        summary = backup.restore(old, target)
        assert summary.schema == migrations.HEAD
        system = System(target, shipped_registry(), clock=lambda: dt.datetime(2025, 7, 2))
        assert all(problems == [] for problems in system.verify().values()), system.verify()
        with gzip.open(RELEASE / "rows.json.gz", "rt") as f:
            rows = json.load(f)
        assert target.head("registry")[0] == len(rows["subjects"])
        assert target.head("records")[0] == len(rows["records"])
        # and a backup of it now names its revision, and restores as it is
        again = tmp_path / "now.jsonl.gz"
        assert backup.dump(target, again, dt.datetime(2025, 7, 2)).schema == migrations.HEAD
    finally:
        target.close()


def test_a_backup_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    from socialcredit import backup

    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    path = tmp_path / "b.jsonl.gz"
    backup.dump(store, path, dt.datetime(2025, 7, 2))
    store.close()
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    header = json.loads(lines[0])
    header["schema"] = "ffff"
    body = [json.dumps(header, ensure_ascii=False, separators=(",", ":")), *lines[1:-1]]

    digest = hashlib.sha256("".join(line + "\n" for line in body).encode()).hexdigest()
    trailer = {"end": True, "rows": len(body) - 1, "sha256": digest}
    with gzip.open(path, "wt") as fh:
        fh.write("".join(line + "\n" for line in body) + json.dumps(trailer) + "\n")
    with pytest.raises(backup.BackupError, match="schema revision ffff, made by a newer release"):
        backup.check_file(path)


def test_no_revision_downgrades_a_database(tmp_path: Path) -> None:
    """A ledger is evidence: an older schema comes back by restoring a backup, never by dropping
    what a later release wrote; every revision refuses to go down, naming the way back."""
    url = f"sqlite:///{tmp_path / 'now.db'}"
    Store(url).close()
    engine = create_engine(url)
    try:
        with engine.begin() as conn, pytest.raises(migrations.NoDowngrade, match="restore a backup"):
            command.downgrade(migrations.config(conn), migrations.BASELINE)
        with engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
    finally:
        engine.dispose()


@pytest.mark.slow
def test_decision_ids_are_indexed_and_backfilled_from_the_receipts(store_url: str) -> None:
    """0005: a database of the previous release (revision 0004: decisions with receipts in their
    audit details, no ``decision_id`` column) upgrades in place, the column filled from each
    receipt, and a decision is then found by its id through the index, its chain untouched."""
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2026, 11, 2, 10))
        op = system.operator()
        subject = "371082199001011714"
        measures = ("no-flights", "no-high-speed-rail")
        made = [system.check(Question(subject, m, op, purpose="before 0005")) for m in measures]
        ids = [d.receipt.decision_id for d in made if d.receipt is not None]
        assert len(ids) == 2
        heads = {chain: store.head(chain) for chain in ("audit", "records")}
    finally:
        store.close()
    # back to what revision 0004 made: no column, no index, stamped 0004
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE public_snapshots"))  # revision 0009's, after 0005
        conn.execute(text("DROP TABLE tlog_cosignatures"))  # 0012's
        for table, column in (("case_events", "klass"), ("case_events", "sealed"), ("quarantine", "klass")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))  # and 0012's
        conn.execute(text("DROP INDEX ix_audit_decision_id"))
        conn.execute(text("ALTER TABLE audit DROP COLUMN decision_id"))
        conn.execute(text("DROP TABLE tlog_tiles"))  # and what the later revisions added (0007)
        conn.execute(text("DROP TABLE decision_state"))  # 0008's, made after 0004
        conn.execute(text("DROP TABLE epochs"))  # and what 0006 added
        conn.execute(text("ALTER TABLE records DROP COLUMN klass"))
        conn.execute(text("ALTER TABLE records DROP COLUMN sealed"))
        conn.execute(text("DROP INDEX ix_audit_person_at"))  # and 0017's
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    engine.dispose()
    store = Store(store_url)  # opening it upgrades it
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
            assert "ix_audit_decision_id" in {ix["name"] for ix in inspect(conn).get_indexes("audit")}
            filled = conn.execute(
                select(t.audit.c.decision_id).where(t.audit.c.action == "decision").order_by(t.audit.c.seq)
            )
            assert [row[0] for row in filled] == ids
            others = select(func.count()).where(
                t.audit.c.action != "decision", t.audit.c.decision_id.is_not(None)
            )
            assert conn.execute(others).scalar() == 0
        assert {chain: store.head(chain) for chain in heads} == heads
        for ident, decision in zip(ids, made, strict=True):
            entry = store.decision_entry(ident)
            assert entry is not None and entry["measure"] == decision.measure
            assert entry["detail"]["receipt"]["decision_id"] == ident
        assert store.decision_entry("dec-0000000000000000") is None
        system = System(store, shipped_registry(), clock=lambda: dt.datetime(2026, 11, 2, 11))
        assert system.verify()["audit"] == []
        later = system.check(
            Question("371082199001011714", "no-flights", system.operator(), purpose="after 0005")
        )
        assert later.receipt is not None and store.decision_entry(later.receipt.decision_id) is not None
    finally:
        store.close()


def test_a_database_of_revision_0007_gets_its_decision_state_built(store_url: str) -> None:
    """0008: a database of revision 0007 (records, a registered organisation and its legal
    representative, no ``decision_state``) upgrades in place to an empty state table; questions
    are answered from the ledger meanwhile, and the build makes everyone's state, each equal to
    the decisions computed from the ledger."""
    now = dt.datetime(2026, 11, 2, 10)
    rep, org, debtor = person(11), organisation(11), person(12)
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=lambda: now)
        org_row = SubjectRow(org, "organisation", "Upgrade Ltd", None, None, rep, dt.date(2020, 1, 1))
        system.register([org_row])
        rows = [
            {
                "subject": code,
                "item": "court.dishonest.able-but-refuses",
                "source": "court",
                "source_record_id": f"upgrade-{n}",
                "occurred_on": "2026-10-20",
                "reported_at": "2026-10-20T10:00:00",
            }
            for n, code in enumerate((org, debtor))
        ]
        assert system.ingest(list(enumerate(rows)), origin="t", principal=system.operator()).accepted == 2
    finally:
        store.close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE decision_state"))
        conn.execute(text("DROP TABLE public_snapshots"))  # and what 0009 adds after it
        conn.execute(text("DROP TABLE tlog_cosignatures"))  # and 0012
        for table, column in (("case_events", "klass"), ("case_events", "sealed"), ("quarantine", "klass")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))  # and 0012's
        conn.execute(text("DROP INDEX ix_audit_person_at"))  # and 0017's
        conn.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    engine.dispose()
    store = Store(store_url)  # opening it upgrades it
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
            assert conn.execute(select(func.count()).select_from(t.decision_state)).scalar() == 0
        system = System(store, shipped_registry(), clock=lambda: now)
        assert not system.check(Question(rep, "no-flights", system.operator(), purpose="after 0008")).allowed
        assert store.decision_state(rep) is None  # computed from the ledger; the sweep writes states
        assert system.build_decision_state() == 3  # the organisation, its representative, the debtor
        measures = system.registry.measures()
        for code in (rep, org, debtor):
            row = store.decision_state(code)
            assert row is not None and row.payload is not None and row.answers(system.decisions.basis(), now)
            kept = statecodec.decode(row.payload, code, now)[0]
            assert kept == {
                m: system.decisions.recompute(code, m, now, Known(), system.registry) for m in measures
            }
    finally:
        store.close()
