"""Benchmark: each stage of a population rescore against its own floor, and the whole command.

    .venv/bin/python bench/listfloors.py --subjects 100000 --records 1000000 [--repeat 2] [--cli] [--write]

Generates (deterministically, numpy and pyarrow) an export of ``--subjects`` persons and
``--records`` records: the Rongcheng items at their base rates and, for one subject in twenty, the
court's items (the six grounds of Art. 1, the seven removal grounds of Art. 10, the court's
extension and early-removal decisions), one record in 2,000 a correction or a withdrawal. Then,
alternating and keeping the best of each:

Every engine run is a first rescore in a fresh process (cold: nothing of it built or compiled
before; decision 0090), timed from inside it as the command's stage.

- **item lists**: the court's list of dishonest judgment debtors as ``socialcredit rescore``
  derives it (``engines.rescore`` with that list alone, its "lists" stage), against a bare DuckDB
  query written for that list (:data:`COURT_FLOOR`): ground (1) by one window (the removals
  before each record number its entry), grounds (2) to (6) by one recursive walk of each
  debtor's few records (a period of 2 calendar years from the listing decision, extended once,
  ended early by the court), the removal deadline by a join with a numbered working-day calendar;
- **lists by grade**: Rongcheng's honour roll and D list as ``rescore`` derives them, against a
  bare running-sum query (:data:`GRADE_FLOOR`): each record's points on the day it starts
  counting and back on the day it stops, a running sum per subject, grades, runs of a grade;
- with ``--cli``: the whole ``socialcredit rescore --from`` of that export in a fresh
  installation (every scheme and list in force), its wall time, peak memory and each stage's
  share.

Both floors are checked to give the same entries as the engines (``tests/test_list_floors.py``
runs this at a small size); the scores' floor is ``bench/rescore.py``'s. ``--write`` adds the
figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, export_arguments, machine  # noqa: E402
from rescore import BENCH_SCHEMA, _codes, _generated, chunk_columns, write_manifest  # noqa: E402
from wholerescore import whole_command  # noqa: E402

from socialcredit.engines.base import rescore  # noqa: E402
from socialcredit.engines.duck import DuckDBEngine  # noqa: E402
from socialcredit.engines.listing import LIST_SCHEMA, REPRESENTATIVE_SCHEMA  # noqa: E402
from socialcredit.engines.relational import SUBJECT_SCHEMA  # noqa: E402
from socialcredit.engines.suspending import OBJECTION_SCHEMA  # noqa: E402
from socialcredit.schemes.loader import shipped_scheme  # noqa: E402
from socialcredit.schemes.model import Scheme  # noqa: E402

AS_OF = dt.datetime(2026, 12, 31, 12, 0, 0)
"""After version 2 of the court's list took effect (2026-12-07), so the command's registry in force
holds the list the floor is written for."""
WINDOW_DAYS = 3 * 365
GENERATOR = "listfloors-1"
"""Named in the manifest, so ``--reuse`` never reads another generator's data."""
CHUNK = 5_000_000
DEBTORS = 20
"""One subject in this many has court records."""
COURT_SHARE = 0.01
"""The share of records that are the court's."""
COURT = shipped_scheme("court-dishonest-debtors")
_UNTIL_REMOVED, _FIXED = COURT.lists[0].tracks
GROUND1, REMOVALS = _UNTIL_REMOVED.grounds[0], tuple(_UNTIL_REMOVED.removal.on_items)
"""Art. 1(1) and the seven removal grounds of Art. 10, from the shipped list."""
GROUNDS, (EARLY,), (EXTENSION,) = tuple(_FIXED.grounds), _FIXED.removal.on_items, _FIXED.extension_items
"""Art. 1(2) to (6), the court's early removal and its extension (Art. 2), from the shipped list."""
COURT_ITEMS = (GROUND1, *GROUNDS, *REMOVALS, EARLY, EXTENSION)
COURT_WEIGHTS = (0.34, *(0.05,) * 5, *(0.04,) * 7, 0.07, 0.06)
"""Ground (1) most often, as on the real list; removals and the court's decisions as follow-ups."""
RECORDS_SCHEMA = BENCH_SCHEMA.append(pa.field("details", pa.string()))


def schemes() -> tuple[Scheme, Scheme]:
    """The shipped court list and Rongcheng, as the command has them in force at :data:`AS_OF`."""
    return COURT, shipped_scheme("rongcheng")


def generate(
    directory: Path, subjects: int, records: int, seed: int = 2014, court_share: float = COURT_SHARE
) -> Path:
    """Write ``directory`` as an export (manifest, subjects, representatives, objections, records);
    ``court_share`` of the records are the court's, about one debtor in :data:`DEBTORS` subjects."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "records").mkdir(parents=True)
    numbers = np.arange(subjects, dtype=np.int64)
    kinds = pa.array(["person"], pa.string()).take(np.zeros(subjects, np.int64))
    pq.write_table(
        pa.table(
            {"code": _codes(numbers + 10**17, 18), "kind": kinds, "subject_no": pa.array(numbers)},
            schema=SUBJECT_SCHEMA,
        ),
        directory / "subjects.parquet",
    )
    pq.write_table(REPRESENTATIVE_SCHEMA.empty_table(), directory / "representatives.parquet")
    pq.write_table(OBJECTION_SCHEMA.empty_table(), directory / "objections.parquet")
    _court, city = schemes()
    people = [i for i in city.items if i.points and "person" in i.subjects]
    items = pa.array([i.code for i in people] + list(COURT_ITEMS), pa.string())
    weights = np.array([max(i.base_rate_per_year, 0.01) for i in people])
    weights = weights / weights.sum()
    court_w = np.array(COURT_WEIGHTS) / sum(COURT_WEIGHTS)
    today = np.datetime64(AS_OF.date(), "D")
    start = today - WINDOW_DAYS
    last = np.datetime64(AS_OF, "us")
    writer = pq.ParquetWriter(directory / "records" / "part-0.parquet", RECORDS_SCHEMA)
    for part, lo in enumerate(range(0, records, CHUNK)):
        n = min(CHUNK, records - lo)
        rng = np.random.default_rng([seed, part])
        court = rng.random(n) < court_share
        subj = np.where(
            court, rng.integers(0, max(subjects // DEBTORS, 1), n) * DEBTORS, rng.integers(0, subjects, n)
        )
        item = np.where(
            court,
            len(people) + rng.choice(len(COURT_ITEMS), size=n, p=court_w),
            rng.choice(len(people), size=n, p=weights),
        )
        occurred = start + rng.integers(0, WINDOW_DAYS + 1, n).astype("timedelta64[D]")
        lag = np.minimum(rng.geometric(0.15, n) - 1, 30).astype("timedelta64[D]")
        hours = rng.integers(0, 24 * 3600, n).astype("timedelta64[s]")  # some fall on the next day in China
        reported = np.minimum((occurred + lag).astype("datetime64[us]") + hours, last)
        years = np.array([1, 2, 3, 1, 2, 3, 0, 4])[rng.integers(0, 8, n)]  # 0 and 4: refused by the walk
        extension = item == len(people) + COURT_ITEMS.index(EXTENSION)
        details = pc.if_else(
            pa.array(extension),
            pc.binary_join_element_wise(
                '{"extension_years": ', pc.cast(pa.array(years), pa.string()), "}", ""
            ),
            pa.nulls(n, pa.string()),
        )
        columns = chunk_columns(rng, lo, subj, items.take(item), occurred, reported)
        writer.write_table(
            pa.table({**columns, "details": details}, schema=RECORDS_SCHEMA), row_group_size=1_000_000
        )
    writer.close()
    write_manifest(directory, subjects, records, seed, GENERATOR)
    return directory


def _in(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


EFFECTIVE = """
eff AS (
  SELECT seq, record_id, subject, subject_no, item, occurred_on AS occ, details, reported_at,
         CAST(reported_at + INTERVAL 8 HOUR AS DATE) AS day          -- the day in China (UTC+8)
  FROM read_parquet('{records}')
  WHERE reported_at <= TIMESTAMP '{as_of}' AND action IN ('report', 'correct')
    AND (superseded_at IS NULL OR superseded_at > TIMESTAMP '{as_of}')
    {items}
)"""

COURT_FLOOR = (
    "COPY (WITH"
    + EFFECTIVE
    + """,
today AS (SELECT CAST(TIMESTAMP '{as_of}' + INTERVAL 8 HOUR AS DATE) AS d),
-- weekends only (no holidays configured): each day numbered by the working days up to it
cal AS (
  SELECT d, SUM(CASE WHEN isodow(d) < 6 THEN 1 ELSE 0 END) OVER (ORDER BY d) AS n, isodow(d) < 6 AS working
  FROM (SELECT CAST(range AS DATE) AS d FROM range(DATE '2015-01-01', DATE '{cal_end}', INTERVAL 1 DAY))
),
-- Art. 2 and 10, ground (1): listed until a removal ground; the removals before a record number
-- the entry it belongs to, so each entry is one group
g1 AS (
  SELECT *, item = '{ground1}' AS is_q,
         COALESCE(SUM(CASE WHEN item = '{ground1}' THEN 0 ELSE 1 END) OVER (
           PARTITION BY subject ORDER BY reported_at, seq
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS grp
  FROM eff WHERE item IN ('{ground1}', {removals})
),
e1 AS (
  SELECT subject,
         min(day) FILTER (WHERE is_q) AS since,
         CAST(NULL AS DATE) AS planned,
         max(day) FILTER (WHERE NOT is_q) AS ended,
         'fulfilled: ' || max(item) FILTER (WHERE NOT is_q)
           || ' (' || max(record_id) FILTER (WHERE NOT is_q) || ')' AS end_reason,
         max(occ) FILTER (WHERE NOT is_q) AS due_from,
         (list(record_id ORDER BY reported_at, seq) FILTER (WHERE is_q))[1] AS reason_record,
         '{ground1}' AS reason_item,
         count(*) FILTER (WHERE is_q) AS grounds,
         list(record_id ORDER BY reported_at, seq) FILTER (WHERE is_q) AS ground_records,
         '{ground1}' AS track
  FROM g1 GROUP BY subject, grp HAVING count(*) FILTER (WHERE is_q) > 0
),
-- Art. 2, grounds (2) to (6): 2 calendar years from the listing decision (in force through the
-- corresponding day, Civil Code Art. 201-202), extended once by 1 to 3 years, ended early by the
-- court; a ground after the end opens the next listing, so each debtor's few records are walked
ev AS (
  SELECT subject, row_number() OVER (PARTITION BY subject ORDER BY reported_at, seq) AS pos,
         day, occ, seq, record_id, item, item IN ({grounds}) AS is_q, item = '{early}' AS is_rem,
         item = '{extension}' AS is_x, x_years
  FROM (SELECT *, TRY_CAST(json_extract_string(details, '$.extension_years') AS BIGINT) AS x_years FROM eff
        WHERE item IN ({grounds}, '{early}', '{extension}'))
  WHERE item <> '{extension}' OR x_years BETWEEN 1 AND 3
),
walk AS (
  WITH RECURSIVE w(subject, pos, entry, open, occ0, planned, extended, member, removes) AS (
    SELECT DISTINCT subject, 0::BIGINT, 0::BIGINT, false, NULL::DATE, NULL::DATE, false, false, false FROM ev
    UNION ALL
    SELECT e.subject, e.pos,
           w.entry + CASE WHEN NOT {live} AND e.is_q THEN 1 ELSE 0 END,
           CASE WHEN {live} THEN NOT e.is_rem ELSE e.is_q END,
           CASE WHEN {live} THEN w.occ0 WHEN e.is_q THEN e.occ END,
           CASE WHEN {live} AND e.is_x AND NOT w.extended
                  THEN CAST(w.occ0 + to_years(2 + e.x_years) AS DATE) + 1
                WHEN {live} THEN w.planned
                WHEN e.is_q THEN CAST(e.occ + INTERVAL 2 YEAR AS DATE) + 1 END,
           CASE WHEN {live} THEN w.extended OR e.is_x ELSE false END,
           {live} OR e.is_q,
           {live} AND e.is_rem
    FROM w JOIN ev e ON e.subject = w.subject AND e.pos = w.pos + 1
  )
  SELECT w.*, e.day, e.occ, e.seq, e.record_id, e.item, e.is_q FROM w JOIN ev e USING (subject, pos)
),
e2 AS (
  SELECT subject,
         min(day) AS since,
         max(planned) AS planned,
         max(day) FILTER (WHERE removes) AS ended,
         'fulfilled: ' || max(item) FILTER (WHERE removes)
           || ' (' || max(record_id) FILTER (WHERE removes) || ')' AS end_reason,
         max(occ) FILTER (WHERE removes) AS due_from,
         arg_min(record_id, pos) AS reason_record,
         arg_min(item, pos) AS reason_item,
         count(*) FILTER (WHERE is_q) AS grounds,
         list(record_id ORDER BY pos) FILTER (WHERE is_q) AS ground_records,
         'fixed' AS track
  FROM walk WHERE member GROUP BY subject, entry
),
entries AS (
  SELECT e.*,
         CASE WHEN ended IS NULL AND planned <= (SELECT d FROM today) THEN 'expired'
              ELSE end_reason END AS why,
         CASE WHEN ended IS NOT NULL THEN due_from
              WHEN planned <= (SELECT d FROM today) THEN planned - 1 END AS due
  FROM (SELECT * FROM e1 UNION ALL SELECT * FROM e2) e
)
SELECT '{list}' AS list, x.subject, CAST(NULL AS VARCHAR) AS via,
       CASE WHEN ended IS NOT NULL AND ended <= t.d THEN 'removed'
            WHEN planned IS NOT NULL AND planned <= t.d THEN 'expired' ELSE 'active' END AS status,
       since AS noticed_on, since, COALESCE(ended, planned) AS "until", planned AS planned_end,
       ended AS ended_on, why AS end_reason, reason_record, reason_item, grounds, ground_records,
       CAST(NULL AS VARCHAR) AS grade, due.d AS removal_due, CAST(NULL AS VARCHAR) AS suspended_by
FROM entries x CROSS JOIN today t
LEFT JOIN cal upto ON upto.d = x.due
LEFT JOIN cal due ON due.working AND due.n = upto.n + 3
) TO '{out}' (FORMAT parquet)
"""
)
"""The court's list as a peer would write it on DuckDB (Art. 1, 2 and 10; no notice period)."""

GRADE_FLOOR = (
    "COPY (WITH"
    + EFFECTIVE
    + """,
today AS (SELECT CAST(TIMESTAMP '{as_of}' + INTERVAL 8 HOUR AS DATE) AS d),
items(item, points, days) AS (VALUES {item_rows}),
-- each record counts from the later of its occurrence and its report until counts_for_days after it
r AS (
  SELECT e.subject_no, GREATEST(e.occ, e.day) AS start, e.occ + i.days AS stop, i.points
  FROM eff e JOIN items i USING (item)
  WHERE GREATEST(e.occ, e.day) < e.occ + i.days AND GREATEST(e.occ, e.day) <= (SELECT d FROM today)
),
deltas AS (
  SELECT subject_no, start AS day, points AS delta FROM r
  UNION ALL
  SELECT subject_no, stop, -points FROM r WHERE stop <= (SELECT d FROM today)
),
history AS (
  SELECT subject_no, day,
         GREATEST({minimum}, {base} + SUM(SUM(delta)) OVER (PARTITION BY subject_no ORDER BY day)) AS score
  FROM deltas GROUP BY subject_no, day
),
-- only the subjects whose score ever reaches a listed grade go on to the runs
listed AS (SELECT DISTINCT subject_no FROM history WHERE {any_listed}),
graded AS (
  SELECT h.*, CASE {grade_cases} END AS grade, lead(day) OVER w IS NULL AS is_last
  FROM history h SEMI JOIN listed USING (subject_no)
  WINDOW w AS (PARTITION BY subject_no ORDER BY day)
),
flagged AS (
  SELECT *, {flags} FROM graded WINDOW w AS (PARTITION BY subject_no ORDER BY day)
),
runs AS (
  SELECT *, {runs} FROM flagged WINDOW w AS (PARTITION BY subject_no ORDER BY day)
),
{lists}
SELECT x.list, s.code AS subject, x.* EXCLUDE (list, subject_no)
FROM ({union}) x JOIN read_parquet('{subjects}') s USING (subject_no)
) TO '{out}' (FORMAT parquet)
"""
)
"""Rongcheng's lists by grade as a peer would write them: a running sum on the subjects' integer
key, then, for the subjects who ever reach a listed grade, runs of a grade."""

GRADE_LIST = """
list_{n} AS (
  SELECT '{list}' AS list, subject_no, CAST(NULL AS VARCHAR) AS via,
         CASE WHEN t.d < since THEN 'pending' WHEN ended IS NOT NULL AND ended <= t.d THEN 'removed'
              WHEN planned <= t.d THEN 'expired' ELSE 'active' END AS status,
         first AS noticed_on, since, COALESCE(ended, planned) AS "until", planned AS planned_end,
         ended AS ended_on,
         CASE WHEN ended IS NOT NULL THEN 'grade changed'
              WHEN planned <= t.d THEN 'expired' END AS end_reason,
         CAST(NULL AS VARCHAR) AS reason_record, CAST(NULL AS VARCHAR) AS reason_item, 1::BIGINT AS grounds,
         CAST(NULL AS VARCHAR[]) AS ground_records, CASE WHEN off IS NULL THEN last_grade END AS grade,
         CAST(NULL AS DATE) AS removal_due, CAST(NULL AS VARCHAR) AS suspended_by
  FROM (SELECT *, first + {notice} AS since, first + {notice} + {period} AS planned,
               CASE WHEN off <= first + {notice} + {period} THEN off END AS ended
        FROM (SELECT subject_no, min(day) AS first, min(day) FILTER (WHERE NOT ok_{n}) AS off,
                     max(grade) FILTER (WHERE is_last AND ok_{n}) AS last_grade
              FROM runs WHERE run_{n} > 0 GROUP BY subject_no, run_{n})) CROSS JOIN today t
  WHERE ended IS NULL OR ended > since
)"""


def court_floor_sql(records: str, out: Path, court: Scheme) -> str:
    (lst,) = court.lists
    return COURT_FLOOR.format(
        records=records,
        as_of=AS_OF.isoformat(" "),
        # the range first, as the engine reads it: DuckDB decodes the wide columns only for the
        # rows a constant comparison keeps, not for those a long IN list drops (decision 0077)
        items=f"AND item BETWEEN '{min(COURT_ITEMS)}' AND '{max(COURT_ITEMS)}'"
        f" AND item IN ({_in(COURT_ITEMS)})",
        ground1=GROUND1,
        removals=_in(REMOVALS),
        grounds=_in(GROUNDS),
        early=EARLY,
        extension=EXTENSION,
        list=f"{court.id}/{lst.id}",
        out=out,
        live="(w.open AND e.day < w.planned)",
        cal_end=(AS_OF + dt.timedelta(days=60)).date().isoformat(),
    )


def grade_floor_sql(records: str, out: Path, city: Scheme) -> str:
    model = city.model
    assert model is not None and model.kind == "points"
    read = [i for i in city.items if i.points]
    rows = ", ".join(f"('{i.code}', {i.points}, {i.counts_for_days})" for i in read)
    cases = " ".join(f"WHEN score >= {g.min_score} THEN '{g.grade}'" for g in model.grades)
    order = [g.grade for g in model.grades]  # best first
    lists, names, flags, runs, listed = [], [], [], [], []
    for n, lst in enumerate(city.lists):
        crit = lst.criteria
        lo = order.index(crit.grade_at_least) if getattr(crit, "grade_at_least", None) else len(order) - 1
        hi = order.index(crit.grade_at_most) if getattr(crit, "grade_at_most", None) else 0
        ok = f"grade IN ({_in(order[hi : lo + 1])})" if hi <= lo else "false"
        flags.append(f"{ok} AS ok_{n}, lag({ok}) OVER w AS prev_{n}")
        runs.append(
            f"SUM(CASE WHEN ok_{n} AND NOT COALESCE(prev_{n}, false) THEN 1 ELSE 0 END) OVER w AS run_{n}"
        )
        listed.append(f"(CASE {cases} END) IN ({_in(order[hi : lo + 1])})" if hi <= lo else "false")
        notice = lst.notice.days if lst.notice.required else 0
        lists.append(
            GRADE_LIST.format(n=n, list=f"{city.id}/{lst.id}", notice=notice, period=lst.period_days)
        )
        names.append(f"SELECT * FROM list_{n}")
    return GRADE_FLOOR.format(
        records=records,
        as_of=AS_OF.isoformat(" "),
        items="",  # the join with the items keeps the records of items that have points
        item_rows=rows,
        minimum=model.minimum if model.minimum is not None else -(2**62),
        base=model.base,
        grade_cases=cases,
        any_listed=" OR ".join(listed),
        flags=", ".join(flags),
        runs=", ".join(runs),
        lists=",".join(lists).lstrip("\n"),
        union=" UNION ALL ".join(names),
        subjects=Path(records).parents[1] / "subjects.parquet",
        out=out,
    )


def run_floor(sql: str, threads: int | None) -> float:
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    t0 = time.perf_counter()
    con.execute(sql)
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def run_engine(
    data: Path, scheme: Scheme, out: Path, threads: int | None
) -> tuple[float, dict[str, dict[str, int]]]:
    """The "lists" stage of ``engines.rescore`` for ``scheme``'s lists alone (no scores), as the
    command runs it: its seconds and the entries per list and status."""
    engine = DuckDBEngine(threads=threads)
    try:
        r = rescore(
            engine, data, [], AS_OF, out.with_name("unused.parquet"), list_schemes=[scheme], lists_out=out
        )
    finally:
        engine.close()
    return r.stages["lists"], r.lists


def run_engine_cold(
    data: Path, key: str, out: Path, threads: int | None
) -> tuple[float, float, dict[str, dict[str, int]]]:
    """:func:`run_engine` in a fresh process (``--engine-once``), so every run is a first
    rescore, cold: nothing built or compiled before it, no cache of an earlier run (issue 20,
    point 4; decision 0090). The child imports the engine's modules and pandas first (the command
    has both by its lists stage: its scores stage's item table imports pandas through pyarrow).
    Its seconds (the stage's wall time), the CPU seconds of the whole run (every thread: a figure
    the machine's load moves less than wall time) and its entries."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--engine-once", key, str(data), str(out)]
    if threads:
        cmd += ["--threads", str(threads)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the engine's run failed: {done.stderr[-2000:]}")
    found = json.loads(done.stdout)
    return float(found["seconds"]), float(found["cpu"]), found["entries"]


def _engine_once(key: str, data: Path, out: Path, threads: int | None) -> None:
    """The child of :func:`run_engine_cold`: one run, its seconds and entries as JSON."""
    pa.array([0])  # pyarrow imports pandas on its first array built from Python values
    court, city = schemes()
    cpu = time.process_time()
    seconds, entries = run_engine(data, court if key == "court" else city, out, threads)
    cpu = time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "entries": entries}))  # noqa: T201 (read by the parent)


def prepared(args: argparse.Namespace, prefix: str) -> tuple[Path, Path, float]:
    """The working directory (``--dir`` or a new temporary one), the export in it, generated
    unless ``--reuse`` finds this generator's for these arguments there, and the seconds that took."""
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "export"
    t0 = time.perf_counter()
    if args.reuse and _generated(data, args.subjects, args.records, args.seed, GENERATOR):
        return work, data, 0.0
    generate(data, args.subjects, args.records, args.seed)
    return work, data, time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    court, city = schemes()
    work, data, gen = prepared(args, "sc-lists-")
    records = str(data / "records" / "*.parquet")
    result: dict[str, Any] = {
        "subjects": args.subjects,
        "records": args.records,
        "generate_s": round(gen, 2),
        "duckdb": duckdb.__version__,
    }
    stages = {
        "item lists": (court_floor_sql(records, work / "court-floor.parquet", court), "court"),
        "lists by grade": (grade_floor_sql(records, work / "grade-floor.parquet", city), "grade"),
    }
    for name, (sql, key) in stages.items():
        if args.only and args.only != key:
            continue
        floors, engines, floor_cpu, engine_cpu = [], [], [], []
        entries: dict[str, dict[str, int]] = {}
        for _ in range(args.repeat):  # alternating, the best of each kept
            cpu = time.process_time()
            floors.append(run_floor(sql, args.threads))
            floor_cpu.append(time.process_time() - cpu)
            seconds, cpu, entries = run_engine_cold(data, key, work / f"{key}-engine.parquet", args.threads)
            engines.append(seconds)
            engine_cpu.append(cpu)
        result[name] = {
            "floor_s": round(min(floors), 3),
            "engine_s": round(min(engines), 3),
            "ratio": round(min(engines) / min(floors), 2),
            # CPU seconds of every thread (the engine's whole run, the floor's query): what the
            # load moves less than wall time
            "floor_cpu_s": round(min(floor_cpu), 3),
            "engine_cpu_s": round(min(engine_cpu), 3),
            "entries": entries,
        }
        print(name, json.dumps(result[name]), file=sys.stderr)  # noqa: T201 (a long run keeps its figures)
    if args.cli:
        result["command"] = whole_command(data, work / "cli", AS_OF)
    if not args.dir:
        shutil.rmtree(work)
    return result


def same_entries(floor: Path, engine: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of each file, in one order, with the columns of ``listing.LIST_SCHEMA``: what a
    test compares to hold a floor to the engines' entries."""
    names = LIST_SCHEMA.names

    def rows(path: Path) -> list[dict[str, Any]]:
        t = pq.read_table(path).select(names).cast(LIST_SCHEMA)
        return sorted(
            t.to_pylist(), key=lambda r: (r["list"], r["subject"], r["since"], r["reason_record"] or "")
        )

    return rows(floor), rows(engine)


SECTION = """## Rescore, every stage against its own floor (issue 20, point 4)

`bench/listfloors.py`: the court's list and Rongcheng's lists by grade as `socialcredit rescore`
derives them, each against a bare DuckDB query written for it over the same export in the same
run (alternating, best of each), and with `--cli` the whole command. Newest first."""


def write_markdown(result: dict[str, Any], path: Path) -> None:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### {when}: {result['subjects']:,} subjects, {result['records']:,} records; {machine()}, DuckDB "
        f"{result['duckdb']}, load average {result['load_before']} before, {result['load_after']} after",
        "",
        f"`bench/listfloors.py --subjects {result['subjects']} --records {result['records']} --repeat "
        f"{result['repeat']}{' --cli' if 'command' in result else ''}` "
        f"(generated in {result['generate_s']} s; 0: reused)",
        "",
        "| stage | floor | `rescore` (cold) | ratio | CPU seconds, floor and `rescore` | entries |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("item lists", "lists by grade"):
        if name not in result:  # --only
            continue
        r = result[name]
        entries = "; ".join(
            f"{lst}: " + ", ".join(f"{k} {n:,}" for k, n in by.items()) for lst, by in r["entries"].items()
        )
        cpu = f"{r['floor_cpu_s']} s, {r['engine_cpu_s']} s"
        row = f"| {name} | {r['floor_s']} s | {r['engine_s']} s | **{r['ratio']}** | {cpu} | {entries} |"
        lines.append(row)
    if "command" in result:
        c = result["command"]
        shares = ", ".join(f"{k} {v} s ({100 * v / c['wall_s']:.0f} %)" for k, v in c["stages"].items())
        lines += [
            "",
            f"Whole `socialcredit rescore --from`: {c['wall_s']} s wall, {c['cpu_s']} s of CPU, "
            f"peak memory {c['peak_gib']} GiB; {shares}.",
        ]
    lines.append("")
    add_results(path, SECTION, "listfloors-results", lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from benchlib import report

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(p, 100_000, 1_000_000)
    p.add_argument("--repeat", type=int, default=1, help="runs of each, alternating; the best is kept")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    p.add_argument("--cli", action="store_true", help="also time the whole `socialcredit rescore --from`")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    p.add_argument("--only", choices=("court", "grade"), help="only the court's list or the lists by grade")
    p.add_argument(
        "--engine-once",
        nargs=3,
        metavar=("LISTS", "DATA", "OUT"),
        help="(internal) one engine run of court or grade lists, in this fresh process, as JSON",
    )
    args = p.parse_args(argv)
    if args.engine_once:
        key, data, out = args.engine_once
        _engine_once(key, Path(data), Path(out), args.threads)
        return {}
    before = os.getloadavg()[0]
    result = run(args)
    result["repeat"] = args.repeat
    result["load_before"], result["load_after"] = round(before, 1), round(os.getloadavg()[0], 1)
    result["machine"] = machine()
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
