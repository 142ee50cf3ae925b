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

The same re-linking moves, once, the erasure requests filed before decision 0071 off the
``cases.YEAR`` key they shared with the subject's other files of that year, onto
``cases.era.YEAR`` (:func:`move_old_requests`, decision 0094): each one's events opened and sealed
again, their own hashes recomputed, as another epoch with its own signed checkpoint.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from socialcredit import ledger
from socialcredit.chaincheck import own_hash
from socialcredit.store import tables as t
from socialcredit.store.cases import CaseStore, case_content
from socialcredit.store.epochs import Signer, close_epoch
from socialcredit.store.sealedcases import ERASURE, case_class, fresh_class, open_events, seal_event

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
    return _new_epoch(store, sign, now, _clear_changes)


def _clear_changes(store: CaseStore, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each clear event sealed under its subject's key of the case's filing year."""
    filed: dict[str, dt.datetime] = {}
    for m in rows:
        filed.setdefault(m["case_id"], m["at"])
    clear = [m for m in rows if m["sealed"] is None]
    sealed: dict[int, dict[str, Any]] = {}
    for m, e in zip(clear, open_events(store.sealing, clear), strict=True):  # a clear row always opens
        klass = case_class(filed[m["case_id"]])
        pseudonym, text = seal_event(store.sealing, e, klass)
        sealed[m["seq"]] = {"v_subject": pseudonym, "v_payload": "", "v_klass": klass, "v_sealed": text}
    return sealed


def _old_requests(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sealed events of erasure requests filed before decision 0071, under the subject's
    ``cases.YEAR`` with its other files of that year instead of ``cases.era.YEAR``."""
    era = case_class(dt.datetime(2000, 1, 1), ERASURE)[: -len("2000")]  # "cases.era."
    return [
        m
        for m in rows
        if m["case_kind"] == ERASURE and m["sealed"] is not None and not str(m["klass"]).startswith(era)
    ]


MOVED = "era-requests"
"""A ``chain_heads`` row that is no chain (count 0, so a restore still sees an empty target): its
presence says the old requests were looked for and moved (or none was found), so later opens do
not scan ``case_events`` again. A backup of a database without it brings none: the next open looks
once more."""


def has_old_requests(store: CaseStore) -> bool:
    """Whether an erasure request filed before decision 0071 shares a live ``cases.YEAR`` key with
    the subject's other files of that year (one whose key is gone has nothing left to move). The
    first open that finds none marks it (:data:`MOVED`), and no later one scans again."""
    c, h = t.case_events.c, t.chain_heads.c
    with store.reader.connect() as conn:
        if conn.execute(select(h.chain).where(h.chain == MOVED)).first() is not None:
            return False
        q = select(c.case_kind, c.sealed, c.klass, c.subject).where(
            c.case_kind == ERASURE, c.sealed.is_not(None)
        )
        old = _old_requests([dict(m) for m in conn.execute(q).mappings()])
    pairs = sorted({(m["subject"], m["klass"]) for m in old})
    if pairs and store.sealing.vault.store.wrapped_keys(pairs):
        return True
    with store.engine.begin() as conn:
        _mark(conn)
    return False


def _mark(conn: Connection) -> None:
    h = t.chain_heads.c
    if conn.execute(select(h.chain).where(h.chain == MOVED)).first() is None:
        conn.execute(t.chain_heads.insert().values(chain=MOVED, count=0, head=ledger.GENESIS))


def move_old_requests(store: CaseStore, sign: Signer, now: dt.datetime) -> dict[str, Any] | None:
    """Seal again, under ``cases.era.YEAR``, every event of an erasure request filed before
    decision 0071, as a new epoch of the cases chain (decision 0094). Why: such a request shared
    its ``cases.YEAR`` key with the subject's other case files of that year, and a request's file
    must outlive the files its grant erases (it is what its decision is read from), so that key
    was never destroyed by a grant and those files outlived the records they were about."""
    return _new_epoch(store, sign, now, _request_changes, mark=True)


def _request_changes(store: CaseStore, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each old request's events, opened and sealed again under the subject's current class of
    ``cases.era.YEAR`` (the request's filing year); a request whose key is gone stays as it is."""
    cases: dict[str, list[dict[str, Any]]] = {}
    for m in _old_requests(rows):
        cases.setdefault(m["case_id"], []).append(m)
    sealed: dict[int, dict[str, Any]] = {}
    for events in cases.values():
        opened = open_events(store.sealing, events)
        if len(opened) != len(events):
            continue  # erased: nothing of its file is left to read or move
        first = events[0]
        klass = fresh_class(store.sealing, first["subject"], case_class(first["at"], ERASURE))
        for m, e in zip(events, opened, strict=True):
            pseudonym, text = seal_event(store.sealing, e, klass)
            sealed[m["seq"]] = {"v_subject": pseudonym, "v_payload": "", "v_klass": klass, "v_sealed": text}
    return sealed


def _new_epoch(
    store: CaseStore,
    sign: Signer,
    now: dt.datetime,
    changes_of: Callable[[CaseStore, list[dict[str, Any]]], dict[int, dict[str, Any]]],
    *,
    mark: bool = False,
) -> dict[str, Any] | None:
    """The cases chain with the events ``changes_of`` gives stored anew (their subject, payload,
    class and ciphertext; the keys made before the lock), re-linked from the genesis as a new
    epoch: returns its signed checkpoint, or None when the old chain is broken (it is never
    re-linked: that would launder the break), nothing changes, or events were appended meanwhile
    (the next open tries again)."""
    problems = store.verify_cases()
    if problems:
        log.error("the cases chain does not verify (%s); it is not sealed again", problems[0])
        return None
    count, _ = store.head(CHAIN)
    with store.reader.connect() as conn:
        rows = [
            dict(m)
            for m in conn.execute(
                select(t.case_events).where(t.case_events.c.seq <= count).order_by(t.case_events.c.seq)
            ).mappings()
        ]
    sealed = changes_of(store, rows)
    if not sealed:
        return None
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
            if v is not None:  # its own hash (schema 0014) covers the new form; none kept stays none
                v = {**v, "v_own_hash": None if m["own_hash"] is None else own_hash(new, m["at"], CHAIN)}
            changes.append({"s": m["seq"], "chain_hash": head, **(v or {})})
        signed = close_epoch(store, conn, CHAIN, (count, old_head, head), (old_leaves, new_leaves), sign, now)
        by_seq = update(t.case_events).where(t.case_events.c.seq == bindparam("s"))
        cols = ("subject", "payload", "klass", "sealed", "own_hash")
        whole = by_seq.values(chain_hash=bindparam("chain_hash"), **{c: bindparam(f"v_{c}") for c in cols})
        conn.execute(whole, [c for c in changes if "v_sealed" in c])
        relinked = [c for c in changes if "v_sealed" not in c]
        if relinked:  # events not changed: only their link changes
            conn.execute(by_seq.values(chain_hash=bindparam("chain_hash")), relinked)
        store._set_head(conn, CHAIN, count, head, ())  # the tree is grown again after (regrow)
        if mark:  # the old requests are moved: no later open looks for them again
            _mark(conn)
    return signed
