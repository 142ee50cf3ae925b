"""The embedded engine: the relational definition on DuckDB, in process, no server.

DuckDB reads the exported Parquet dataset directly (hive partitions by year of occurrence), uses
both cores, and spills to disk when a population does not fit in memory: within ``memory_limit``
(DuckDB's default: 80 % of the machine's memory) into ``temp_directory`` (DuckDB's default for an
in-memory database: ``.tmp`` in the working directory). ``socialcredit rescore`` takes both from
``SOCIALCREDIT_DUCKDB_MEMORY_LIMIT`` and ``SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY`` (decision 0103).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines.base import Engine


class SettingRefused(ValueError):
    """A DuckDB setting the engine was given that DuckDB refused: the setting, the value, and
    DuckDB's reason, for the command to name the variable it came from."""

    def __init__(self, setting: str, value: str, problem: str) -> None:
        super().__init__(f"{setting} = {value!r}: {problem}")
        self.setting, self.value, self.problem = setting, value, problem


class DuckDBEngine(Engine):
    """The relational definition on an in-process DuckDB."""

    name = "duckdb"

    def __init__(
        self,
        con: Any | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        super().__init__(con if con is not None else ibis.duckdb.connect())
        if threads is not None:
            self.con.raw_sql(f"SET threads = {int(threads)}")
        if temp_directory is not None:  # where a population larger than the limit spills
            temp_directory.mkdir(parents=True, exist_ok=True)
        for setting, value in (("memory_limit", memory_limit), ("temp_directory", temp_directory)):
            if value is not None:  # "12GB": DuckDB parses it
                try:
                    self.con.con.execute(f"SET {setting} = ?", [str(value)])
                except duckdb.Error as exc:
                    raise SettingRefused(setting, str(value), str(exc)) from exc

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
