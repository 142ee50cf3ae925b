"""Subject numbers for ledger exports, assigned and read in the database.

An export gives every subject a dense integer (``subject_no``), which the population job groups
on instead of an 18-character code (docs/benchmarks.md). The numbers must stay the same from one
incremental export to the next, because earlier generations' files hold them. Until export
version 6 the export kept the map from code to number in Python dictionaries and rewrote it whole
on every run. That is fine for a city, but for 1.4 billion subjects it means about a hundred
gigabytes of dictionaries.

Here the map is a table (``subject_numbers``), keyed by the subject's keyed pseudonym (the value
``records.subject`` holds, ``Sealing.pseudonym``), never by its code: a code kept in the clear
beside a number would be personal data outside the sealed records (issue 21, decision 0075). Each
export numbers the registered subjects and the subjects of the records it is about to write that
have no number yet; the records' pages read their numbers by a join on the pseudonym, and each
run writes the subjects it numbered from the table a page at a time
(``subjects.parquet/from-N.parquet``), their codes opened as the records' are. So the export's
memory no longer grows with the population.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import exists, func, literal, select
from sqlalchemy.engine import Connection

from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK
from socialcredit.store.sealedrows import is_pseudonym
from socialcredit.store.sql import Store

PAGE = 500_000
"""Rows per page when subjects (and representatives) are read for an export's side files."""

_TOP = select(func.coalesce(func.max(t.subject_numbers.c.subject_no), -1))
"""The highest number given so far (-1: none); numbers are dense, so one less than how many."""


def number_subjects(store: Store, start: int, count: int) -> int:
    """Number every registered subject and every subject of the records at ledger positions
    ``start + 1 .. count`` that has no number yet, after the highest number given so far, and
    return how many subjects are numbered in all.

    Registered subjects are numbered in pseudonym order, then the records' subjects in the order of
    their first record. Each is numbered with the kind it is registered as, or that its first
    record names. Erased subjects (every key of their records destroyed) get none: they are not
    exported. One write transaction: two exports running at once cannot both hand out the same
    number (SQLite takes the write lock at BEGIN; PostgreSQL locks the table)."""
    store.sealing.vault.keyed()  # made before the lock, if new: the key table is written apart
    with store.engine.begin() as conn:
        store.dialect.lock_table(conn, "subject_numbers")
        top = int(conn.execute(_TOP).scalar_one())
        top = _number_registered(store, conn, top)
        _number_recorded(store, conn, start, count, top)
        return int(conn.execute(_TOP).scalar_one()) + 1


def _number_registered(store: Store, conn: Connection, top: int) -> int:
    """Number the registered subjects without a number, in pseudonym order, after ``top``;
    return the highest number now given. One anti-join in SQL: the registry names subjects by
    the same keyed pseudonym as this table (decisions 0074, 0075), so no code is opened."""
    s, n = t.subjects.c, t.subject_numbers
    unseen = select(s.subject, s.kind).where(~exists().where(n.c.subject == s.subject)).subquery()
    numbered = select(
        (literal(top) + func.row_number().over(order_by=unseen.c.subject)).label("subject_no"),
        unseen.c.subject,
        unseen.c.kind,
    )
    conn.execute(n.insert().from_select(["subject_no", "subject", "kind"], numbered))
    return int(conn.execute(_TOP).scalar_one())


def _number_recorded(store: Store, conn: Connection, start: int, count: int, top: int) -> None:
    """Number the subjects of the records in ``start + 1 .. count`` that have no number yet, in
    the order of their first record. A sealed record's subject is its pseudonym already; one
    stored in the clear (before schema 0006) names its code, hashed here. A subject is numbered
    if a key of its records' classes is live (read from the key table, no record opened)."""
    r = t.records.c
    firsts = conn.execute(
        select(r.subject, r.klass, func.min(r.subject_kind), func.min(r.seq))
        .where(r.seq > start, r.seq <= count)
        .group_by(r.subject, r.klass)
    ).all()
    if not firsts:
        return
    sealed = [(str(p), str(k)) for p, k, _, _ in firsts if k is not None and is_pseudonym(str(p))]
    live = store.sealing.vault.keys(sealed) if sealed else {}
    fresh: dict[str, tuple[int, str]] = {}
    for subject, klass, kind, first in firsts:
        if klass is not None and is_pseudonym(str(subject)):
            if (subject, klass) not in live:
                continue  # erased: its records are not exported
            p = str(subject)
        else:
            p = store.sealing.pseudonym(str(subject))
        seen = fresh.get(p)
        if seen is None or int(first) < seen[0]:
            fresh[p] = (int(first), str(kind))
    known = _numbered(conn, fresh)
    rows = []
    for p, (_, kind) in sorted(fresh.items(), key=lambda item: item[1][0]):
        if p not in known:
            top += 1
            rows.append({"subject_no": top, "subject": p, "kind": kind})
    if rows:
        conn.execute(t.subject_numbers.insert(), rows)


def _numbered(conn: Connection, pseudonyms: Iterable[str]) -> set[str]:
    """Which of these pseudonyms have a number, read by the unique index a part at a time."""
    n, names, out = t.subject_numbers.c, list(pseudonyms), set()
    for i in range(0, len(names), CHUNK):
        out |= {str(p) for (p,) in conn.execute(select(n.subject).where(n.subject.in_(names[i : i + CHUNK])))}
    return out


def numbered(store: Store) -> int:
    """How many subjects have a number (the numbers are ``0 .. numbered - 1``)."""
    with store.reader.connect() as conn:
        return int(conn.execute(_TOP).scalar_one()) + 1


def codes_of(store: Store, conn: Connection, pseudonyms: Iterable[str]) -> dict[str, str]:
    """The code of each of these numbered subjects' pseudonyms: from the store's cache or one of
    the subject's records (``code_map``), else (a subject registered with no record) from the
    registry, read by the same pseudonym and opened (``registered_codes``, decision 0086)."""
    wanted = list(dict.fromkeys(pseudonyms))
    out = store.code_map(conn, wanted)
    left = [p for p in wanted if p not in out]
    if left:
        out.update(store.registered_codes(conn, left))
    return out


def subject_number_pages(
    store: Store, page: int | None = None, first: int = 0, end: int | None = None
) -> Iterator[list[tuple[str, str, int]]]:
    """Every subject numbered from ``first`` up to, not including, ``end`` (default: all) as
    ``(code, kind, subject_no)``, in number order, ``page`` (default :data:`PAGE`) at a time:
    keyset pages on the primary key, each read in a transaction of its own. A subject whose code
    can no longer be opened (erased since it was numbered) is left out."""
    page = PAGE if page is None else page
    n = t.subject_numbers
    after = first - 1
    while True:
        q = (
            select(n.c.subject, n.c.kind, n.c.subject_no)
            .where(n.c.subject_no > after, n.c.subject_no < (end if end is not None else 2**62))
            .order_by(n.c.subject_no)
            .limit(page)
        )
        with store.reader.connect() as conn:
            rows = [(str(p), str(k), int(no)) for p, k, no in conn.execute(q)]
            if not rows:
                return
            codes = codes_of(store, conn, [p for p, _, _ in rows])
        yield [(codes[p], k, no) for p, k, no in rows if p in codes]
        after = rows[-1][2]
