"""The one-time sealing of case events stored in the clear: a new epoch of the cases chain.

The same approach as the records' (``store/epochs.py``, decision 0046), for the cases chain
(decision 0061): revision 0012 adds the columns, and the first open after it, with the key store
and the signing key at hand, seals every event stored in the clear:

1. the old chain must verify as it stands (a broken chain is never re-linked: that would launder
   the break; its rows stay in the clear and ``verify`` keeps naming the fault);
2. every clear event is sealed under its subject's key of the case's filing year (keys made
   outside the chain's lock);
3. under the lock, the chain is re-linked from the genesis over the sealed form, each row's code
   and payload replaced by the pseudonym, ``""`` and the ciphertext, and the epoch kept in
   ``epochs`` (chain ``cases``) with a checkpoint signed by the installation's key naming the old
   head and the new one at the same count, and the old tree kept as ``cases@<epoch>`` with its
   root beside the new tree's (so a checkpoint signed before is still proved consistent).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import bindparam, select, update

from socialcredit import ledger
from socialcredit.store import tables as t
from socialcredit.store.cases import CaseStore, case_content
from socialcredit.store.epochs import Signer, close_epoch
from socialcredit.store.sealedcases import case_class, open_events, seal_event

log = logging.getLogger(__name__)
CHAIN = "cases"


def has_clear_cases(store: CaseStore) -> bool:
    with store.reader.connect() as conn:
        c = t.case_events.c
        return conn.execute(select(c.seq).where(c.sealed.is_(None)).limit(1)).first() is not None


def seal_clear_cases(store: CaseStore, sign: Signer, now: dt.datetime) -> dict[str, Any] | None:
    """Seal every case event stored in the clear as a new epoch (module docstring); returns the
    signed epoch checkpoint, or None when there was nothing to seal or the old chain is broken."""
    if not has_clear_cases(store):
        return None
    problems = store.verify_cases()
    if problems:
        log.error("the cases chain does not verify (%s); its clear events are left unsealed", problems[0])
        return None
    count, _ = store.head(CHAIN)
    with store.reader.connect() as conn:
        rows = list(
            conn.execute(
                select(t.case_events).where(t.case_events.c.seq <= count).order_by(t.case_events.c.seq)
            ).mappings()
        )
    filed: dict[str, dt.datetime] = {}
    for m in rows:
        filed.setdefault(m["case_id"], m["at"])
    clear = [m for m in rows if m["sealed"] is None]
    sealed: dict[int, dict[str, Any]] = {}
    for m, e in zip(clear, open_events(store.sealing, clear), strict=True):  # a clear row always opens
        klass = case_class(filed[m["case_id"]])
        pseudonym, text = seal_event(store.sealing, e, klass)
        sealed[m["seq"]] = {"v_subject": pseudonym, "v_payload": "", "v_klass": klass, "v_sealed": text}
    with store.engine.begin() as conn:
        now_count, old_head = store._lock_head(conn, CHAIN)
        if now_count != count:  # events were appended meanwhile: the next open seals again
            return None
        head = old_prev = ledger.GENESIS
        changes = []
        old_leaves: list[bytes] = []
        new_leaves: list[bytes] = []
        for m in rows:
            old = case_content(
                m["case_id"], m["case_kind"], m["kind"], m["at"], m["subject"], m["key_id"], m["role"],
                m["payload"], m["klass"], m["sealed"],
            )  # fmt: skip
            ledger.chain_hash(old_prev, m["seq"], old, m["at"], CHAIN, old_leaves)
            old_prev = m["chain_hash"]
            v = sealed.get(m["seq"])
            new = old if v is None else case_content(
                m["case_id"], m["case_kind"], m["kind"], m["at"], v["v_subject"], m["key_id"], m["role"],
                "", v["v_klass"], v["v_sealed"],
            )  # fmt: skip
            head = ledger.chain_hash(head, m["seq"], new, m["at"], CHAIN, new_leaves)
            changes.append({"s": m["seq"], "chain_hash": head, **(v or {})})
        signed = close_epoch(store, conn, CHAIN, (count, old_head, head), (old_leaves, new_leaves), sign, now)
        by_seq = update(t.case_events).where(t.case_events.c.seq == bindparam("s"))
        cols = ("subject", "payload", "klass", "sealed")
        whole = by_seq.values(chain_hash=bindparam("chain_hash"), **{c: bindparam(f"v_{c}") for c in cols})
        conn.execute(whole, [c for c in changes if "v_sealed" in c])
        relinked = [c for c in changes if "v_sealed" not in c]
        if relinked:  # events sealed already (appended since 0012): only their link changes
            conn.execute(by_seq.values(chain_hash=bindparam("chain_hash")), relinked)
        store._set_head(conn, CHAIN, count, head, ())  # the tree is grown again after (regrow)
    return signed
