"""Crypto-shredding's keys (issue 21 point 1): data keys per (subject, retention class), wrapped by
a master key kept outside the database, a keyed pseudonym, master-key rotation that re-wraps the
data keys only, and destruction logged with the keys. Runs on SQLite and PostgreSQL.

Issue 21: "Keys live apart from the ledger: a key table on SQLite and PostgreSQL, and an interface
an external KMS could implement. Envelope encryption lets the master key rotate without
re-encrypting every record."
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from socialcredit.errors import Refused
from socialcredit.shredding import Erasure, MasterKey, Vault, master_key, new_master_text, seal, unseal
from socialcredit.store.datakeys import SqlKeyStore, data_keys
from tests.conftest import NOW, person

P, Q = person(71), person(72)


@pytest.fixture
def keys(store_url: str) -> Iterator[SqlKeyStore]:
    s = SqlKeyStore(store_url)
    yield s
    s.close()


def test_a_key_per_subject_and_class_made_once_and_kept_wrapped(keys: SqlKeyStore) -> None:
    master = MasterKey.from_text(new_master_text())
    vault = Vault(keys, master)
    p, q = vault.pseudonym(P), vault.pseudonym(Q)
    got = vault.keys([(p, "2024"), (q, "2024"), (p, "2025")], create=True)
    assert len(got) == 3
    blob = seal(got[(p, "2024")], b"secret details", b"rid")
    # another process (a fresh vault over the same table) finds the same keys and pseudonyms
    other = Vault(SqlKeyStore(engine=keys.engine), master)
    assert other.pseudonym(P) == p and p != q and len(p) == 32
    assert unseal(other.keys([(p, "2024")])[(p, "2024")], blob, b"rid") == b"secret details"
    # a ciphertext moved to another record (other associated data) does not open
    with pytest.raises(Refused):
        unseal(other.keys([(p, "2024")])[(p, "2024")], blob, b"another")
    # at rest, the key table holds no key in the clear and no code: only pseudonyms
    with keys.engine.connect() as conn:
        rows = list(conn.execute(select(data_keys)).mappings())
    assert {r["pseudonym"] for r in rows} == {"", p, q}
    assert all(P not in r["pseudonym"] for r in rows)
    assert hashlib.sha256(P.encode()).hexdigest()[:32] != p  # keyed, not a plain hash of the code


def test_rotation_rewraps_keys_and_records_stay_readable(keys: SqlKeyStore, tmp_path: Path) -> None:
    old = master_key(None, tmp_path / "master.key")
    assert (tmp_path / "master.key").stat().st_mode & 0o077 == 0  # owner-only key file
    assert master_key(None, tmp_path / "master.key") == old  # made once, then read
    vault = Vault(keys, old)
    pair = (vault.pseudonym(P), "2024")
    blob = seal(vault.keys([pair], create=True)[pair], b"evidence", b"x")
    new = MasterKey.from_text(new_master_text())
    assert vault.rotate(new) == 2  # the pseudonym key and the one data key
    assert {w.master_id for w in keys.all_wrapped()} == {new.key_id}
    # only the new master now: the same pseudonym, and the record opens without re-encryption
    after = Vault(keys, new)
    assert after.pseudonym(P) == pair[0]
    assert unseal(after.keys([pair])[pair], blob, b"x") == b"evidence"
    # the old master alone opens nothing, with an error naming the setting
    with pytest.raises(Refused) as e:
        Vault(keys, old).keys([pair])
    assert e.value.field == "master_key"


def test_destroyed_key_is_gone_and_logged(keys: SqlKeyStore) -> None:
    vault = Vault(keys, MasterKey.from_text(new_master_text()))
    pair = (vault.pseudonym(P), "2019")
    vault.keys([pair], create=True)
    (w,) = keys.wrapped_keys([pair]).values()
    at = NOW + dt.timedelta(days=1)
    assert vault.erase([Erasure(pair[0], pair[1], w.key_id, at, "retention")]) == 1
    assert vault.keys([pair]) == {}
    assert Vault(keys, vault.master).keys([pair]) == {}
    assert [(e.pseudonym, e.klass, e.at, e.rule) for e in keys.erasures()] == [(*pair, at, "retention")]
    # erasing again destroys nothing and logs nothing more
    assert vault.erase([Erasure(pair[0], pair[1], w.key_id, at, "retention")]) == 0
    assert len(vault.erased()) == 1


def test_bad_master_key_names_the_field() -> None:
    with pytest.raises(Refused) as e:
        MasterKey.from_text("not base64!")
    assert e.value.field == "master_key"
    with pytest.raises(Refused):
        MasterKey.from_text("c2hvcnQ=")
