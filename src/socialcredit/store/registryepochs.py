"""The one-time sealing of the registry's chain stored in the clear: a new epoch (decision 0074).

As the cases chain was (``store/caseepochs.py``, decision 0061): revision 0015 adds the columns
and makes ``subjects``, ``tenures`` and ``document_links`` again, empty; the first open after it,
with the key store and the signing key at hand,

1. verifies the old chain as it stands (a broken chain is never re-linked: its rows stay in the
   clear and ``verify`` keeps naming the fault);
2. makes every registered subject's registry key (outside the chain's lock);
3. under the lock re-links the chain from the genesis over the sealed form (each clear row's code
   and payload replaced by the pseudonym, ``""`` and the ciphertext, its own hash kept), with an
   epoch record and a checkpoint signed by the installation's key naming the old head and the new
   one at the same count, the old tree kept as ``registry@<epoch>``;
4. folds ``subjects``, ``tenures`` and ``document_links`` again from the chain
   (``SubjectStore.fold_registry``), which a broken chain left in the clear still allows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import bindparam, select, update

from socialcredit import ledger
from socialcredit.chaincheck import own_hash
from socialcredit.documents import is_link_event
from socialcredit.store import tables as t
from socialcredit.store.epochs import Signer, close_epoch
from socialcredit.store.sealedregistry import TAG, registry_content_of
from socialcredit.store.subjects import REGISTRY, SubjectStore

log = logging.getLogger(__name__)


def has_clear_registry(store: SubjectStore) -> bool:
    return store.registry_in_the_clear()


def _code(payload: str) -> str:
    """The subject a clear entry's payload names: a registration's code, a link's subject."""
    found = json.loads(payload)
    return str(found["subject"] if is_link_event(payload) else found[0])


def seal_clear_registry(store: SubjectStore, sign: Signer, now: dt.datetime) -> dict[str, Any] | None:
    """Seal every registry entry stored in the clear as a new epoch (module docstring); returns
    the signed epoch checkpoint, or None when there was nothing to seal or the chain is broken."""
    if not has_clear_registry(store):
        return None
    problems = store.verify_registry()
    if problems:
        log.error("the registry chain does not verify (%s); its clear entries are left unsealed", problems[0])
        return None
    count, _ = store.head(REGISTRY)
    with store.reader.connect() as conn:
        q = select(t.registry).where(t.registry.c.seq <= count).order_by(t.registry.c.seq)
        rows = list(conn.execute(q).mappings())
    rs = store.registry_sealing
    rs.prepare(_code(m["payload"]) for m in rows if m["sealed"] is None)
    with store.engine.begin() as conn:
        now_count, old_head = store._lock_head(conn, REGISTRY)
        if now_count != count:  # entries were appended meanwhile: the next open seals again
            return None
        head = old_prev = ledger.GENESIS
        changes: list[dict[str, Any]] = []
        old_leaves: list[bytes] = []
        new_leaves: list[bytes] = []
        for m in rows:
            ledger.chain_hash(old_prev, m["seq"], registry_content_of(m), m["at"], REGISTRY, old_leaves)
            old_prev = m["chain_hash"]
            v = (
                dict(m)
                if m["sealed"] is not None
                else {**m, **rs.seal(_code(m["payload"]), m["kind"], m["payload"], m["at"])}
            )
            covered = registry_content_of(v)
            head = ledger.chain_hash(head, m["seq"], covered, m["at"], REGISTRY, new_leaves)
            change = {
                "s": m["seq"],
                "chain_hash": head,
                "own_hash": v.get("own_hash") or own_hash(covered, m["at"], TAG),
            }
            changes.append({**change, **{f"v_{c}": v[c] for c in ("code", "payload", "klass", "sealed")}})
        signed = close_epoch(
            store, conn, REGISTRY, (count, old_head, head), (old_leaves, new_leaves), sign, now
        )
        cols = ("code", "payload", "klass", "sealed")
        whole = (
            update(t.registry)
            .where(t.registry.c.seq == bindparam("s"))
            .values(
                chain_hash=bindparam("chain_hash"),
                own_hash=bindparam("own_hash"),
                **{c: bindparam(f"v_{c}") for c in cols},
            )
        )
        conn.execute(whole, changes)
        store._set_head(conn, REGISTRY, count, head, ())  # the tree is grown again after (regrow)
    return signed
