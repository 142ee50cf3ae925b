"""The ledger as a partitioned Parquet dataset: what the DuckDB and Spark engines read.

Layout of an export directory (schema version 9)::

    manifest.json                      counts, the chain head exported, when, the schema, and
                                       the generations (which records each run appended)
    subjects.parquet/from-N.parquet    code, kind, subject_no, registered_at: every registered
                                       subject and every subject of a record, one file per run
                                       that numbered subjects (numbers N and up)
    representatives.parquet            organisation, representative, valid_from, valid_to: each
                                       legal representative's term (the registry's history)
    objections.parquet                 when each objection or review was open, and what it names
                                       (``engines.suspending.OBJECTION_SCHEMA``)
    supersessions.parquet              seq, superseded_at: records of earlier generations
                                       superseded since their files were written
    records/occurred_year=YYYY/gN-part-*.parquet   one row per ledger record, every stored
                                       column, written by generation N

A record row has ``seq`` (int64), ``record_id``, ``subject``, ``subject_kind``, ``item``,
``source``, ``source_record_id`` (strings), ``occurred_on`` (date32), ``reported_at`` (timestamp,
microseconds, naive UTC), ``reported_given`` (bool), ``evidence`` (string, null), ``action``,
``corrects`` (string, null), ``corrects_seq`` (int64, null: the ``seq`` of the record
``corrects`` names, so engines match superseding on integers), ``superseded_at`` (timestamp,
null: the earliest ``reported_at`` of the records that name this one in ``corrects``, as
:func:`socialcredit.engines.relational.with_supersession` defines it), ``subject_no`` (int64: the
subject's number in ``subjects.parquet``, assigned once in the database,
:mod:`socialcredit.store.subjectnumbers`), ``details`` (JSON text),
``received_at`` (timestamp), ``batch_id``,
``content_hash``, ``claim_hash``, ``chain_hash`` (strings), and the partition column
``occurred_year`` (int32). Every hash column is exported so an export can be checked against
the ledger it came from (the manifest names the chain head at the time of export).

Why partition by the year of occurrence: records stop counting after at most a few years, so a
job scoring today can skip old years, and a year's files are written once and rarely change.

**Incremental.** Exporting into a directory that holds an export of the same ledger (the record
at its chain count still has its chain head) appends only the records since, as generation N+1:
the ledger is append-only, so the earlier files stay true except for one derived column. A
correction or withdrawal may name a record an earlier generation wrote, whose ``superseded_at``
is then stale; ``supersessions.parquet`` holds the right value for each such record and
``Engine.records`` lays it over the files. Subject numbers are kept (the database holds them);
subjects seen since are numbered after them and written to a file of their own. The side files
are replaced whole and the manifest is written last, so an export that dies midway leaves the
last complete one readable (engines read only records up to the manifest's chain count) and the
next run writes that generation again. ``--full``
(``full=True``) rewrites everything, as every run did before version 5.
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
from sqlalchemy import func, select, tuple_

from socialcredit.engines.base import subject_file_name, subject_file_start
from socialcredit.engines.listing import REPRESENTATIVE_SCHEMA
from socialcredit.engines.relational import SUBJECT_FILE_SCHEMA
from socialcredit.engines.suspending import objection_table
from socialcredit.i18n import N_
from socialcredit.store import Store, subjectnumbers
from socialcredit.store import tables as t
from socialcredit.store.exportlog import Export
from socialcredit.store.subjectnumbers import number_subjects, numbered

FORMAT = "socialcredit-ledger-export"
VERSION = 9
"""2 added ``corrects_seq``; 3 added ``representatives.parquet`` (lists that name an organisation's
legal representative, :mod:`socialcredit.engines.listing`) and the derived ``superseded_at`` and
``subject_no`` columns (the population job's filter and grouping key, docs/benchmarks.md); 4 added
``objections.parquet`` (an open objection suspends list entries, :mod:`socialcredit.engines.suspending`);
5 made exports incremental (record files of each generation, ``supersessions.parquet``, and the
manifest's ``generations``); 6 numbers subjects in the database (``store.subjectnumbers``), so an
earlier export's numbers cannot be trusted; 7 made ``subjects.parquet`` a directory to which each
run adds the subjects it numbered (a national population is not rewritten every day); 8 made
``representatives.parquet`` the representatives' terms in valid time (``valid_from``,
``valid_to``: the registry's history, ``subjects.tenures``); 9 added the subjects'
``registered_at`` (a rescore as known at K counts only the subjects known by K); engines
refuse an export of another version (re-export it)."""
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
    appended: int = 0
    """Records written by this run: all of them for a full export, else those since the last."""
    generation: int = 1
    """How many runs have written the records now in the directory (1: one full export)."""


DERIVED = ("occurred_year", "corrects_seq", "superseded_at", "subject_no")

SUPERSESSIONS = "supersessions.parquet"
SUPERSESSION_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("superseded_at", pa.timestamp("us"), nullable=False),
    ]
)
"""Records of earlier generations superseded since their generation was written, with their
``superseded_at`` now: it replaces the column in their files, which Parquet cannot update in
place (``Engine.records`` applies it). Empty after a full export."""


def prior_export(store: Store, directory: Path, count: int) -> dict[str, Any] | None:
    """The manifest of the export in ``directory`` if the ledger has only grown since it was
    written (same format and version, and the record at its chain count still has its chain
    head), so appending the records after it gives what a full export would hold; else None."""
    path = directory / "manifest.json"
    if not all((directory / name).is_file() for name in ("manifest.json", SUPERSESSIONS)):
        return None  # not an export of this version, or a damaged one: rewrite it
    if not (directory / "subjects.parquet").is_dir():
        return None  # not an export of this version, or a damaged one: rewrite it
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        done, head = int(data["chain_count"]), str(data["chain_head"])
    except (ValueError, KeyError, TypeError):
        return None
    if data.get("format") != FORMAT or data.get("version") != VERSION or not 0 < done <= count:
        return None
    if numbered(store) < int(data.get("subjects", 0)):
        return None  # the database lost numbers its files hold (it was replaced): rewrite
    if erasures_logged(store) > _seen(store, directory):
        return None  # it may hold records erased since: a full export leaves them out (0055)
    r = t.records.c
    with store.engine.connect() as conn:
        found = conn.execute(select(r.chain_hash).where(r.seq == done)).scalar()
    return data if found == head else None


def erasures_logged(store: Store) -> int:
    """How long the erasure log is: a file made now holds nothing erased by the first so many."""
    return len(store.sealing.vault.store.erasures())


def _seen(store: Store, path: Path) -> int:
    """How many erasures the file at ``path`` is known to postdate (none if it is not registered)."""
    known = store.exports.registered(path)
    return known.erasures_seen if known is not None else 0


def register_output(store: Store, output: Path, source: Path, written_at: dt.datetime) -> None:
    """Register an engine's output (scores, list entries) made from the export in ``source``: it
    derives from the records that export held, so the retention run purges it with them."""
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    count = int(manifest["chain_count"])
    store.exports.register(Export(str(output), "scores", written_at, count, _seen(store, source)))


def _supersessions(store: Store, directory: Path, start: int, count: int) -> pa.Table:
    """The supersession overlay after appending records ``start + 1 .. count``: the records up
    to ``start`` that any record up to ``count`` supersedes and whose files may say otherwise
    (those the earlier overlay held, and those the new records name), each with its
    ``superseded_at`` from every record naming it so far."""
    old = pq.read_table(directory / SUPERSESSIONS).column("seq").to_pylist()
    a, b = t.records.alias("a"), t.records.alias("b")
    named = (
        select(b.c.seq)
        .select_from(a.join(b, a.c.corrects == b.c.record_id))
        .where(a.c.seq > start, a.c.seq <= count, b.c.seq <= start)
    )
    with store.engine.connect() as conn:
        seqs = sorted(set(old) | {int(x) for x in conn.execute(named).scalars()})
        at: dict[int, dt.datetime] = {}
        for i in range(0, len(seqs), 500):
            chunk = seqs[i : i + 500]
            q = (
                select(b.c.seq, func.min(a.c.reported_at))
                .select_from(a.join(b, a.c.corrects == b.c.record_id))
                .where(b.c.seq.in_(chunk), a.c.seq <= count)
                .group_by(b.c.seq)
            )
            at.update({int(seq): when for seq, when in conn.execute(q)})
    return pa.table({"seq": seqs, "superseded_at": [at[x] for x in seqs]}, schema=SUPERSESSION_SCHEMA)


def _empty_supersessions() -> pa.Table:
    return SUPERSESSION_SCHEMA.empty_table()


def _pages(store: Store, page: int, start: int, count: int) -> Iterator[pa.RecordBatch]:
    """The ledger after position ``start`` up to ``count`` in pages of ``page`` records, with the
    derived columns, each found by the database for each record: ``subject_no`` joined from
    ``subject_numbers`` by the subject's pseudonym (which
    :func:`~socialcredit.store.subjectnumbers.number_subjects` has filled for these records),
    ``corrects_seq`` by the unique index on ``record_id``, and
    ``superseded_at`` by the partial index of ``corrects`` (the earliest ``reported_at`` of the
    records up to ``count`` that name this one). Why in the database: the export holds one page,
    never a map of every subject or every corrected record, whatever the ledger's size.

    Why a driver cursor and Arrow casts rather than SQLAlchemy rows: the rows' type processing
    (a ``datetime`` parsed from SQLite's text for every date and time, in Python) was most of an
    export's time, about 24,000 records/s; here each column goes to Arrow as the driver gives it
    and Arrow parses SQLite's text in C (PostgreSQL's driver already gives dates and times)."""
    stored = [f.name for f in EXPORT_SCHEMA if f.name not in DERIVED]
    mark = store.dialect.mark
    query = (
        f"SELECT {', '.join('r.' + c for c in stored)}, n.subject_no, "
        f"(SELECT c.seq FROM records c WHERE c.record_id = r.corrects), "
        f"(SELECT MIN(b.reported_at) FROM records b WHERE b.corrects = r.record_id AND b.seq <= {mark}), "
        f"r.klass, r.sealed "
        f"FROM records r LEFT JOIN subject_numbers n ON n.subject = r.subject "
        f"WHERE r.seq > {mark} AND r.seq <= {mark} ORDER BY r.seq LIMIT {int(page)}"
    )
    fields = [_driver_field(EXPORT_SCHEMA.field(name), store.dialect.driver_gives_text) for name in stored]
    derived = [
        pa.field("subject_no", pa.int64()),
        pa.field("corrects_seq", pa.int64()),
        _driver_field(EXPORT_SCHEMA.field("superseded_at"), store.dialect.driver_gives_text),
    ]
    driver = pa.struct([*fields, *derived])
    last = start
    while True:
        with store.engine.connect() as conn:
            cursor = conn.connection.cursor()
            cursor.execute(query, (count, last, count))
            rows = cursor.fetchall()
            cursor.close()
        if not rows:
            return
        last_seq = int(rows[-1][0])
        rows = _opened(store, stored, rows)
        if not rows:  # a page of erased records only
            last = last_seq
            continue
        # the whole page to Arrow in one conversion (rows as struct values), then each column
        # cast to its export type in C: a third of the time of a column at a time
        page_array = pa.array(rows, type=driver)
        data: dict[str, pa.Array] = {}
        for i, name in enumerate([*stored, "subject_no", "corrects_seq", "superseded_at"]):
            column, kind = page_array.field(i), EXPORT_SCHEMA.field(name).type
            data[name] = column if column.type == kind else column.cast(kind)
        data["occurred_year"] = pc.year(data["occurred_on"]).cast(pa.int32())
        yield pa.RecordBatch.from_arrays([data[f.name] for f in EXPORT_SCHEMA], schema=EXPORT_SCHEMA)
        last = last_seq


def _opened(store: Store, stored: list[str], rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    """A page's driver rows with their sealed records opened by the store's one decryption
    (``store/sealedrows.py``): code, evidence and details in place of the pseudonym and the
    ciphertext; a record stored in the clear (before schema 0006) names its code, whose number is
    looked up by its pseudonym; erased records (no key) left out.
    Each row loses its trailing ``klass`` and ``sealed``."""
    at = {name: i for i, name in enumerate(stored)}
    subj, ev, det, rid, no = at["subject"], at["evidence"], at["details"], at["record_id"], len(stored)
    ref = at["source_record_id"]
    if all(r[-1] is None for r in rows):
        plain = [list(r[:-2]) for r in rows]
        _number_clear_rows(store, plain, subj, no)
        return [tuple(row) for row in plain]
    pairs = [(r[subj], r[-2]) for r in rows if r[-1] is not None]
    ciphers = store.sealing.vault.keys(pairs)
    out: list[list[Any]] = []
    for r in rows:
        row = list(r[:-2])
        if r[-1] is not None:
            cipher = ciphers.get((r[subj], r[-2]))
            if cipher is None:
                continue
            row[subj], row[ev], row[det], srid = store.sealing.open_one(cipher, r[-1], r[rid])
            if srid is not None:  # sealed with the record since schema 0016 (decision 0075)
                row[ref] = srid
        out.append(row)
    _number_clear_rows(store, out, subj, no)
    return [tuple(row) for row in out]


def _number_clear_rows(store: Store, rows: list[list[Any]], subj: int, no: int) -> None:
    """Fill the subject number of the rows whose join found none: records stored in the clear,
    whose ``subject`` is the code, not the pseudonym the numbers are kept by."""
    missing = {row[subj]: store.sealing.pseudonym(row[subj]) for row in rows if row[no] is None}
    if not missing:
        return
    n = t.subject_numbers
    with store.engine.connect() as conn:
        q = select(n.c.subject, n.c.subject_no).where(n.c.subject.in_(sorted(set(missing.values()))))
        numbers = dict(conn.execute(q).all())
    for row in rows:
        if row[no] is None:
            row[no] = numbers[missing[row[subj]]]


def _write_paged(path: Path, schema: pa.Schema, tables: Iterator[pa.Table]) -> None:
    """``tables`` one after another as the Parquet file ``path``: one page in memory at a time,
    written under a temporary name and renamed, so a reader never sees half a file."""
    part = path.with_name(f".{path.name}.new")
    with pq.ParquetWriter(part, schema) as writer:
        for table in tables:
            writer.write_table(table)
    part.replace(path)


def _write_subjects(store: Store, directory: Path, first: int, total: int) -> None:
    """The subjects numbered ``first`` to ``total - 1`` as ``subjects.parquet/from-<first>.parquet``
    (none if there are none), from the database a page at a time: an incremental run writes only
    the subjects it numbered, and memory does not grow with the population. Files of numbers
    from ``first`` up were left by a run that died before its manifest: they go first."""
    folder = directory / "subjects.parquet"
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("from-*.parquet"):
        if subject_file_start(stale.name) >= first:
            stale.unlink()
    if total <= first:
        return

    r = t.registry.c

    def pages() -> Iterator[pa.Table]:
        # not past ``total``: another export may number more meanwhile, for records not in this
        # one; the codes opened from the pseudonyms the numbers are kept by
        for rows in subjectnumbers.subject_number_pages(store, first=first, end=total):
            if not rows:
                continue
            codes, kinds, numbers = zip(*rows, strict=True)
            # each subject's first registry entry: the registry names it by its keyed pseudonym
            # (decision 0074), by its code in an entry left in the clear (a chain not re-sealed)
            keys = {k: c for c in codes for k in (store.sealing.pseudonym(c), c)}
            names = list(keys)
            since: dict[str, Any] = {}
            with store.reader.connect() as conn:
                for i in range(0, len(names), 500):
                    q = select(r.code, func.min(r.at)).where(r.code.in_(names[i : i + 500])).group_by(r.code)
                    for k, when in conn.execute(q):
                        c = keys[k]
                        since[c] = when if c not in since or when < since[c] else since[c]
            at = [since.get(c) for c in codes]
            yield pa.table(
                {"code": codes, "kind": kinds, "subject_no": numbers, "registered_at": at},
                schema=SUBJECT_FILE_SCHEMA,
            )

    _write_paged(folder / subject_file_name(first), SUBJECT_FILE_SCHEMA, pages())


def _write_representatives(store: Store, directory: Path) -> None:
    """``representatives.parquet`` (every legal representative's term, ``tenures``) read in
    keyset pages of ``subjectnumbers.PAGE``, for the same reason as :func:`_write_subjects`: a
    country has a hundred million organisations or more."""
    s = t.tenures.c

    def pages() -> Iterator[pa.Table]:
        after: tuple[str, int] = ("", -1)
        while True:
            q = (
                select(t.tenures)
                .where(tuple_(s.organisation, s.opened) > tuple_(*after))
                .order_by(s.organisation, s.opened)
                .limit(subjectnumbers.PAGE)
            )
            with store.reader.connect() as conn:
                stored = list(conn.execute(q).mappings())
            if not stored:
                return
            terms = store.open_tenures(stored)  # codes sealed, decision 0074; an erased one left out
            after = (str(stored[-1]["organisation"]), int(stored[-1]["opened"]))
            if not terms:
                continue
            orgs = tuple(x.organisation for x in terms)
            people = tuple(x.person for x in terms)
            starts = tuple(x.valid_from for x in terms)
            ends = tuple(x.valid_to for x in terms)
            yield pa.table(
                {"organisation": orgs, "representative": people, "valid_from": starts, "valid_to": ends},
                schema=REPRESENTATIVE_SCHEMA,
            )

    _write_paged(directory / "representatives.parquet", REPRESENTATIVE_SCHEMA, pages())


def _driver_field(field: pa.Field, as_text: bool) -> pa.Field:
    """A stored column as the database driver hands it back. SQLite gives dates and times as the
    text SQLAlchemy stored (``2024-04-24 19:39:10.000000``) and booleans as 0/1
    (``Dialect.driver_gives_text``), which Arrow then casts to the export's types; PostgreSQL's
    driver gives the types themselves."""
    kind = field.type
    if as_text and (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        return pa.field(field.name, pa.string())
    if as_text and pa.types.is_boolean(kind):
        return pa.field(field.name, pa.int64())
    return field


def export_ledger(
    store: Store,
    directory: Path,
    *,
    page: int = 100_000,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    full: bool = False,
) -> ExportResult:
    """Write the ledger and the subjects to ``directory``: only the records appended since an
    earlier export there of the same ledger (a new generation), else, or with ``full``, the
    whole ledger (replacing whatever export was there).

    The chain head is read first and only records up to it are exported, so records appended
    during the export are left for the next one and the manifest's count is exact. Why
    incremental: the ledger is append-only, and reading it back is the slow part of an export
    (about 93,000 records/s from SQLite, docs/benchmarks.md), so a national ledger exported in
    full before every rescore would spend days reading what the last export already wrote."""
    import time

    t0 = time.perf_counter()
    seen = erasures_logged(store)  # before any record is read: a later erasure purges this export
    count, head = store.head("records")
    cases, _ = store.head("cases")
    earlier = None if full else prior_export(store, directory, count)
    if earlier is None:
        if directory.exists():
            if not (directory / "manifest.json").is_file() and any(directory.iterdir()):
                raise FileExistsError(
                    N_(
                        "{directory} exists and is not an earlier export; not overwriting it",
                        directory=str(directory),
                    )
                )
            shutil.rmtree(directory)
        (directory / "records").mkdir(parents=True)
    start = int(earlier["chain_count"]) if earlier else 0
    generations: list[dict[str, Any]] = list(earlier.get("generations", [])) if earlier else []
    generation = len(generations) + 1
    # every subject these records name, and every registered one, gets its number (if it has
    # none yet) before the records are read: the pages join them
    subjects = number_subjects(store, start, count)
    years: set[int] = set(earlier["years"]) if earlier else set()
    n = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal n
        for b in _pages(store, page, start, count):
            years.update(b.column("occurred_year").to_pylist())
            n += b.num_rows
            if progress is not None:
                progress(b.num_rows)
            yield b

    if count > start:
        prefix = f"g{generation}-part-"
        for stale in (directory / "records").glob(f"*/{prefix}*.parquet"):
            stale.unlink()  # left by an export of this generation that did not finish
        pads.write_dataset(
            batches(),
            directory / "records",
            schema=EXPORT_SCHEMA,
            format="parquet",
            partitioning=pads.partitioning(pa.schema([EXPORT_SCHEMA.field("occurred_year")]), flavor="hive"),
            basename_template=prefix + "{i}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            max_rows_per_file=5_000_000,
            max_rows_per_group=1_000_000,
        )
        generations.append({"generation": generation, "from_seq": start + 1, "to_seq": count})
    overlay = _supersessions(store, directory, start, count) if earlier else _empty_supersessions()
    _write_subjects(store, directory, int(earlier["subjects"]) if earlier else 0, subjects)
    _write_representatives(store, directory)
    # the objections and reviews as far as the cases chain went when the export began, as the
    # records (restorations' events are left out by objection_table)
    events = [e for e in store.case_events() if e.seq <= cases]
    objections = objection_table(events)
    side = {
        "objections.parquet": objections,
        SUPERSESSIONS: overlay,
    }
    for name, table in side.items():  # each replaced whole, so a reader never sees half a file
        pq.write_table(table, directory / f".{name}.new")
        (directory / f".{name}.new").replace(directory / name)
    now = (clock or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)))()
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "records": count,
        "subjects": subjects,
        "objections": len(set(objections.column("objection").to_pylist())),
        "cases_chain_count": cases,
        "years": sorted(years),
        "chain_count": count,
        "chain_head": head,
        "generations": generations,
        "supersessions": overlay.num_rows,
        "schema": {f.name: str(f.type) for f in EXPORT_SCHEMA},
    }
    # written last, and by a rename: the manifest names only what is already in place
    (directory / ".manifest.json.new").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (directory / ".manifest.json.new").replace(directory / "manifest.json")
    store.exports.register(Export(str(directory), "ledger", now, count, seen))
    return ExportResult(
        directory,
        count,
        subjects,
        sorted(years),
        count,
        head,
        time.perf_counter() - t0,
        appended=n,
        generation=len(generations),
    )
