"""The embedded engine: the relational definition on DuckDB, in process, no server.

DuckDB reads the exported Parquet dataset directly (hive partitions by year of occurrence), uses
both cores, and spills to disk when a population does not fit in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines.base import Engine


class DuckDBEngine(Engine):
    """The relational definition on an in-process DuckDB."""

    name = "duckdb"

    def __init__(self, con: Any | None = None, *, threads: int | None = None) -> None:
        super().__init__(con if con is not None else ibis.duckdb.connect())
        if threads is not None:
            self.con.raw_sql(f"SET threads = {int(threads)}")

    def record_files(self, dataset: Path) -> ir.Table:
        pattern = str(dataset / "records" / "**" / "*.parquet")
        return self.con.read_parquet(pattern, table_name=self._fresh("records"), hive_partitioning=True)

    def subject_files(self, dataset: Path) -> ir.Table:
        path = dataset / "subjects.parquet"
        pattern = str(path / "*.parquet") if path.is_dir() else str(path)
        return self.con.read_parquet(pattern, table_name=self._fresh("subjects"))

    def table(self, data: pa.Table, prefix: str) -> ir.Table:
        name = self._fresh(prefix)
        self.con.con.register(name, data)
        return self.con.table(name)

    def write(self, expr: ir.Table, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.to_parquet(expr, str(path))

    def read_scores(self, path: Path) -> ir.Table:
        return self.con.read_parquet(str(path), table_name=self._fresh("scores"))

    def close(self) -> None:
        """Release the tables a definition cached (``Table.cache``) while the connection is open,
        then close it: Ibis drops a cached table when its expression is collected, which after
        the connection closed fails, and a test run reports it as an unraisable exception."""
        for name in list(getattr(self.con, "_cache_name_to_entry", {})):
            self.con._finalize_cached_table(name)
        self.con.disconnect()
