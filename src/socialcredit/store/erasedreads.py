"""Which of a subject's records were erased, and how: what the subject view shows as "erased on D
under rule R" (issue 21). Read without any data key: the subject's pseudonym (its key is never
erased) finds its sealed rows, and the erasure log (kept with the keys) says which of their
(pseudonym, year) keys were destroyed, when and under what rule."""

from __future__ import annotations

from sqlalchemy import select

from socialcredit.shredding import ErasedRecord
from socialcredit.store import tables as t
from socialcredit.store.base import StoreBase
from socialcredit.store.sealedrows import Sealing


class ErasedReads(StoreBase):
    """The erased records of one subject (a part of ``Store``; ``sealing`` is the record store's)."""

    sealing: Sealing

    def erased_records(self, code: str) -> list[ErasedRecord]:
        """The subject's records whose data key was destroyed, in ledger order."""
        r = t.records.c
        pseudonym = self.sealing.pseudonym(code)
        with self.reader.connect() as conn:
            rows = list(
                conn.execute(
                    select(r.record_id, r.klass)
                    .where(r.subject == pseudonym, r.sealed.is_not(None))
                    .order_by(r.seq)
                )
            )
        if not rows:
            return []
        vault = self.sealing.vault
        pairs = sorted({(pseudonym, klass) for _, klass in rows})
        erased = vault.store.erasures_of(pairs)
        return [
            ErasedRecord(rid, e.at, e.rule) for rid, klass in rows if (e := erased.get((pseudonym, klass)))
        ]
