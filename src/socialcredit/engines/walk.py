"""One track of an item list (``ListDef.tracks``) walked for a whole population: the relational
form of ``socialcredit.criteria.items._track_entries``, which ``engines.listing`` runs for each track of
each list and unions.

The rules are the walk's: the effective records at ``as_of`` of the track's grounds, removal
items (which win if an item is both) and extension decisions are walked per subject in reporting
order (``reported_at``, a correction at its first report's, then ledger position ``seq``), each
on its reporting day ``d`` in China (``rules.days``):

1. an open entry whose planned end is on or before ``d`` has expired (before ``d`` is looked at);
2. a removal record ends the open entry on ``d`` ("fulfilled: item (record)");
3. an extension decision extends the open entry once, by the years it states, from the listing
   decision's date (a period in calendar years, ``Period.extension``);
4. a ground joins the open entry as a further ground (a period in days with ``extension_days``
   is extended by it, capped at ``max_period_days``), or, with none open, opens one: noticed on
   ``d``, in effect from ``d`` plus the notice days (when notice is required), planned to end
   by the kernel's :func:`~socialcredit.rules.kernel.planned_end`: ``period_days`` after that, or
   ``years`` calendar years after the day the opening record occurred, or never (no fixed period:
   only a removal ends it).

How a walk becomes relational. After ``j`` further grounds an entry's planned end is a function
of ``since``, the opening record's date, ``j`` and whether its one extension decision came before
(the first extension decision after the opening record, if it comes before the unextended end:
:func:`_extension`), so an entry opened by a qualifying record ``a`` ends at the first later
record that is a removal or that comes on or after the planned end given the records between
them: one self-join and a minimum. The next entry opens at the first qualifying record from
there on. Whether a record opens an entry depends on where the previous entry ended, so the
entries of a subject are found one per *round*: round ``r`` finds every subject's ``r``-th
entry, each round one join over the track's events (the few records of its items, not the
ledger). The rounds go on until one ends no entry (each opens after where the last ended, so
they stop; a caller may bound them); each round reads the previous one once (the entry it
opens is joined with its later records by a left join and grouped back, not joined with its own
ends a second time), so the plan grows linearly with it, not exponentially. Each round's entries
are materialised (``Table.cache``: a temporary table on DuckDB, a local checkpoint on Spark,
``engines.spark``) before the next round reads them. Spark plans a reused expression again
wherever it is read, so without this round ``r`` was computed once for every later round and for
the final union. On the list parity test's city, the Spark job took 146 s before and 60 s after;
reading each round once and checkpointing (a cached frame's plan still held every earlier
round's) took it to about 30 s (docs/scale.md).

A track with no fixed period and no extension whose entries one record opens (the court's ground
(1): listed until a removal ground of Art. 10) needs no rounds: only a removal ends its entry, so
the removals before a record say which entry it belongs to (:func:`until_removed`, one grouping
on the events; decisions 0058, 0102).

Criteria that need several records (``min_records`` above 1, none shipped) keep a window: the
qualifying records since the last entry opened or ended, or the last removal record, less those
that occurred more than ``window_days`` before a record added after them. The entry opens at the
first record that brings the window to ``min_records``, and its grounds begin with the window.
Without ``window_days`` nothing is dropped: the window is every qualifying record since it started
over (the round's last entry, or the last removal record), so a round opens at the first record
whose count since then (``qn`` less the count there) reaches ``min_records``. With it,
relationally (:func:`window_pairs`): a pair of qualifying records ``x`` up to ``r`` (occurring
within the window of each other) is kept unless a qualifying record between them (an anti-join)
occurred more than ``window_days`` after ``x``; each round counts, for each candidate ``r``, the
pairs whose ``x`` lies after where its window started, and opens at the first ``r`` with enough.
Dropped records need not be the oldest, so the grounds need not be consecutive records; they
are collected from the pairs (``tests/test_engines_windows.py`` holds both engines to the walk on
random histories).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from socialcredit.engines.ops import EPOCH, IBIS, china_day, day_numbers
from socialcredit.rules import kernel
from socialcredit.schemes.model import ItemCriteria, Track
from socialcredit.sim.ops import NP


def events(eff: ir.Table, track: Track, crit: ItemCriteria, ends: ir.Table | None = None) -> ir.Table:
    """The track's records per subject in walk order: ``subject, pos, is_q, is_x, qn, day, occ,
    record_id, item`` (``pos`` from 0; ``is_q`` a ground, ``is_x`` an extension decision, neither
    a removal; ``qn`` grounds up to and including this one; ``occ`` the day it occurred) and, for
    an extension decision, ``x_years``, the years its details state; for criteria that need
    ``min_records`` above 1 also ``rem_pos`` (where its window last started over) and ``qn_rem``
    (``qn`` there). An extension decision that states no whole number of years within the
    period's bounds is no event (ingest refuses one; the per-subject walk skips it too). For a
    period in calendar years, ``ends`` (:func:`period_ends` of the days its grounds occurred) adds
    the planned ends an entry each record opens would have, one column per extension
    (:func:`extension_years`)."""
    removal = list(track.removal.on_items)
    qualifying = [i for i in track.grounds if i not in removal]
    extending = [i for i in track.extension_items if i not in (*removal, *qualifying)]
    e = eff.filter(eff.item.isin([*qualifying, *removal, *extending]))
    ext = track.extension
    if ext is not None and extending:
        stated = e.details.cast("json")[ext.years_field].cast("int64")
        e = e.mutate(x_years=ibis.cases((e.item.isin(extending), stated), else_=ibis.null("int64")))
        e = e.filter(~e.item.isin(extending) | e.x_years.between(ext.min_years, ext.max_years))
    else:
        e = e.mutate(x_years=ibis.null("int64"))
    # a correction where the report it corrects was (``listing.walk_positions``, as
    # ``ledger.Record.walked_at``); a table without the column: each record where it was reported
    at = e.walked_at if "walked_at" in e.columns else e.reported_at
    order = [at, e.seq]
    counted = crit.min_records > 1
    e = e.select(
        subject=e.subject,
        record_id=e.record_id,
        item=e.item,
        day=china_day(at),
        occ=day_numbers(e.occurred_on),
        is_q=e.item.isin(qualifying).cast("int64"),
        is_x=e.item.isin(extending).cast("int64") if extending else ibis.literal(0, type="int64"),
        x_years=e.x_years,
        pos=ibis.row_number().over(group_by=e.subject, order_by=order).cast("int64"),
        # a count, not a sum: a sum of BIGINT is HUGEINT on DuckDB, which its day arithmetic refuses
        qn=ibis.cases((e.item.isin(qualifying), e.seq), else_=ibis.null("int64"))
        .count()
        .over(ibis.cumulative_window(group_by=e.subject, order_by=order)),
    )
    if ends is not None:  # the planned ends of an entry each record would open (period_ends)
        e = e.left_join(ends, e.occ == ends.e_occ).drop("e_occ")
    if counted:
        # where a window starts over: the last removal record at or before each record (-1:
        # none), since a removal empties the window whether an entry is open or not
        # (``qn_rem``: the qualifying records before it, 0 if none)
        upto = ibis.cumulative_window(group_by=e.subject, order_by=e.pos)
        removing = (e.is_q == 0) & (e.is_x == 0)
        rem = ibis.cases((removing, e.pos), else_=ibis.null("int64"))
        rem_qn = ibis.cases((removing, e.qn), else_=ibis.null("int64"))
        e = e.mutate(rem_pos=rem.max().over(upto), qn_rem=rem_qn.max().over(upto))
        e = e.mutate(rem_pos=e.rem_pos.coalesce(-1), qn_rem=e.qn_rem.coalesce(0))
    return e


def extension_years(track: Track) -> list[int]:
    """The years an extension can add to an entry of ``track`` (0: none), for which
    :func:`events` holds each record's planned end as a column (:func:`end_column`); none for a period
    not in calendar years."""
    if track.years is None:
        return []
    ext = track.extension
    return [0, *(range(ext.min_years, ext.max_years + 1) if ext is not None else ())]


def period_ends(occurred: Iterable[int], track: Track) -> pa.Table:
    """``e_occ`` and one column per :func:`extension_years`: for each day a ground occurred (days
    since 1970-01-01), the planned end of an entry it opens (the kernel's
    :func:`~socialcredit.rules.kernel.planned_end`, evaluated here on NumPy arrays), unextended
    and extended by each number of years the period allows.

    Why a table: the calendar-year formula is a long expression, and written into a round's
    query (twice, then again in every round) it made most of the query's text: compiling it was
    most of the court list's time before its records were even read (decision 0070). It depends
    on the day alone, and a ledger's grounds occurred on a few thousand days."""
    origin = EPOCH.toordinal()
    found = np.array(sorted({int(d) for d in occurred if d is not None}), dtype=np.int64)
    columns: dict[str, np.ndarray[Any, np.dtype[np.int64]]] = {"e_occ": found}
    for y in extension_years(track):
        # over the whole array at once (the simulator's evaluator of the kernel): day by day in
        # plain Python, the formula's some fifteen divisions a day were 0.1 to 0.25 s of the
        # court list's Python at 10 M records, for a thousand days (decision 0102)
        ends = kernel.planned_end(track, found, found, 0, y, NP, origin)
        columns[end_column(y)] = np.asarray(ends, dtype=np.int64).reshape(len(found))
    return pa.table({k: pa.array(v, pa.int64()) for k, v in columns.items()})


def end_column(years: int) -> str:
    """The events' column holding the planned end of an entry opened there, extended by ``years``."""
    return f"end_{years}"


def window_pairs(events: ir.Table, crit: ItemCriteria) -> ir.Table:
    """For a list that needs ``min_records`` qualifying records within ``window_days``: every pair
    of qualifying records ``x`` up to ``r`` of one subject such that ``x`` would still be in the
    window when ``r`` is added (``subject, x_pos, r_pos, r_rem``; ``r_rem`` the last removal before ``r``).

    The walk drops from its window, each time it adds a record ``y``, every record that occurred
    more than ``window_days`` before ``y``; so ``x`` is still there at ``r`` unless some qualifying
    ``y`` after it, up to ``r``, occurred more than ``window_days`` after it: an anti-join. Whether
    the window was emptied in between (a removal, an entry opened) depends on the round, so each
    round filters these pairs by where its window starts. Pairs are few: each qualifying record
    of a subject on one list with those that occurred within the window before it."""
    window = crit.window_days
    assert window, "a list without a window counts records (_opening), it needs no pairs"
    q = events.filter(events.is_q == 1)
    x, r = q.view(), q.view()
    # ``r`` itself is one of the records after ``x``: a pair further apart is never kept
    pairs = x.inner_join(r, (x.subject == r.subject) & (x.pos <= r.pos) & (r.occ - x.occ <= window))
    pairs = pairs.select(subject=x.subject, x_pos=x.pos, x_occ=x.occ, r_pos=r.pos, r_rem=r.rem_pos)
    y = q.view()
    pairs = pairs.anti_join(
        y,
        [pairs.subject == y.subject, y.pos > pairs.x_pos, y.pos <= pairs.r_pos, y.occ - pairs.x_occ > window],
    )
    return pairs.select("subject", "x_pos", "r_pos", "r_rem")


def opened_by(ev: ir.Table, notice: int) -> dict[str, ir.Value]:
    """What an entry takes from the event that opens it (``ev``, joined at its ``start``): the day
    it is noticed, in effect from, the day that record occurred (a period in calendar years runs
    from it), the grounds up to it, and the record itself."""
    return {
        "noticed": ev.day,
        "since": ev.day + notice,
        "occ": ev.occ,
        "qn_start": ev.qn,
        "reason_record": ev.record_id,
        "reason_item": ev.item,
    }


def _opening(
    events: ir.Table, state: ir.Table, pairs: ir.Table | None, crit: ItemCriteria, notice: int
) -> ir.Table:
    """Each subject's next entry after ``state.after``: the record that opens it (``start``), where
    its window began (``base``: its grounds before ``start`` lie after it) and its first ground
    (``reason_record``, ``reason_item``), and the day it occurred (``occ``: the listing decision's
    date, which a period in calendar years runs from); one row per subject that has one."""
    e, ev, first_ev = events.view(), events.view(), events.view()
    ends = [c for c in events.columns if c.startswith("end_")]
    k = crit.min_records
    if k == 1:  # the first qualifying record after the last entry opens one
        opened = e.inner_join(state, e.subject == state.subject).filter(
            lambda t: (t.is_q == 1) & (t.pos > t.after)
        )
        first = opened.group_by("subject").agg(start=opened.pos.min())
        first = first.mutate(base=first.start - 1, first_pos=first.start)  # no window before it
    elif pairs is None:
        # no window: every qualifying record since the window started over counts, so the
        # record that opens the entry is the first whose count since then reaches ``k``
        j = e.inner_join(state, e.subject == state.subject)
        j = j.select(
            subject=e.subject,
            pos=e.pos,
            is_q=e.is_q,
            counted=e.qn,
            base=ibis.greatest(state.after, e.rem_pos),
            qn_base=ibis.greatest(state.qn_after, e.qn_rem),
        )
        j = j.filter((j.is_q == 1) & (j.pos > j.base) & (j.counted - j.qn_base >= k))
        m, jv = j.group_by(m_subject=j.subject).agg(m_start=j.pos.min()), j.view()
        at = m.inner_join(jv, (m.m_subject == jv.subject) & (m.m_start == jv.pos))
        at = at.select(subject=jv.subject, start=jv.pos, base=jv.base, qn_first=jv.qn_base + 1)
        at = at.view()  # derived from the events it is joined with: a view tells the sides apart
        q = events.view()  # the first ground: the next qualifying record after the base
        on = (at.subject == q.subject) & (at.qn_first == q.qn) & (q.is_q == 1)
        first = at.inner_join(q, on).select(subject=at.subject, start=at.start, base=at.base, first_pos=q.pos)
    else:
        # the first record whose window, started over after the last entry or removal, holds
        # ``min_records`` records still in it (it holds exactly that many: it grows by one a record)
        p = pairs.inner_join(state, pairs.subject == state.subject)
        p = p.select(
            subject=pairs.subject,
            x_pos=pairs.x_pos,
            r_pos=pairs.r_pos,
            base=ibis.greatest(state.after, pairs.r_rem),
        )
        p = p.filter(p.x_pos > p.base)
        c = p.group_by(["subject", "r_pos", "base"]).agg(n=p.x_pos.count(), first_pos=p.x_pos.min())
        c = c.filter(c.n >= k)
        m, cv = c.group_by(m_subject=c.subject).agg(m_start=c.r_pos.min()), c.view()
        first = m.inner_join(cv, (m.m_subject == cv.subject) & (m.m_start == cv.r_pos)).select(
            subject=cv.subject, start=cv.r_pos, base=cv.base, first_pos=cv.first_pos
        )
    s = first.inner_join(ev, (first.subject == ev.subject) & (first.start == ev.pos)).select(
        subject=first.subject,
        start=first.start,
        base=first.base,
        first_pos=first.first_pos,
        **opened_by(ev, notice),
        **{c: ev[c] for c in ends},
    )
    keep = [c for c in s.columns if c not in ("first_pos", "reason_record", "reason_item")]
    if k == 1:  # the opening record is the first ground
        return s.select(*keep, "reason_record", "reason_item")
    j = s.inner_join(first_ev, (s.subject == first_ev.subject) & (s.first_pos == first_ev.pos))
    return j.select(*[s[c] for c in keep], reason_record=first_ev.record_id, reason_item=first_ev.item)


FOREVER = 2_932_896
"""The planned end (days since 1970-01-01: 9999-12-31) of an entry with no fixed period, which
only a removal ends; written as null (``listing._finish``)."""


def _extension(events: ir.Table, s: ir.Table, track: Track) -> ir.Table:
    """``s`` (entries opened this round) with ``x_at``, the walk position of the one extension
    decision that extends each (the first after its opening, if it comes before the unextended
    period ends; null if none does), ``base_end`` and ``ext_end``, the planned ends without and
    with it (the kernel's :func:`~socialcredit.rules.kernel.planned_end`)."""
    origin = EPOCH.toordinal()
    # the planned ends the opening event holds (events given period_ends), else the formula here
    held = extension_years(track) if end_column(0) in s.columns else []
    if track.indefinite:
        base_end: ir.IntegerValue = ibis.literal(FOREVER, type="int64")
    elif held:
        base_end = s[end_column(0)]
    else:
        base_end = kernel.planned_end(track, s.since, s.occ, 0, 0, IBIS, origin)
    s = s.mutate(base_end=base_end)
    cols = [c for c in s.columns if c not in {end_column(y) for y in held}]
    if track.extension is None:
        return s.select(*cols, x_at=ibis.null("int64"), ext_end=ibis.null("int64"))
    xe = events.filter(events.is_x == 1)
    x1, x2 = xe.view(), xe.view()
    j = s.inner_join(x1, (s.subject == x1.subject) & (x1.pos > s.start))
    first = j.group_by(f_subject=j.subject).agg(f_pos=j.pos.min())
    f = first.inner_join(x2, (first.f_subject == x2.subject) & (first.f_pos == x2.pos))
    f = f.select(f_subject=first.f_subject, f_pos=first.f_pos, f_day=x2.day, f_years=x2.x_years)
    out = s.left_join(f, s.subject == f.f_subject)
    applied = out.f_pos.notnull() & (out.f_day < out.base_end)
    if held:  # the opening event's planned end for the years the decision states (events keeps
        # only decisions within the extension's bounds, so one of the columns is it)
        picks = ((out.f_years == y, out[end_column(y)]) for y in held if y)
        ext_end = ibis.cases(*picks, else_=ibis.null("int64"))
    else:
        ext_end = kernel.planned_end(track, out.since, out.occ, 0, out.f_years, IBIS, origin)
    return out.select(
        *cols,
        x_at=ibis.cases((applied, out.f_pos), else_=ibis.null("int64")),
        ext_end=ibis.cases((applied, ext_end), else_=ibis.null("int64")),
    )


def _planned(track: Track, t: ir.Table, j: ir.IntegerValue, pos: ir.IntegerValue) -> ir.IntegerValue:
    """The planned end (in days) of the entry of row ``t`` as the walk sees it at walk position
    ``pos``, after ``j`` further grounds: none (:data:`FOREVER`) without a fixed period; in
    calendar years, the extended end past the extension decision, else the unextended one; in
    days from ``since``, by the further grounds (:func:`~socialcredit.rules.kernel.planned_end`)."""
    if track.indefinite:
        return ibis.literal(FOREVER, type="int64")
    if track.years is not None:
        extended = t.x_at.notnull() & (pos.isnull() | (pos > t.x_at))
        return ibis.cases((extended, t.ext_end), else_=t.base_end)
    end: ir.IntegerValue = kernel.planned_end(track, t.since, t.occ, j, 0, IBIS)
    return end


CLOSING = ["subject", "start", "base", "noticed", "since", "occ", "qn_start", "reason_record"]
"""The columns of an entry as it opened that :func:`closed` reads, with ``reason_item``,
``base_end``, ``x_at``, ``ext_end`` (:func:`_extension`) and ``end_pos``."""


def closed(
    w: ir.Table, events: ir.Table, last: ir.Table, track: Track, crit: ItemCriteria, today: int
) -> ir.Table:
    """Entries as they opened (:data:`CLOSING` and the columns named there) with ``end_pos``, the
    walk position of the record that ends each (null: none has yet), in the columns of
    :func:`entries`: the further grounds each holds, its planned end, why and when it ended, and
    the day its removal deadline counts from (``last``: each subject's ``q_total``). Shared by
    the rounds (:func:`entries`) and by a walk that finds where entries end in one statement
    (``engines.recursive``), so what an ending record does is written once."""
    end_ev = events.view()
    names = CLOSING
    x = w.left_join(end_ev, (w.subject == end_ev.subject) & (w.end_pos == end_ev.pos))
    x = x.left_join(last, x.subject == last.subject)
    x = x.select(
        *(w[c] for c in [*names, "reason_item", "base_end", "x_at", "ext_end", "end_pos"]),
        # the further grounds the entry ended with: those before its ending record, else all
        j=ibis.cases(
            (w.end_pos.notnull(), end_ev.qn - end_ev.is_q - w.qn_start),
            else_=last.q_total - w.qn_start,
        ),
        end_day=end_ev.day,
        end_occ=end_ev.occ,
        end_removes=(end_ev.is_q == 0) & (end_ev.is_x == 0),
        # the qualifying records before the ending one: where the next window's count starts
        qn_end=end_ev.qn - end_ev.is_q,
        end_record=end_ev.record_id,
        end_item=end_ev.item,
    )
    planned = _planned(track, x, x.j, x.end_pos)
    fulfilled = x.end_pos.notnull() & x.end_removes & (x.end_day < planned)
    expired = planned <= today
    return x.select(
        subject=x.subject,
        noticed=x.noticed,
        since=x.since,
        planned=planned,
        ended=ibis.cases((fulfilled, x.end_day), else_=ibis.null("int64")),
        end_reason=ibis.cases(
            (fulfilled, "fulfilled: " + x.end_item + " (" + x.end_record + ")"),
            (expired, ibis.literal("expired")),
            else_=ibis.null("string"),
        ),
        due_from=ibis.cases((fulfilled, x.end_occ), (expired, planned - 1), else_=ibis.null("int64")),
        reason_record=x.reason_record,
        reason_item=x.reason_item,
        grounds=x.j + crit.min_records,
        start=x.start,
        base=x.base,
        end_pos=x.end_pos,
        qn_end=x.qn_end,
    )


def entries(
    events: ir.Table,
    pairs: ir.Table | None,
    track: Track,
    crit: ItemCriteria,
    notice: int,
    rounds: int | None,
    today: int,
) -> ir.Table:
    """Every entry of one track, one round per entry (see the module docstring); ``pairs`` are
    :func:`window_pairs` for criteria that need several records within a window, else None.
    Whole days throughout; ``due_from`` is the day its removal deadline counts from (the removal
    record's own date, or the last day of an expired period), for ``listing``'s calendar join."""
    last = events.group_by("subject").agg(q_total=events.qn.max())
    state = events.select("subject").distinct()
    state = state.mutate(after=ibis.literal(-1, type="int64"), qn_after=ibis.literal(0, type="int64"))
    found: list[ir.Table] = []
    while rounds is None or len(found) < rounds:
        # every join of the events with something derived from them reads a fresh view (Ibis
        # needs one to tell the two sides of a self-join apart)
        later_ev = events.view()
        s = _extension(events.view(), _opening(events, state, pairs, crit, notice), track)
        # each later record: the further grounds before it, the planned end then, whether it ends
        # the entry (a removal, or a record on or after the planned end); the first that does is
        # found per entry by grouping on the entry's columns (a left join keeps an entry no record
        # follows), so ``s`` and the rounds before are read once
        later = s.left_join(later_ev, (s.subject == later_ev.subject) & (later_ev.pos > s.start))
        j = later.qn - later.is_q - later.qn_start
        planned = _planned(track, later, j, later.pos)
        removing = (later.is_q == 0) & (later.is_x == 0)
        ends = removing | (later.day >= planned)
        keys = [*(s[c] for c in CLOSING), s.reason_item, s.base_end, s.x_at, s.ext_end]
        cand = later.select(*keys, pos=ibis.cases((ends, later.pos), else_=ibis.null("int64")))
        w = cand.group_by([c.get_name() for c in keys]).agg(end_pos=cand.pos.min())
        found.append(closed(w, events, last, track, crit, today))
        # materialised: every later round reads this one, and an engine that plans a reused
        # expression again (Spark does) would otherwise compute round r once per later round
        found[-1] = found[-1].cache()
        nxt = found[-1]
        nxt = nxt.filter(nxt.end_pos.notnull())
        state = nxt.select(subject=nxt.subject, after=nxt.end_pos - 1, qn_after=nxt.qn_end)
        # the next round opens an entry only after one of this round's ended, at a qualifying
        # record after ``after`` (every criterion opens at one: ``_opening``): with none, it
        # would find nothing, nor would any round after it. ``rounds`` bounds the entries by the
        # qualifying records, but a period of years fits few times in a ledger's years (on the
        # court's list most rounds found nothing), and a round costs a query and its compiling;
        # this count is one semi-join of the materialised round with the events, so the round
        # that would find nothing is not run (decision 0077)
        grounds = events.filter(events.is_q == 1)
        more = state.semi_join(grounds, (state.subject == grounds.subject) & (grounds.pos > state.after))
        if more.count().to_pyarrow().as_py() == 0:
            break
    if not found:
        return events.filter(ibis.literal(False)).select(
            subject=events.subject,
            noticed=events.day,
            since=events.day,
            planned=events.day,
            ended=events.day,
            end_reason=events.item,
            due_from=events.day,
            reason_record=events.record_id,
            reason_item=events.item,
            grounds=events.pos,
            start=events.pos,
            base=events.pos,
            end_pos=events.pos,
            qn_end=events.pos,
        )
    return ibis.union(*found, distinct=False)


def removal_walk(track: Track, crit: ItemCriteria) -> bool:
    """Whether :func:`until_removed` walks ``track`` (in one pass, not in rounds): an entry with
    no fixed period and no extension, opened by one qualifying record (the court's ground (1),
    listed until a removal ground of Art. 10)."""
    return track.indefinite and track.extension is None and crit.min_records == 1


def until_removed(events: ir.Table, notice: int) -> ir.Table:
    """Every entry of a track that :func:`removal_walk` admits, in the columns of :func:`entries`.

    Without a period nothing but a removal record ends an entry, and a qualifying record opens
    one whenever none is open: so the removal records before a record (in walk order) say which
    entry it belongs to, the first qualifying record after the ``n``-th removal opens entry
    ``n`` and the next removal ends it. One grouping (the removals before a record read from the
    events' own positions and counts) instead of a round per entry: on the court's list the
    rounds were most of the list's time (docs/benchmarks.md, issue 20's list floors)."""
    # no extension decision on such a track: a record not a ground removes, so the removals
    # before a record are its position less the grounds before it (``qn`` counts it if it is
    # one): read from the events' columns, not counted again by a window (decision 0102)
    e = events.mutate(entry=(events.pos - events.qn + events.is_q).cast("int64"))
    g = e.group_by(g_subject=e.subject, g_entry=e.entry).agg(
        start=ibis.cases((e.is_q == 1, e.pos), else_=ibis.null("int64")).min(),
        end_pos=ibis.cases((e.is_q == 0, e.pos), else_=ibis.null("int64")).min(),
        n=e.is_q.sum().cast("int64"),
    )
    g = g.filter(g.n > 0)
    first, end = events.view(), events.view()
    j = g.inner_join(first, (g.g_subject == first.subject) & (g.start == first.pos))
    j = j.left_join(end, (j.g_subject == end.subject) & (j.end_pos == end.pos))
    ended = j.end_pos.notnull()
    out = j.select(
        subject=j.g_subject,
        noticed=first.day,
        since=first.day + notice,
        planned=ibis.literal(FOREVER, type="int64"),
        ended=ibis.cases((ended, end.day), else_=ibis.null("int64")),
        end_reason=ibis.cases(
            (ended, "fulfilled: " + end.item + " (" + end.record_id + ")"), else_=ibis.null("string")
        ),
        due_from=ibis.cases((ended, end.occ), else_=ibis.null("int64")),
        reason_record=first.record_id,
        reason_item=first.item,
        grounds=j.n,
        start=j.start,
        base=j.start - 1,
        end_pos=j.end_pos,
        qn_end=end.qn - end.is_q,
    )
    # materialised, as each round of entries() is: what follows joins the events with it again
    return out.cache()


def with_ground_records(entries: ir.Table, events: ir.Table, pairs: ir.Table | None) -> ir.Table:
    """``entries`` (of :func:`entries`) with ``ground_records`` (:func:`ground_records`)."""
    g = ground_records(entries, events, pairs)
    out = entries.left_join(g, (entries.subject == g.g_subject) & (entries.start == g.g_start))
    return out.select(*entries.columns, "ground_records")


def ground_records(entries: ir.Table, events: ir.Table, pairs: ir.Table | None) -> ir.Table:
    """For each of ``entries`` (of :func:`entries`), keyed by ``g_subject`` and ``g_start`` (its
    subject and the walk position that opened it), ``ground_records``: the ids of the qualifying
    records from the one that opened the entry up to the one before the record that ended it
    (all after it while it has not ended), in walk order, as ``lists.entries_for`` collects them;
    for a list that needs several records (``pairs``: :func:`window_pairs`), preceded by the
    records still in the window when it opened (those after ``base`` that pair with ``start``).
    An entry has at least one (the record that opened it). ``engines.listing`` joins them once
    to the union of a list's entries and its representatives' (decision 0102), not before: a
    query reads what it is given once per reference, and these were computed again for the
    representatives' branch.

    Why the detour through text: neither engine keeps the order of a grouped collect (Spark's
    has no ``ORDER BY``), and mapping over a sorted array of structs needs a lambda that DuckDB
    2 no longer parses as Ibis writes it. So each id is collected behind its walk position,
    zero-padded to sort as a number (``0000000003:<id>``); the sorted array is joined, the
    prefixes cut (record ids are hex, so ``[0-9]{10}:`` only ever matches a prefix) and the
    text split again. Every step is plain SQL on both engines."""
    ev = events.filter(events.is_q == 1)
    k = entries.select("subject", "start", "base", "end_pos")
    # without pairs, every qualifying record after the window's base (for one record lists, the
    # record before the opening one); with them, the window's records come from the pairs
    first = ev.pos > k.base if pairs is None else ev.pos > k.start
    j = k.inner_join(
        ev,
        (k.subject == ev.subject) & first & (k.end_pos.isnull() | (ev.pos < k.end_pos)),
    )
    grounds = j.select(subject=k.subject, start=k.start, pos=ev.pos, record_id=ev.record_id)
    if pairs is not None:
        wk, wev = k.view(), ev.view()
        w = wk.inner_join(
            pairs, (wk.subject == pairs.subject) & (pairs.r_pos == wk.start) & (pairs.x_pos > wk.base)
        )
        w = w.inner_join(wev, (wk.subject == wev.subject) & (pairs.x_pos == wev.pos))
        w = w.select(subject=wk.subject, start=wk.start, pos=wev.pos, record_id=wev.record_id)
        grounds = ibis.union(grounds, w, distinct=False)
    keyed = grounds.select(
        subject=grounds.subject,
        start=grounds.start,
        key=grounds.pos.cast("string").lpad(10, "0") + ":" + grounds.record_id,
    )
    g = keyed.group_by("subject", "start").agg(keys=keyed.key.collect())
    return g.select(
        g_subject=g.subject,
        g_start=g.start,
        ground_records=g.keys.sort().join(",").re_replace("[0-9]{10}:", "").split(","),
    )
