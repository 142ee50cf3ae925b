"""List membership (the court's list of dishonest judgment debtors, the enterprise list of serious
violators) as one relational definition, for whole populations.

The rules are exactly those of ``socialcredit.criteria.items`` and ``entries_for``: each list
by items is walked track by track (``ListDef.tracks``: one per period of a list written with
``periods``, else one), each track by :mod:`~socialcredit.engines.walk` (its relational form of the
walk: in rounds, or in one pass for a track only a removal ends), and the tracks' entries are
unioned. An organisation's entry on a list with ``lists_representative`` is also an entry of its
legal representative, naming the organisation (``via``).

Not here: lists by grade (``criteria.grade_at_most``/``grade_at_least``: Rongcheng's honour roll
and D list, the enterprise red rating) follow a score's whole history, not records of items: they
are derived by :mod:`~socialcredit.engines.gradelists` (points, tier and factor models; one whose
relationships factor counts is named by :func:`refused`), and :func:`population_listing` refuses
them.

An entry an open objection suspends names it in ``suspended_by``
(:mod:`~socialcredit.engines.suspending`, the rule of ``dueprocess.suspension``), once per list
on the union of its tracks' entries, each entry told apart by its track and walk position (a walk
position alone tells a track's entries apart, not a list's; decision 0082).

The removal deadline of an ended entry (``removal_due``: ``removal.within_working_days`` working
days after the removal record's own date, or after the last day of an expired period, weekends
and the holidays the installation configures skipped, as ``dueprocess.calendar.add_working_days``
counts them) is two equality joins with a calendar of numbered working days
(:func:`working_calendar`): the N-th working day after day ``d`` is the one numbered N more than
the working days up to and including ``d``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from socialcredit.dueprocess.calendar import worked as worked_days
from socialcredit.engines import recursive, relational, suspending, walk
from socialcredit.engines.fields import RELATIONAL
from socialcredit.engines.ops import EPOCH, IBIS, china_day, dates, day_numbers
from socialcredit.rules import days, kernel
from socialcredit.schemes.model import ItemCriteria, ListDef, Scheme, Track
from socialcredit.schemes.segments import Segment, segments_of

REPRESENTATIVE_SCHEMA = pa.schema(
    [
        pa.field("organisation", pa.string(), nullable=False),
        pa.field("representative", pa.string(), nullable=False),
        pa.field("valid_from", pa.date32()),
        pa.field("valid_to", pa.date32()),
    ]
)
"""Who represented each organisation when (``representatives.parquet`` of an export: one row per
term, ``subjects.Tenure``; a null bound is open; since version 8)."""

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
including it; ``working`` says whether it is one (``dueprocess.calendar.is_working_day``)."""
CALENDAR_FROM = dt.date(1949, 10, 1)
"""The calendar's first day: no record can be reported earlier."""


Pair = tuple[Scheme, ListDef]


def working_calendar(holidays: frozenset[dt.date], as_of: dt.datetime, lists: Sequence[Pair]) -> pa.Table:
    """The days from :data:`CALENDAR_FROM` to past the latest removal deadline of an entry ended
    by ``as_of`` on one of ``lists`` (every deadline counts from a day up to ``as_of``), numbered
    by working days (:data:`CALENDAR_SCHEMA`); an engine registers it (``Engine.table``) for
    :func:`population_listing`. Why a table: the deadline is then a join on both engines, not a
    loop per entry."""
    most = max((t.removal.within_working_days for _, lst in lists for t in lst.tracks), default=0)
    # N working days take at most 7N/5 + 2 calendar days, and each holiday one more
    last = days.day_of(as_of) + dt.timedelta(days=2 * most + 7 + len(holidays))
    # whole arrays, not a loop over some 28,000 days (a loop was a tenth of the court list's time
    # on a small export); 1970-01-01, day 0, was a Thursday (weekday 3)
    numbered = np.arange((CALENDAR_FROM - EPOCH).days, (last - EPOCH).days + 1, dtype=np.int64)
    off = np.array(sorted((h - EPOCH).days for h in holidays), dtype=np.int64)
    worked = np.array(sorted((w - EPOCH).days for w in worked_days(holidays)), dtype=np.int64)
    # Monday to Friday less the holidays, and the weekend days worked in their place
    working = (((numbered + 3) % 7 < 5) & ~np.isin(numbered, off)) | np.isin(numbered, worked)
    numbers = np.cumsum(working, dtype=np.int64)
    return pa.table({"day": numbered, "working_no": numbers, "working": working}, schema=CALENDAR_SCHEMA)


def _removal_due(t: ir.Table, within_working_days: int, calendar: ir.Table) -> ir.Table:
    """``t`` with ``removal_due`` (whole days): the ``within_working_days``-th working day after
    ``due_from`` (``walk.entries``: the removal ground's date, or an expired period's last day),
    null where it is null (``add_working_days``; 0 days: the day itself)."""
    n = within_working_days
    if n == 0:
        return t.mutate(removal_due=t.due_from)
    upto = calendar.select(upto_day=calendar.day, upto_no=calendar.working_no)
    work = calendar.filter(calendar.working).select(due_day=calendar.day, due_no=calendar.working_no)
    j = t.left_join(upto, t.due_from == upto.upto_day)
    j = j.left_join(work, j.upto_no + n == work.due_no)
    return j.select(*t.columns, removal_due=j.due_day)


_CUT = ("subject", "since", "noticed", "ended", "end_reason", "removal_due")


def _through(entries: ir.Table, representatives: ir.Table, today: int) -> ir.Table:
    """Organisations' entries as they fall on their legal representatives: for each term, only
    the days both share, cut short where the term ends first (the kernel's term rules, as
    ``lists.through`` applies them to one subject)."""
    r = representatives.mutate(vf=_days(representatives.valid_from), vt=_days(representatives.valid_to))
    j = entries.inner_join(r, entries.subject == r.organisation)
    until = j.ended.coalesce(j.planned)  # a period with no end is planned at walk.FOREVER
    j = j.filter(kernel.term_overlaps(j.since, until, j.vf, j.vt, today, IBIS))
    cuts = kernel.term_cuts(until, j.vt, IBIS)
    reason = "no longer the legal representative of " + j.organisation + " from " + _date(j.vt).cast("string")
    return j.select(
        *[c for c in entries.columns if c not in _CUT],
        subject=j.representative,
        since=kernel.term_since(j.since, j.vf, IBIS),
        noticed=ibis.cases((j.vf.notnull() & (j.vf > j.since), j.vf), else_=j.noticed),
        ended=ibis.cases((cuts, j.vt), else_=j.ended),
        end_reason=ibis.cases((cuts, reason), else_=j.end_reason),
        removal_due=ibis.cases((cuts, ibis.null("int64")), else_=j.removal_due),
        via=j.organisation,
        gsubject=j.organisation,
    )


def refused(schemes: Sequence[Scheme]) -> dict[str, str]:
    """The lists of ``schemes`` that no relational definition derives (neither
    :func:`population_listing` nor ``gradelists.population_grade_listing``), by qualified id, with
    the reason: a caller skips them (they stay per subject, ``lists.entries_for``), and only them
    (decision 0063)."""
    out: dict[str, str] = {}
    for s in schemes:
        skipped = RELATIONAL.skipped(s)  # a list by a kind of criterion with no relational form
        reasons = RELATIONAL.reasons(s)
        for lst in s.lists:
            q = f"{s.id}/{lst.id}"
            if q in skipped:
                out[q] = skipped[q]
            elif lst.criteria.by == "grade" and reasons:
                out[q] = f"a list by grade of scheme {s.id}, which " + "; ".join(reasons)
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


_days = day_numbers
_date = dates


def _finish(
    t: ir.Table,
    qualified: str,
    via: ir.StringValue | None,
    today: int,
    grade: ir.StringValue | None = None,
) -> ir.Table:
    """Entries in walk columns (whole days) as rows of :data:`LIST_SCHEMA` (dates, status at
    ``today``); shared with :mod:`~socialcredit.engines.gradelists`."""
    planned = ibis.cases((t.planned >= walk.FOREVER, ibis.null("int64")), else_=t.planned)
    status = ibis.cases(
        (today < t.since, ibis.literal("pending")),
        (t.ended.notnull() & (t.ended <= today), ibis.literal("removed")),
        (planned.notnull() & (planned <= today), ibis.literal("expired")),
        else_=ibis.literal("active"),
    )
    return t.select(
        list=ibis.literal(qualified, type="string"),
        subject=t.subject,
        via=via if via is not None else ibis.null("string"),
        status=status,
        noticed_on=_date(t.noticed),
        since=_date(t.since),
        until=_date(t.ended.coalesce(planned)),
        planned_end=_date(planned),
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


def _in_segment(eff: ir.Table, track: Track, seg: Segment) -> ir.Table:
    """The records one segment's walk of ``track`` reads (``schemes.segments``): its grounds
    reported on its days, removal records and extension decisions reported from its start on."""
    if seg.start is None and seg.end is None:
        return eff
    day = china_day(eff.walked_at)
    acting = {*track.removal.on_items, *track.extension_items}
    grounds = [i for i in track.grounds if i not in acting]
    read = ibis.literal(True) if seg.start is None else day >= (seg.start - EPOCH).days
    opened = read if seg.end is None else read & (day < (seg.end - EPOCH).days)
    return eff.filter(ibis.ifelse(eff.item.isin(grounds), opened, read))


def _period_ends(eff: ir.Table, track: Track) -> ir.Table | None:
    """For a period in calendar years, :func:`walk.period_ends` of the days ``track``'s grounds in
    ``eff`` occurred (one small query), as a table on ``eff``'s backend; else None."""
    if track.years is None:
        return None
    grounds = eff.filter(eff.item.isin(list(track.grounds)))
    days = grounds.select(occ=_days(grounds.occurred_on)).distinct().to_pyarrow().column("occ")
    return ibis.memtable(walk.period_ends(days.to_pylist(), track))


def walk_positions(records: ir.Table, eff: ir.Table) -> ir.Table:
    """``eff`` with ``walked_at``: where a list's walk places each record, as
    ``ledger.Record.walked_at`` does: a correction where the first record of its chain about the
    same subject was reported (a court's listing decision corrected is the same listing, not a new
    one), any other record where it was reported. Corrections are few: they and the records their
    chains reach are read (small queries, one per link of the longest chain) and laid over ``eff``
    by a join."""
    fixes = eff.filter(eff.action == "correct").select("seq", "subject", "corrects_seq")
    corrections = fixes.to_pyarrow().to_pylist()
    if not corrections:
        return eff.mutate(walked_at=eff.reported_at)
    links: dict[int, dict[str, Any]] = {}  # seq -> subject, reported_at, action, corrects_seq
    wanted = {c["corrects_seq"] for c in corrections if c["corrects_seq"] is not None}
    while wanted:
        found = records.filter(records.seq.isin(sorted(wanted)))
        rows = (
            found.select("seq", "subject", "reported_at", "action", "corrects_seq").to_pyarrow().to_pylist()
        )
        links.update({r["seq"]: r for r in rows})
        wanted = {
            r["corrects_seq"]
            for r in rows
            if r["action"] == "correct" and r["corrects_seq"] is not None and r["corrects_seq"] not in links
        }
    seqs, ats = [], []
    for c in corrections:
        at, link, seen = None, c["corrects_seq"], set()
        while link in links and link not in seen and links[link]["subject"] == c["subject"]:
            seen.add(link)
            at = links[link]["reported_at"]
            if links[link]["action"] != "correct":
                break
            link = links[link]["corrects_seq"]
        if at is not None:
            seqs.append(c["seq"])
            ats.append(at)
    firsts = ibis.memtable(
        pa.table({"w_seq": pa.array(seqs, pa.int64()), "w_at": pa.array(ats, pa.timestamp("us"))})
    )
    j = eff.left_join(firsts, eff.seq == firsts.w_seq)
    return j.select(*eff.columns, walked_at=j.w_at.coalesce(j.reported_at))


def population_listing(
    records: ir.Table,
    representatives: ir.Table,
    lists: Sequence[Pair],
    as_of: dt.datetime,
    *,
    calendar: ir.Table,
    objections: ir.Table,
    rounds: int | None = None,
    segments: Mapping[str, tuple[Segment, ...]] | None = None,
) -> ir.Table:
    """Every entry, past and present, on every list of ``lists`` at ``as_of``, in
    :data:`LIST_SCHEMA`, including representatives' entries through their organisations.
    ``segments`` (``schemes.segments.segmented`` of the day's registry) cut a list whose rules
    changed with earlier listings staying ended: each segment is walked by its version's list over
    the records it reads (:func:`_in_segment`), as ``lists.entries_for`` walks it (decision 0051).

    ``records`` are in :data:`relational.RECORD_SCHEMA`; ``representatives`` in
    :data:`REPRESENTATIVE_SCHEMA` (``Engine.representatives``); ``lists`` the item lists of
    :func:`relational_lists` (its lists by grade: :mod:`~socialcredit.engines.gradelists`);
    ``calendar`` the installation's :func:`working_calendar` for these lists at ``as_of``;
    ``objections`` the export's objections (``suspending.OBJECTION_SCHEMA``,
    ``Engine.objections``), which suspend entries as :mod:`~socialcredit.engines.suspending` says.
    ``rounds`` bounds the entries per subject and list; by default the walk goes on until a round
    ends no entry (``walk.entries``).
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
    today = days.day_number(as_of)
    eff = relational.effective(records, as_of)
    read = sorted(
        {
            i
            for _s, lst in lists
            for seg in segments_of(segments, _s, lst)
            if seg.lst is not None
            for t in seg.lst.tracks
            for i in (*t.grounds, *t.removal.on_items, *t.extension_items)
        }
    )
    # the lists' records read from the ledger once (materialised: a few per cent of it), not once
    # per track: each track's events were a scan of every record; only the columns a walk reads
    # (the scan decodes each column it keeps for every record)
    eff = relational.of_items(eff, read)  # the range first (decision 0077)
    columns = ("seq", "record_id", "subject", "item", "occurred_on", "reported_at", "details")
    eff = eff.select(*columns, "action", "corrects_seq").cache()
    eff = walk_positions(records, eff).select(*columns, "walked_at")
    # materialised once per track: the rounds, the suspension join and the bound on rounds each
    # read a track's events several times, and Spark would compute them (a filter of every
    # record and two windows) again for every read; a track's events are its items' records only
    tracks = [
        (s, seg.lst, (n, k), t, seg)
        for s, lst in lists
        for n, seg in enumerate(segments_of(segments, s, lst))
        if seg.lst is not None
        for k, t in enumerate(seg.lst.tracks)
    ]
    events = {
        (s.id, lst.id, k): walk.events(
            _in_segment(eff, t, seg), t, _crit(lst), _period_ends(_in_segment(eff, t, seg), t)
        ).cache()
        for s, lst, k, t, seg in tracks
    }
    pairs = {
        (s.id, lst.id, k): walk.window_pairs(events[(s.id, lst.id, k)], _crit(lst)).cache()
        for s, lst, k, _t, _seg in tracks
        if _crit(lst).min_records > 1 and _crit(lst).window_days
    }
    open_ = suspending.open_at(objections, as_of)
    # what follows the walk (the removal deadline, the representatives' entries, suspension, the
    # rows' columns) is built once for the tracks it treats alike, on the union of their entries,
    # not once per track: each is Python building and compiling part of the final query, which
    # was most of the court list's fixed cost once the rounds were one statement (decision 0082)
    alike: dict[tuple[str, bool, str, int], tuple[ListDef, list[tuple[ir.Table, ir.Table, ir.Table]]]] = {}
    for n, (s, lst, k, track, _seg) in enumerate(tracks):
        ev = events[(s.id, lst.id, k)]
        pr = pairs.get((s.id, lst.id, k))
        notice = kernel.notice_days(lst)
        if walk.removal_walk(track, _crit(lst)):
            found = walk.until_removed(ev, notice)
        elif recursive.walks(ev, track, _crit(lst), rounds):  # one statement, not rounds (0082)
            found = recursive.entries(ev, track, _crit(lst), notice, today)
        else:
            found = walk.entries(ev, pr, track, _crit(lst), notice, rounds, today)
        # ``track`` tells apart entries of one list that share a subject and a walk position
        found = found.mutate(track=ibis.literal(n, type="int64"))
        collected = walk.ground_records(found, ev, pr).mutate(g_track=ibis.literal(n, type="int64"))
        # alike: one list, and what follows the walk reads the same of it (a list's segments
        # may differ in these, decision 0051)
        within = track.removal.within_working_days
        key = (f"{s.id}/{lst.id}", lst.lists_representative, lst.during_objection, within)
        alike.setdefault(key, (lst, []))[1].append((found, ev, collected))
    parts: list[ir.Table] = []
    for (qualified, representative, _during, within), (lst, done) in alike.items():
        entries = _removal_due(_union([f for f, _ev, _g in done], widen=True), within, calendar)
        both = entries.mutate(via=ibis.null("string"), gsubject=entries.subject)
        if representative:
            both = ibis.union(
                both, _through(entries, representatives, today).select(*both.columns), distinct=False
            )
        # each entry's ground records joined once, after the representatives' entries are added
        # (theirs are their organisation's: ``gsubject``), not before: the query would collect
        # them again for that branch (decision 0102)
        g = _union([g for _f, _ev, g in done], widen=True)
        on = (both.gsubject == g.g_subject) & (both.track == g.g_track) & (both.start == g.g_start)
        both = both.left_join(g, on).select(*both.columns, "ground_records")
        # the records an objection names are matched to entries by id: each track's grounds
        grounds = [e.filter(e.is_q == 1).select("subject", "record_id", "is_q") for _f, e, _g in done]
        ev = _union(grounds, widen=True)
        both = suspending.attach(both, qualified, lst, open_, events=ev)
        parts.append(_finish(both, qualified, both.via, today))
    return _union(parts)


def _union(tables: Sequence[ir.Table], *, widen: bool = False) -> ir.Table:
    """The rows of every table (one table: itself, no union to compile). ``widen``: every integer
    column as ``int64`` first, since tracks walked differently type their days and positions
    differently on Spark (a row number is an ``int``), and a union needs equal schemas."""
    if len(tables) == 1:
        return tables[0]
    if widen:
        tables = [t.cast({c: "int64" for c, ty in t.schema().items() if ty.is_integer()}) for t in tables]
    return ibis.union(*tables, distinct=False)
