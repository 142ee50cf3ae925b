"""The subject registry's concern in the store: registrations and legal representatives.

Why apart from the ledger: the registry is not a chain; a new legal representative replaces the
old one. A change still moves the ``registry`` row of ``chain_heads`` in the same transaction, so
caches in every process see it as they see a new record (``store/markers.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping

from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, REGISTRY_MARKER, StoreBase
from socialcredit.subjects import SubjectRow


class SubjectStore(StoreBase):
    """Register subjects, read them, and who represents which organisation."""

    def upsert_subjects(self, rows: Sequence[SubjectRow], at: dt.datetime) -> tuple[int, int, int]:
        """Register subjects or update their registration; returns (added, updated, unchanged).
        (The registry is not the ledger: a new legal representative replaces the old one.)"""
        if not rows:
            return 0, 0, 0
        latest = {r.code: r for r in rows}
        added = updated = unchanged = 0
        with self.engine.begin() as conn:
            codes = list(latest)
            have: dict[str, SubjectRow] = {}
            for i in range(0, len(codes), CHUNK):
                for m in conn.execute(
                    select(t.subjects).where(t.subjects.c.code.in_(codes[i : i + CHUNK]))
                ).mappings():
                    have[m["code"]] = _subject(m)
            new = []
            for code, r in latest.items():
                old = have.get(code)
                if old is None:
                    new.append({**asdict(r), "registered_at": at})
                    added += 1
                elif old == r:
                    unchanged += 1
                else:
                    conn.execute(update(t.subjects).where(t.subjects.c.code == code).values(**asdict(r)))
                    updated += 1
            if new:
                conn.execute(t.subjects.insert(), new)
            if added or updated:  # in the same transaction: the marker moves exactly when they land
                conn.execute(
                    update(t.chain_heads)
                    .where(t.chain_heads.c.chain == REGISTRY_MARKER)
                    .values(count=t.chain_heads.c.count + 1, head=at.isoformat())
                )
        return added, updated, unchanged + len(rows) - len(latest)

    def subject(self, code: str) -> SubjectRow | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.subjects).where(t.subjects.c.code == code)).mappings().first()
        return _subject(m) if m is not None else None

    def represented_by(self, person: str) -> list[str]:
        """Organisations whose legal representative is ``person``."""
        with self.reader.connect() as conn:
            return [
                c
                for (c,) in conn.execute(
                    select(t.subjects.c.code).where(t.subjects.c.legal_representative == person)
                )
            ]

    def representatives(self) -> dict[str, str]:
        """Organisation code -> legal representative code, for population runs."""
        with self.reader.connect() as conn:
            return {
                o: p
                for o, p in conn.execute(
                    select(t.subjects.c.code, t.subjects.c.legal_representative).where(
                        t.subjects.c.legal_representative.is_not(None)
                    )
                )
            }

    def subject_rows(self) -> list[SubjectRow]:
        with self.reader.connect() as conn:
            return [_subject(m) for m in conn.execute(select(t.subjects)).mappings()]


def _subject(m: RowMapping) -> SubjectRow:
    return SubjectRow(
        m["code"],
        m["kind"],
        m["name"],
        m["sex"],
        m["district"],
        m["legal_representative"],
        m["representative_since"],
    )
