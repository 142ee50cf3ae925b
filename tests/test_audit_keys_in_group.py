"""A group's new audit keys are stored in the group's own synced transaction (decision 0100).

A decision about a subject asked about for the first time makes the subject's audit key. On
SQLite, with the key table in the same database (the default), the durable appender reads the
key table on its own connection and stores the keys it made with the entries they seal, in one
commit; a key is never used by another thread before it is stored, and a subject another writer
keyed first is sealed again under that writer's key. Where the key table is elsewhere, or on
PostgreSQL, the vault stores its keys as before. Every entry opens and the chain verifies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from socialcredit.shredding import AUDIT_CLASS, Vault, new_master_text
from socialcredit.shredding import MasterKey as Master
from socialcredit.store import Store
from socialcredit.store.auditsqlite import DurableSqliteAudit, Made
from socialcredit.store.datakeys import SqlKeyStore, data_keys
from tests.conftest import person


def decision(code: str, purpose: str = "boarding") -> dict[str, Any]:
    at = dt.datetime(2026, 11, 2, 10, 0, 0)
    return {
        "at": at,
        "key_id": "k-air",
        "role": "relying",
        "principal": "airline",
        "action": "decision",
        "subject": code,
        "measure": "no-flights",
        "purpose": purpose,
        "answer": "allow",
        "detail": {"reasons": ["none"], "receipt": {"decision_id": "dec-00000000000000ab"}},
    }


def stored_keys(store: Store, code: str) -> list[tuple[str, str]]:
    p = store.sealing.pseudonym(code)
    keys = store.sealing.vault.store
    assert isinstance(keys, SqlKeyStore)
    with keys.engine.connect() as conn:
        q = select(data_keys.c.pseudonym, data_keys.c.klass).where(data_keys.c.pseudonym == p)
        return [(str(a), str(b)) for a, b in conn.execute(q)]


def subjects_read(store: Store) -> list[str]:
    return sorted(str(e["subject"]) for e in store.audit_entries(limit=1000))


def test_new_subjects_keys_are_stored_with_their_entries_and_every_entry_opens(store: Store) -> None:
    """Both backends: one durable group about new subjects, twice about one of them."""
    codes = [person(n) for n in range(300, 306)]
    store.append_audit([decision(c) for c in [*codes, codes[0]]], durable=True)
    assert subjects_read(store) == sorted([*codes, codes[0]])
    for c in codes:
        assert stored_keys(store, c) == [(store.sealing.pseudonym(c), AUDIT_CLASS)]
    assert store.verify_audit() == []
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(data_keys)).scalar_one() >= len(codes)


def appender(store: Store) -> DurableSqliteAudit:
    found = store.dialect.durable_audit(store)
    assert isinstance(found, DurableSqliteAudit)
    return found


def test_a_key_made_for_a_group_is_neither_stored_nor_shared_before_its_commit(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        code = person(310)
        pair = (store.sealing.pseudonym(code), AUDIT_CLASS)
        durable = appender(store)
        assert durable.keys is not None  # the key table is in this database
        rows, made = durable.sealed([decision(code)])
        assert [(w.pseudonym, w.klass) for w, _ in made] == [pair]
        assert stored_keys(store, code) == [] and store.sealing.vault.cached(pair) == {}
        assert durable.write(rows, made)
        assert stored_keys(store, code) == [pair] and store.sealing.vault.cached(pair) != {}
        assert subjects_read(store) == [code] and store.verify_audit() == []
    finally:
        store.close()


def test_a_subject_another_writer_keyed_first_is_sealed_again_under_that_key(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        code = person(311)
        durable = appender(store)
        rows, made = durable.sealed([decision(code, "first")])
        # meanwhile another writer (the vault's own path) stores a key for the same subject
        store.append_audit([decision(code, "other writer")])
        theirs = stored_keys(store, code)
        assert not durable.write(rows, made)  # nothing written: sealed under a key not stored
        assert [e["purpose"] for e in store.audit_entries()] == ["other writer"]
        store.append_audit([decision(code, "again")], durable=True)
        assert durable.resealed == 0  # the key is now cached: nothing to make
        durable.append([decision(code, "mine")])
        assert stored_keys(store, code) == theirs
        assert [e["purpose"] for e in store.audit_entries()] == ["mine", "again", "other writer"]
        assert subjects_read(store) == [code] * 3 and store.verify_audit() == []
    finally:
        store.close()


class Interleaved(DurableSqliteAudit):
    """The real appender, with another process's append between its sealing and its write (the
    moment two processes race to key one subject)."""

    def __init__(self, store: Store, path: Path, other: Store) -> None:
        super().__init__(store, str(path))
        self.other = other

    def sealed(self, entries: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[Made]]:
        out = super().sealed(entries)
        self.other.append_audit([decision(entries[0]["subject"], "other process")], durable=True)
        return out


def test_a_conflicting_group_is_resealed_by_append(tmp_path: Path) -> None:
    """``append`` itself: a key stored by another process after this one's read is found at the
    write, and the group goes again under the stored key, once."""
    path = tmp_path / "c.db"
    store = Store(f"sqlite:///{path}")
    other = Store(f"sqlite:///{path}")  # another process's store of the same database
    durable = Interleaved(store, path, other)
    try:
        code = person(312)
        durable.append([decision(code, "mine")])
        assert durable.resealed == 1
        assert [e["purpose"] for e in store.audit_entries()] == ["mine", "other process"]
        assert len(stored_keys(store, code)) == 1
        assert subjects_read(store) == [code, code] and store.verify_audit() == []
    finally:
        durable.close()
        other.close()
        store.close()


def test_a_key_table_elsewhere_keeps_the_vaults_own_path(tmp_path: Path) -> None:
    keys = SqlKeyStore(f"sqlite:///{tmp_path / 'keys.db'}")
    vault = Vault(keys, Master.from_text(new_master_text()))
    store = Store(f"sqlite:///{tmp_path / 'd.db'}", vault=vault)
    try:
        durable = appender(store)
        assert durable.keys is None
        code = person(313)
        rows, made = durable.sealed([decision(code)])
        assert made == []  # the vault stored the key itself
        assert durable.write(rows, made)
        assert subjects_read(store) == [code] and store.verify_audit() == []
        pair = (store.sealing.pseudonym(code), AUDIT_CLASS)
        assert list(keys.wrapped_keys([pair])) == [pair]  # in the key table of its own
    finally:
        store.close()
