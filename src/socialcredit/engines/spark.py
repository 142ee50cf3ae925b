"""The cluster engine: the relational definition on Apache Spark through Ibis's pyspark backend.

Locally this is Spark's local mode (a JVM in this machine); on a cluster the same module runs under
``spark-submit`` (docs/scale.md), reading the export from shared storage. The session's time zone
is pinned to UTC because ledger timestamps are naive UTC: with another zone Spark would shift them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines import base
from socialcredit.engines.base import Engine


def session(
    *,
    master: str | None = None,
    partitions: int = 4,
    warehouse: Path | None = None,
    app: str = "socialcredit",
) -> Any:
    """A Spark session configured for the definition (UTC, no UI, few shuffle partitions locally).

    Under ``spark-submit`` the master and resources come from the command line; ``master`` here
    only applies when no session exists yet and none was given there."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse or Path(tempfile.mkdtemp(prefix="sc-spark-"))))
        .config("spark.driver.memory", os.environ.get("SOCIALCREDIT_SPARK_DRIVER_MEMORY", "4g"))
    )
    if master or not os.environ.get("SPARK_ENV_LOADED"):
        builder = builder.master(master or os.environ.get("SOCIALCREDIT_SPARK_MASTER", "local[*]"))
    spark = builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _connect(spark: Any) -> Any:
    """Ibis's pyspark backend on ``spark``, with ``Table.cache`` done by a local checkpoint.

    Why: Ibis caches a table on Spark as ``spark.sql(query).cache()`` registered as a view, and a
    view keeps the whole plan it was made from. The list walk (``walk.entries``) caches each
    round, which the next round reads, so the last rounds' plans held every earlier round's; Spark
    analyses, optimises and prints (for every adaptive re-plan of every stage) all of it, which
    took most of the list job's time even on a few hundred subjects. A checkpoint computes the rows
    once and keeps them on the executors (memory, else disk) with no lineage, so a round's plan is
    its own joins over a scan of the previous round's rows.

    The checkpoint is read through a new frame over its rows, not the frame ``localCheckpoint``
    returns: Spark 4.0 gives that one the constraints of the plan it came from, and a later union
    of it fails rewriting them (``key not found: subject#5``). The new frame has no statistics
    either, so Spark decides joins with it at run time (adaptive execution) rather than from an
    estimate. Like any local checkpoint, a lost executor's part cannot be recomputed: the job
    fails and is run again."""
    from ibis.backends.pyspark import Backend
    from pyspark.sql import DataFrame

    class Checkpointing(Backend):  # type: ignore[misc]
        def _create_cached_table(self, name: str, expr: ir.Table) -> ir.Table:
            self._run_pre_execute_hooks(expr)  # registers the memtables it reads (walk.period_ends)
            done = self._session.sql(self.compile(expr)).localCheckpoint(eager=True)
            jdf = self._session._jsparkSession.createDataFrame(done._jdf.javaRDD(), done._jdf.schema())
            frame = DataFrame(jdf, self._session)
            frame.createTempView(name)
            self._cached_dataframes[name] = frame
            return self.table(name)

    _ = ibis.pyspark  # loaded through ibis once, which registers its options (ibis.options.pyspark)
    return Checkpointing().connect(spark)


class SparkEngine(Engine):
    """The relational definition on a Spark session."""

    name = "spark"

    def __init__(self, spark: Any | None = None) -> None:
        self.spark = spark if spark is not None else session()
        super().__init__(_connect(self.spark))

    def record_files(self, dataset: Path) -> ir.Table:
        return self.con.read_parquet(str(dataset / "records"), table_name=self._fresh("records"))

    def subject_files(self, dataset: Path) -> ir.Table:
        return self.con.read_parquet(str(dataset / "subjects.parquet"), table_name=self._fresh("subjects"))

    def table(self, data: pa.Table, prefix: str) -> ir.Table:
        # Built from Python rows with an explicit schema: the pandas route turns nulls into NaN.
        from pyspark.sql import types as T

        types = {
            pa.string(): T.StringType(),
            pa.int64(): T.LongType(),
            pa.float64(): T.DoubleType(),
            pa.date32(): T.DateType(),
            pa.timestamp("us"): T.TimestampType(),
            pa.bool_(): T.BooleanType(),
        }
        schema = T.StructType([T.StructField(f.name, types[f.type], f.nullable) for f in data.schema])
        rows = [tuple(r.values()) for r in data.to_pylist()]
        name = self._fresh(prefix)
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(name)
        return self.con.table(name)

    def write(self, expr: ir.Table, path: Path) -> None:
        # through the session rather than ``to_parquet_dir``, which cannot overwrite
        self.con._run_pre_execute_hooks(expr)  # the memtables it reads, registered as on any query
        self.spark.sql(self.con.compile(expr)).write.mode("overwrite").parquet(str(path))

    def read_scores(self, path: Path) -> ir.Table:
        return self.con.read_parquet(str(path), table_name=self._fresh("scores"))


def main(argv: list[str] | None = None) -> None:
    """``spark-submit src/socialcredit/engines/spark.py --from DIR --out DIR [--at DATE]
    [--holidays FILE]``:
    rescore an export on a cluster with every shipped scheme (scores in DIR, list entries in
    DIR-lists); prints the result as JSON."""
    from socialcredit.dueprocess.calendar import WorkingCalendar
    from socialcredit.rules.days import day_of
    from socialcredit.schemes.loader import shipped_registry
    from socialcredit.schemes.segments import segmented

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--from", dest="source", required=True, help="export directory (socialcredit export)")
    p.add_argument("--out", required=True, help="output directory for the scores")
    p.add_argument("--at", default=None, help="as-of time (ISO); default now")
    p.add_argument(
        "--holidays", default=None, help="public holidays, one ISO date per line (removal deadlines)"
    )
    args = p.parse_args(argv)
    holidays = (
        WorkingCalendar.parse(Path(args.holidays).read_text(encoding="utf-8")).holidays
        if args.holidays
        else frozenset()
    )
    at = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    registry = shipped_registry().at(day_of(at))  # the versions in force that day (decision 0038)
    result = base.rescore(
        SparkEngine(),
        Path(args.source),
        registry.scored(),
        at,
        Path(args.out),
        list_schemes=list(registry.schemes.values()),
        holidays=holidays,
        segments=segmented(registry),
    )
    print(json.dumps(result.__dict__, default=str, indent=2))  # noqa: T201 - the job's output


if __name__ == "__main__":
    main()
