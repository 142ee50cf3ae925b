"""The register of files the system writes outside its database that hold personal content:
ledger exports (``socialcredit export``) and rescore outputs (``rescore --out``), so that the
retention run can purge those made before an erasure (issue 21 point 2, decision 0055).

Why a register and not a sweep of known places: an export goes wherever the operator points it,
and only the system knows which files it wrote and from how much of the ledger. Each row says
what a purge needs to judge a file without opening it: how far the records chain went
(``chain_count``: the file can hold records up to that position) and how long the erasure log
was (``erasures_seen``: every erasure logged after that position came after the file was made).

Why beside the keys and the erasure log (the key store's database), not in the ledger's schema:
a restore replaces the ledger, and a restored ledger's register would forget the files written
since its backup, which the replayed erasures must still purge. Like the key tables, the table
is created here, on open, not by the ledger's migrations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    func,
    select,
    tuple_,
)

from socialcredit.shredding import Erasure
from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, StoreBase
from socialcredit.store.sealedrows import Sealing

metadata = MetaData()

exports = Table(
    "exports",
    metadata,
    Column("path", Text, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("written_at", DateTime, nullable=False),
    Column("chain_count", Integer, nullable=False),
    Column("erasures_seen", Integer, nullable=False),
)

KINDS = ("ledger", "scores")
"""A ledger export (a directory with a manifest) or an engine's output (scores, list entries)."""


@dataclass(frozen=True, slots=True)
class Export:
    """One file or directory the system wrote: where, what, when, from records up to
    ``chain_count``, after the first ``erasures_seen`` erasures of the log."""

    path: str
    kind: str
    written_at: dt.datetime
    chain_count: int
    erasures_seen: int


class ExportLog:
    """Register, list and forget the files the system wrote (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine, checkfirst=True)

    def register(self, export: Export) -> None:
        """Keep ``export``, replacing what the register said of the same path: a path rewritten
        holds only what was written last."""
        if export.kind not in KINDS:
            raise ValueError(f"kind: {export.kind!r} is not one of {', '.join(KINDS)}")
        row = {**_row(export), "path": _key(export.path)}
        with self.engine.begin() as conn:
            conn.execute(exports.delete().where(exports.c.path == row["path"]))
            conn.execute(exports.insert().values(**row))

    def registered(self, path: str | Path) -> Export | None:
        """What the register says of ``path``, if anything."""
        with self.engine.connect() as conn:
            m = conn.execute(select(exports).where(exports.c.path == _key(path))).mappings().first()
        return None if m is None else _export(m)

    def exports(self) -> list[Export]:
        """Every registered file, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(exports).order_by(exports.c.written_at, exports.c.path)).mappings()
            return [_export(m) for m in rows]

    def forget(self, path: str | Path) -> None:
        """Drop ``path`` from the register (it was purged, or is gone)."""
        with self.engine.begin() as conn:
            conn.execute(exports.delete().where(exports.c.path == _key(path)))


class ExportReads(StoreBase):
    """What a purge asks the ledger about an export, and a receipt about its subject's erased
    records, without any key."""

    sealing: Sealing  # ``RecordStore``'s, beside it

    def erasures_within(self, code: str, count: int, *, pseudonym: str | None = None) -> list[Erasure]:
        """The erasures of ``code``'s records among the first ``count`` of the chain (what a
        decision answered at that position rested on), oldest first; by ``pseudonym`` when
        given (an audit entry whose subject's code was erased keeps only that: decision 0060)."""
        r = t.records.c
        pseudonym = pseudonym or self.sealing.pseudonym(code)
        q = select(r.klass).where(r.subject == pseudonym, r.seq <= count, r.sealed.is_not(None)).distinct()
        with self.reader.connect() as conn:
            classes = [str(k) for k in conn.execute(q).scalars()]
        if not classes:
            return []
        found = self.sealing.vault.store.erasures_of([(pseudonym, k) for k in classes])
        return sorted(found.values(), key=lambda e: (e.at, e.klass))

    def first_seq_under(self, pairs: Sequence[tuple[str, str]]) -> int | None:
        """The chain position of the first record sealed under any of these (pseudonym, class)
        keys, or None: a file made from the records up to a position before it holds none of
        them (what a purge judges an export by, without opening it)."""
        wanted, first = sorted(set(pairs)), None
        r = t.records.c
        with self.reader.connect() as conn:
            for i in range(0, len(wanted), CHUNK // 2):
                part = wanted[i : i + CHUNK // 2]
                q = select(func.min(r.seq)).where(tuple_(r.subject, r.klass).in_(part))
                found = conn.execute(q).scalar()
                if found is not None and (first is None or found < first):
                    first = int(found)
        return first


def _key(path: str | Path) -> str:
    """A path as the register keys it: absolute, so ``./out`` and its full name are one file."""
    return str(Path(path).resolve())


def _row(e: Export) -> dict[str, object]:
    return {
        "path": e.path,
        "kind": e.kind,
        "written_at": e.written_at,
        "chain_count": e.chain_count,
        "erasures_seen": e.erasures_seen,
    }


def _export(m: RowMapping) -> Export:
    at = m["written_at"]
    return Export(
        str(m["path"]),
        str(m["kind"]),
        at.replace(tzinfo=None) if at.tzinfo is not None else at,
        int(m["chain_count"]),
        int(m["erasures_seen"]),
    )
