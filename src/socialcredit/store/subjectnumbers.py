"""Subject numbers for ledger exports, assigned and read in the database.

An export gives every subject a dense integer (``subject_no``), which the population job groups
on instead of an 18-character code (docs/benchmarks.md). The numbers must stay the same from one
incremental export to the next, because earlier generations' files hold them. Until export
version 6 the export kept the map from code to number in Python dictionaries and rewrote it whole
on every run. That is fine for a city, but for 1.4 billion subjects it means about a hundred
gigabytes of dictionaries.

Here the map is a table (``subject_numbers``). Each export numbers, in one statement each, the
registered subjects and the subjects of the records it is about to write that have no number yet.
The records' pages read their numbers by a join, and each run writes the subjects it numbered
from the table a page at a time (``subjects.parquet/from-N.parquet``). So the export's memory no
longer grows with the population.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exists, func, literal, select
from sqlalchemy.engine import Connection

from socialcredit.store import tables as t
from socialcredit.store.sql import Store

PAGE = 500_000
"""Rows per page when subjects (and representatives) are read for an export's side files."""

_TOP = select(func.coalesce(func.max(t.subject_numbers.c.subject_no), -1))
"""The highest number given so far (-1: none); numbers are dense, so one less than how many."""


def number_subjects(store: Store, start: int, count: int) -> int:
    """Number every registered subject and every subject of the records at ledger positions
    ``start + 1 .. count`` that has no number yet, after the highest number given so far, and
    return how many subjects are numbered in all.

    Registered subjects are numbered in code order, then the records' subjects in the order of
    their first record. Each is numbered with the kind it is registered as, or that its first
    record names. One write transaction: two exports running at once cannot both hand out the
    same number (SQLite takes the write lock at BEGIN; PostgreSQL locks the table)."""
    n, r = t.subject_numbers, t.records
    with store.engine.begin() as conn:
        store.dialect.lock_table(conn, "subject_numbers")
        _number_registered(store, conn)
        first = (
            select(
                r.c.subject.label("code"),
                func.min(r.c.subject_kind).label("kind"),
                func.min(r.c.seq).label("first"),
            )
            .where(r.c.seq > start, r.c.seq <= count, r.c.sealed.is_(None))
            .group_by(r.c.subject)
            .subquery()
        )
        unseen = select(first).where(~exists().where(n.c.code == first.c.code)).subquery()
        top = conn.execute(_TOP).scalar_one()
        numbered = select(
            (literal(int(top)) + func.row_number().over(order_by=unseen.c.first)).label("subject_no"),
            unseen.c.code,
            unseen.c.kind,
        )
        conn.execute(n.insert().from_select(["subject_no", "code", "kind"], numbered))
        _number_sealed(store, conn, start, count)
        return int(conn.execute(_TOP).scalar_one()) + 1


def _number_registered(store: Store, conn: Connection) -> None:
    """Number the registered subjects that have no number yet, in code order: their codes are
    sealed in ``subjects`` (decision 0074), so they are opened here rather than selected."""
    n = t.subject_numbers
    registered = {r.code: r.kind for r in store.subject_rows()}
    names = sorted(registered)
    have: set[str] = set()
    for i in range(0, len(names), 500):
        part = names[i : i + 500]
        have |= {c for (c,) in conn.execute(select(n.c.code).where(n.c.code.in_(part)))}
    top = int(conn.execute(_TOP).scalar_one())
    rows = []
    for code in names:
        if code not in have:
            top += 1
            rows.append({"subject_no": top, "code": code, "kind": registered[code]})
    if rows:
        conn.execute(n.insert(), rows)


def _number_sealed(store: Store, conn: Connection, start: int, count: int) -> None:
    """Number the subjects of the sealed records in ``start + 1 .. count`` (a pseudonym in the
    table, the code in the ciphertext: ``store/sealedrows.py``) that have no number yet, in the
    order of their first record. Erased subjects (no live key) get none: they are not exported."""
    n, r = t.subject_numbers, t.records
    firsts = conn.execute(
        select(r.c.subject, func.min(r.c.subject_kind), func.min(r.c.seq))
        .where(r.c.seq > start, r.c.seq <= count, r.c.sealed.is_not(None))
        .group_by(r.c.subject)
        .order_by(func.min(r.c.seq))
    ).all()
    if not firsts:
        return
    codes = store.code_map(conn, [p for p, _, _ in firsts])
    fresh: dict[str, str] = {}
    for p, kind, _ in firsts:
        if p in codes:
            fresh.setdefault(codes[p], kind)
    numbered_codes: set[str] = set()
    names = list(fresh)
    for i in range(0, len(names), 500):
        part = names[i : i + 500]
        numbered_codes |= {c for (c,) in conn.execute(select(n.c.code).where(n.c.code.in_(part)))}
    top = int(conn.execute(_TOP).scalar_one())
    rows = []
    for code, kind in fresh.items():
        if code not in numbered_codes:
            top += 1
            rows.append({"subject_no": top, "code": code, "kind": kind})
    if rows:
        conn.execute(n.insert(), rows)


def numbered(store: Store) -> int:
    """How many subjects have a number (the numbers are ``0 .. numbered - 1``)."""
    with store.reader.connect() as conn:
        return int(conn.execute(_TOP).scalar_one()) + 1


def subject_number_pages(
    store: Store, page: int | None = None, first: int = 0, end: int | None = None
) -> Iterator[list[tuple[str, str, int]]]:
    """Every subject numbered from ``first`` up to, not including, ``end`` (default: all) as
    ``(code, kind, subject_no)``, in number order, ``page`` (default :data:`PAGE`) at a time:
    keyset pages on the primary key, each read in a transaction of its own."""
    page = PAGE if page is None else page
    n = t.subject_numbers
    after = first - 1
    while True:
        q = (
            select(n.c.code, n.c.kind, n.c.subject_no)
            .where(n.c.subject_no > after, n.c.subject_no < (end if end is not None else 2**62))
            .order_by(n.c.subject_no)
            .limit(page)
        )
        with store.reader.connect() as conn:
            rows = [(str(c), str(k), int(no)) for c, k, no in conn.execute(q)]
        if not rows:
            return
        yield rows
        after = rows[-1][2]
