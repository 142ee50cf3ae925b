"""What an engine is: an Ibis backend plus the few things that differ between backends.

The relational definition (:mod:`socialcredit.engines.relational`) is backend-neutral; an engine
only reads an exported ledger, registers a scheme's item table, and runs or writes an expression.
Keeping that surface this small is what lets one definition run on DuckDB and on Spark.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.dueprocess import restoration
from socialcredit.engines import gradelists, listing, relational, suspending
from socialcredit.engines.fields import RELATIONAL
from socialcredit.i18n import N_
from socialcredit.rules.fields import SchemeRefused
from socialcredit.schemes.model import Scheme
from socialcredit.schemes.segments import Segment

EXPORT_FORMAT = "socialcredit-ledger-export"
EXPORT_VERSION = 9  # engines.export.VERSION (not imported: export imports the store, this need not)


class Engine(ABC):
    """An Ibis backend able to score a population; each backend supplies the abstract methods."""

    name = "engine"

    def __init__(self, con: Any) -> None:
        self.con = con
        self._n = 0

    def _fresh(self, prefix: str) -> str:
        self._n += 1
        return f"sc_{prefix}_{self._n}"

    @abstractmethod
    def record_files(self, dataset: Path) -> ir.Table:
        """Every record file of an exported ledger as written, whatever generation wrote it
        (:mod:`socialcredit.engines.export`); :meth:`records` is what a definition reads."""
        ...

    def records(self, dataset: Path) -> ir.Table:
        """The records of an exported ledger as its manifest states it: those up to its chain
        count, with ``superseded_at`` from ``supersessions.parquet`` where an incremental export
        left a file's value stale (export version 5). A full export needs neither step and gets
        the files as they are, so the population job over it is the same query as before."""
        files = self.record_files(dataset)
        manifest = read_manifest(dataset) if (dataset / "manifest.json").is_file() else {}
        done = len(manifest.get("generations", []))
        if manifest and any(_generation(p.name) > done for p in dataset.glob("records/*/g*-part-*.parquet")):
            # files of an export that died before its manifest: not the ledger yet (the next
            # export writes that generation again and removes them)
            files = files.filter(files.seq <= int(manifest["chain_count"]))
        if not manifest.get("supersessions"):
            return files
        path = str(dataset / "supersessions.parquet")
        raw: ir.Table = self.con.read_parquet(path, table_name=self._fresh("supersessions"))
        over = raw.select(o_seq=raw.seq, o_at=raw.superseded_at)
        j = files.left_join(over, files.seq == over.o_seq)
        return j.select(
            *[j.o_at.coalesce(j[c]).name(c) if c == "superseded_at" else j[c] for c in files.columns]
        )

    @abstractmethod
    def subject_files(self, dataset: Path) -> ir.Table:
        """Every subject file of an exported ledger as written: ``subjects.parquet``, one file or
        (export version 7) a directory of one file per range of numbers."""
        ...

    def subjects(self, dataset: Path) -> ir.Table:
        """The subjects of an exported ledger (``code, kind, subject_no``) as its manifest states
        them: a file of numbers past its count was left by an export that died (the next one
        removes it), so it is filtered out; otherwise the files are read as they are."""
        files = self.subject_files(dataset)
        manifest = read_manifest(dataset) if (dataset / "manifest.json").is_file() else {}
        known = int(manifest.get("subjects", 0))
        starts = [subject_file_start(p.name) for p in (dataset / "subjects.parquet").glob("from-*.parquet")]
        if manifest and any(s >= known for s in starts):
            files = files.filter(files.subject_no < known)
        return files

    def representatives(self, dataset: Path) -> ir.Table:
        """Each legal representative's term in an exported ledger (``organisation,
        representative, valid_from, valid_to``; export version 8), read by
        :mod:`socialcredit.engines.listing`."""
        path = str(dataset / "representatives.parquet")
        table: ir.Table = self.con.read_parquet(path, table_name=self._fresh("representatives"))
        return table

    def objections(self, dataset: Path) -> ir.Table:
        """The objections of an exported ledger as their open spans (``objections.parquet``,
        ``suspending.OBJECTION_SCHEMA``; export version 4), read by the list definitions."""
        path = str(dataset / "objections.parquet")
        table: ir.Table = self.con.read_parquet(path, table_name=self._fresh("objections"))
        return table

    @abstractmethod
    def table(self, data: pa.Table, prefix: str) -> ir.Table:
        """Register a small Arrow table (a scheme's items, test data) on this backend."""
        ...

    def items(self, schemes: Sequence[Scheme]) -> ir.Table:
        """The schemes' item table (:func:`relational.item_table`) on this backend."""
        return self.table(relational.item_table(schemes), "items")

    def scheme_ids(self, schemes: Sequence[Scheme]) -> ir.Table:
        """The schemes' ids (:func:`relational.scheme_table`) on this backend."""
        return self.table(relational.scheme_table(schemes), "schemes")

    def population_scores(self, dataset: Path, schemes: Sequence[Scheme], as_of: dt.datetime) -> ir.Table:
        """The relational definition over an export: every subject under every scheme."""
        return relational.population_scores(
            records_for(self, dataset, schemes),
            self.subjects(dataset),
            self.items(schemes),
            self.scheme_ids(schemes),
            schemes,
            as_of,
        )

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        result: pa.Table = self.con.to_pyarrow(expr)
        return result

    @abstractmethod
    def write(self, expr: ir.Table, path: Path) -> None:
        """Write ``expr`` as Parquet at ``path`` (a file on DuckDB, a directory on Spark)."""
        ...

    @abstractmethod
    def read_scores(self, path: Path) -> ir.Table:
        """Scores written by :meth:`write`."""
        ...

    def close(self) -> None:  # noqa: B027 (optional hook: most backends hold nothing to release)
        """Release what the engine holds (not a shared Spark session)."""


@dataclass(frozen=True)
class RescoreResult:
    """What a rescore did: how many subjects, the grade distribution per scheme and kind, the list
    entries per list and status, where it wrote them, how long."""

    engine: str
    as_of: dt.datetime
    subjects: int
    records: int
    grades: dict[str, dict[str, dict[str, int]]]
    output: str
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    ledger: Mapping[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Schemes not rescored, by id, with the reason (a factor model whose contacts factor counts:
    no export holds contacts' scores; ``score`` has them per subject)."""
    lists: dict[str, dict[str, int]] = field(default_factory=dict)
    """Entries per list (``scheme/list``) and status at ``as_of``, from what was written."""
    lists_output: str | None = None
    lists_refused: dict[str, str] = field(default_factory=dict)
    """Lists no relational definition derives (a list by grade of a factor model whose
    relationships factor counts; none shipped), with the reason."""
    suspended: dict[str, int] = field(default_factory=dict)
    """Entries in force or pending per list whose measures an open objection suspends."""
    known_at: dt.datetime | None = None
    """Knowledge time: only records received by then counted (``None``: the whole export)."""


def subject_file_name(first: int) -> str:
    """The name of the subject file that starts at number ``first`` (export version 7)."""
    return f"from-{first:012d}.parquet"


def subject_file_start(name: str) -> int:
    """The first subject number of a subject file (``from-000000001200.parquet``: 1200)."""
    return int(name.removeprefix("from-").removesuffix(".parquet"))


def _generation(name: str) -> int:
    """The generation that wrote a record file (``g3-part-0.parquet``: 3), 0 if the name says none."""
    head = name.split("-", 1)[0]
    return int(head[1:]) if head[1:].isdigit() else 0


def read_manifest(dataset: Path) -> dict[str, Any]:
    """The export's manifest (counts, chain head), or a clear error for a directory that is none."""
    path = dataset / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(
            N_("{dataset} is not a socialcredit export (no manifest.json)", dataset=str(dataset))
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != EXPORT_FORMAT or data.get("version") != EXPORT_VERSION:
        raise ValueError(
            f"{dataset} is a {data.get('format')} export of version {data.get('version')}; this version "
            f"reads {EXPORT_FORMAT} version {EXPORT_VERSION}: export the ledger again"
        )
    return data


def records_for(
    engine: Engine, dataset: Path, schemes: Iterable[Scheme], known_at: dt.datetime | None = None
) -> ir.Table:
    """The export's records as every definition reads them: a restoration of a record that credit
    restoration may not end under ``schemes`` (``dueprocess.restoration``) ends nothing, as in
    the per-subject path. With ``known_at``, only those received by then
    (:func:`relational.known_by`).

    Without a restoration among them, voiding restorations changes nothing, and the records are
    read as they are: one small query (the first restoration, if any) instead of three more
    scans of the ledger in every query that reads them (0.25 s of DuckDB's CPU on the court's
    list at 10 million records, where the floor's whole query takes 1.0 s; decision 0090)."""
    void = sorted(restoration.unrestorable({s.id: s for s in schemes}.values()))
    records = engine.records(dataset)
    if known_at is not None:
        records = relational.known_by(records, known_at)
    if void and "superseded_at" in records.columns and not _any_restoration(engine, records):
        return records
    return relational.void_restorations(records, void)


def _any_restoration(engine: Engine, records: ir.Table) -> bool:
    """Whether ``records`` hold a restoration (the first found ends the scan)."""
    first = records.filter(records.action == "restore").select("seq").limit(1)
    found: int = engine.to_arrow(first).num_rows
    return found > 0


def subjects_for(
    engine: Engine, dataset: Path, records: ir.Table, known_at: dt.datetime | None = None
) -> ir.Table:
    """The export's subjects as a rescore scores them: every one, or with ``known_at`` those known
    by then, registered or named by one of ``records`` (:func:`relational.known_subjects`)."""
    subjects = engine.subjects(dataset)
    return subjects if known_at is None else relational.known_subjects(subjects, records, known_at)


def _count(engine: Engine, table: ir.Table) -> int:
    return int(engine.to_arrow(table.aggregate(n=table.count())).column("n")[0].as_py())


def _scores(
    engine: Engine,
    dataset: Path,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
    rules: Sequence[Scheme] = (),
    known_at: dt.datetime | None = None,
) -> tuple[ir.Table | None, dict[str, str]]:
    """Every scheme's population scores as one table (one definition for every kind of model:
    :func:`relational.population_scores`), and the schemes left out with the reason; ``rules``:
    the schemes whose restoration rule applies besides ``schemes`` (those of the lists)."""
    skipped: dict[str, str] = {}
    scored: list[Scheme] = []
    for s in schemes:
        assert s.model is not None
        reasons = RELATIONAL.reasons(s)  # a field the engines refuse, named (the relationships factor)
        if reasons:
            skipped[s.id] = str(SchemeRefused(RELATIONAL.evaluator, s.id, reasons))
        else:
            scored.append(s)
    if not scored:  # nothing read: a rescore of lists alone reads its records in its lists stage
        return None, skipped
    records = records_for(engine, dataset, [*schemes, *rules], known_at)
    subjects = subjects_for(engine, dataset, records, known_at)
    scores = relational.population_scores(
        records, subjects, engine.items(scored), engine.scheme_ids(scored), scored, as_of
    )
    names = relational.SCORE_SCHEMA.names
    types = dict(zip(names, ("string", "string", "string", "int64", "string"), strict=True))
    return scores.select(*names).cast(types), skipped


def lists_path(out: Path) -> Path:
    """Where :func:`rescore` writes the list entries when not told: beside the scores."""
    return out.with_name(f"{out.stem}-lists{out.suffix}")


def _objections(engine: Engine, dataset: Path, known_at: dt.datetime | None) -> ir.Table:
    """The export's objections, as known at ``known_at`` when given (``suspending.known_by``)."""
    found = engine.objections(dataset)
    return found if known_at is None else suspending.known_by(found, known_at)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a rescore builds, compiles and runs its
    queries, and put back as it was after.

    Why: building and compiling Ibis expressions allocates tens of thousands of small objects
    that live until the query is written, and the collector, run every 700 allocations, walked
    them and the whole heap about 180 times on the court's list: a fifth of the stage's Python
    time, cold (decision 0090). What is built here is freed by reference counting when the
    stage ends; what is cyclic waits for the next collection after it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def rescore(
    engine: Engine,
    dataset: Path,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
    out: Path,
    *,
    list_schemes: Sequence[Scheme] | None = None,
    lists_out: Path | None = None,
    progress: Callable[[str], None] | None = None,
    holidays: frozenset[dt.date] = frozenset(),
    known_at: dt.datetime | None = None,
    segments: Mapping[str, tuple[Segment, ...]] | None = None,
) -> RescoreResult:
    """Score every subject of an export under every scheme of ``schemes`` (points, tier and factor
    models), write the scores as Parquet to ``out`` (``subject, kind, scheme, score, grade``),
    derive every entry of the lists of ``list_schemes`` (default ``schemes``; a list may belong
    to a scheme without a model, like the court's), item lists and lists by grade alike
    (:func:`gradelists.population_lists`), into ``lists_out`` (default :func:`lists_path`), and
    tally grades per scheme and kind and entries per list and status. ``holidays`` are the
    installation's (``settings.calendar()``), for fulfilled entries' removal deadlines in working
    days, as the per-subject path counts them. ``known_at``: knowledge time, only the records
    received by then count (default: every record in the export), only the subjects known by
    then are scored and counted (registered, or named by such a record), and the objections as known
    then (an objection filed later suspends nothing, one decided later is still open);
    representatives' terms are read as exported. ``segments``: the lists whose rules changed with
    earlier listings staying ended (``schemes.segments.segmented`` of the registry in force at
    ``as_of``; decision 0051), each walked in segments by its versions' rules.

    The tallies are computed from what was written, by the same engine, so what is reported is
    what was written. The cyclic collector is paused meanwhile (:func:`collector_paused`)."""
    with collector_paused():
        return _rescore(
            engine,
            dataset,
            schemes,
            as_of,
            out,
            list_schemes=list_schemes,
            lists_out=lists_out,
            progress=progress,
            holidays=holidays,
            known_at=known_at,
            segments=segments,
        )


def _rescore(
    engine: Engine,
    dataset: Path,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
    out: Path,
    *,
    list_schemes: Sequence[Scheme] | None,
    lists_out: Path | None,
    progress: Callable[[str], None] | None,
    holidays: frozenset[dt.date],
    known_at: dt.datetime | None,
    segments: Mapping[str, tuple[Segment, ...]] | None,
) -> RescoreResult:
    """:func:`rescore`'s work, with the collector paused."""
    manifest = read_manifest(dataset)
    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    pool = list(list_schemes if list_schemes is not None else schemes)
    expr, skipped = _scores(engine, dataset, schemes, as_of, pool, known_at)
    scored = [s for s in schemes if s.model is not None and s.id not in skipped]
    grades: dict[str, dict[str, dict[str, int]]] = {s.id: {} for s in scored}
    if expr is not None:
        t = time.perf_counter()
        engine.write(expr, out)
        stages["score and write"] = time.perf_counter() - t
        if progress:
            progress("scored")
        t = time.perf_counter()
        source = engine.read_scores(out)
        tally = engine.to_arrow(source.group_by("scheme", "kind", "grade").agg(n=source.count()))
        stages["tally"] = time.perf_counter() - t
        rank = {(s.id, g.grade): i for s in scored if s.model for i, g in enumerate(s.model.grades)}
        rows = tally.to_pylist()
        rows.sort(key=lambda r: (r["scheme"], r["kind"], rank.get((r["scheme"], r["grade"]), len(rank))))
        for row in rows:  # best grade first, as the scheme lists them
            grades[row["scheme"]].setdefault(row["kind"], {})[row["grade"]] = int(row["n"])
    if progress:
        progress("tallied")
    wanted = listing.relational_lists(pool)
    entries: dict[str, dict[str, int]] = {}
    suspended: dict[str, int] = {}
    where: Path | None = None
    if wanted:
        where = lists_out or lists_path(out)
        t = time.perf_counter()
        # each input read only if a list needs it (an export without item lists' representatives)
        graded = list({s.id: s for s, lst in wanted if gradelists.by_grade(lst)}.values())
        itemised = [(s, lst) for s, lst in wanted if not gradelists.by_grade(lst)]
        calendar = listing.working_calendar(holidays, as_of, itemised)
        records = records_for(engine, dataset, [*schemes, *pool], known_at)
        found = gradelists.population_lists(
            records,
            subjects_for(engine, dataset, records, known_at) if graded else None,
            engine.representatives(dataset) if itemised else None,
            engine.table(gradelists.item_table(graded), "grade_items") if graded else None,
            wanted,
            as_of,
            calendar=engine.table(calendar, "calendar") if itemised else None,
            objections=_objections(engine, dataset, known_at),
            segments=segments,
        )
        engine.write(found, where)
        stages["lists"] = time.perf_counter() - t
        written = engine.read_scores(where)
        counts = engine.to_arrow(
            written.group_by("list", "status").agg(
                n=written.count(), held=written.suspended_by.notnull().cast("int64").sum()
            )
        )
        for row in sorted(counts.to_pylist(), key=lambda r: (r["list"], r["status"])):
            entries.setdefault(row["list"], {})[row["status"]] = int(row["n"])
            if row["status"] in ("active", "pending") and row["held"]:
                suspended[row["list"]] = suspended.get(row["list"], 0) + int(row["held"])
        if progress:
            progress("listed")
    subjects, records_count = int(manifest.get("subjects", 0)), int(manifest.get("records", 0))
    if known_at is not None:  # as known then: the subjects known and the records received by then
        known = relational.known_by(engine.records(dataset), known_at)
        subjects = _count(engine, subjects_for(engine, dataset, known, known_at))
        records_count = _count(engine, known)
    return RescoreResult(
        engine.name,
        as_of,
        subjects,
        records_count,
        grades,
        str(out),
        time.perf_counter() - t0,
        stages,
        {k: manifest[k] for k in ("chain_count", "chain_head", "exported_at") if k in manifest},
        skipped,
        entries,
        str(where) if where is not None else None,
        listing.refused(pool),
        suspended,
        known_at,
    )
