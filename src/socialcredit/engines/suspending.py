"""Suspension by an open objection, for whole populations: the rule of
:mod:`socialcredit.dueprocess.suspension` as joins.

An export holds each objection as the spans in which it was open (``objections.parquet``,
:data:`OBJECTION_SCHEMA`, from :func:`suspension.open_spans`), one row per span and record it
names (one row with a null ``record_id`` if it names none). At ``as_of`` the open ones are those
whose span holds it. An entry on a list whose ``during_objection`` is ``suspend`` is suspended by
an open objection filed by its subject or by the organisation it comes through (``via``) that
names its list, or one of its grounds (``ground_records``: the records still in the window when
it opened, then each that extended it); ``suspended_by`` is the first filed of those
(``filed_seq``, the chain position of its filing event), as the per-subject path names it.

Why joins and not a loop: objections are few, but entries are many, so the entries are joined
once with two small tables (the first open objection naming the list, per filer; the qualifying
records open objections name, with their subjects), and a named record suspends an entry whose
``ground_records`` hold it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.dueprocess.cases import OBJECTION_KINDS, CaseEvent
from socialcredit.dueprocess.suspension import open_spans
from socialcredit.schemes.model import ListDef

OBJECTION_SCHEMA = pa.schema(
    [
        pa.field("objection", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("list", pa.string()),
        pa.field("record_id", pa.string()),
        pa.field("filed_seq", pa.int64(), nullable=False),
        pa.field("open_from", pa.timestamp("us"), nullable=False),
        pa.field("open_until", pa.timestamp("us")),
    ]
)
"""One row per span in which an objection was open and record it names (``objections.parquet``
of an export, version 4): ``list`` the list it names (``scheme/list``, null for an objection to
records), ``open_until`` null while it is still open."""


def objection_table(events: Iterable[CaseEvent]) -> pa.Table:
    """The rows of :data:`OBJECTION_SCHEMA` for these case events (any order of cases, each
    case's events in chain order): objections and reviews (a review of a listing suspends as an
    objection to it does); events of restorations are ignored."""
    by_case: dict[str, list[CaseEvent]] = {}
    for e in events:
        if e.case_kind in OBJECTION_KINDS:
            by_case.setdefault(e.case_id, []).append(e)
    rows: list[dict[str, object]] = []
    for case_id, evs in sorted(by_case.items(), key=lambda kv: kv[1][0].seq):
        first = evs[0]
        names: list[str | None] = [str(r) for r in first.payload.get("record_ids", ())] or [None]
        for opened, closed in open_spans(evs):
            rows.extend(
                {
                    "objection": case_id,
                    "subject": first.subject,
                    "list": first.payload.get("list_id"),
                    "record_id": rid,
                    "filed_seq": first.seq,
                    "open_from": opened,
                    "open_until": closed,
                }
                for rid in names
            )
    return pa.Table.from_pylist(rows, schema=OBJECTION_SCHEMA)


def open_at(objections: ir.Table, as_of: dt.datetime) -> ir.Table:
    """The rows of objections open at ``as_of``."""
    o = objections
    at = ibis.literal(as_of, type="timestamp")
    return o.filter((o.open_from <= at) & (o.open_until.isnull() | (o.open_until > at)))


def known_by(objections: ir.Table, known_at: dt.datetime) -> ir.Table:
    """The objections as the system knew them at ``known_at`` (knowledge time): the spans opened
    by then, a span closed later still open (its closing event was not known yet), as the
    per-subject path folds the case events received by then (``Decisions._as_known``)."""
    o = objections
    k = ibis.literal(known_at, type="timestamp")
    o = o.filter(o.open_from <= k)
    return o.mutate(open_until=ibis.ifelse(o.open_until > k, ibis.null("timestamp"), o.open_until))


_NONE = 2**62
"""Above every chain position: stands for "no objection" in a minimum."""


def attach(
    entries: ir.Table,
    qualified: str,
    lst: ListDef,
    open_: ir.Table,
    *,
    events: ir.Table | None = None,
) -> ir.Table:
    """``entries`` with ``suspended_by`` (null where no open objection suspends the entry).

    ``entries`` hold ``subject`` and ``gsubject`` (the subject whose records are the grounds: the
    organisation of a representative's entry, else the subject). For an item list, ``events`` are
    its walk events (``listing._events``) and ``entries`` also hold ``start`` (the walk position
    of the record that opened the entry, which tells entries apart) and ``ground_records`` (the
    ids of its grounds); a list by grade has no events (its grounds are a grade, which no
    objection names).

    Why in this shape: ``entries`` is the end of a long plan (one round per entry), and Spark
    plans it again for every reference, so it is read once here and joined only with small
    tables: the first open objection naming the list per filer, and the records open objections
    name. An entry matched by several of those records is cut back to one row by a window."""
    if lst.during_objection != "suspend":
        return entries.mutate(suspended_by=ibis.null("string"))
    cols = entries.columns
    named = open_.filter(open_.list == qualified)
    by_filer = named.group_by(filer=named.subject).agg(first=named.filed_seq.min())
    a, b = by_filer.view(), by_filer.view()
    t = entries.left_join(a, entries.subject == a.filer).select(*cols, s_seq=a.first)
    # the organisation's objections reach its representative's entry through it (gsubject is the
    # subject itself for any other entry: the same objection again, harmless)
    t = t.left_join(b, t.gsubject == b.filer).select(*cols, "s_seq", g_seq=b.first)
    seqs = ["s_seq", "g_seq"]
    if events is not None:
        rec = open_.filter(open_.record_id.notnull())
        ev = events.filter(events.is_q == 1)
        n = ev.inner_join(rec, ev.record_id == rec.record_id)
        n = n.select(n_subject=ev.subject, n_record=ev.record_id, n_filer=rec.subject, n_seq=rec.filed_seq)
        j = t.left_join(
            n,
            (t.gsubject == n.n_subject)
            & t.ground_records.contains(n.n_record)
            & ((n.n_filer == t.subject) | (n.n_filer == t.gsubject)),
        )
        t = j.select(*cols, "s_seq", "g_seq", r_seq=j.n_seq)
        seqs.append("r_seq")
    first = ibis.least(*[t[x].coalesce(_NONE) for x in seqs])
    t = t.mutate(first=first)
    if events is not None:
        # one row per entry again: the rows of an entry differ only in r_seq, so the one with the
        # least ``first`` of its (subject, gsubject, start) is kept; of its track too, where the
        # entries of several tracks come together (``listing``: ``track``)
        entry = [t.subject, t.gsubject, t.start, *([t.track] if "track" in cols else [])]
        pick = ibis.row_number().over(group_by=entry, order_by=t.first)
        t = t.mutate(pick=pick).filter(lambda x: x.pick == 0)
    ids = open_.select(id_seq=open_.filed_seq, suspended_by=open_.objection).distinct()
    out = t.left_join(ids, t.first == ids.id_seq)
    return out.select(*cols, suspended_by=out.suspended_by)
