"""Every scoring model as one relational definition (an Ibis expression), for whole populations.

Why Ibis: the same expression compiles to DuckDB SQL for the embedded default and to Spark SQL for
a cluster, so "the same inputs give the same answer on every engine" is a property of one piece of
code, not of two translations kept in step by hand. The per-subject path (``scoring.points``) is
plain Python over the same scheme data, because a decision must answer in microseconds, not in the
milliseconds a query costs; ``tests/test_engines.py`` proves the two agree record for record on a
synthetic city with corrections and withdrawals (docs/decisions/0007-relational-engines.md).

The rules, exactly those of :func:`socialcredit.ledger.effective` and
:func:`socialcredit.scoring.points.score_points`, at a time ``as_of``:

1. a record is *known* if ``reported_at <= as_of``;
2. a known record is *superseded* if a known record (a correction, a withdrawal or a restoration,
   whatever became of it since) references it in ``corrects``, that is if ``superseded_at`` (the
   earliest ``reported_at`` of the records referencing it, :func:`with_supersession`) is at or
   before ``as_of``, except a restoration of a record credit restoration may not end
   (:func:`void_restorations`); only reports and corrections count (:data:`COUNTING`), a
   correction as the fact it states (its own subject, item and dates);
3. a record of an item of the scheme counts if ``0 <= age < counts_for_days``, where ``age`` is
   the whole days from ``occurred_on`` to ``as_of``'s date; it contributes the item's points, or,
   for an item with ``half_life_days``, ``floor(points * 0.5 ** (age / half_life_days) + 0.5)``
   (whole points per record, so an explanation's lines add up to the score and the sum is exact
   and order-independent on every engine);
4. each subject's sums of the model's feeds (``ScoringModel.feeds``: the points; a tier
   condition's count or points within its window; a factor's points) are one aggregate; its score
   is the model's own population form on them (``ScoringModel.score_of``: for the points model
   ``base`` plus the points, clamped), its grade the first whose ``min_score`` the score reaches
   (the last grade catches the rest); every subject of a kind the model rates gets a row;
5. an opt-in scheme (``enrolment``) scores only the subjects who joined it (:func:`only_enrolled`),
   and reads none of a member's records known by their latest withdrawal (:func:`withdrawal_cuts`).

Retention, decay, the clamp and the grade are the kernel's formulas (:mod:`socialcredit.rules.kernel`)
evaluated on Ibis expressions (:data:`socialcredit.engines.ops.IBIS`). Nothing here knows a kind of
model: a kind is written once, in its core module, and found in ``scoring.dispatch.KINDS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines.fields import RELATIONAL
from socialcredit.engines.ops import IBIS
from socialcredit.rules import days, kernel
from socialcredit.schemes.model import Scheme
from socialcredit.scoring.dispatch import model_of

COUNTING: tuple[str, ...] = ("report", "correct")
"""The actions whose records count as facts; withdrawals and restorations only supersede."""

RECORD_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("item", pa.string(), nullable=False),
        pa.field("occurred_on", pa.date32(), nullable=False),
        pa.field("reported_at", pa.timestamp("us"), nullable=False),
        pa.field("action", pa.string(), nullable=False),
        pa.field("corrects_seq", pa.int64()),
        pa.field("subject_no", pa.int64(), nullable=False),
        pa.field("superseded_at", pa.timestamp("us")),
        pa.field("details", pa.string()),
    ]
)
"""The columns of a records table the definition reads (an export has more). ``details`` is the
record's details as JSON text, read only for what a list reads of them (an extension decision's
years, ``engines.walk``). Two are derived at
export, because the population job reads every record every time and the export once:

- ``superseded_at``, the earliest ``reported_at`` of the records whose ``corrects`` names this
  one (null if none), so rule 2 is a filter on one mostly-null column instead of an anti-join
  of every record's position against the superseding ones (:func:`with_supersession` derives it
  for a table that lacks it, and is the definition the export follows);
- ``subject_no``, a dense integer per subject (``subjects.subject_no``): grouping ten million
  subjects on an eight-byte integer costs about half what grouping on their 18-character codes
  does; the code is joined back once per subject, not once per record.

``corrects_seq`` is the ``seq`` of the record ``corrects`` names (integers, not 32-character ids)."""

SUBJECT_SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("subject_no", pa.int64(), nullable=False),
    ]
)
"""Who is scored: every subject gets a score, records or not; ``subject_no`` is the key the
records carry."""

SUBJECT_FILE_SCHEMA = SUBJECT_SCHEMA.append(pa.field("registered_at", pa.timestamp("us")))
"""A subject file of an export: who is scored, and when the registry received the subject's first
registration (knowledge time; null for a subject known only by its records when it was numbered,
whose first record came before any registration). Why it is never rewritten: the first receipt
does not change once a subject is numbered (:func:`known_subjects`)."""


def known_subjects(subjects: ir.Table, known: ir.Table, known_at: dt.datetime) -> ir.Table:
    """The subjects the system knew of at ``known_at``: registered by then, or named by one of
    ``known`` (the records received by then, :func:`known_by`), as ``Scans.known_scan`` counts
    them. A subject registered later is not scored as known then, nor counted."""
    at = ibis.literal(known_at, type="timestamp")
    named = subjects.subject_no.isin(known.select("subject_no").distinct().subject_no)
    registered = subjects.registered_at.notnull() & (subjects.registered_at <= at)
    return subjects.filter(registered | named).select(*SUBJECT_SCHEMA.names)


ITEM_SCHEMA = pa.schema(
    [
        pa.field("scheme", pa.string(), nullable=False),
        pa.field("item", pa.string(), nullable=False),
        pa.field("points", pa.int64(), nullable=False),
        pa.field("counts_for_days", pa.int64(), nullable=False),
        pa.field("half_life_days", pa.int64()),
    ]
)
"""The schemes' catalogues as the definition needs them: the schemes are data, so is this table."""

SCORE_SCHEMA = pa.schema(
    [
        pa.field("subject", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("scheme", pa.string()),
        pa.field("score", pa.int64()),
        pa.field("grade", pa.string()),
    ]
)
"""One row per subject and scored scheme."""


def items_read(scheme: Scheme) -> list[str]:
    """The items some feed of ``scheme``'s model reads (a points model's items with points; a tier
    condition's, with points or not; a counting factor's), in catalogue order."""
    feeds = model_of(scheme).feeds(scheme)
    return [i.code for i in scheme.items if any(i.code in f.items for f in feeds)]


def item_table(schemes: Sequence[Scheme]) -> pa.Table:
    """The items the models of ``schemes`` read (:func:`items_read`) as an Arrow table in
    :data:`ITEM_SCHEMA`.

    Engines register it themselves (``Engine.table``) rather than through ``ibis.memtable``:
    Spark's pandas round trip turns a null half-life into NaN, which is not null."""
    rows = [(s.id, s.item_index[code]) for s in schemes for code in items_read(s)]
    return pa.table(
        {
            "scheme": [sid for sid, _ in rows],
            "item": [i.code for _, i in rows],
            "points": [i.points for _, i in rows],
            "counts_for_days": [i.counts_for_days for _, i in rows],
            "half_life_days": [i.half_life_days for _, i in rows],
        },
        schema=ITEM_SCHEMA,
    )


def scheme_table(schemes: Sequence[Scheme]) -> pa.Table:
    """The ids of the schemes scored: every subject the model rates gets one row per scheme."""
    return pa.table({"scheme": [s.id for s in schemes]}, schema=pa.schema([pa.field("scheme", pa.string())]))


def with_supersession(records: ir.Table) -> ir.Table:
    """``records`` with ``superseded_at``: the earliest ``reported_at`` of the records that name
    each one in ``corrects`` (by ``corrects_seq``), null for a record nobody corrected.

    The export writes this column (engines.export follows this definition); the function is for
    tables built another way, and the test that holds the export to the definition."""
    base = records.drop("superseded_at") if "superseded_at" in records.columns else records
    refs = base.filter(base.corrects_seq.notnull())
    first = refs.group_by(gone_seq=refs.corrects_seq).agg(first_at=refs.reported_at.min())
    j = base.left_join(first, base.seq == first.gone_seq)
    return j.select(*[j[c] for c in base.columns], superseded_at=j.first_at)


def known_by(records: ir.Table, known_at: dt.datetime) -> ir.Table:
    """The records the system had received by ``known_at`` (knowledge time: ``received_at``, never
    a date the source supplies), with ``superseded_at`` recomputed from them alone: a correction
    received later supersedes nothing as known then (``knowledge.Known``)."""
    return with_supersession(records.filter(records.received_at <= ibis.literal(known_at, type="timestamp")))


def of_items(records: ir.Table, items: Sequence[str]) -> ir.Table:
    """The rows of ``records`` whose item is one of ``items``.

    Why the range first: DuckDB pushes a comparison with constants into the Parquet scan and
    decodes the scan's other columns only for the rows it keeps, while a list of more than a few
    items becomes a join applied after every column of every record is decoded. Items of one
    list sort together (``court.*``), so the range keeps few more rows than the list, and the list
    stays for exactness (decision 0077)."""
    if not items:
        return records.filter(ibis.literal(False))
    ordered = sorted(items)
    return records.filter(records.item.between(ordered[0], ordered[-1]), records.item.isin(ordered))


def void_restorations(records: ir.Table, unrestorable: Sequence[str]) -> ir.Table:
    """``records`` with ``superseded_at`` leaving out the restorations of records whose item
    credit restoration may not end (``unrestorable``: judicial records and those that can start a
    judicial listing, ``dueprocess.restoration``), as :func:`ledger.effective` leaves them out:
    such a record is superseded only by its corrections and withdrawals, even where a restoration
    was granted before the rule.

    Why this shape: restorations are few, so the records whose ``superseded_at`` changes are found
    from the restorations alone, their value recomputed from the records naming them, and laid
    over the column by one join with that small table; every other record keeps the exported
    value."""
    if not unrestorable:
        return records
    if "superseded_at" not in records.columns:
        records = with_supersession(records)
    r = records
    restores = r.filter(r.action == "restore").select(v_seq=r.seq, v_target=r.corrects_seq)
    judicial = of_items(r, unrestorable)
    judicial = judicial.select(t_seq=judicial.seq)
    void = restores.inner_join(judicial, restores.v_target == judicial.t_seq).select("v_seq", "v_target")
    affected = void.select(a_seq=void.v_target).distinct()
    refs = r.filter(r.corrects_seq.notnull())
    refs = refs.semi_join(affected, refs.corrects_seq == affected.a_seq)
    refs = refs.anti_join(void, refs.seq == void.v_seq)
    first = refs.group_by(f_seq=refs.corrects_seq).agg(f_at=refs.reported_at.min())
    fix = affected.left_join(first, affected.a_seq == first.f_seq).select(
        x_seq=affected.a_seq, x_at=first.f_at
    )
    j = r.left_join(fix, r.seq == fix.x_seq)
    return j.select(
        *[
            ibis.ifelse(j.x_seq.notnull(), j.x_at, j.superseded_at).name(c) if c == "superseded_at" else j[c]
            for c in r.columns
        ]
    )


def effective(records: ir.Table, as_of: dt.datetime) -> ir.Table:
    """The records in force at ``as_of`` (rules 1 and 2), as :func:`ledger.effective` gives them.

    A record stands if it is known, counts (a report or a correction), and no known record
    supersedes it: ``superseded_at`` is null or later than ``as_of``."""
    if "superseded_at" not in records.columns:
        records = with_supersession(records)
    at = ibis.literal(as_of, type="timestamp")
    return records.filter(
        records.reported_at <= at,
        records.action.isin(COUNTING),
        records.superseded_at.isnull() | (records.superseded_at > at),
    )


def enrolled(records: ir.Table, schemes: Sequence[Scheme], as_of: dt.datetime) -> ir.Table | None:
    """``subject, scheme``: who has joined each opt-in scheme at ``as_of``, or None when no scheme
    is opt-in: a subject whose latest enrolment or withdrawal record in force (by ``reported_at``,
    then ledger position) is an enrolment, as ``scoring.dispatch.enrolled`` decides."""
    eff = effective(records, as_of)
    parts = []
    for s in schemes:
        rule = s.enrolment
        if rule is None:
            continue
        marks = [rule.item] + ([rule.withdrawal_item] if rule.withdrawal_item else [])
        m = eff.filter(eff.item.isin(marks))
        m = m.mutate(
            latest=ibis.row_number().over(
                group_by=m.subject, order_by=[ibis.desc(m.reported_at), ibis.desc(m.seq)]
            )
        )
        m = m.filter((m.latest == 0) & (m.item == rule.item))
        parts.append(m.select(subject=m.subject, scheme=ibis.literal(s.id, type="string")))
    if not parts:
        return None
    return ibis.union(*parts, distinct=False)


def only_enrolled(
    scored: ir.Table, records: ir.Table, schemes: Sequence[Scheme], as_of: dt.datetime
) -> ir.Table:
    """``scored`` (``subject, scheme, ...``) without the rows of an opt-in scheme's subjects who
    have not joined it at ``as_of``, as ``scoring.scores_for`` leaves them out, whatever the model."""
    joined = enrolled(records, schemes, as_of)
    if joined is None:
        return scored
    opt_in = [s.id for s in schemes if s.enrolment is not None]
    kept = scored.filter(~scored.scheme.isin(opt_in))
    mine = scored.semi_join(joined, (scored.subject == joined.subject) & (scored.scheme == joined.scheme))
    return ibis.union(kept, mine, distinct=False)


def withdrawal_cuts(records: ir.Table, schemes: Sequence[Scheme], as_of: dt.datetime) -> ir.Table | None:
    """``subject, scheme, cut_at, cut_seq``: each member's latest withdrawal from each opt-in
    scheme at ``as_of`` (by ``reported_at``, then ledger position), or None when no scheme has a
    withdrawal item. The scheme reads none of the subject's records up to it, as
    ``scoring.dispatch.usable`` decides: leaving ends the platform's use of the data."""
    eff = effective(records, as_of)
    parts = []
    for s in schemes:
        rule = s.enrolment
        if rule is None or rule.withdrawal_item is None:
            continue
        m = eff.filter(eff.item == rule.withdrawal_item)
        m = m.mutate(
            latest=ibis.row_number().over(
                group_by=m.subject, order_by=[ibis.desc(m.reported_at), ibis.desc(m.seq)]
            )
        )
        m = m.filter(m.latest == 0)
        parts.append(
            m.select(
                cut_subject=m.subject,
                cut_scheme=ibis.literal(s.id, type="string"),
                cut_at=m.reported_at,
                cut_seq=m.seq,
            )
        )
    if not parts:
        return None
    return ibis.union(*parts, distinct=False)


def contributions(
    records: ir.Table, items: ir.Table, as_of: dt.datetime, schemes: Sequence[Scheme] = ()
) -> ir.Table:
    """Each counting record under each scheme with the whole points it contributes at ``as_of``
    (rule 3): ``scheme, subject, subject_no, record_id, item, occurred_on, age, points``; under an
    opt-in scheme of ``schemes``, none of a member's records known by their latest withdrawal."""
    eff = effective(records, as_of)
    j = eff.inner_join(items, eff.item == items.item)
    cuts = withdrawal_cuts(records, schemes, as_of)
    if cuts is not None:
        j = j.left_join(cuts, (j.subject == cuts.cut_subject) & (j.scheme == cuts.cut_scheme))
        j = j.filter(
            j.cut_at.isnull()
            | (j.reported_at > j.cut_at)
            | ((j.reported_at == j.cut_at) & (j.seq > j.cut_seq))
        )
    age = ibis.literal(days.day_of(as_of), type="date").delta(j.occurred_on, unit="day")
    points = decayed(j.points, age, j.half_life_days)
    j = j.filter(kernel.counts(age, j.counts_for_days))
    extra = {"scheme_no": j.scheme_no} if "scheme_no" in items.columns else {}
    return j.select(
        scheme=j.scheme,
        **extra,
        subject=j.subject,
        subject_no=j.subject_no,
        record_id=j.record_id,
        item=j.item,
        occurred_on=j.occurred_on,
        age=age,
        points=points,
    )


def decayed(points: ir.IntegerValue, age: ir.IntegerValue, half_life: ir.IntegerValue) -> ir.IntegerValue:
    """The whole points a record of ``points`` contributes ``age`` days after it occurred (rule 3),
    by the kernel's :func:`~socialcredit.rules.kernel.decayed`. One expression for every
    definition that decays (a score at one time, a score's history in
    :mod:`~socialcredit.engines.gradelists`), so they cannot round differently."""
    value: ir.IntegerValue = kernel.decayed(points, age, half_life, IBIS)
    return value


def scheme_no(scheme: ir.StringValue, schemes: Sequence[Scheme]) -> ir.IntegerValue:
    """Each scheme's position in ``schemes``, as an integer grouping key."""
    return ibis.cases(*[(scheme == s.id, k) for k, s in enumerate(schemes)], else_=-1).cast("int64")


def population_scores(
    records: ir.Table,
    subjects: ir.Table,
    items: ir.Table,
    scheme_ids: ir.Table,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
) -> ir.Table:
    """Every rated subject's score and grade under every scheme at ``as_of`` (rule 4), whatever
    the kind of its model, in :data:`SCORE_SCHEMA`: one scan of the records for all schemes (one
    job on Spark).

    ``subjects`` (``code, kind, subject_no``) decides who is scored; ``items`` and ``scheme_ids`` are
    :func:`item_table` and :func:`scheme_table` of ``schemes`` registered on the same backend. A
    scheme a field of which the engines refuse (``engines/fields.py``) raises its refusal."""
    if not schemes or any(s.model is None for s in schemes):
        raise ValueError("population_scores needs scored schemes")
    for s in schemes:
        RELATIONAL.check(s)  # the relationships factor, named
    # grouped on two integers: the scheme's position (computed on the few rows of the item and
    # scheme tables) and the subject's number; grouping on the scheme's name cost a third more
    items = items.mutate(scheme_no=scheme_no(items.scheme, schemes))
    c = contributions(records, items, as_of, schemes)
    grid = subjects.cross_join(scheme_ids.mutate(scheme_no=scheme_no(scheme_ids.scheme, schemes)))
    partial = [
        (k, list(s.model.subjects)) for k, s in enumerate(schemes) if s.model and len(s.model.subjects) < 2
    ]
    if partial:  # an enterprise rating rates organisations only (``scoring.scores_for``)
        only = [(grid.scheme_no == k, grid.kind.isin(kinds)) for k, kinds in partial]
        rated = ibis.cases(*only, else_=True)
        grid = grid.filter(rated)
    scored = model_scores(c, grid, schemes, ["subject_no"])
    scored = scored.select(subject=scored.code, kind=scored.kind, scheme=scored.scheme, score=scored.score)
    return only_enrolled(
        scored.mutate(grade=grade_expr(scored.scheme, scored.score, schemes)), records, schemes, as_of
    )


def model_scores(read: ir.Table, grid: ir.Table, schemes: Sequence[Scheme], keys: Sequence[str]) -> ir.Table:
    """``grid`` (``scheme_no`` and ``keys``) with ``score``: each row's score under its scheme's
    model, from the counting records ``read`` (``scheme_no, item, age, points`` and ``keys``) that
    share the row's scheme and keys: one aggregate with a column per feed, then the model's own
    form (``ScoringModel.score_of``) on those columns.

    The keys say what a row is: a subject at ``as_of`` (:func:`population_scores`:
    ``subject_no``), or a subject on one day of its history (:mod:`~socialcredit.engines.gradelists`:
    ``subject_no, day``, each record's age and points as of that day). Feeds are laid out in slots
    shared by the schemes (slot ``k`` is feed ``k`` of each scheme's model); a slot that every
    scheme's feed fills with all its read items, points summed for as long as they count (the
    points model), is a plain sum."""
    c = read
    feeds = [model_of(s).feeds(s) for s in schemes]
    read_items = [frozenset(items_read(s)) for s in schemes]
    aggs: dict[str, ir.Value] = {}
    for k in range(max((len(f) for f in feeds), default=0)):
        slot = [(n, f[k]) for n, f in enumerate(feeds) if k < len(f)]
        plain = len(slot) == len(schemes) and all(
            f.items >= read_items[n] and not f.counts and f.within is None for n, f in slot
        )
        if plain:
            aggs[f"s_{k}"] = c.points.sum()
            continue
        branches = []
        for n, f in slot:
            sel: ir.BooleanValue = c.scheme_no == n
            if not f.items >= read_items[n]:
                codes = sorted(f.items & read_items[n])
                sel = sel & (c.item.isin(codes) if codes else ibis.literal(False))
            if f.within is not None:
                sel = sel & (c.age < f.within)
            branches.append((sel, ibis.literal(1, type="int64") if f.counts else c.points))
        aggs[f"s_{k}"] = ibis.cases(*branches, else_=0).sum()
    # a view: a history's grid and records share their ancestry (Ibis tells the sides apart by views)
    totals = c.group_by("scheme_no", *keys).agg(**aggs).view()
    on = [grid.scheme_no == totals.scheme_no, *(grid[k] == totals[k] for k in keys)]
    j = grid.left_join(totals, on)
    t = j.select(
        *[grid[col] for col in grid.columns],
        **{name: totals[name].coalesce(0).cast("int64") for name in aggs},
    )
    branches_score = [
        (t.scheme_no == n, model_of(s).score_of(s, [t[f"s_{k}"] for k in range(len(feeds[n]))], IBIS))
        for n, s in enumerate(schemes)
    ]
    return t.select(*grid.columns, score=ibis.cases(*branches_score).cast("int64"))


def grade_expr(scheme: ir.StringValue, score: ir.NumericValue, schemes: Sequence[Scheme]) -> ir.StringValue:
    """The grade of a score column under each row's scheme, as ``PointsModel.grade_of`` gives it:
    the first grade whose threshold the score reaches, the last grade for the rest."""
    branches: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    for s in schemes:
        assert s.model is not None
        branches.append((scheme == s.id, kernel.grade_of(score, s.model.grades, IBIS)))
    return ibis.cases(*branches, else_=ibis.null("string"))
