"""List membership (the court's list of dishonest judgment debtors, the enterprise list of serious
violators) as one relational definition, for whole populations.

The rules are exactly those of ``socialcredit.lists._item_entries`` and ``entries_for``: the
effective records at ``as_of`` of a list's qualifying items (``criteria.items``) and removal items
(``removal.on_items``, which win if an item is both) are walked per subject in reporting order
(``reported_at``, then ledger position ``seq``), each on its reporting day ``d``:

1. an open entry whose planned end is on or before ``d`` has expired (before ``d`` is looked at);
2. a removal record ends the open entry on ``d`` ("fulfilled: item (record)");
3. a qualifying record extends the open entry by ``extension_days`` (capped at
   ``max_period_days`` after ``since``), or, with none open, opens one: noticed on ``d``, in
   effect from ``d`` plus the notice days (when notice is required), planned to end
   ``period_days`` after that;
4. an organisation's entry on a list with ``lists_representative`` is also an entry of its
   legal representative, naming the organisation (``via``).

How a walk becomes relational. After ``j`` extensions an entry's planned end is ``since + period``
(``j = 0``) or ``since + min(period + j * extension, max_period)``, so an entry opened by a
qualifying record ``a`` ends at the first later record that is a removal or that comes on or after
the planned end given the qualifying records between them: one self-join and a minimum. The next
entry opens at the first qualifying record from there on. Whether a record opens an entry depends
on where the previous entry ended, so the entries of a subject are found one per *round*: round
``r`` finds every subject's ``r``-th entry, each round one join over the list's events (the few
records of the list's items, not the ledger). The number of rounds is the most qualifying records
any subject has on one list (found by a first, small query unless given); each round reads the
previous one once (the entry it opens is joined with its later records by a left join and
grouped back, not joined with its own ends a second time), so the plan grows linearly with it,
not exponentially. Each round's entries are materialised (``Table.cache``: a temporary table on
DuckDB, a local checkpoint on Spark, ``engines.spark``) before the next round reads them. Spark
plans a reused expression again wherever it is read, so without this round ``r`` was computed
once for every later round and for the final union. On the list parity test's city, the Spark
job took 146 s before and 60 s after; reading each round once and checkpointing (a cached
frame's plan still held every earlier round's) took it to about 30 s (docs/scale.md).

Criteria that need several records (``min_records`` above 1, none shipped) keep a window: the
qualifying records since the last entry opened or ended, or the last removal record, less those
that occurred more than ``window_days`` before a record added after them. The entry opens at the
first record that brings the window to ``min_records``, and its grounds begin with the window.
Without ``window_days`` nothing is dropped: the window is every qualifying record since it started
over (the round's last entry, or the last removal record), so a round opens at the first record
whose count since then (``qn`` less the count there) reaches ``min_records``. With it,
relationally (:func:`_window_pairs`): a pair of qualifying records ``x`` up to ``r`` (occurring
within the window of each other) is kept unless a qualifying record between them (an anti-join)
occurred more than ``window_days`` after ``x``; each round counts, for each candidate ``r``, the
pairs whose ``x`` lies after where its window started, and opens at the first ``r`` with enough.
Dropped records need not be the oldest, so the grounds need not be consecutive records; they
are collected from the pairs (``tests/test_engines_windows.py`` holds both engines to the walk on
random histories).

Not here: lists by grade (``criteria.grade_at_most``/``grade_at_least``: Rongcheng's honour roll
and D list, the enterprise red rating) follow a score's whole history, not records of items: they
are derived by :mod:`~socialcredit.engines.gradelists` (points, tier and factor models; one whose
relationships factor counts is named by :func:`refused`), and :func:`population_listing` refuses
them.

An entry an open objection suspends names it in ``suspended_by``
(:mod:`~socialcredit.engines.suspending`, the rule of ``dueprocess.suspension``).

The removal deadline of a fulfilled entry (``removal_due``: ``removal.within_working_days``
working days after it ended, weekends and the holidays the installation configures skipped, as
``dueprocess.calendar.add_working_days`` counts them) is two equality joins with a calendar of
numbered working days (:func:`working_calendar`): the N-th working day after day ``d`` is the one
numbered N more than the working days up to and including ``d``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines import relational, suspending
from socialcredit.engines.fields import RELATIONAL
from socialcredit.engines.ops import IBIS
from socialcredit.rules import kernel
from socialcredit.schemes.model import ItemCriteria, ListDef, Scheme

REPRESENTATIVE_SCHEMA = pa.schema(
    [
        pa.field("organisation", pa.string(), nullable=False),
        pa.field("representative", pa.string(), nullable=False),
    ]
)
"""Who represents each organisation (``representatives.parquet`` of an export, since version 3)."""

LIST_SCHEMA = pa.schema(
    [
        pa.field("list", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("via", pa.string()),
        pa.field("status", pa.string()),
        pa.field("noticed_on", pa.date32()),
        pa.field("since", pa.date32()),
        pa.field("until", pa.date32()),
        pa.field("planned_end", pa.date32()),
        pa.field("ended_on", pa.date32()),
        pa.field("end_reason", pa.string()),
        pa.field("reason_record", pa.string()),
        pa.field("reason_item", pa.string()),
        pa.field("grounds", pa.int64()),
        pa.field("ground_records", pa.list_(pa.string())),
        pa.field("grade", pa.string()),
        pa.field("removal_due", pa.date32()),
        pa.field("suspended_by", pa.string()),
    ]
)
"""One row per list entry: ``list`` is ``scheme/list``; ``until`` the day it stops being in force
(``ended_on`` or ``planned_end``, as ``ListEntry.active_on`` reads them); ``status`` at
``as_of`` (pending, active, removed, expired); ``reason_record``/``reason_item`` the record that
opened it; ``grounds`` how many qualifying records it holds and ``ground_records`` their ids in
walk order (``ListEntry.grounds``: the opening record, then each that extended the entry);
``via`` the organisation a representative's entry comes through (whose records its grounds are).

An entry of a list by grade (:mod:`~socialcredit.engines.gradelists`) was opened by no record:
``reason_record``/``reason_item`` and ``ground_records`` are null, ``grounds`` is 1 (its one
ground, the grade), and
``grade`` is the grade that ground names while the entry has not ended on a change of grade (the
subject's grade after its score's last change: ``grade D`` in ``ListEntry.grounds``), null once
it has (``grade reached``) and for item lists. ``removal_due`` is the day by which a fulfilled
entry must be off the list (null for every other entry, and for lists by grade).
``suspended_by`` is the open objection that suspends the entry's measures at ``as_of``, if any."""

CALENDAR_SCHEMA = pa.schema(
    [
        pa.field("day", pa.int64(), nullable=False),
        pa.field("working_no", pa.int64(), nullable=False),
        pa.field("working", pa.bool_(), nullable=False),
    ]
)
"""One row per day (days since 1970-01-01): ``working_no`` counts the working days up to and
including it; ``working`` says whether it is one (Monday to Friday, not a holiday)."""
CALENDAR_FROM = dt.date(1949, 10, 1)
"""The calendar's first day: no record can be reported earlier."""

EPOCH = dt.date(1970, 1, 1)

Pair = tuple[Scheme, ListDef]


def working_calendar(holidays: frozenset[dt.date], as_of: dt.datetime, lists: Sequence[Pair]) -> pa.Table:
    """The days from :data:`CALENDAR_FROM` to past the latest removal deadline of an entry ended
    by ``as_of`` on one of ``lists``, numbered by working days (:data:`CALENDAR_SCHEMA`); an
    engine registers it (``Engine.table``) for :func:`population_listing`. Why a table: the
    deadline is then a join on both engines, not a loop per entry."""
    most = max((lst.removal.within_working_days for _, lst in lists), default=0)
    # N working days take at most 7N/5 + 2 calendar days, and each holiday one more
    last = as_of.date() + dt.timedelta(days=2 * most + 7 + len(holidays))
    days: list[int] = []
    numbers: list[int] = []
    working: list[bool] = []
    n = 0
    day = CALENDAR_FROM
    one = dt.timedelta(days=1)
    while day <= last:
        w = day.weekday() < 5 and day not in holidays
        n += w
        days.append((day - EPOCH).days)
        numbers.append(n)
        working.append(w)
        day += one
    return pa.table({"day": days, "working_no": numbers, "working": working}, schema=CALENDAR_SCHEMA)


def _removal_due(t: ir.Table, lst: ListDef, calendar: ir.Table) -> ir.Table:
    """``t`` with ``removal_due`` (whole days): the ``within_working_days``-th working day after
    ``ended``, null while the entry has not ended (``add_working_days``; 0 days: the day itself)."""
    n = lst.removal.within_working_days
    if n == 0:
        return t.mutate(removal_due=t.ended)
    upto = calendar.select(upto_day=calendar.day, upto_no=calendar.working_no)
    work = calendar.filter(calendar.working).select(due_day=calendar.day, due_no=calendar.working_no)
    j = t.left_join(upto, t.ended == upto.upto_day)
    j = j.left_join(work, j.upto_no + n == work.due_no)
    return j.select(*t.columns, removal_due=j.due_day)


def refused(schemes: Sequence[Scheme]) -> dict[str, str]:
    """The lists of ``schemes`` that no relational definition derives (neither
    :func:`population_listing` nor ``gradelists.population_grade_listing``), by qualified id, with
    the reason: a caller skips them (they stay per subject, ``lists.entries_for``)."""
    out: dict[str, str] = {}
    for s in schemes:
        for lst in s.lists:
            reasons = RELATIONAL.reasons(s)
            if lst.criteria.by == "grade" and reasons:
                out[f"{s.id}/{lst.id}"] = f"a list by grade of scheme {s.id}, which " + "; ".join(reasons)
    return out


def relational_lists(schemes: Sequence[Scheme]) -> list[Pair]:
    """The lists of ``schemes`` that the relational definitions derive (the others: :func:`refused`):
    item lists by :func:`population_listing`, lists by grade by
    ``gradelists.population_grade_listing`` (``gradelists.population_lists`` runs both)."""
    no = refused(schemes)
    return [(s, lst) for s in schemes for lst in s.lists if f"{s.id}/{lst.id}" not in no]


def _crit(lst: ListDef) -> ItemCriteria:
    """The criteria of an item list (every list here: :func:`population_listing` refuses lists by
    grade before it reads any)."""
    if not isinstance(lst.criteria, ItemCriteria):
        raise ValueError(f"list {lst.id} is a list by grade, not by items")
    return lst.criteria


def _days(day: ir.DateValue) -> ir.IntegerValue:
    """A date as whole days since 1970-01-01: the walk's arithmetic is on integers, which both
    engines add and compare alike (date plus a column of days is spelt differently by each)."""
    return day.delta(ibis.literal(EPOCH, type="date"), unit="day").cast("int64")


def _date(days: ir.IntegerValue) -> ir.DateValue:
    # DuckDB's date + interval is a timestamp whatever Ibis believes: through a timestamp and
    # back, so a written file holds dates on both engines (Ibis drops a cast to the same type)
    moment = ibis.literal(EPOCH, type="date") + days.cast("int64").as_interval("D")
    return moment.cast("timestamp").date()


def _events(eff: ir.Table, scheme: Scheme, lst: ListDef) -> ir.Table:
    """The list's records per subject in walk order: ``subject, pos, is_q, qn, day, record_id,
    item`` (``pos`` from 0; ``qn`` qualifying records up to and including this one); for a list
    that needs ``min_records`` above 1 also ``occ`` (the day it occurred, which its window is
    measured by), ``rem_pos`` (where its window last started over) and ``qn_rem`` (``qn`` there)."""
    removal = list(lst.removal.on_items)
    qualifying = [i for i in _crit(lst).items if i not in removal]
    e = eff.filter(eff.item.isin([*qualifying, *removal]))
    order = [e.reported_at, e.seq]
    counted = _crit(lst).min_records > 1
    e = e.select(
        subject=e.subject,
        record_id=e.record_id,
        item=e.item,
        day=_days(e.reported_at.date()),
        is_q=e.item.isin(qualifying).cast("int64"),
        pos=ibis.row_number().over(group_by=e.subject, order_by=order).cast("int64"),
        # a count, not a sum: a sum of BIGINT is HUGEINT on DuckDB, which its day arithmetic refuses
        qn=ibis.cases((e.item.isin(qualifying), e.seq), else_=ibis.null("int64"))
        .count()
        .over(ibis.cumulative_window(group_by=e.subject, order_by=order)),
        **({"occ": _days(e.occurred_on)} if counted else {}),
    )
    if counted:
        # where a window starts over: the last removal record at or before each record (-1:
        # none), since a removal empties the window whether an entry is open or not
        # (``qn_rem``: the qualifying records before it, 0 if none)
        upto = ibis.cumulative_window(group_by=e.subject, order_by=e.pos)
        rem = ibis.cases((e.is_q == 0, e.pos), else_=ibis.null("int64"))
        rem_qn = ibis.cases((e.is_q == 0, e.qn), else_=ibis.null("int64"))
        e = e.mutate(rem_pos=rem.max().over(upto), qn_rem=rem_qn.max().over(upto))
        e = e.mutate(rem_pos=e.rem_pos.coalesce(-1), qn_rem=e.qn_rem.coalesce(0))
    return e


def _window_pairs(events: ir.Table, lst: ListDef) -> ir.Table:
    """For a list that needs ``min_records`` qualifying records within ``window_days``: every pair
    of qualifying records ``x`` up to ``r`` of one subject such that ``x`` would still be in the
    window when ``r`` is added (``subject, x_pos, r_pos, r_rem``; ``r_rem`` the last removal before ``r``).

    The walk drops from its window, each time it adds a record ``y``, every record that occurred
    more than ``window_days`` before ``y``; so ``x`` is still there at ``r`` unless some qualifying
    ``y`` after it, up to ``r``, occurred more than ``window_days`` after it: an anti-join. Whether
    the window was emptied in between (a removal, an entry opened) depends on the round, so each
    round filters these pairs by where its window starts. Pairs are few: each qualifying record
    of a subject on one list with those that occurred within the window before it."""
    window = _crit(lst).window_days
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


def _planned(lst: ListDef, since: ir.IntegerValue, j: ir.IntegerValue) -> ir.IntegerValue:
    """The planned end (in days) of an entry in effect from ``since`` after ``j`` extensions."""
    days: ir.IntegerValue = kernel.listing_days(j, lst, IBIS)
    return since + days


def _opening(events: ir.Table, state: ir.Table, pairs: ir.Table | None, lst: ListDef) -> ir.Table:
    """Each subject's next entry after ``state.after``: the record that opens it (``start``), where
    its window began (``base``: its grounds before ``start`` lie after it) and its first ground
    (``reason_record``, ``reason_item``); one row per subject that has one."""
    notice = kernel.notice_days(lst)
    e, ev, first_ev = events.view(), events.view(), events.view()
    k = _crit(lst).min_records
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
        noticed=ev.day,
        since=ev.day + notice,
        qn_start=ev.qn,
        reason_record=ev.record_id,
        reason_item=ev.item,
    )
    keep = [c for c in s.columns if c not in ("first_pos", "reason_record", "reason_item")]
    if k == 1:  # the opening record is the first ground
        return s.select(*keep, "reason_record", "reason_item")
    j = s.inner_join(first_ev, (s.subject == first_ev.subject) & (s.first_pos == first_ev.pos))
    return j.select(*[s[c] for c in keep], reason_record=first_ev.record_id, reason_item=first_ev.item)


def _entries(
    events: ir.Table, pairs: ir.Table | None, scheme: Scheme, lst: ListDef, rounds: int, today: int
) -> ir.Table:
    """Every entry of the list, one round per entry (see the module docstring); ``pairs`` are
    :func:`_window_pairs` for a list that needs several records within a window, else None."""
    last = events.group_by("subject").agg(q_total=events.qn.max())
    state = events.select("subject").distinct()
    state = state.mutate(after=ibis.literal(-1, type="int64"), qn_after=ibis.literal(0, type="int64"))
    found: list[ir.Table] = []
    for _ in range(rounds):
        # every join of the events with something derived from them reads a fresh view (Ibis
        # needs one to tell the two sides of a self-join apart)
        later_ev, end_ev = events.view(), events.view()
        s = _opening(events, state, pairs, lst)
        # each later record: the extensions before it, the planned end then, whether it ends the
        # entry; the first that does is found per entry by grouping on the entry's columns (a left
        # join keeps an entry no record follows), so ``s`` and the rounds before are read once
        later = s.left_join(later_ev, (s.subject == later_ev.subject) & (later_ev.pos > s.start))
        j = later.qn - later.is_q - later.qn_start
        planned = _planned(lst, later.since, j)
        ends = (later.is_q == 0) | (later.day >= planned)
        keys = [s.subject, s.start, s.base, s.noticed, s.since, s.qn_start, s.reason_record, s.reason_item]
        cand = later.select(*keys, pos=ibis.cases((ends, later.pos), else_=ibis.null("int64")))
        w = cand.group_by([c.get_name() for c in keys]).agg(end_pos=cand.pos.min())
        x = w.left_join(end_ev, (w.subject == end_ev.subject) & (w.end_pos == end_ev.pos))
        x = x.left_join(last, x.subject == last.subject)
        x = x.select(
            subject=w.subject,
            start=w.start,
            base=w.base,
            noticed=w.noticed,
            since=w.since,
            reason_record=w.reason_record,
            reason_item=w.reason_item,
            end_pos=w.end_pos,
            # the extensions the entry ended with: those before its ending record, else all after it
            j=ibis.cases(
                (w.end_pos.notnull(), end_ev.qn - end_ev.is_q - w.qn_start),
                else_=last.q_total - w.qn_start,
            ),
            end_day=end_ev.day,
            end_is_q=end_ev.is_q,
            # the qualifying records before the ending one: where the next window's count starts
            qn_end=end_ev.qn - end_ev.is_q,
            end_record=end_ev.record_id,
            end_item=end_ev.item,
        )
        planned = _planned(lst, x.since, x.j)
        fulfilled = x.end_pos.notnull() & (x.end_is_q == 0) & (x.end_day < planned)
        found.append(
            x.select(
                subject=x.subject,
                noticed=x.noticed,
                since=x.since,
                planned=planned,
                ended=ibis.cases((fulfilled, x.end_day), else_=ibis.null("int64")),
                end_reason=ibis.cases(
                    (fulfilled, "fulfilled: " + x.end_item + " (" + x.end_record + ")"),
                    (planned <= today, ibis.literal("expired")),
                    else_=ibis.null("string"),
                ),
                reason_record=x.reason_record,
                reason_item=x.reason_item,
                grounds=x.j + _crit(lst).min_records,
                start=x.start,
                base=x.base,
                end_pos=x.end_pos,
                qn_end=x.qn_end,
            )
        )
        # materialised: every later round reads this one, and an engine that plans a reused
        # expression again (Spark does) would otherwise compute round r once per later round
        found[-1] = found[-1].cache()
        nxt = found[-1]
        nxt = nxt.filter(nxt.end_pos.notnull())
        state = nxt.select(subject=nxt.subject, after=nxt.end_pos - 1, qn_after=nxt.qn_end)
    if not found:
        return events.filter(ibis.literal(False)).select(
            subject=events.subject,
            noticed=events.day,
            since=events.day,
            planned=events.day,
            ended=events.day,
            end_reason=events.item,
            reason_record=events.record_id,
            reason_item=events.item,
            grounds=events.pos,
            start=events.pos,
            base=events.pos,
            end_pos=events.pos,
            qn_end=events.pos,
        )
    return ibis.union(*found, distinct=False)


def _with_ground_records(entries: ir.Table, events: ir.Table, pairs: ir.Table | None) -> ir.Table:
    """``entries`` (of :func:`_entries`) with ``ground_records``: the ids of the qualifying
    records from the one that opened each entry up to the one before the record that ended it
    (all after it while it has not ended), in walk order, as ``lists.entries_for`` collects them;
    for a list that needs several records (``pairs``: :func:`_window_pairs`), preceded by the
    records still in the window when it opened (those after ``base`` that pair with ``start``).

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
    g = g.select(
        g_subject=g.subject,
        g_start=g.start,
        ground_records=g.keys.sort().join(",").re_replace("[0-9]{10}:", "").split(","),
    )
    out = entries.left_join(g, (entries.subject == g.g_subject) & (entries.start == g.g_start))
    return out.select(*entries.columns, "ground_records")


def _finish(
    t: ir.Table,
    qualified: str,
    via: ir.StringValue | None,
    today: int,
    grade: ir.StringValue | None = None,
) -> ir.Table:
    """Entries in walk columns (whole days) as rows of :data:`LIST_SCHEMA` (dates, status at
    ``today``); shared with :mod:`~socialcredit.engines.gradelists`."""
    status = ibis.cases(
        (today < t.since, ibis.literal("pending")),
        (t.ended.notnull() & (t.ended <= today), ibis.literal("removed")),
        (t.planned <= today, ibis.literal("expired")),
        else_=ibis.literal("active"),
    )
    return t.select(
        list=ibis.literal(qualified, type="string"),
        subject=t.subject,
        via=via if via is not None else ibis.null("string"),
        status=status,
        noticed_on=_date(t.noticed),
        since=_date(t.since),
        until=_date(t.ended.coalesce(t.planned)),
        planned_end=_date(t.planned),
        ended_on=_date(t.ended),
        end_reason=t.end_reason,
        reason_record=t.reason_record,
        reason_item=t.reason_item,
        grounds=t.grounds.cast("int64"),
        ground_records=(t.ground_records if "ground_records" in t.columns else ibis.null("array<string>")),
        grade=grade if grade is not None else ibis.null("string"),
        removal_due=_date(t.removal_due) if "removal_due" in t.columns else ibis.null("date"),
        suspended_by=t.suspended_by,
    )


def population_listing(
    records: ir.Table,
    representatives: ir.Table,
    lists: Sequence[Pair],
    as_of: dt.datetime,
    *,
    calendar: ir.Table,
    objections: ir.Table,
    rounds: int | None = None,
) -> ir.Table:
    """Every entry, past and present, on every list of ``lists`` at ``as_of``, in
    :data:`LIST_SCHEMA`, including representatives' entries through their organisations.

    ``records`` are in :data:`relational.RECORD_SCHEMA`; ``representatives`` in
    :data:`REPRESENTATIVE_SCHEMA` (``Engine.representatives``); ``lists`` the item lists of
    :func:`relational_lists` (its lists by grade: :mod:`~socialcredit.engines.gradelists`);
    ``calendar`` the installation's :func:`working_calendar` for these lists at ``as_of``;
    ``objections`` the export's objections (``suspending.OBJECTION_SCHEMA``,
    ``Engine.objections``), which suspend entries as :mod:`~socialcredit.engines.suspending` says.
    ``rounds`` bounds the entries per subject and list; by default it is found by a small query
    (the most qualifying records of one subject on one list), which runs on the records' backend.
    Raises :class:`ValueError` for a list that :func:`refused` names or a list by grade."""
    if not lists:
        raise ValueError("population_listing needs at least one list")
    schemes = list({s.id: s for s, _ in lists}.values())
    no = refused(schemes)
    for s, lst in lists:
        if lst.criteria.by == "grade" and f"{s.id}/{lst.id}" not in no:
            no[f"{s.id}/{lst.id}"] = "a list by grade: gradelists.population_grade_listing derives it"
    bad = [f"{s.id}/{lst.id}: {no[f'{s.id}/{lst.id}']}" for s, lst in lists if f"{s.id}/{lst.id}" in no]
    if bad:
        raise ValueError("not relational: " + "; ".join(bad))
    today = (as_of.date() - EPOCH).days
    eff = relational.effective(records, as_of)
    # materialised once per list: the rounds, the suspension join and the bound on rounds each
    # read a list's events several times, and Spark would compute them (a filter of every
    # record and two windows) again for every read; a list's events are its items' records only
    events = {(s.id, lst.id): _events(eff, s, lst).cache() for s, lst in lists}
    pairs = {
        key: _window_pairs(events[key], lst).cache()
        for s, lst in lists
        if _crit(lst).min_records > 1 and _crit(lst).window_days
        for key in [(s.id, lst.id)]
    }
    if rounds is None:
        counts = ibis.union(
            *[e.group_by("subject").agg(n=e.qn.max()).select("n") for e in events.values()], distinct=False
        )
        value = counts.n.max().to_pyarrow().as_py()
        rounds = int(value) if value is not None else 0
    open_ = suspending.open_at(objections, as_of)
    parts: list[ir.Table] = []
    for s, lst in lists:
        qualified = f"{s.id}/{lst.id}"
        ev = events[(s.id, lst.id)]
        pr = pairs.get((s.id, lst.id))
        entries = _with_ground_records(_entries(ev, pr, s, lst, rounds, today), ev, pr)
        entries = _removal_due(entries, lst, calendar)
        both = entries.mutate(via=ibis.null("string"), gsubject=entries.subject)
        if lst.lists_representative:
            r = representatives
            rep = entries.inner_join(r, entries.subject == r.organisation)
            rep = rep.select(
                *[c for c in entries.columns if c != "subject"],
                subject=r.representative,
                via=r.organisation,
                gsubject=r.organisation,
            )
            both = ibis.union(both, rep.select(*both.columns), distinct=False)
        both = suspending.attach(both, qualified, lst, open_, events=ev)
        parts.append(_finish(both, qualified, both.via, today))
    return ibis.union(*parts, distinct=False)
