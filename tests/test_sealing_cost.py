"""What makes encryption cheaper must not make it weaker (issue 21 point 5, decision 0062): the
keyed hash with its pads derived once is HMAC-SHA256 exactly, keys made and read by the driver's
SQL are the keys another process finds, and a destroyed key is unusable at once, in the very
process that had it cached, for reading, for the "erased" listing and for ingest. Runs on SQLite
and PostgreSQL.

Issue 21 point 5: "Ingest stays within 15 % of its rate without encryption (bench, same run), and
a subject's view within 10 %." Point 2: "An agency re-sending an erased record is told it was
erased; it is not taken in again. The records then read as 'erased on D under rule R'."
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from socialcredit.errors import Refused
from socialcredit.service import System
from socialcredit.shredding import Erasure, KeyedHash, MasterKey, Vault, new_master_text
from socialcredit.store import Store
from socialcredit.store.datakeys import SqlKeyStore
from socialcredit.store.sealedrows import own_hash_ok
from tests.conftest import Clock, person
from tests.support.records import red_light

P, Q = person(81), person(82)


def _row(srid: str, subject: str = P, occurred: str = "2026-05-01") -> dict[str, Any]:
    return {**red_light(subject, srid, occurred), "details": {"plate": "Lu F 12345"}}


@pytest.mark.parametrize("key_length", [0, 1, 32, 64, 65, 100])
def test_the_keyed_hash_is_hmac_sha256(key_length: int) -> None:
    key = bytes(range(key_length))
    keyed = KeyedHash(key)
    for message in (b"", b"110101199003074514", b"x" * 200):
        assert keyed.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()
        assert keyed.digest(message) == hmac.digest(key, message, "sha256")
    # the states are copied, never updated in place: the same message twice gives the same hash
    assert keyed.hexdigest(b"a") == keyed.hexdigest(b"a") != keyed.hexdigest(b"b")
    # a chunk's texts keyed in one loop (decision 0081): each as hmac.new keys its UTF-8 bytes
    texts = ["", "a", "a", "110101199003074514", "é" * 70, "0f" * 32]
    want = [hmac.new(key, t.encode(), hashlib.sha256).hexdigest() for t in texts]
    assert keyed.hexdigests(texts) == want
    assert keyed.hexdigests(iter(texts)) == want and keyed.hexdigests([]) == []
    # the prefix taken in once (decision 0092): the digest of m is HMAC(key, prefix + m), and
    # the hash it came from is left as it was
    for prefix in (b"", b"record\x1f", b"p" * 130):
        prefixed = keyed.prefixed(prefix)
        want = [hmac.new(key, prefix + t.encode(), hashlib.sha256).hexdigest() for t in texts]
        assert prefixed.hexdigests(texts) == want
        assert [prefixed.hexdigest(t.encode()) for t in texts] == want
    assert keyed.hexdigests(texts) == [hmac.new(key, t.encode(), hashlib.sha256).hexdigest() for t in texts]


def test_a_sealed_chunk_has_a_fresh_nonce_per_record_and_opens_under_its_id(system: System) -> None:
    """The chunk's nonces come from one call to the system's generator, sliced (decision 0092):
    still a distinct random 96-bit nonce for every encryption, each record bound to its keyed id
    (the associated data), its stored hash the stored preimage's."""
    store = system.store
    rows = [_row(f"N-{i}", subject=person(100 + i % 5)) for i in range(60)]
    result = system.ingest(list(enumerate(rows, 1)), origin="test", principal=system.operator())
    assert result.accepted == 60
    with store.reader.connect() as conn:
        stored = [dict(m) for m in conn.exec_driver_sql("SELECT * FROM records").mappings()]
    blobs = [base64.b64decode(m["sealed"]) for m in stored]
    assert len(blobs) == 60 and len({b[:12] for b in blobs}) == 60  # one nonce each, none repeated
    for m in stored:
        assert own_hash_ok(m) == (m["content_hash"], True)
    opened = store.sealing.open_rows(stored)
    assert sorted(r.source_record_id for r in opened) == sorted(f"N-{i}" for i in range(60))
    # moved onto another record's id, a ciphertext no longer opens
    a, b = stored[0], stored[1]
    pair = (a["subject"], a["klass"])
    with pytest.raises(Refused):
        store.sealing.open_one(store.sealing.vault.keys([pair])[pair], a["sealed"], b["record_id"])


def test_keys_added_in_one_statement_are_those_another_vault_reads(store_url: str) -> None:
    keys = SqlKeyStore(store_url)
    try:
        master = MasterKey.from_text(new_master_text())
        vault = Vault(keys, master)
        pairs = [(vault.pseudonym(person(i)), str(2000 + i % 7)) for i in range(1, 900)]
        made = vault.keys(pairs, create=True)
        assert len(made) == len(set(pairs)) and len(keys.wrapped_keys(pairs)) == len(set(pairs))
        other = Vault(SqlKeyStore(engine=keys.engine), master)
        nonce = b"\x00" * 12
        for pair in pairs[:50]:
            sealed = made[pair].encrypt(nonce, b"details", b"rid")
            assert other.keys([pair])[pair].decrypt(nonce, sealed, b"rid") == b"details"
        # a writer that lost the race is given the key that is stored, not its own
        first = keys.wrapped_keys([pairs[0]])[pairs[0]]
        mine = Vault(keys, master)._wrap(*pairs[0], b"\x01" * 32)
        assert keys.add_wrapped_keys([mine])[pairs[0]] == first != mine
    finally:
        keys.close()


def test_a_destroyed_key_is_unusable_at_once_in_the_process_that_cached_it(
    system: System, clock: Clock
) -> None:
    """The server keeps data keys cached; erasing one must not leave it usable there."""
    op = system.operator()
    rows = [(1, _row("c-1", occurred="2020-05-01")), (2, _row("c-2")), (3, _row("c-3", Q, "2020-06-01"))]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    before = system.read(P, op, purpose="test")  # every key of P now cached in this process
    assert sorted(r.source_record_id for r in before.records) == ["c-1", "c-2"]
    assert system.erased_records(P) == []
    vault = system.store.sealing.vault
    pair = (vault.pseudonym(P), "2020")
    (w,) = vault.store.wrapped_keys([pair]).values()
    vault.erase([Erasure(*pair, w.key_id, clock.now, "test")])
    system.context.views.invalidate()
    after = system.read(P, op, purpose="test")
    assert [r.source_record_id for r in after.records] == ["c-2"]
    assert [(e.at, e.rule) for e in system.erased_records(P)] == [(clock.now, "test")]
    assert [r.source_record_id for r in system.store.records_for(P)] == ["c-2"]
    # the erased record sent again is refused; a new one of that year is sealed under the year's
    # next class (decision 0054), never under the destroyed key, which is not made again
    again = system.ingest([(1, _row("c-1", occurred="2020-05-01")), (2, _row("c-4", occurred="2020-07-01"))],
                          origin="t", principal=op)  # fmt: skip
    assert (again.accepted, again.quarantined) == (1, 1)
    assert "was erased" in again.quarantine[0].reasons[0] and again.quarantine[0].row_number == 1
    assert vault.store.wrapped_keys([pair]) == {}
    assert list(vault.store.wrapped_keys([(pair[0], "2020.1")])) == [(pair[0], "2020.1")]
    # another subject's key of the same year is untouched, here and in a fresh process
    fresh = Store(system.store.url)
    try:
        assert [r.source_record_id for r in fresh.records_for(Q)] == ["c-3"]
        assert sorted(r.source_record_id for r in fresh.records_for(P)) == ["c-2", "c-4"]
    finally:
        fresh.close()


def test_a_view_reads_its_keys_and_erased_records_in_its_own_snapshot(system: System, clock: Clock) -> None:
    """Decision 0076: a subject's view reads its data keys, and lists its erased records, in the
    transaction it reads the records in. Faster, and no weaker: a key another process destroys is
    not used from this process's cache, and the erased records are listed at once, whether the
    view is computed again or taken from the view cache (an erasure moves no chain head)."""
    op = system.operator()
    rows = [(1, _row("v-1", occurred="2020-05-01")), (2, _row("v-2")), (3, _row("v-3", Q, "2020-06-01"))]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    cold = system.read(P, op, purpose="test")  # P's every key now cached here, its audit key too
    assert sorted(r.source_record_id for r in cold.records) == ["v-1", "v-2"] and cold.erased == []
    vault = system.store.sealing.vault
    pair = (vault.pseudonym(P), "2020")
    assert vault.cached((pair[0], "audit")) != {}  # read with the record keys: the audit entry read none
    other = Store(system.store.url)  # another process erases it
    try:
        (w,) = other.sealing.vault.store.wrapped_keys([pair]).values()
        other.sealing.vault.erase([Erasure(*pair, w.key_id, clock.now, "another process")])
    finally:
        other.close()
    assert vault.cached(pair) != {}  # still cached here
    v1 = system.store.stored_record_id("traffic-police", "v-1")
    cached = system.read(P, op, purpose="test")
    assert [(e.record_id, e.at, e.rule) for e in cached.erased] == [(v1, clock.now, "another process")]
    system.context.views.invalidate()
    fresh = system.read(P, op, purpose="test")
    assert [r.source_record_id for r in fresh.records] == ["v-2"]
    assert [(e.record_id, e.rule) for e in fresh.erased] == [(v1, "another process")]
    assert [(e.record_id, e.rule) for e in system.erased_records(P)] == [(v1, "another process")]
    # another subject's view, and a subject with nothing erased, list none
    assert system.read(Q, op, purpose="test").erased == []
