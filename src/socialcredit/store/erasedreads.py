"""Which of a subject's records were erased, and how: what the subject view shows as "erased on D
under rule R" (issue 21). Read without any data key: the subject's pseudonym (its key is never
erased) finds its sealed rows, and the erasure log (kept with the keys) says which of their
(pseudonym, year) keys were destroyed, when and under what rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from socialcredit.shredding import ErasedRecord, ErasureRead, KeyRead
from socialcredit.store.base import StoreBase
from socialcredit.store.datakeys import Run
from socialcredit.store.sealedrows import Sealing


class ErasedReads(StoreBase):
    """The erased records of one subject (a part of ``Store``; ``sealing`` is the record store's)."""

    sealing: Sealing

    keys_through: Callable[[Run], tuple[KeyRead | None, ErasureRead | None]]  # SealedStore's

    def erased_records(self, code: str) -> list[ErasedRecord]:
        """The subject's records whose data key was destroyed, in ledger order: its sealed rows
        and their keys read in one transaction (the driver's SQL: part of an audited subject
        view whose view was cached, decision 0062), the erasure log asked only about the keys
        not live, so usually not at all (``Sealing.erased_in``, as a view computed now does)."""
        pseudonym = self.sealing.pseudonym(code)
        sql = (
            f"SELECT record_id, klass FROM records WHERE subject = {self.dialect.mark} AND sealed IS NOT NULL"
        )
        with self.dialect.raw_read(self.reader) as cur:

            def run(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                cur.execute(sql, tuple(params))
                return list(cur.fetchall())

            rows = [
                {"record_id": rid, "subject": pseudonym, "klass": klass, "sealed": True}
                for rid, klass in run(f"{sql} ORDER BY seq", (pseudonym,))
            ]
            return self.sealing.erased_in(rows, *self.keys_through(run))
