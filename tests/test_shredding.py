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
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from socialcredit import ledger
from socialcredit.errors import Refused, Unavailable
from socialcredit.service import System
from socialcredit.shredding import Erasure, MasterKey, Vault, master_key, new_master_text, seal, unseal
from socialcredit.store import Store
from socialcredit.store import tables as t
from socialcredit.store.datakeys import SqlKeyStore, data_keys
from tests.conftest import NOW, Clock, person

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
    with pytest.raises(Unavailable) as e:
        Vault(keys, old).keys([pair])
    assert e.value.field == "master_key"


def test_a_rotation_that_cannot_unwrap_keeps_the_master_it_had(keys: SqlKeyStore) -> None:
    """Rewrapping with an old master not configured fails naming the setting, and the vault goes
    on wrapping new keys under the master it had, not the one the failed rotation named."""
    first = MasterKey.from_text(new_master_text())
    pair = (Vault(keys, first).pseudonym(P), "2024")
    Vault(keys, first).keys([pair], create=True)
    second = MasterKey.from_text(new_master_text())
    vault = Vault(keys, second)  # the first master not given: its keys cannot be unwrapped
    with pytest.raises(Unavailable) as e:
        vault.rotate(MasterKey.from_text(new_master_text()))
    assert e.value.field == "master_key"
    assert vault.master == second


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


def test_a_misconfigured_master_key_is_the_installations_fault(tmp_path: Path) -> None:
    """A master key is configuration, never a request: a malformed one, or a key file that cannot
    be read, is ``Unavailable`` (a logged 500), as a key wrapped by a master not given already
    was; it was ``Refused`` (422), which tells an API client its request was wrong. Missing, the
    file is made (the embedded default): that is not a misconfiguration."""
    with pytest.raises(Unavailable) as e:
        MasterKey.from_text("not base64!")
    assert e.value.field == "master_key" and e.value.status == 500
    with pytest.raises(Unavailable):
        MasterKey.from_text("c2hvcnQ=")  # base64, but 5 bytes
    assert not isinstance(e.value, Refused)
    (tmp_path / "dir.key").mkdir()  # unreadable: a directory where the key file should be
    with pytest.raises(Unavailable, match="dir.key cannot be read"):
        master_key(None, tmp_path / "dir.key")
    (tmp_path / "bad.key").write_bytes(b"\xff\xfe not text")
    with pytest.raises(Unavailable, match="bad.key cannot be read"):
        master_key(None, tmp_path / "bad.key")
    (tmp_path / "short.key").write_text("c2hvcnQ=\n")
    with pytest.raises(Unavailable, match="32 bytes"):
        master_key(None, tmp_path / "short.key")


def test_a_store_opened_with_a_malformed_master_key_fails_as_unavailable(
    env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At open (the store builds its vault from the settings), and on the command line, which
    names the setting at fault rather than the database."""
    from socialcredit.settings import get_settings
    from tests.support.cli import run

    monkeypatch.setenv("SOCIALCREDIT_MASTER_KEY", "c2hvcnQ=")
    get_settings.cache_clear()
    with pytest.raises(Unavailable) as e:
        Store(store_url).close()
    assert e.value.field == "master_key"
    result = run("verify")
    assert result.exit_code == 2 and "master_key: a master key is 32 bytes" in result.output
    assert "cannot open the database" not in result.output


def _row(srid: str, subject: str = P, occurred: str = "2026-05-01", **kw: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "item": "traffic.red-light",
        "source": "traffic-police",
        "source_record_id": srid,
        "occurred_on": occurred,
        "reported_at": "2026-05-02T08:00:00",
        "evidence": "camera 12, photo 3",
        "details": {"plate": "Lu F 12345"},
        **kw,
    }


def test_records_are_stored_sealed_and_read_in_the_clear(system: System) -> None:
    """Issue 21: "Each record's personal content (the subject's code, details, evidence) is stored
    encrypted"; "No hash kept in the clear may be computed from guessable personal data without a
    key"."""
    op = system.operator()
    rows = [(1, _row("s-1")), (2, _row("s-2", Q)), (3, _row("s-3", occurred="2025-03-01"))]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    with system.store.engine.connect() as conn:
        stored = [dict(m) for m in conn.execute(select(t.records).order_by(t.records.c.seq)).mappings()]
    for m in stored:
        text = json.dumps(m, default=str)
        assert P not in text and Q not in text and "Lu F" not in text and "camera" not in text
        assert m["evidence"] is None and m["details"] == "" and m["sealed"] and len(m["subject"]) == 32
    # the claim hash is keyed: not the plain hash ``ledger.claim_hash`` of the record
    r1 = system.store.record(stored[0]["record_id"])
    assert r1 is not None and r1.subject == P and r1.evidence == "camera 12, photo 3"
    assert r1.details == {"plate": "Lu F 12345"} and stored[0]["claim_hash"] != ledger.claim_hash(r1)
    assert [r.source_record_id for r in system.store.records_for(P)] == ["s-1", "s-3"]
    assert system.store.subjects_with_items(["traffic.red-light"]) == sorted([P, Q])
    # the same submission again is a duplicate, a changed one a conflict, as before
    again = system.ingest([(1, _row("s-1")), (2, _row("s-2", Q, evidence="other"))], origin="t", principal=op)
    assert (again.duplicate, again.quarantined) == (1, 1)
    assert system.verify()["records"] == []


def test_an_erased_key_leaves_the_chain_valid_and_the_records_unreadable(
    system: System, clock: Clock
) -> None:
    """Issue 21: "The hash chain covers the ciphertext and a keyed pseudonym of the claim, so it
    keeps verifying after erasure"; erased records are "still counted by verify, no longer
    readable, and no longer exported"."""
    op = system.operator()
    rows = [
        (1, _row("e-1", occurred="2019-05-01")),
        (2, _row("e-2")),
        (3, _row("e-3", Q, occurred="2019-06-01")),
    ]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    vault = system.store.sealing.vault
    pair = (vault.pseudonym(P), "2019")
    (w,) = vault.store.wrapped_keys([pair]).values()
    vault.erase([Erasure(*pair, w.key_id, clock.now, "test")])
    fresh = Store(system.store.url)  # another process: nothing cached
    try:
        assert [r.source_record_id for r in fresh.records_for(P)] == ["e-2"]
        assert sum(len(page) for page in fresh.iter_records()) == 2
        assert fresh.verify_records() == [] and fresh.head("records")[0] == 3
        assert fresh.record(fresh.stored_record_id("traffic-police", "e-1")) is None
    finally:
        fresh.close()


def test_the_master_key_rotates_from_the_command_line(
    env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: "Envelope encryption lets the master key rotate without re-encrypting every
    record": `socialcredit keys rewrap` after the new master is configured and the old listed."""
    from typer.testing import CliRunner

    from socialcredit.cli import app
    from socialcredit.schemes import shipped_registry
    from socialcredit.settings import get_settings

    old, new = new_master_text(), new_master_text()
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)  # the command line's database too
    monkeypatch.setenv("SOCIALCREDIT_MASTER_KEY", old)
    get_settings.cache_clear()
    store = Store(store_url)
    system = System(store, shipped_registry())
    system.ingest([(1, _row("m-1"))], origin="t", principal=system.operator())
    with store.engine.connect() as conn:
        before = [dict(m) for m in conn.execute(select(t.records)).mappings()]
    store.close()
    monkeypatch.setenv("SOCIALCREDIT_MASTER_KEY", new)
    monkeypatch.setenv("SOCIALCREDIT_PREVIOUS_MASTER_KEYS", old)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["--lang", "en", "keys", "rewrap"])
    assert result.exit_code == 0, result.output
    # the pseudonym key, the subject's key of 2026, and the month's quarantine key (decision 0061)
    assert "re-wrapped 3 data keys under master key " + MasterKey.from_text(new).key_id in result.output
    monkeypatch.delenv("SOCIALCREDIT_PREVIOUS_MASTER_KEYS")
    get_settings.cache_clear()
    after = Store(store_url)  # the new master alone
    try:
        with after.engine.connect() as conn:
            assert [dict(m) for m in conn.execute(select(t.records)).mappings()] == before  # untouched
        assert [r.subject for r in after.records_for(P)] == [P]
    finally:
        after.close()
        get_settings.cache_clear()
