"""Which of a subject's records were erased, and how: what the subject view shows as "erased on D
under rule R" (issue 21). Read without any data key: the subject's pseudonym (its key is never
erased) finds its sealed rows, and the erasure log (kept with the keys) says which of their
(pseudonym, year) keys were destroyed, when and under what rule."""

from __future__ import annotations

from socialcredit.shredding import ErasedRecord
from socialcredit.store.base import StoreBase
from socialcredit.store.sealedrows import Sealing


class ErasedReads(StoreBase):
    """The erased records of one subject (a part of ``Store``; ``sealing`` is the record store's)."""

    sealing: Sealing

    def erased_records(self, code: str) -> list[ErasedRecord]:
        """The subject's records whose data key was destroyed, in ledger order."""
        pseudonym = self.sealing.pseudonym(code)
        # the driver's SQL: this read is part of every audited subject view (decision 0062)
        sql = (
            "SELECT record_id, klass FROM records WHERE subject = "
            f"{self.dialect.mark} AND sealed IS NOT NULL ORDER BY seq"
        )
        with self.reader.connect() as conn:
            rows = list(conn.exec_driver_sql(sql, (pseudonym,)))
        if not rows:
            return []
        vault = self.sealing.vault
        pairs = sorted({(pseudonym, klass) for _, klass in rows})
        # only a key that is not live can be erased: the view just read opened these keys (so
        # they are cached and this costs no read), and a destroyed key leaves the cache at once
        # (``Vault.erase``); the erasure log is read only for the rest (decision 0062)
        live = vault.keys(pairs)
        gone = [pair for pair in pairs if pair not in live]
        erased = vault.store.erasures_of(gone) if gone else {}
        return [
            ErasedRecord(rid, e.at, e.rule) for rid, klass in rows if (e := erased.get((pseudonym, klass)))
        ]
