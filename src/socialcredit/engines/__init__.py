"""Adapters that run the scoring definitions over whole populations: DuckDB (embedded) and Spark
(cluster), both through one Ibis definition (:mod:`socialcredit.engines.relational`), and the
ledger's Parquet export they read (:mod:`socialcredit.engines.export`)."""

from __future__ import annotations

import os
from pathlib import Path

from socialcredit.engines.base import Engine, RescoreResult, read_manifest, rescore

__all__ = ["Engine", "RescoreResult", "engine", "read_manifest", "rescore"]


def engine(name: str) -> Engine:
    """An engine by name: ``duckdb`` (the embedded default; its memory limit and spill directory
    from ``SOCIALCREDIT_DUCKDB_MEMORY_LIMIT`` and ``SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY`` when set,
    decision 0103) or ``spark`` (local mode unless ``SOCIALCREDIT_SPARK_MASTER`` or spark-submit
    says otherwise)."""
    if name == "duckdb":
        from socialcredit.engines.duck import DuckDBEngine

        temp = os.environ.get("SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY")
        return DuckDBEngine(
            memory_limit=os.environ.get("SOCIALCREDIT_DUCKDB_MEMORY_LIMIT") or None,
            temp_directory=Path(temp) if temp else None,
        )
    if name == "spark":
        from socialcredit.engines.spark import SparkEngine

        return SparkEngine()
    raise ValueError(f"no engine {name!r} (have: duckdb, spark)")
