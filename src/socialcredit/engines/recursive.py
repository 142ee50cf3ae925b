"""A track of calendar years walked in one statement on an engine that has recursive queries
(DuckDB), instead of one query per round (``walk.entries``; decision 0082).

The court's grounds (2) to (6) (Art. 2: 2 calendar years from the listing decision, extended once
by the court's decision, ended early by it) are walked in rounds on every engine: round ``r``
finds every debtor's ``r``-th entry. Each round is an Ibis query built and compiled in Python and
a count that decides whether another is needed. That fixed cost, not DuckDB running the rounds,
kept the court's list above twice its floor (decisions 0058, 0070, 0077). Here the same walk is
one ``WITH RECURSIVE`` statement: it steps through each subject's events in walk order (``pos``),
one row per record, carrying the open entry.

What the statement decides is only *where each entry opens and ends*, and which extension
decision extends it; everything an entry then holds (its further grounds, planned end, why and
when it ended, the day its removal deadline counts from) is the rounds' own code
(:func:`walk.closed`), and each planned end is the kernel's, evaluated in Python for the days
grounds occurred on (``walk.period_ends``) and carried as columns: the statement compares days
and picks a column, it states no formula of Art. 2. The step it states is the walk's, as
``walk`` words it:

1. an open entry whose planned end is on or before the record's day has ended with it (expired);
2. a removal record ends the open entry;
3. the first extension decision while an entry is open extends it, to the planned end the
   opening record's column holds for the years it states;
4. with no entry open, a ground opens one.

Which tracks: a period in calendar years, entries opened by one record (``min_records`` 1), its
planned ends held in the events (:func:`walks`). Spark 4.0 has no recursive query: it keeps the
rounds, and the parity tests hold both engines to the per-subject walk on random histories
(``tests/test_engines_windows.py``, ``tests/test_contract.py``).
"""

from __future__ import annotations

import ibis.expr.operations as ops
import ibis.expr.types as ir

from socialcredit.engines import walk
from socialcredit.schemes.model import ItemCriteria, Track

OUT = {"subject": "string", "start": "int64", "end_pos": "int64", "x_at": "int64", "ext_end": "int64"}
"""What the statement gives: each entry's opening and ending walk positions (``end_pos`` null:
open at ``as_of``), the extension decision that extended it and the planned end it set."""

STEP = """
WITH RECURSIVE w(subject, pos, start, planned, x_at, closed, closed_x, closed_ext{carried}) AS (
  SELECT DISTINCT subject, -1::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT,
         NULL::BIGINT, NULL::BIGINT, NULL::BIGINT{nulls}
  FROM {events}
  UNION ALL
  SELECT e.subject, e.pos,
         CASE WHEN {keep} THEN w.start WHEN {live} THEN NULL WHEN e.is_q = 1 THEN e.pos END,
         CASE WHEN {keep} AND {extends} THEN {extended}
              WHEN {keep} THEN w.planned WHEN {live} THEN NULL WHEN e.is_q = 1 THEN e.{end0} END,
         CASE WHEN {keep} AND {extends} THEN e.pos WHEN {keep} THEN w.x_at END,
         CASE WHEN w.start IS NOT NULL AND NOT {keep} THEN w.start END,
         CASE WHEN w.start IS NOT NULL AND NOT {keep} THEN w.x_at END,
         CASE WHEN w.start IS NOT NULL AND NOT {keep} AND w.x_at IS NOT NULL THEN w.planned END{carry}
  FROM w JOIN {events} e ON e.subject = w.subject AND e.pos = w.pos + 1
)
SELECT subject, closed AS start, pos AS end_pos, closed_x AS x_at, closed_ext AS ext_end
FROM w WHERE closed IS NOT NULL
UNION ALL
SELECT subject, l.start, NULL::BIGINT, l.x_at, CASE WHEN l.x_at IS NOT NULL THEN l.planned END
FROM (SELECT subject, arg_max({{'start': start, 'x_at': x_at, 'planned': planned}}, pos) AS l
      FROM w GROUP BY subject)
WHERE l.start IS NOT NULL
"""
"""The walk's step (see the module docstring). ``live``: an entry is open and the record comes
before its planned end; ``keep``: it stays open past the record (live, and not a removal)."""


def walks(events: ir.Table, track: Track, crit: ItemCriteria, rounds: int | None) -> bool:
    """Whether :func:`entries` walks ``track`` over ``events``: a period in calendar years whose
    planned ends the events hold (``walk.period_ends``), opened by one record, no bound on the
    rounds asked for, and events materialised on DuckDB (a table the statement can name)."""
    if track.years is None or track.extension_days or crit.min_records != 1 or rounds is not None:
        return False
    if any(walk.end_column(y) not in events.columns for y in walk.extension_years(track)):
        return False
    backend = events._find_backend()
    return getattr(backend, "name", "") == "duckdb" and isinstance(events.op(), ops.DatabaseTable)


def statement(table: str, track: Track) -> str:
    """The recursive walk over the materialised events ``table`` of ``track``."""
    years = walk.extension_years(track)
    more = [y for y in years if y]
    live = "(w.start IS NOT NULL AND e.day < w.planned)"
    keep = f"({live} AND NOT (e.is_q = 0 AND e.is_x = 0))"
    # the opening record's planned end for each number of years an extension may state, carried
    # while its entry is open (``o_1`` ...), so an extension picks one: no formula here
    carried = "".join(f", o_{y}" for y in more)
    carry = "".join(
        f",\n         CASE WHEN {keep} THEN w.o_{y} WHEN {live} THEN NULL"
        f" WHEN e.is_q = 1 THEN e.{walk.end_column(y)} END"
        for y in more
    )
    extended = "CASE e.x_years " + " ".join(f"WHEN {y} THEN w.o_{y}" for y in more) + " END"
    return STEP.format(
        events=table,
        carried=carried,
        nulls=", NULL::BIGINT" * len(more),
        carry=carry,
        live=live,
        keep=keep,
        extends="e.is_x = 1 AND w.x_at IS NULL" if more else "false",
        extended=extended if more else "NULL",
        end0=walk.end_column(0),
    )


def entries(events: ir.Table, track: Track, crit: ItemCriteria, notice: int, today: int) -> ir.Table:
    """Every entry of ``track`` (:func:`walks` admits it) in the columns of ``walk.entries``,
    materialised: where each opens and ends from the statement, the rest as the rounds give it
    (:func:`walk.closed`)."""
    op = events.op()
    assert isinstance(op, ops.DatabaseTable)
    found = events._find_backend().sql(statement(f'"{op.name}"', track), schema=OUT)
    ev = events.view()
    s = found.inner_join(ev, (found.subject == ev.subject) & (found.start == ev.pos)).select(
        subject=found.subject,
        start=found.start,
        base=found.start - 1,
        **walk.opened_by(ev, notice),
        base_end=ev[walk.end_column(0)],
        x_at=found.x_at,
        ext_end=found.ext_end,
        end_pos=found.end_pos,
    )
    last = events.group_by("subject").agg(q_total=events.qn.max())
    return walk.closed(s, events, last, track, crit, today).cache()
