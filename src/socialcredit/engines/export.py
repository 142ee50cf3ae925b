"""The ledger as a partitioned Parquet dataset: what the DuckDB and Spark engines read.

Layout of an export directory (schema version 4)::

    manifest.json                      counts, the chain head exported, when, the schema
    subjects.parquet                   code, kind, subject_no: every registered subject and every
                                       subject of a record
    representatives.parquet            organisation, representative: each organisation's legal representative
    objections.parquet                 when each objection was open, and what it names
                                       (``engines.suspending.OBJECTION_SCHEMA``)
    records/occurred_year=YYYY/*.parquet   one row per ledger record, every stored column

A record row has ``seq`` (int64), ``record_id``, ``subject``, ``subject_kind``, ``item``,
``source``, ``source_record_id`` (strings), ``occurred_on`` (date32), ``reported_at`` (timestamp,
microseconds, naive UTC), ``reported_given`` (bool), ``evidence`` (string, null), ``action``,
``corrects`` (string, null), ``corrects_seq`` (int64, null: the ``seq`` of the record
``corrects`` names, so engines match superseding on integers), ``superseded_at`` (timestamp,
null: the earliest ``reported_at`` of the records that name this one in ``corrects``, as
:func:`socialcredit.engines.relational.with_supersession` defines it), ``subject_no`` (int64: the
subject's number in ``subjects.parquet``, assigned by this export), ``details`` (JSON text),
``received_at`` (timestamp), ``batch_id``,
``content_hash``, ``claim_hash``, ``chain_hash`` (strings), and the partition column
``occurred_year`` (int32). Every hash column is exported so an export can be checked against
the ledger it came from (the manifest names the chain head at the time of export).

Why partition by the year of occurrence: records stop counting after at most a few years, so a
job scoring today can skip old years, and a year's files are written once and rarely change.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from sqlalchemy import func, select

from socialcredit.engines.listing import REPRESENTATIVE_SCHEMA
from socialcredit.engines.relational import SUBJECT_SCHEMA
from socialcredit.engines.suspending import objection_table
from socialcredit.store import Store
from socialcredit.store import tables as t

FORMAT = "socialcredit-ledger-export"
VERSION = 4
"""2 added ``corrects_seq``; 3 added ``representatives.parquet`` (lists that name an organisation's
legal representative, :mod:`socialcredit.engines.listing`) and the derived ``superseded_at`` and
``subject_no`` columns (the population job's filter and grouping key, docs/benchmarks.md); 4 added
``objections.parquet`` (an open objection suspends list entries, :mod:`socialcredit.engines.suspending`);
engines refuse an export of another version (re-export it)."""
EXPORT_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("subject_kind", pa.string(), nullable=False),
        pa.field("item", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_record_id", pa.string(), nullable=False),
        pa.field("occurred_on", pa.date32(), nullable=False),
        pa.field("reported_at", pa.timestamp("us"), nullable=False),
        pa.field("reported_given", pa.bool_(), nullable=False),
        pa.field("evidence", pa.string()),
        pa.field("action", pa.string(), nullable=False),
        pa.field("corrects", pa.string()),
        pa.field("corrects_seq", pa.int64()),
        pa.field("superseded_at", pa.timestamp("us")),
        pa.field("subject_no", pa.int64(), nullable=False),
        pa.field("details", pa.string(), nullable=False),
        pa.field("received_at", pa.timestamp("us"), nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("claim_hash", pa.string(), nullable=False),
        pa.field("chain_hash", pa.string(), nullable=False),
        pa.field("occurred_year", pa.int32(), nullable=False),
    ]
)


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    records: int
    subjects: int
    years: list[int]
    chain_count: int
    chain_head: str
    seconds: float


DERIVED = ("occurred_year", "corrects_seq", "superseded_at", "subject_no")


def _superseded(store: Store, count: int) -> dict[str, dt.datetime]:
    """When each corrected record was first superseded: the earliest ``reported_at`` of the
    records (up to ledger position ``count``) naming it in ``corrects``. Corrections are few, so
    this fits in memory even for a national ledger (one entry per corrected record)."""
    r = t.records.c
    q = (
        select(r.corrects, func.min(r.reported_at))
        .where(r.corrects.is_not(None), r.seq <= count)
        .group_by(r.corrects)
    )
    with store.engine.connect() as conn:
        return {rid: at for rid, at in conn.execute(q)}  # min() keeps the DateTime type


def _pages(
    store: Store, page: int, count: int, superseded: dict[str, dt.datetime], numbers: dict[str, int]
) -> Iterator[pa.RecordBatch]:
    """The ledger up to position ``count`` in pages of ``page`` records, with the derived
    columns; ``numbers`` maps codes to subject numbers and gains the codes first seen here (so
    only subjects of exported records are numbered: the numbers stay dense).

    Why a driver cursor and Arrow casts rather than SQLAlchemy rows: the rows' type processing
    (a ``datetime`` parsed from SQLite's text for every date and time, in Python) was most of an
    export's time, about 24,000 records/s; here each column goes to Arrow as the driver gives it
    and Arrow parses SQLite's text in C (PostgreSQL's driver already gives dates and times)."""
    stored = [f.name for f in EXPORT_SCHEMA if f.name not in DERIVED]
    mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
    query = (
        f"SELECT {', '.join(stored)} FROM records WHERE seq > {mark} AND seq <= {mark} "
        f"ORDER BY seq LIMIT {int(page)}"
    )
    last = 0
    while True:
        with store.engine.connect() as conn:
            cursor = conn.connection.cursor()
            cursor.execute(query, (last, count))
            rows = cursor.fetchall()
            cursor.close()
            if not rows:
                return
            wanted = sorted({row[stored.index("corrects")] for row in rows} - {None})
            positions: dict[str, int] = {}
            for i in range(0, len(wanted), 500):
                q = select(t.records.c.record_id, t.records.c.seq).where(
                    t.records.c.record_id.in_(wanted[i : i + 500])
                )
                positions.update({rid: int(seq) for rid, seq in conn.execute(q)})
        columns = list(zip(*rows, strict=True))
        data: dict[str, pa.Array] = {
            name: _column(columns[i], EXPORT_SCHEMA.field(name)) for i, name in enumerate(stored)
        }
        record_ids = columns[stored.index("record_id")]
        corrects = columns[stored.index("corrects")]
        data["occurred_year"] = pc.year(data["occurred_on"]).cast(pa.int32())
        data["corrects_seq"] = pa.array(
            [None if c is None else positions[c] for c in corrects], type=pa.int64()
        )
        data["superseded_at"] = pa.array(
            [superseded.get(rid) for rid in record_ids] if superseded else [None] * len(rows),
            type=pa.timestamp("us"),
        )
        data["subject_no"] = pa.array(
            [numbers.setdefault(code, len(numbers)) for code in columns[stored.index("subject")]],
            type=pa.int64(),
        )
        yield pa.RecordBatch.from_arrays([data[f.name] for f in EXPORT_SCHEMA], schema=EXPORT_SCHEMA)
        last = int(rows[-1][0])


def _column(values: Sequence[Any], field: pa.Field) -> pa.Array:
    """One stored column as its export type. SQLite hands back dates and times as the text
    SQLAlchemy stored (``2024-04-24 19:39:10.000000``) and booleans as 0/1, which Arrow casts;
    PostgreSQL's driver hands back the types themselves."""
    kind = field.type
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind) or pa.types.is_boolean(kind):
        array = pa.array(values)
        return array if array.type == kind else array.cast(kind)
    return pa.array(values, type=kind)


def export_ledger(
    store: Store,
    directory: Path,
    *,
    page: int = 100_000,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> ExportResult:
    """Write the whole ledger and the subjects to ``directory`` (replacing an earlier export there).

    The chain head is read first and only records up to it are exported, so records appended
    during the export are left for the next one and the manifest's count is exact."""
    import time

    t0 = time.perf_counter()
    count, head = store.head("records")
    cases, _ = store.head("cases")
    if directory.exists():
        if not (directory / "manifest.json").is_file() and any(directory.iterdir()):
            raise FileExistsError(f"{directory} exists and is not an earlier export; not overwriting it")
        shutil.rmtree(directory)
    (directory / "records").mkdir(parents=True)
    kinds: dict[str, str] = {code: kind for code, kind in store.subject_codes()}
    numbers: dict[str, int] = {code: i for i, code in enumerate(sorted(kinds))}
    superseded = _superseded(store, count)
    years: set[int] = set()
    n = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal n
        for b in _pages(store, page, count, superseded, numbers):
            for code, kind in zip(
                b.column("subject").to_pylist(), b.column("subject_kind").to_pylist(), strict=True
            ):
                kinds.setdefault(code, kind)
            years.update(b.column("occurred_year").to_pylist())
            n += b.num_rows
            if progress is not None:
                progress(b.num_rows)
            yield b

    pads.write_dataset(
        batches(),
        directory / "records",
        schema=EXPORT_SCHEMA,
        format="parquet",
        partitioning=pads.partitioning(pa.schema([EXPORT_SCHEMA.field("occurred_year")]), flavor="hive"),
        basename_template="part-{i}.parquet",
        existing_data_behavior="overwrite_or_ignore",
        max_rows_per_file=5_000_000,
        max_rows_per_group=1_000_000,
    )
    codes = sorted(kinds)
    subjects = pa.table(
        {"code": codes, "kind": [kinds[c] for c in codes], "subject_no": [numbers[c] for c in codes]},
        schema=SUBJECT_SCHEMA,
    )
    pq.write_table(subjects, directory / "subjects.parquet")
    reps = sorted(store.representatives().items())
    pq.write_table(
        pa.table(
            {"organisation": [o for o, _ in reps], "representative": [p for _, p in reps]},
            schema=REPRESENTATIVE_SCHEMA,
        ),
        directory / "representatives.parquet",
    )
    # the objections as far as the cases chain went when the export began, as the records
    events = [e for e in store.case_events(case_kind="objection") if e.seq <= cases]
    objections = objection_table(events)
    pq.write_table(objections, directory / "objections.parquet")
    now = (clock or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)))()
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "records": n,
        "subjects": subjects.num_rows,
        "objections": len(set(objections.column("objection").to_pylist())),
        "cases_chain_count": cases,
        "years": sorted(years),
        "chain_count": count,
        "chain_head": head,
        "schema": {f.name: str(f.type) for f in EXPORT_SCHEMA},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ExportResult(directory, n, subjects.num_rows, sorted(years), count, head, time.perf_counter() - t0)
