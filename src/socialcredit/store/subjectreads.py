"""Everything one subject's view is computed from, read in one snapshot on one connection.

Why: the view of a subject needs its records (and every correction touching them), the
organisations it legally represents or did (with its terms) and their records, its registration
and the case events of it and of those organisations. Through the store's general reads that is five to eight
statements, each checking a connection out of the pool and beginning and ending a transaction
through SQLAlchemy: about 0.3 ms apiece, most of a cold decision. Here the same statements run
on one raw DB-API connection inside one read transaction (so they also see one consistent
state), and rows become records directly. ``tests/test_views.py`` holds the result equal to the
store's general reads on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from socialcredit.dueprocess.cases import OBJECTION_KINDS, CaseEvent
from socialcredit.ledger import Record
from socialcredit.shredding import ErasedRecord, ErasureRead, KeyRead
from socialcredit.store.base import CHUNK
from socialcredit.store.records import RECORD_COLUMNS
from socialcredit.store.sealedcases import open_events
from socialcredit.store.sql import Store
from socialcredit.subjects import SubjectRow, Tenure

_RECORDS = ", ".join(RECORD_COLUMNS)
_CASE_NAMES = (
    *("case_id", "case_kind", "kind", "at", "subject", "key_id", "role", "payload", "seq"),
    *("klass", "sealed"),
)
_CASE_COLUMNS = ", ".join(_CASE_NAMES)
_SUBJECT_NAMES = ("subject", "kind", "legal_representative", "klass", "sealed", "registered_at")
_SUBJECT_COLUMNS = ", ".join(_SUBJECT_NAMES)
_TENURE_NAMES = ("organisation", "opened", "person", "valid_from", "valid_to", "closed", "klass", "sealed")
_TENURE_COLUMNS = ", ".join(_TENURE_NAMES)


@dataclass(frozen=True, slots=True)
class SubjectInputs:
    """What :func:`read_subject` found: ``records`` of the subject and ``represented`` (by
    organisation) each include the corrections that touch them, in ledger order; case events
    are the objections and reviews of the subject and of those organisations, in chain order."""

    code: str
    subject: SubjectRow | None
    records: list[Record]
    represented: dict[str, list[Record]]
    objection_events: dict[str, list[CaseEvent]]
    terms: dict[str, list[Tenure]] = field(default_factory=dict)
    """The subject's terms as legal representative, by organisation (those of ``represented``)."""
    erased: list[ErasedRecord] = field(default_factory=list)
    """The subject's records whose key was destroyed, in ledger order, as of the same read
    (``Store.erased_records`` from the rows read here: decision 0076)."""


def read_subject(store: Store, code: str, *, representatives: bool) -> SubjectInputs:
    """Read one subject's inputs (and, for a person when ``representatives``, those of the
    organisations it represents) in one read transaction."""
    dialect = store.dialect
    mark, day, ts = dialect.mark, dialect.read_date, dialect.read_ts
    with dialect.raw_read(store.reader) as cur:

        def rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            cur.execute(sql.replace("?", mark), tuple(params))
            return list(cur.fetchall())

        p = store.sealing.pseudonym(code)
        found = rows(f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE subject = ?", [p])
        opened = store.open_subjects([dict(zip(_SUBJECT_NAMES, r, strict=True)) for r in found])
        subject = opened[0] if opened else None
        orgs: list[str] = []
        terms: dict[str, list[Tenure]] = {}
        if representatives:
            held = rows(f"SELECT {_TENURE_COLUMNS} FROM tenures WHERE person = ?", [p])
            stored = [dict(zip(_TENURE_NAMES, r, strict=True)) for r in held]
            for m in stored:
                m["valid_from"], m["valid_to"] = _day(m["valid_from"], day), _day(m["valid_to"], day)
            for term in sorted(store.open_tenures(stored), key=lambda x: (x.organisation, x.opened)):
                terms.setdefault(term.organisation, []).append(term)
            orgs = list(terms)
        keys = store.keys_through(rows)
        records, erased = _records_for(store, rows, code, day, ts, keys, erased=True)
        represented = {org: _records_for(store, rows, org, day, ts, keys)[0] for org in orgs}
        events: dict[str, list[CaseEvent]] = {}
        for who in (code, *orgs):
            found_events = rows(
                f"SELECT {_CASE_COLUMNS} FROM case_events WHERE subject IN (?, ?) "
                "AND case_kind IN (?, ?) ORDER BY seq",
                [*store.subject_keys(who), *OBJECTION_KINDS],
            )
            events[who] = open_events(store.sealing, (_event(r, ts) for r in found_events))
    return SubjectInputs(code, subject, records, represented, events, terms, erased)


def _day(value: Any, day: Callable[[Any], Any]) -> Any:
    return day(value) if value is not None else None


Rows = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def _records_for(
    store: Store,
    rows: Rows,
    code: str,
    day: Callable[[Any], Any],
    ts: Callable[[Any], Any],
    keys: tuple[KeyRead | None, ErasureRead | None],
    *,
    erased: bool = False,
) -> tuple[list[Record], list[ErasedRecord]]:
    """As ``Store.records_for``: the subject's records and, transitively, every record that
    corrects or withdraws one of them (opened by the store's one decryption, erased ones left out),
    and with ``erased`` the subject's erased records (``Store.erased_records``) from the same rows.
    ``keys`` reads the key table and the erasure log in this transaction (``Store.keys_through``)."""
    read, erasures = keys

    def opened(found: list[dict[str, Any]]) -> list[Record]:
        return store.open_records(found, read)

    pseudonym, _ = names = store.subject_keys(code)
    own = [
        _mapping(r, day, ts) for r in rows(f"SELECT {_RECORDS} FROM records WHERE subject IN (?, ?)", names)
    ]
    found = {r.record_id: r for r in opened(own)}
    gone: list[ErasedRecord] = []
    if erased:
        mine = sorted((m for m in own if m["subject"] == pseudonym), key=lambda m: m["seq"])
        gone = store.sealing.erased_in(mine, read, erasures)
    frontier = list(found)
    while frontier:
        nxt = []
        for i in range(0, len(frontier), CHUNK):
            part = frontier[i : i + CHUNK]
            marks = ", ".join("?" * len(part))
            correcting = rows(f"SELECT {_RECORDS} FROM records WHERE corrects IN ({marks})", part)
            for r in opened([_mapping(m, day, ts) for m in correcting]):
                if r.record_id not in found:
                    found[r.record_id] = r
                    nxt.append(r.record_id)
        frontier = nxt
    return sorted(found.values(), key=lambda r: r.seq), gone


_DAYS = ("occurred_on",)
_TIMES = ("reported_at", "received_at")


def _mapping(r: tuple[Any, ...], day: Callable[[Any], Any], ts: Callable[[Any], Any]) -> dict[str, Any]:
    """A driver's row of ``records`` by column name, its dates and times as SQLAlchemy reads them."""
    m = dict(zip(RECORD_COLUMNS, r, strict=True))
    for c in _DAYS:
        m[c] = day(m[c])
    for c in _TIMES:
        m[c] = ts(m[c])
    return m


def _event(r: tuple[Any, ...], ts: Callable[[Any], Any]) -> dict[str, Any]:
    """A driver's row of ``case_events`` by column name, its time as SQLAlchemy reads it (the
    sealed ones are opened by ``sealedcases.open_events``, as the store's reads are)."""
    m = dict(zip(_CASE_NAMES, r, strict=True))
    m["at"] = ts(m["at"])
    return m
