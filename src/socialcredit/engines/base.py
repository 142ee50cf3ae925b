"""What an engine is: an Ibis backend plus the few things that differ between backends.

The relational definition (:mod:`socialcredit.engines.relational`) is backend-neutral; an engine
only reads an exported ledger, registers a scheme's item table, and runs or writes an expression.
Keeping that surface this small is what lets one definition run on DuckDB and on Spark.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines import relational
from socialcredit.schemes.model import PointsModel, Scheme

EXPORT_FORMAT = "socialcredit-ledger-export"
EXPORT_VERSION = 3  # engines.export.VERSION (not imported: export imports the store, this need not)


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
    def records(self, dataset: Path) -> ir.Table:
        """The records of an exported ledger (see :mod:`socialcredit.engines.export`)."""
        ...

    @abstractmethod
    def subjects(self, dataset: Path) -> ir.Table:
        """The subjects of an exported ledger (``code, kind``)."""
        ...

    def representatives(self, dataset: Path) -> ir.Table:
        """Each organisation's legal representative in an exported ledger (``organisation,
        representative``; export version 3), read by :mod:`socialcredit.engines.listing`."""
        path = str(dataset / "representatives.parquet")
        table: ir.Table = self.con.read_parquet(path, table_name=self._fresh("representatives"))
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
            self.records(dataset),
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
    """What a rescore did: how many subjects, the grade distribution per scheme and kind, how long."""

    engine: str
    as_of: dt.datetime
    subjects: int
    records: int
    grades: dict[str, dict[str, dict[str, int]]]
    output: str
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    ledger: Mapping[str, Any] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    """Schemes with a tier or factor model: not relational yet, so not rescored (``score`` has them)."""


def read_manifest(dataset: Path) -> dict[str, Any]:
    """The export's manifest (counts, chain head), or a clear error for a directory that is none."""
    path = dataset / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{dataset} is not a socialcredit export (no manifest.json)")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != EXPORT_FORMAT or data.get("version") != EXPORT_VERSION:
        raise ValueError(
            f"{dataset} is a {data.get('format')} export of version {data.get('version')}; this version "
            f"reads {EXPORT_FORMAT} version {EXPORT_VERSION}: export the ledger again"
        )
    return data


def rescore(
    engine: Engine,
    dataset: Path,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
    out: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> RescoreResult:
    """Score every subject of an export under every scheme, write the scores as Parquet to
    ``out`` (``subject, kind, scheme, score, grade``), and tally grades per scheme and kind.

    The grade tally is computed from the written scores by the same engine, so what is reported is
    what was written."""
    manifest = read_manifest(dataset)
    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    scored = [s for s in schemes if isinstance(s.model, PointsModel)]
    # tier and factor models are not relational yet: skipped here (named in ``skipped``), refused
    # by :func:`~socialcredit.engines.relational.population_scores` if passed directly
    skipped = tuple(s.id for s in schemes if s.model is not None and not isinstance(s.model, PointsModel))
    expr = engine.population_scores(dataset, scored, as_of)
    t = time.perf_counter()
    engine.write(expr, out)
    stages["score and write"] = time.perf_counter() - t
    if progress:
        progress("scored")
    t = time.perf_counter()
    source = engine.read_scores(out)
    tally = engine.to_arrow(source.group_by("scheme", "kind", "grade").agg(n=source.count()))
    stages["tally"] = time.perf_counter() - t
    if progress:
        progress("tallied")
    grades: dict[str, dict[str, dict[str, int]]] = {s.id: {} for s in scored}
    n_subjects = 0
    rank = {(s.id, g.grade): i for s in scored if s.model for i, g in enumerate(s.model.grades)}
    rows = tally.to_pylist()
    rows.sort(key=lambda r: (r["scheme"], r["kind"], rank.get((r["scheme"], r["grade"]), len(rank))))
    for row in rows:  # best grade first, as the scheme lists them
        grades[row["scheme"]].setdefault(row["kind"], {})[row["grade"]] = int(row["n"])
        if scored and row["scheme"] == scored[0].id:
            n_subjects += int(row["n"])
    return RescoreResult(
        engine.name,
        as_of,
        n_subjects,
        int(manifest.get("records", 0)),
        grades,
        str(out),
        time.perf_counter() - t0,
        stages,
        {k: manifest[k] for k in ("chain_count", "chain_head", "exported_at") if k in manifest},
        skipped,
    )
