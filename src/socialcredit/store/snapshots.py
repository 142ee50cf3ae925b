"""The public pages' snapshot: the last full rescore's public lists, census, transparency report
and late removals, kept so a freshly started server serves them at once, labelled with the moment
they describe, instead of scanning the population on its first request (issue 20 point 6,
docs/decisions/0049-public-pages-from-state.md).

Why a row of JSON and not a table per page: the snapshot is read whole, once per process start,
and replaced whole by each rescore; it is derived state (in no chain), so replacing it edits no
evidence. Its heads and scheme fingerprint say what it was computed from.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from socialcredit.store import tables as t
from socialcredit.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A kept snapshot: the valid time it describes, the record and case chains' lengths and the
    schemes (a fingerprint of their content hashes) it was computed from, and its payload."""

    name: str
    as_of: dt.datetime
    records_head: int
    cases_head: int
    schemes: str
    payload: dict[str, Any]


class SnapshotStore(StoreBase):
    """Keep and read the public pages' snapshot."""

    def save_snapshot(self, snapshot: Snapshot) -> bool:
        """Replace the snapshot of that name, unless the one kept describes a later moment (one
        transaction: a reader sees the old or the new); whether it was kept. Workers started
        together each rescore and save: the later moment wins, and two saving at once retry."""
        row = {
            "name": snapshot.name,
            "as_of": snapshot.as_of,
            "records_head": snapshot.records_head,
            "cases_head": snapshot.cases_head,
            "schemes": snapshot.schemes,
            "payload": json.dumps(snapshot.payload, ensure_ascii=False, separators=(",", ":"), default=str),
        }
        named = t.public_snapshots.c.name == snapshot.name
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    kept = conn.execute(select(t.public_snapshots.c.as_of).where(named)).scalar()
                    if kept is not None and kept > snapshot.as_of:
                        return False
                    conn.execute(t.public_snapshots.delete().where(named))
                    conn.execute(t.public_snapshots.insert().values(**row))
                return True
            except IntegrityError:  # another process inserted between our delete and insert
                if attempt == 2:
                    raise
        return False

    def snapshot(self, name: str) -> Snapshot | None:
        """The kept snapshot of that name, if any: one indexed read."""
        with self.reader.connect() as conn:
            row = conn.execute(select(t.public_snapshots).where(t.public_snapshots.c.name == name)).first()
        if row is None:
            return None
        m = row._mapping
        return Snapshot(
            str(m["name"]),
            m["as_of"],
            int(m["records_head"]),
            int(m["cases_head"]),
            str(m["schemes"]),
            json.loads(m["payload"]),
        )

    def snapshot_mark(self, name: str) -> tuple[dt.datetime, int, int, str] | None:
        """What the kept snapshot of that name describes (its moment, chain lengths and schemes),
        without its payload: one small indexed read, so a worker following the snapshots another
        process writes (decision 0087) reads the payload only when it changed."""
        c = t.public_snapshots.c
        with self.reader.connect() as conn:
            row = conn.execute(
                select(c.as_of, c.records_head, c.cases_head, c.schemes).where(c.name == name)
            ).first()
        if row is None:
            return None
        return row[0], int(row[1]), int(row[2]), str(row[3])

    def snapshots(self) -> list[Snapshot]:
        """Every kept snapshot (a purge judges each by the records it was computed from)."""
        with self.reader.connect() as conn:
            names = list(conn.execute(select(t.public_snapshots.c.name)).scalars())
        return [s for s in map(self.snapshot, names) if s is not None]

    def drop_snapshot(self, name: str) -> bool:
        """Forget the snapshot of that name (it names content erased since it was computed): a
        server started next rescores before serving, as after a first start; whether one was kept."""
        with self.engine.begin() as conn:
            gone = conn.execute(t.public_snapshots.delete().where(t.public_snapshots.c.name == name))
        return bool(gone.rowcount)
