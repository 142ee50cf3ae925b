"""Lists by grade (Rongcheng's honour roll and D list, the enterprise red rating) as one relational
definition, for whole populations.

A list by grade (``criteria.by: grade``, ``grade_at_most``/``grade_at_least``) follows a score's whole
history, so this module derives each subject's history first, then its entries, exactly as
``socialcredit.criteria.grade._grade_entries`` walks ``scoring.dispatch.timeline`` over the subject's
effective records at ``as_of``:

1. **the days the score can change** (the walk's timeline): per effective record of an item the
   model reads, the day it starts counting (the later of its occurrence and its report), the day
   it stops (``counts_for_days`` after it occurred) if that is by ``as_of``, for a decaying item the
   days its whole points step down, and for a tier model the day it leaves each rule window;
2. **the score on each of those days**, as the model's history sweeps it
   (``ScoringModel.sweep``): a ``running`` sweep (the points model) sums each record's change of
   contribution (:func:`relational.decayed`, one expression with the score at one time) as a
   running total, scored by the model's own form (``score_of``: ``base`` plus it, clamped); an
   ``evaluated`` sweep (the tier and factor models) evaluates the model on the records counting
   that day (:func:`relational.model_scores`, the same aggregate as the score at one time, keyed by
   day);
3. **the entries**: a run of consecutive days whose grade meets the criteria
   (``criteria.grade.qualifies``) is one entry, found here by window functions and made an entry
   by the criterion's own formula (``criteria.grade.run_entry``, with Ibis columns: the one every
   evaluator computes): noticed on the run's first day, in effect ``notice.days`` later (when
   notice is required), planned to end ``period_days`` after that; it ends ("grade changed") on
   the first day the grade no longer meets them if that is by its planned end, is dropped if that
   is on or before it took effect (the grade recovered during the notice), and otherwise
   "expired" once its planned end has passed (a later change of grade does not reach back to end
   an expired entry). Only the histories with a qualifying day go on to this step (a history
   without one has no run); the rest never leave their integer key (decision 0070).

Why the days need care: an extra day in step 1 is harmless (the score on it is computed exactly,
and a day on which nothing changes extends a run without ending it), a missing one is not. The
decay steps are found from a logarithm (the day each whole value is passed), checked against
the exact formula on that day and the two after it (:func:`_step_ages`), so a rounding of the
logarithm cannot move or lose a step (the per-subject path finds them by bisection instead).

Two details of the walk the rows keep: a running history starts on the first day any record
starts counting (even if the score is then still ``base``), an evaluated history on the first day
the score differs from the one with no records; and an entry that runs to the last day names
the grade then as its ground (``grade D``), one that ended on a change of grade only
``grade reached``: the row's ``grade`` column holds the former and is null for the latter.

Nothing here knows a kind of model: the history's days, feeds and score are the model's
(``scoring.dispatch.model_of``). Not here: a scheme a field of which the engines refuse (a factor
model whose relationships factor counts: no export holds contacts' scores; ``listing.refused``
names its lists). An opt-in scheme cannot
have a list by grade at all (the scheme is refused: its score exists only for those who joined).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.criteria import grade
from socialcredit.engines import listing, relational, suspending
from socialcredit.engines.fields import FORMED, RELATIONAL
from socialcredit.engines.ops import IBIS, china_day
from socialcredit.rules import days, kernel
from socialcredit.schemes.model import ListDef, Scheme
from socialcredit.schemes.segments import Segment
from socialcredit.scoring.dispatch import model_of

Pair = tuple[Scheme, ListDef]


def by_grade(lst: ListDef) -> bool:
    """Whether ``lst``'s kind of criterion follows score histories (:attr:`Form.histories`: a list
    by grade), found in :data:`FORMS` by its ``by``."""
    return FORMS[lst.criteria.by].histories


def derivable(scheme: Scheme) -> bool:
    """Whether this module derives the lists by grade of ``scheme``: any scored scheme none of
    whose fields the engines refuse (not a factor model whose relationships factor counts: no
    export holds contacts' scores)."""
    return scheme.model is not None and not RELATIONAL.reasons(scheme)


def item_table(schemes: Sequence[Scheme]) -> pa.Table:
    """The items the histories read, in :data:`relational.ITEM_SCHEMA` (:func:`relational.item_table`:
    the items some feed of the model reads). Register it with
    ``Engine.table(item_table(...), "grade_items")``."""
    return relational.item_table(schemes)


def _records(eff: ir.Table, items: ir.Table, last: int) -> ir.Table:
    """Each scheme's counting records (``scheme``) with their span in whole days (``occ``,
    ``start``, ``end``), those that start counting by ``last`` and before they stop, as
    ``score_timeline`` and ``change_days`` keep them."""
    j = eff.inner_join(items, eff.item == items.item)
    occ = listing._days(j.occurred_on)
    rep = china_day(j.reported_at)
    t = j.select(
        scheme=j.scheme,
        seq=j.seq,
        subject=j.subject,
        subject_no=j.subject_no,
        item=j.item,
        points=j.points,
        half_life=j.half_life_days,
        occ=occ,
        start=ibis.greatest(occ, rep),
        end=occ + j.counts_for_days,
    )
    return t.filter((t.start < t.end) & (t.start <= last))


def _step_ages(r: ir.Table, last: int) -> ir.Table:
    """``seq, age``: for each decaying record, each age (days after occurrence) within
    ``(start, min(end - 1, last)]`` on which its whole points step towards zero.

    The contribution's size ``|v|`` only shrinks with age, so it passes each whole value ``k``
    between its size on the first and on the last day once: first at or below ``k - 1`` at the
    age ``s`` that ``h * log2(|points| / (k - 0.5))`` predicts. A double's logarithm puts ``s``
    at its floor ``g`` or one or two days later (never earlier); the first of ``g, g + 1, g + 2``
    where the exact formula (:func:`relational.decayed`) gives ``|v| <= k - 1`` is ``s``. One row
    per step, whatever the rounding of the logarithm."""
    d = r.filter(r.half_life.notnull() & (r.points != 0))
    d = d.mutate(final=ibis.least(d.end - 1, ibis.literal(last, type="int64")))
    first = relational.decayed(d.points, d.start - d.occ, d.half_life).abs()
    final = relational.decayed(d.points, d.final - d.occ, d.half_life).abs()
    k = d.select(
        d.seq, d.occ, d.start, d.final, d.points, d.half_life, k=ibis.range(final + 1, first + 1).unnest()
    )
    size = k.points.abs().cast("float64")
    guess = (k.half_life.cast("float64") * (size / (k.k.cast("float64") - 0.5)).log2()).floor().cast("int64")
    k = k.mutate(guess=guess)

    def below(age: ir.IntegerValue) -> ir.BooleanValue:
        return relational.decayed(k.points, age, k.half_life).abs() <= k.k - 1

    step = ibis.cases(
        (below(k.guess), k.guess),
        (below(k.guess + 1), k.guess + 1),
        (below(k.guess + 2), k.guess + 2),
        else_=ibis.null("int64"),
    )
    a = k.select(k.seq, k.occ, k.start, k.final, age=step)
    a = a.filter((a.age > a.start - a.occ) & (a.age <= a.final - a.occ))
    return a.select("seq", "age").distinct()


def _contributions(r: ir.Table, last: int) -> ir.Table:
    """``subject, subject_no, day, delta``: each record's change of contribution on each day it may
    change: on its start, on each decay step, and back to nothing on its end (if by ``last``).

    A record that cannot decay (no half-life, or no points) changes only twice: by its value on
    its start and back by as much on its end. Those records, most of a ledger, take that short
    path (two rows each, no join); only the decaying ones are joined with their step days and
    differenced by a window. The values are the kernel's either way (:func:`relational.decayed`)."""
    flat = r.filter(r.half_life.isnull() | (r.points == 0))
    worth = relational.decayed(flat.points, flat.start - flat.occ, flat.half_life)
    f = flat.select(flat.subject, flat.subject_no, flat.start, flat.end, value=worth)
    began = f.select(f.subject, f.subject_no, day=f.start, delta=f.value)
    gone = f.filter(f.end <= last)
    gone = gone.select(gone.subject, gone.subject_no, day=gone.end, delta=-gone.value)
    r = r.filter(r.half_life.notnull() & (r.points != 0))
    starts = r.select(r.seq, age=r.start - r.occ, gone=ibis.literal(False))
    ends = r.filter(r.end <= last)
    ends = ends.select(ends.seq, age=ends.end - ends.occ, gone=ibis.literal(True))
    steps = _step_ages(r, last).mutate(gone=ibis.literal(False))
    ages = ibis.union(starts, ends, steps, distinct=True)
    r = r.view()
    j = ages.inner_join(r, ages.seq == r.seq)
    value = ibis.cases(
        (j.gone, ibis.literal(0, type="int64")), else_=relational.decayed(j.points, j.age, j.half_life)
    )
    v = j.select(j.subject, j.subject_no, seq=j.seq, day=j.occ + j.age, age=j.age, value=value)
    before = v.value.lag().over(ibis.window(group_by=v.seq, order_by=v.age))
    decaying = v.select("subject", "subject_no", "day", delta=v.value - before.coalesce(0))
    return ibis.union(began, gone, decaying, distinct=False)


def _running_history(r: ir.Table, scheme: Scheme, last: int) -> ir.Table:
    """``subject_no, day, score``: the score at the end of each day it may change, from
    the first day a record starts counting (``score_timeline``), from the scheme's records ``r``
    (:func:`_records`): a running sum of each record's change of contribution, scored by the
    model's own form. A running sweep sums one feed of points, for as long as they count."""
    model = model_of(scheme)
    feeds = model.feeds(scheme)
    if len(feeds) != 1 or feeds[0].counts or feeds[0].within is not None:
        raise ValueError(f"{scheme.id}: a running history sums one feed of points, for as long as they count")
    c = _contributions(r, last)
    # a count-like cast: a sum of BIGINT is HUGEINT on DuckDB
    # grouped and ordered on the integer key alone (a subject's code is joined back once the
    # histories that list nobody are dropped, _history): hashing, sorting and carrying millions
    # of codes was most of a history's time
    per_day = c.group_by("subject_no", "day").agg(delta=c.delta.sum().cast("int64"))
    running = per_day.delta.sum().over(
        ibis.cumulative_window(group_by=per_day.subject_no, order_by=per_day.day)
    )
    score = model.score_of(scheme, [running.cast("int64")], IBIS)
    return per_day.select("subject_no", "day", score=score.cast("int64"))


def _history(
    records: ir.Table, subjects: ir.Table, scheme: Scheme, lists: Sequence[ListDef], last: int
) -> ir.Table:
    """``subject, subject_no, day, score, grade``: a subject's score history under ``scheme`` as
    the walk reads it, for the subjects the model rates, from every scheme's ``records``
    (:func:`_records`), kept only for the subjects whose grade meets the criteria of one of
    ``lists`` (the scheme's lists derived) on some day. Only the rated subjects' records are swept.

    Why the cut: a history without a qualifying day has no run, so no entry on any of them, and
    most subjects never reach a listed grade (Rongcheng: a few per cent ever reach the honour
    roll's A or AAA, fewer the D list); the runs' windows then read only those who do. Which
    subjects qualify is the criterion's own formula (``criteria.grade.qualifies``)."""
    model = scheme.model
    if model is None:
        raise ValueError(f"{scheme.id}: a list by grade needs a scoring model")
    r = records.filter(records.scheme == scheme.id).drop("scheme")
    if set(model.subjects) != {"person", "organisation"}:  # criteria.grade rates: an enterprise rating
        # the records of the subjects rated, before the history: a person's records of an item an
        # enterprise rating shares were swept into histories dropped after (decision 0103)
        rated = subjects.filter(subjects.kind.isin(list(model.subjects)))
        r = r.semi_join(rated, r.subject_no == rated.subject_no)
    if model_of(scheme).sweep == "running":
        h = _running_history(r, scheme, last)
    else:
        h = _evaluated_history(r, scheme, last)
    rank = kernel.grade_index(h.score, model.grades, IBIS)
    ever = h.filter(IBIS.any([grade.qualifies(rank, scheme, lst, IBIS) for lst in lists]))
    h = h.semi_join(ever.select("subject_no").distinct(), "subject_no")
    if "subject" not in h.columns:  # a running history is keyed by number: the code from the subjects
        named = subjects.select(n_no=subjects.subject_no, subject=subjects.code)
        h = h.inner_join(named, h.subject_no == named.n_no).drop("n_no")
    scheme_id = ibis.literal(scheme.id, type="string")
    return h.select(
        "subject", "subject_no", "day", "score", grade=relational.grade_expr(scheme_id, h.score, [scheme])
    )


def _evaluated_history(r: ir.Table, scheme: Scheme, last: int) -> ir.Table:
    """``subject, subject_no, day, score``: the model evaluated (:func:`relational.model_scores`)
    on every day its value can change (``change_days``: a record starts or stops counting, decays a
    step, or leaves a feed's window), from the records counting that day with their age and
    decayed points then, kept from the first day it differs from ``base`` (``dispatch.timeline``)."""
    model = scheme.model
    assert model is not None
    windows = sorted({f.within for f in model_of(scheme).feeds(scheme) if f.within is not None})
    day_sets = [
        r.select(r.subject, r.subject_no, day=r.start),
        r.select(r.subject, r.subject_no, day=r.end),
        *(r.select(r.subject, r.subject_no, day=r.occ + w) for w in windows),
    ]
    steps, rs = _step_ages(r, last), r.view()
    s = steps.inner_join(rs, steps.seq == rs.seq)
    day_sets.append(s.select(rs.subject, rs.subject_no, day=rs.occ + steps.age))
    days = ibis.union(*day_sets, distinct=True)
    days = days.filter(days.day <= last)
    # every record counting on each of those days, with its age and decayed points then
    rd = r.view()
    j = days.inner_join(rd, (days.subject_no == rd.subject_no) & (rd.start <= days.day) & (days.day < rd.end))
    age = j.day - j.occ
    read = j.select(
        scheme_no=ibis.literal(0, type="int64"),
        subject_no=days.subject_no,
        day=days.day,
        item=rd.item,
        age=age,
        points=relational.decayed(rd.points, age, rd.half_life),
    )
    grid = days.mutate(scheme=ibis.literal(scheme.id, type="string"), scheme_no=ibis.literal(0, type="int64"))
    h = relational.model_scores(read, grid, [scheme], ["subject_no", "day"])
    # the walk's history starts where the value first differs from the one with no records
    moved = (
        (h.score != model.base)
        .cast("int64")
        .max()
        .over(ibis.cumulative_window(group_by=h.subject_no, order_by=h.day))
    )
    h = h.mutate(moved=moved)
    return h.filter(h.moved == 1).select("subject", "subject_no", "day", "score")


def _entries(h: ir.Table, scheme: Scheme, lst: ListDef, today: int) -> ir.Table:
    """The list's entries from the histories ``h`` (step 3 of the module docstring), in the columns
    ``listing._finish`` shapes, plus ``grade``: the runs found here by window functions, each made
    an entry by the criterion's own formulas (``criteria.grade.qualifies`` and ``run_entry``, with
    Ibis columns)."""
    model = scheme.model
    assert model is not None
    by_day = ibis.window(group_by=h.subject, order_by=h.day)
    t = h.mutate(ok=grade.qualifies(kernel.grade_index(h.score, model.grades, IBIS), scheme, lst, IBIS))
    t = t.mutate(
        opens=t.ok & ~t.ok.lag().over(by_day).coalesce(False),
        is_last=t.day == t.day.max().over(ibis.window(group_by=t.subject)),
    )
    # each run, numbered: every day from a run's first to the next run's first carries its number
    t = t.mutate(
        run=t.opens.cast("int64").sum().over(ibis.cumulative_window(group_by=t.subject, order_by=t.day))
    )
    t = t.filter(t.run > 0)
    runs = t.group_by("subject", "run").agg(
        start=t.day.min(),
        ended=ibis.cases((~t.ok, t.day), else_=ibis.null("int64")).min(),
        last_grade=ibis.cases((t.is_last & t.ok, t.grade), else_=ibis.null("string")).max(),
    )
    run = grade.run_entry(runs.start, runs.ended.coalesce(grade.NEVER), lst, today, IBIS)
    e = runs.select(
        subject=runs.subject,
        noticed=runs.start,
        since=run.since,
        planned=run.planned,
        ended=ibis.cases((run.changed, runs.ended), else_=ibis.null("int64")),
        end_reason=ibis.cases(
            (run.changed, ibis.literal("grade changed")),
            (run.expired, ibis.literal("expired")),
            else_=ibis.null("string"),
        ),
        reason_record=ibis.null("string"),
        reason_item=ibis.null("string"),
        grounds=ibis.literal(1, type="int64"),
        grade=ibis.cases((runs.ended.isnull(), runs.last_grade), else_=ibis.null("string")),
        listed=run.listed,
    )
    # the grade recovered during the notice period: never listed
    return e.filter(e.listed).drop("listed")


def population_grade_listing(
    records: ir.Table,
    subjects: ir.Table,
    items: ir.Table,
    lists: Sequence[Pair],
    as_of: dt.datetime,
    *,
    objections: ir.Table,
) -> ir.Table:
    """Every entry, past and present, on every list by grade of ``lists`` at ``as_of``, in
    :data:`listing.LIST_SCHEMA`, as ``lists.entries_for`` gives them one subject at a time.

    ``records`` are in :data:`relational.RECORD_SCHEMA`, ``subjects`` ``code, kind, subject_no``,
    ``items`` :func:`item_table` of the lists' schemes on the same backend, ``objections`` the
    export's (``Engine.objections``: an objection naming the list suspends its filer's entries on
    it, :mod:`~socialcredit.engines.suspending`). Raises
    :class:`ValueError` for a list not by grade or of a model not derived here."""
    if not lists:
        raise ValueError("population_grade_listing needs at least one list")
    bad = [f"{s.id}/{lst.id}" for s, lst in lists if not by_grade(lst) or not derivable(s)]
    if bad:
        raise ValueError("not a list by grade of a points or tier model: " + ", ".join(bad))
    today = days.day_number(as_of)
    open_ = suspending.open_at(objections, as_of)
    # Materialised (Table.cache: a temporary table on DuckDB, a local checkpoint on Spark), the
    # records once for every scheme and each scheme's history once for its lists: a history reads
    # its records four to eight times and each of its lists reads it again, and Spark plans,
    # compiles and runs every read of a subplan afresh (docs/scale.md, engines/gradelists.py)
    recs = _records(relational.effective(records, as_of), items, today).cache()
    histories: dict[str, ir.Table] = {}
    parts = []
    for s, lst in lists:
        if s.id not in histories:
            mine = [other for t, other in lists if t.id == s.id]
            histories[s.id] = _history(recs, subjects, s, mine, today).cache()
        e = _entries(histories[s.id], s, lst, today)
        e = e.mutate(gsubject=e.subject)
        qualified = f"{s.id}/{lst.id}"
        e = suspending.attach(e, qualified, lst, open_)
        parts.append(listing._finish(e, qualified, None, today, e.grade))
    return ibis.union(*parts, distinct=False)


@dataclass(frozen=True)
class Inputs:
    """What the list forms read of an export: ``records`` (:data:`relational.RECORD_SCHEMA`) and
    ``objections`` (``Engine.objections``) always; ``representatives`` and ``calendar``
    (:func:`listing.working_calendar`) for walks of records, ``subjects`` and ``items``
    (:func:`item_table`) for score histories (None where no list needs them)."""

    records: ir.Table
    objections: ir.Table
    subjects: ir.Table | None = None
    representatives: ir.Table | None = None
    items: ir.Table | None = None
    calendar: ir.Table | None = None
    segments: Mapping[str, tuple[Segment, ...]] | None = None
    """Item lists whose rules changed with earlier listings staying ended, by list (decision 0051)."""


@dataclass(frozen=True)
class Form:
    """One kind of list criterion's relational form: whether it follows score histories (reading
    the subjects and the item table) or walks records (reading the representatives and a working
    calendar), and its entries from the inputs, for lists all of its kind, at a time."""

    histories: bool
    derive: Callable[[Inputs, Sequence[Pair], dt.datetime], ir.Table]


def _by_items(inputs: Inputs, lists: Sequence[Pair], as_of: dt.datetime) -> ir.Table:
    if inputs.representatives is None or inputs.calendar is None:
        raise ValueError("item lists need the representatives and a working calendar")
    return listing.population_listing(
        inputs.records,
        inputs.representatives,
        lists,
        as_of,
        calendar=inputs.calendar,
        objections=inputs.objections,
        segments=inputs.segments,
    )


def _by_grade(inputs: Inputs, lists: Sequence[Pair], as_of: dt.datetime) -> ir.Table:
    if inputs.subjects is None or inputs.items is None:
        raise ValueError("lists by grade need the subjects and the item table (gradelists.item_table)")
    return population_grade_listing(
        inputs.records, inputs.subjects, inputs.items, lists, as_of, objections=inputs.objections
    )


FORMS: Mapping[str, Form] = {"items": Form(False, _by_items), "grade": Form(True, _by_grade)}
"""The relational form of each kind of list criterion, by ``by``; a kind without one is refused
by name (``engines.fields.FORMED``, the same kinds)."""
assert FORMS.keys() == FORMED, "engines.fields.FORMED names the kinds of criterion FORMS derives"


def population_lists(
    records: ir.Table,
    subjects: ir.Table | None,
    representatives: ir.Table | None,
    items: ir.Table | None,
    lists: Sequence[Pair],
    as_of: dt.datetime,
    *,
    calendar: ir.Table | None = None,
    objections: ir.Table,
    segments: Mapping[str, tuple[Segment, ...]] | None = None,
) -> ir.Table:
    """Every entry on every list of ``lists`` (as :func:`listing.relational_lists` gives them), each
    kind of criterion by its form (:data:`FORMS`: item lists by :func:`listing.population_listing`,
    lists by grade by :func:`population_grade_listing`), in one table of
    :data:`listing.LIST_SCHEMA` (what ``socialcredit rescore`` writes). ``representatives`` and
    ``calendar`` (:func:`listing.working_calendar`) are needed only for item lists, ``subjects`` and
    ``items`` (:func:`item_table`) only for lists by grade; ``objections`` (``Engine.objections``)
    for all; ``segments`` cut item lists where the rules changed
    (``listing.population_listing``)."""
    kinds: dict[str, list[Pair]] = {}
    for s, lst in lists:
        kinds.setdefault(lst.criteria.by, []).append((s, lst))
    inputs = Inputs(records, objections, subjects, representatives, items, calendar, segments)
    parts = [FORMS[by].derive(inputs, pairs, as_of) for by, pairs in kinds.items()]
    if not parts:
        raise ValueError("population_lists needs at least one list")
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
