"""Quarantined rows sealed at rest under a key per month, which retention destroys (decision 0061).

Why: a quarantined row is the whole row an agency sent (a subject's code, evidence, details),
kept so that the agency can fix it and send it again. It may not even have a valid code, so it
cannot be sealed under its subject's key; and it grounds nothing, so it need not live long. It is
therefore sealed (AES-GCM, bound to its batch and row number) under the system's key of class
``quarantine.YYYY-MM``, the month the batch was received, kept in the same key table as the
subjects' keys; ``retention run`` destroys a month's key :data:`KEEP_DAYS` days after the month
ended. A reason may quote the value it refuses (a code), so the reasons are sealed with the row
and only the fields they name are kept in the clear. The row's number and those fields stay
readable, and the batch's counts (``batches``) are untouched, so a batch report still adds up;
the row itself then reads as erased (``raw`` None, ``erased`` True, each reason its field).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, bindparam, select, update

from socialcredit.shredding import SYSTEM, Vault, seal, unseal
from socialcredit.store import tables as t
from socialcredit.store.base import dumps

PREFIX = "quarantine."
KEEP_DAYS = 90
"""Days a quarantined row stays readable after the end of the month its batch was received in:
time for the agency to fix and send it again (docs/reliability.md)."""

MAX_ROW = 20_000
"""Characters of a quarantined row kept (a longer one is kept as its length)."""


def quarantine_class(received_at: dt.datetime) -> str:
    return f"{PREFIX}{received_at:%Y-%m}"


def cipher_for(vault: Vault, received_at: dt.datetime) -> tuple[str, AESGCM | None]:
    """The class and cipher rows of a batch received at ``received_at`` are sealed under (made on
    first use; None if that month's key was destroyed already). Asked before the chain's lock is
    taken: making a key writes to the key table."""
    klass = quarantine_class(received_at)
    return klass, vault.keys([(SYSTEM, klass)], create=True).get((SYSTEM, klass))


def _aad(batch_id: str, row_number: int) -> bytes:
    return f"{batch_id}\x1f{row_number}".encode()


def seal_row(
    cipher: AESGCM | None, batch_id: str, row_number: int, raw: Mapping[str, Any], reasons: Sequence[str]
) -> tuple[str, str]:
    """A quarantined row's stored (raw, reasons): the base64 ciphertext of the row and its
    reasons ("" under a destroyed key: unreadable), and in the clear only the fields the reasons
    name (a reason may quote the value it refuses: a code, a date)."""
    fields = dumps([fields_of(r) for r in reasons])
    if cipher is None:
        return "", fields
    row: dict[str, Any] = json.loads(dumps(dict(raw)))  # as stored before: any value as text
    if len(dumps(row)) > MAX_ROW:  # kept whole or not at all: a cut row is not JSON
        row = {"row_too_long": len(dumps(row))}
    plain = dumps({"raw": row, "reasons": list(reasons)})
    return base64.b64encode(seal(cipher, plain.encode(), _aad(batch_id, row_number))).decode(), fields


def fields_of(reason: str) -> str:
    """The field a reason names ("occurred_on: ... is in the future" names ``occurred_on``)."""
    head, sep, _ = reason.partition(":")
    return head.strip() if sep and head.strip() and " " not in head.strip() else "row"


def open_rows(vault: Vault, rows: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """Stored quarantined rows as readers see them: ``raw`` the row as sent (None once its key
    was destroyed, with ``erased`` True) and ``reasons``; a row stored in the clear (before
    schema 0012) reads as it was."""
    rows = list(rows)
    classes = {m["klass"] for m in rows if m["klass"] is not None}
    ciphers = vault.keys([(SYSTEM, k) for k in classes]) if classes else {}
    out = []
    for m in rows:
        raw: Any
        reasons = json.loads(m["reasons"])
        if m["klass"] is None:
            raw = json.loads(m["raw"])
        else:
            cipher = ciphers.get((SYSTEM, m["klass"]))
            if cipher is None or not m["raw"]:
                raw = None  # erased: the reasons read as the fields they named
            else:
                blob = base64.b64decode(m["raw"])
                opened = json.loads(unseal(cipher, blob, _aad(m["batch_id"], m["row_number"])))
                raw, reasons = opened["raw"], opened["reasons"]
        out.append({**m, "raw": raw, "erased": raw is None, "reasons": reasons})
    return out


def due(classes: Iterable[str], today: dt.date) -> list[str]:
    """Of these quarantine classes, those whose month ended more than :data:`KEEP_DAYS` ago."""
    out = []
    for klass in classes:
        year, month = (int(x) for x in klass.removeprefix(PREFIX).split("-"))
        first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
        if first_of_next + dt.timedelta(days=KEEP_DAYS) <= today:
            out.append(klass)
    return out


def has_clear(engine: Engine) -> bool:
    """Whether any quarantined row is stored in the clear (from before schema 0012)."""
    with engine.connect() as conn:
        q = select(t.quarantine.c.id).where(t.quarantine.c.klass.is_(None)).limit(1)
        return conn.execute(q).first() is not None


def seal_clear(engine: Engine, vault: Vault) -> int:
    """Seal, once (at the first open after schema 0012), every quarantined row stored in the
    clear, under the key of the month its batch was received; returns how many. Not in the
    revision: it needs the key store, which the revision's one connection cannot reach."""
    q, b = t.quarantine.c, t.batches.c
    with engine.connect() as conn:
        found = list(
            conn.execute(
                select(q.id, q.batch_id, q.row_number, q.raw, q.reasons, b.received_at)
                .join_from(t.quarantine, t.batches, q.batch_id == b.batch_id)
                .where(q.klass.is_(None))
            ).mappings()
        )
    changes = []
    for m in found:
        klass, cipher = cipher_for(vault, m["received_at"])
        try:
            sent = json.loads(m["raw"])
        except ValueError:  # a row cut at 20,000 characters by an older release
            sent = {"row_too_long": len(m["raw"])}
        raw, reasons = seal_row(cipher, m["batch_id"], m["row_number"], sent, json.loads(m["reasons"]))
        changes.append({"i": m["id"], "v_raw": raw, "v_reasons": reasons, "v_klass": klass})
    if changes:
        with engine.begin() as conn:
            conn.execute(
                update(t.quarantine)
                .where(t.quarantine.c.id == bindparam("i"))
                .values(raw=bindparam("v_raw"), reasons=bindparam("v_reasons"), klass=bindparam("v_klass")),
                changes,
            )
    return len(changes)
