"""Scheme versions in the store: every scheme file ever put in force, kept by its content hash.

Why: a decision's receipt names the scheme files it was computed under by hash; to compute it
again after a scheme was revised, the old file must still be at hand. Keeping is idempotent (a
hash already kept is left as it is, with the moment it was first in force).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from socialcredit.store import tables as t
from socialcredit.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class SchemeVersion:
    content_hash: str
    scheme_id: str
    version: str
    effective_from: dt.date | None
    first_in_force_at: dt.datetime
    yaml: str


class SchemeVersionStore(StoreBase):
    """Keep scheme versions and read them back by hash."""

    def keep_scheme_versions(self, versions: Iterable[SchemeVersion]) -> int:
        """Keep the versions not kept yet; returns how many were new."""
        wanted = {v.content_hash: v for v in versions}
        if not wanted:
            return 0
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    have = set(
                        conn.execute(
                            select(t.scheme_versions.c.content_hash).where(
                                t.scheme_versions.c.content_hash.in_(list(wanted))
                            )
                        ).scalars()
                    )
                    new = [v for h, v in wanted.items() if h not in have]
                    if new:
                        conn.execute(t.scheme_versions.insert(), [_row(v) for v in new])
                return len(new)
            except IntegrityError:
                # another process or thread kept the same versions between the read and the
                # insert (two first decisions at once); a version is its content, so theirs is
                # ours: read again and keep only what is still missing
                if attempt == 2:
                    raise
        return 0

    def scheme_versions(self, hashes: Iterable[str] | None = None) -> list[SchemeVersion]:
        """The kept versions (those of ``hashes``), oldest in force first."""
        q = select(t.scheme_versions).order_by(t.scheme_versions.c.first_in_force_at)
        if hashes is not None:
            q = q.where(t.scheme_versions.c.content_hash.in_(list(hashes)))
        with self.reader.connect() as conn:
            return [SchemeVersion(**dict(m)) for m in conn.execute(q).mappings()]


def _row(v: SchemeVersion) -> dict[str, object]:
    return {
        "content_hash": v.content_hash,
        "scheme_id": v.scheme_id,
        "version": v.version,
        "effective_from": v.effective_from,
        "first_in_force_at": v.first_in_force_at,
        "yaml": v.yaml,
    }
