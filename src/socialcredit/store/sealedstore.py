"""The store's side of sealed records: its vault, and the reads that need no data key or only
the store's one decryption (issue 21). Split from ``store/records.py`` (decision 0062), which
keeps batches, the append path and record reads.

Why the key table's engine is opened here: keys live apart from the ledger (decision 0046); by
default beside it in the same database, or in ``SOCIALCREDIT_KEYS_URL``'s, and then this store
closes that engine with its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from socialcredit import ledger
from socialcredit.ledger import Record
from socialcredit.settings import get_settings
from socialcredit.shredding import Erasure, ErasureRead, KeyRead, MasterKey, Vault
from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, StoreBase
from socialcredit.store.datakeys import Run, SqlKeyStore
from socialcredit.store.exportlog import ExportLog
from socialcredit.store.sealedrows import Sealing, is_pseudonym


@dataclass(frozen=True)
class HelperVault:
    """What ingest's helper process needs to encrypt chunks as this store does (decision 0069):
    the key table's database and the master keys. It crosses to the helper over a pipe of this
    process's own, to a child that already inherits the master key's setting; the helper makes
    new data keys in the key table exactly as :meth:`Vault.keys` does here (first writer wins)."""

    keys_url: str
    master: MasterKey
    previous: tuple[MasterKey, ...]

    def sealing(self) -> Sealing:
        """This process's :class:`Sealing` over the key table (made once per process)."""
        found = _HELPER_SEALINGS.get(self)
        if found is None:
            vault = Vault(SqlKeyStore(self.keys_url), self.master, self.previous)
            found = _HELPER_SEALINGS[self] = Sealing(vault)
        return found


_HELPER_SEALINGS: dict[HelperVault, Sealing] = {}


class SealedStore(StoreBase):
    """The vault (``sealing``), the export register kept beside the erasure log, opening stored
    rows, and what subjects, keys and erasures the ledger's rows name."""

    def __init__(self, url: str, *, cache_mib: int | None = None, vault: Vault | None = None) -> None:
        super().__init__(url, cache_mib=cache_mib)
        self.sealing = Sealing(vault or self._default_vault())
        keys = self.sealing.vault.store  # the export register lives beside the erasure log
        self.exports = ExportLog(keys.engine if isinstance(keys, SqlKeyStore) else self.engine)

    def _default_vault(self) -> Vault:
        """The installation's vault: the key table in ``SOCIALCREDIT_KEYS_URL`` or beside the
        ledger, the master key from the settings (``shredding.master_key``)."""
        settings = get_settings()
        keys = SqlKeyStore(settings.keys_url) if settings.keys_url else SqlKeyStore(engine=self.engine)
        return Vault(keys, settings.master(), settings.previous_masters())

    def stored_record_id(self, source: str, source_record_id: str) -> str:
        """The id the ledger holds the record ``source`` gave this reference under: its keyed id
        (decision 0080), or its unkeyed one (``ledger.record_id_for``) where it was stored before
        and only that is held. What a caller that has just sent a record names it by (the portal's
        "record accepted", objections and restorations upheld)."""
        keyed = self.sealing.record_id(source, source_record_id)
        old = ledger.record_id_for(source, source_record_id)
        with self.reader.connect() as conn:
            q = select(t.records.c.record_id).where(t.records.c.record_id.in_([keyed, old]))
            held = {r for (r,) in conn.execute(q)}
        return old if old in held and keyed not in held else keyed

    def helper_vault(self) -> HelperVault | None:
        """What a helper process needs to encrypt as this store does, or None where it cannot
        reach the same keys (a key store not in a database it can open: another kind, or SQLite
        in memory): the store then encrypts every chunk itself."""
        keys, vault = self.sealing.vault.store, self.sealing.vault
        if not isinstance(keys, SqlKeyStore):
            return None
        url = keys.engine.url
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return None
        previous = tuple(m for m in vault.masters() if m.key_id != vault.master.key_id)
        return HelperVault(url.render_as_string(hide_password=False), vault.master, previous)

    def stores_clear(self) -> bool:
        """Whether this store keeps records in the clear, and so needs each record's plain content
        hash: never since schema 0006 (every record is hashed in its sealed form,
        ``ledger.stored_preimage``), so ingest's validation skips computing it (decision 0081).
        ``bench/ingest.py``'s floor without encryption, which stores records in the clear as
        before schema 0006, says True."""
        return False

    def close(self) -> None:
        """Close the key table's own engine too, where it lives apart (``SOCIALCREDIT_KEYS_URL``);
        beside the ledger it shares this store's engine, which the base class disposes."""
        keys = self.sealing.vault.store
        if isinstance(keys, SqlKeyStore) and keys.engine is not self.engine:
            keys.close()
        super().close()

    def open_records(self, rows: Iterable[Mapping[Any, Any]], read: KeyRead | None = None) -> list[Record]:
        """Stored rows as records, decrypted; erased records (destroyed key) are left out.
        ``read`` reads the keys not cached (``Vault.keys``)."""
        return self.sealing.open_rows(rows, read)

    def keys_through(self, run: Run) -> tuple[KeyRead | None, ErasureRead | None]:
        """Reads of the key table and the erasure log through ``run`` (a reader's statements on
        a connection of this store's engine), where they are in this database (the default);
        else (None, None): the vault reads them as usual. Why: a subject's view then reads its
        keys and, when one is gone, the log in the snapshot it reads its records in, not on a
        connection and transaction of their own each (decision 0076)."""
        keys = self.sealing.vault.store
        if not isinstance(keys, SqlKeyStore) or not keys.shares(self.engine):
            return None, None
        return (  # the subject's every key: its audit entry and case events then read none (0076)
            lambda pairs: keys.wrapped_keys(pairs, run, whole=True),
            lambda pairs: keys.erasures_of(pairs, run),
        )

    def sealed_groups(self) -> dict[tuple[str, str], list[tuple[str, str, dt.date]]]:
        """Every (pseudonym, retention class) with sealed records, and its records' (id, item,
        day occurred): what ``retention run`` judges each data key by, read without any key."""
        out: dict[tuple[str, str], list[tuple[str, str, dt.date]]] = {}
        r = t.records.c
        with self.reader.connect() as conn:
            q = select(r.record_id, r.subject, r.klass, r.item, r.occurred_on).where(r.sealed.is_not(None))
            for rid, subject, klass, item, occurred in conn.execute(q):
                out.setdefault((subject, klass), []).append((rid, item, occurred))
        return out

    def erasure_of(self, record_id: str) -> Erasure | None:
        """How a record was erased (its key destroyed: on what day, under what rule), or None."""
        with self.reader.connect() as conn:
            row = conn.execute(
                select(t.records.c.subject, t.records.c.klass).where(
                    t.records.c.record_id == record_id, t.records.c.sealed.is_not(None)
                )
            ).first()
        if row is None:
            return None
        return self.sealing.vault.erased().get((row[0], row[1]))

    def subject_keys(self, code: str) -> list[str]:
        """What ``records.subject`` holds for this subject: its pseudonym, and its code for the
        rows stored in the clear before schema 0006."""
        return [self.sealing.pseudonym(code), code]

    def codes_of(self, conn: Connection, values: Iterable[str]) -> set[str]:
        """The subject codes of these ``records.subject`` values: a code stays itself, a pseudonym
        is opened from one of its records (one whose key is not destroyed; a subject every key of
        which was destroyed is erased and left out)."""
        return set(self.code_map(conn, values).values())

    def code_map(self, conn: Connection, values: Iterable[str]) -> dict[str, str]:
        """:meth:`codes_of` as a map from each ``records.subject`` value to its code."""
        out: dict[str, str] = {}
        wanted = set()
        for v in values:
            if not is_pseudonym(v):
                out[v] = v
            elif v in self.sealing.codes:
                out[v] = self.sealing.codes[v]
            else:
                wanted.add(v)
        part_list = sorted(wanted)
        for i in range(0, len(part_list), CHUNK):
            part = part_list[i : i + CHUNK]
            first = (
                select(func.min(t.records.c.seq))
                .where(t.records.c.subject.in_(part))
                .group_by(t.records.c.subject, t.records.c.klass)
            )
            rows = list(conn.execute(select(t.records).where(t.records.c.seq.in_(first))).mappings())
            self.open_records(rows)  # fills sealing.codes for every pseudonym with a live key
            out.update({p: self.sealing.codes[p] for p in part if p in self.sealing.codes})
        return out
