"""The one-time sealing of a ledger stored in the clear: a new epoch of the records chain (and,
the same way, of the audit chain: :func:`seal_clear_audit`, decision 0060).

Why at open and not in the schema migration: sealing needs the key store (it makes the data keys)
and the installation's signing key, which a migration's single connection cannot reach (on SQLite
the key table's writes would wait on the migration's own write lock). So revision 0006 adds the
columns, and the first open after it seals every record stored in the clear (decision 0046):

1. the old chain is verified as it stands: a broken chain is never re-linked, which would launder
   the break (the rows stay in the clear and ``verify`` keeps naming the fault);
2. every clear row is sealed (keys made, outside the chain's lock);
3. under the chain's lock, every record is re-linked from the genesis over its sealed form, each
   row's clear subject, evidence and details overwritten by the sealed form, and the epoch is kept
   with a checkpoint, signed by the installation's key, naming the old chain's head and the new
   one's at the same count: whoever holds a checkpoint of the old chain can see where it ended;
4. the clear chain's Merkle tree is kept, as tiles of the tree ``records@<epoch>``, and the epoch
   record names its root (``old_root``) and the sealed tree's at the same count (``new_root``):
   a checkpoint signed before the epoch is then proved consistent with the old tree, and the
   sealed tree is proved to extend the new root (``checkpoints.check``, the witness; decision 0056).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update

from socialcredit import ledger
from socialcredit.store import tables as t
from socialcredit.store import tiles
from socialcredit.store.audit import AuditStore, audit_content
from socialcredit.store.base import StoreBase
from socialcredit.store.records import RecordStore
from socialcredit.store.sealedrows import STORED_FIELDS
from socialcredit.tlog import merkle

log = logging.getLogger(__name__)
FORMAT = "socialcredit-epoch/1"
Signer = Callable[[dict[str, Any]], dict[str, Any]]
"""Signs a payload (``checkpoints.sign``): the payload with its key and signature added."""
_NEW = ("subject", "evidence", "details", "content_hash", "claim_hash", "klass", "sealed", "source_record_id")
"""The columns sealing replaces (the agency's reference too: it is sealed, decision 0075)."""


def has_clear_records(store: RecordStore) -> bool:
    with store.reader.connect() as conn:
        return (
            conn.execute(select(t.records.c.seq).where(t.records.c.sealed.is_(None)).limit(1)).first()
            is not None
        )


def seal_clear_records(store: RecordStore, sign: Signer, now: dt.datetime) -> dict[str, Any] | None:
    """Seal every record stored in the clear as a new epoch (module docstring); returns the signed
    epoch checkpoint, or None when there was nothing to seal or the old chain does not verify."""
    if not has_clear_records(store):
        return None
    problems = store.verify_records()
    if problems:
        log.error("the records chain does not verify (%s); its clear records are left unsealed", problems[0])
        return None
    count, _ = store.head("records")
    convert = store.stored_row()
    sealed: dict[int, tuple[Any, ...]] = {}
    for rows in store.row_pages():
        clear = [m for m in rows if m["sealed"] is None and m["seq"] <= count]
        if clear:
            plain = [convert(ledger.sealed(store.sealing.plain(m))) for m in clear]
            made = store.sealing.seal_rows(plain, keep_ids=True)  # its id stays (decision 0080)
            sealed.update({m["seq"]: row for m, row in zip(clear, made, strict=True)})
    at = [STORED_FIELDS.index(c) for c in _NEW]
    with store.engine.begin() as conn:
        now_count, old_head = store._lock_head(conn, "records")
        if now_count != count:  # records were appended meanwhile: the next open seals again
            return None
        head = old_prev = ledger.GENESIS
        changes = []
        old_leaves: list[bytes] = []  # the clear chain's tree, kept (module docstring, step 4)
        new_leaves: list[bytes] = []
        for m in conn.execute(
            select(
                t.records.c.seq,
                t.records.c.content_hash,
                t.records.c.received_at,
                t.records.c.batch_id,
                t.records.c.chain_hash,
            ).order_by(t.records.c.seq)
        ).mappings():
            seq, at_, batch = m["seq"], m["received_at"], m["batch_id"]
            ledger.chain_hash(old_prev, seq, m["content_hash"], at_, batch, old_leaves)
            old_prev = m["chain_hash"]
            row = sealed.get(m["seq"])
            content = m["content_hash"] if row is None else row[at[3]]
            head = ledger.chain_hash(head, m["seq"], content, m["received_at"], m["batch_id"], new_leaves)
            values = {} if row is None else {c: row[i] for c, i in zip(_NEW, at, strict=True)}
            changes.append({"s": m["seq"], "chain_hash": head, **{f"v_{c}": values.get(c) for c in _NEW}})
        signed = close_epoch(
            store, conn, "records", (count, old_head, head), (old_leaves, new_leaves), sign, now
        )
        by_seq = update(t.records).where(t.records.c.seq == bindparam("s"))
        whole = by_seq.values(chain_hash=bindparam("chain_hash"), **{c: bindparam(f"v_{c}") for c in _NEW})
        conn.execute(whole, [c for c in changes if c["v_sealed"] is not None])
        relinked = [{"s": c["s"], "chain_hash": c["chain_hash"]} for c in changes if c["v_sealed"] is None]
        if relinked:  # records sealed already (appended since 0006): only their link changes
            conn.execute(by_seq.values(chain_hash=bindparam("chain_hash")), relinked)
        store._set_head(conn, "records", count, head, ())  # the tree is grown again after (regrow)
    return signed


_CLEAR_AUDIT = t.audit.c.sealed.is_(None) & or_(t.audit.c.subject.is_not(None), t.audit.c.role == "subject")
"""An audit entry naming a person in the clear (stored before schema 0011)."""
_AUDIT_NEW = ("subject", "principal", "detail", "sealed")


def has_clear_audit(store: AuditStore) -> bool:
    with store.reader.connect() as conn:
        return conn.execute(select(t.audit.c.seq).where(_CLEAR_AUDIT).limit(1)).first() is not None


def seal_clear_audit(store: AuditStore, sign: Signer, now: dt.datetime) -> dict[str, Any] | None:
    """Pseudonymise and seal every audit entry naming a person in the clear (decision 0060) as a
    new epoch of the audit chain, the way :func:`seal_clear_records` does the records (module
    docstring); returns the signed epoch record, or None when there was nothing to seal or the
    old chain does not verify."""
    if not has_clear_audit(store):
        return None
    problems = store.verify_audit()
    if problems:
        log.error("the audit chain does not verify (%s); its entries are left in the clear", problems[0])
        return None
    count, _ = store.head("audit")
    stored: dict[int, dict[str, Any]] = {}
    with store.reader.connect() as conn:
        clear = list(conn.execute(select(t.audit).where(_CLEAR_AUDIT, t.audit.c.seq <= count)).mappings())
    for i in range(0, len(clear), 1000):  # keys made outside the chain's lock
        page = clear[i : i + 1000]
        rows = store.audit_sealing.stored([{**m, "detail": json.loads(m["detail"])} for m in page])
        stored.update({m["seq"]: row for m, row in zip(page, rows, strict=True)})
    with store.engine.begin() as conn:
        now_count, old_head = store._lock_head(conn, "audit")
        if now_count != count:  # entries were appended meanwhile: the next open seals again
            return None
        head = old_prev = ledger.GENESIS
        changes = []
        old_leaves: list[bytes] = []
        new_leaves: list[bytes] = []
        for m in conn.execute(select(t.audit).order_by(t.audit.c.seq)).mappings():
            seq, at = m["seq"], m["at"]
            ledger.chain_hash(old_prev, seq, audit_content(m), at, "audit", old_leaves)
            old_prev = m["chain_hash"]
            row = stored.get(seq)
            content = audit_content(m if row is None else {**m, **{c: row[c] for c in _AUDIT_NEW}})
            head = ledger.chain_hash(head, seq, content, at, "audit", new_leaves)
            values = {} if row is None else {c: row[c] for c in _AUDIT_NEW}
            changes.append({"s": seq, "chain_hash": head, **{f"v_{c}": values.get(c) for c in _AUDIT_NEW}})
        signed = close_epoch(
            store, conn, "audit", (count, old_head, head), (old_leaves, new_leaves), sign, now
        )
        by_seq = update(t.audit).where(t.audit.c.seq == bindparam("s"))
        whole = by_seq.values(
            chain_hash=bindparam("chain_hash"), **{c: bindparam(f"v_{c}") for c in _AUDIT_NEW}
        )
        conn.execute(whole, [c for c in changes if c["v_detail"] is not None])
        relinked = [{"s": c["s"], "chain_hash": c["chain_hash"]} for c in changes if c["v_detail"] is None]
        if relinked:
            conn.execute(by_seq.values(chain_hash=bindparam("chain_hash")), relinked)
        store._set_head(conn, "audit", count, head, ())  # the tree is grown again after (regrow)
    return signed


def close_epoch(
    store: StoreBase,
    conn: Connection,
    chain: str,
    heads: tuple[int, str, str],
    leaves: tuple[list[bytes], list[bytes]],
    sign: Signer,
    now: dt.datetime,
) -> dict[str, Any]:
    """Inside the re-linking transaction of ``chain``: keep the old tree's leaves as the tiles
    of ``<chain>@<epoch>``, and the epoch record with its signed checkpoint naming the old head and
    the new one at ``count`` (``heads``: count, old head, new head) and both trees' roots; returns
    the signed checkpoint. Shared by every chain sealed as a new epoch (records; audit: 0060; cases: 0061)."""
    count, old_head, head = heads
    old_leaves, new_leaves = leaves
    epoch = 1 + int(
        conn.execute(select(func.count()).select_from(t.epochs).where(t.epochs.c.chain == chain)).scalar_one()
    )
    payload = {
        "format": FORMAT,
        "chain": chain,
        "epoch": epoch,
        "created_at": now.replace(microsecond=0).isoformat() + "Z",
        "count": count,
        "old_head": old_head,
        "new_head": head,
        "old_tree": f"{chain}@{epoch}",
        "old_root": merkle.fold(old_leaves).hex(),
        "new_root": merkle.fold(new_leaves).hex(),
    }
    signed = sign(payload)
    for i in range(0, len(old_leaves), 65_536):
        chunk = old_leaves[i : i + 65_536]
        tiles.grow(conn.exec_driver_sql, store.dialect.mark, f"{chain}@{epoch}", i, chunk)
    conn.execute(
        t.epochs.insert().values(
            chain=chain,
            epoch=epoch,
            at=now,
            count=count,
            old_head=old_head,
            new_head=head,
            checkpoint=ledger.canonical_details(signed),
        )
    )
    return signed
