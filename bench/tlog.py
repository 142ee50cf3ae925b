"""Benchmark: what the transparency log costs (issue 22 point 5), each in one run.

    .venv/bin/python bench/tlog.py [--records N] [--leaves L] [--proofs P] [--repeat R] [--write]

- **ingest with the tree against without it**: ``System.ingest`` of the same ``--records`` rows
  (``bench/ingest.py``'s synthetic city) into fresh SQLite files, alternating, ``--repeat`` times
  each, best kept. *Without* is the ingest as it was before the log: the records' chain linker
  computes no leaf hash and the chain head's move writes no tile (both switched off in this
  process only, by :func:`without_tree`). The ratio must stay within 1.10.
- **an inclusion proof at ``--leaves`` (default 10 million) entries**: a log of that many leaves
  grown in a SQLite store through the same tile code (``store/tiles.py: grow``, in appends of
  20,000, as an ingest's chunks), then ``Store.inclusion`` (the audit path, read from the tiles
  through a fresh connection each time, as ``GET /records/{id}/proof`` asks it) for ``--proofs``
  random leaves: median and 99th percentile, each proof verified. Must stay under 1 ms.

``--write`` adds the figures to docs/benchmarks.md; ``tests/test_tlog_bench.py`` runs a small one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, report  # noqa: E402
from ingest import make_rows, time_ingest  # noqa: E402

from socialcredit import ledger  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.store import Store  # noqa: E402
from socialcredit.store import base as store_base  # noqa: E402
from socialcredit.store import tiles as stored_tiles  # noqa: E402
from socialcredit.tlog import merkle  # noqa: E402

SECTION = """## Transparency log (issue 22)

`bench/tlog.py`: ingest with each chain's Merkle tree against the same ingest without it (same run,
alternating, best of each), and an inclusion proof from the tiles of a log of ten million entries.
Each run is a table of its own, newest first."""
HEADER = [
    "| Date | Records | Ingest without the tree | With it | Ratio | Leaves | Proof median | p99 | Load |",
    "|---|---|---|---|---|---|---|---|---|",
]
MARKER = "tlog-results"


@contextlib.contextmanager
def without_tree() -> Iterator[None]:
    """The ingest as before the log, in this process only: no leaf hashes, no tiles."""
    linker, grow = ledger.chain_linker, store_base.tiles.grow

    def plain(received_at: Any, batch_id: str, leaves: list[bytes] | None = None) -> Any:
        return linker(received_at, batch_id)

    ledger.chain_linker = plain  # type: ignore[assignment]
    store_base.tiles.grow = lambda *a, **k: None  # type: ignore[assignment]
    try:
        yield
    finally:
        ledger.chain_linker = linker  # type: ignore[assignment]
        store_base.tiles.grow = grow  # type: ignore[assignment]


def ingest_ratio(records: int, repeat: int, work: Path) -> dict[str, Any]:
    registry = shipped_registry()
    rows = make_rows(records, 2014, registry)
    best: dict[str, float] = {}
    for r in range(repeat):
        for arm in ("without", "with"):
            path = work / f"{arm}-{r}.db"
            with without_tree() if arm == "without" else contextlib.nullcontext():
                seconds, _cpu = time_ingest(path, rows, registry, 20_000)
            best[arm] = min(best.get(arm, seconds), seconds)
    check = Store(f"sqlite:///{work / f'with-{repeat - 1}.db'}")
    try:
        leaves = [merkle.leaf_hash(x) for x in check.leaves("records")]
        assert check.tree_root("records", len(leaves)) == merkle.root(
            merkle.MemorySource(leaves), len(leaves)
        )
    finally:
        check.close()
    return {
        "records": records,
        "without_s": round(best["without"], 3),
        "with_s": round(best["with"], 3),
        "ingest_ratio": round(best["with"] / best["without"], 3),
    }


def proof_latency(leaves: int, proofs: int, work: Path) -> dict[str, Any]:
    """A log of ``leaves`` synthetic leaves in the records chain's tiles, and proofs from it."""
    store = Store(f"sqlite:///{work / 'log.db'}")
    try:
        t0 = time.perf_counter()
        chunk = 20_000
        with store.engine.begin() as conn:
            for start in range(0, leaves, chunk):
                batch = [
                    hashlib.sha256(i.to_bytes(8, "big")).digest()
                    for i in range(start, min(start + chunk, leaves))
                ]
                stored_tiles.grow(conn.exec_driver_sql, store.dialect.mark, "records", start, batch)
            conn.exec_driver_sql(
                f"UPDATE chain_heads SET count = {store.dialect.mark} WHERE chain = 'records'", (leaves,)
            )
        built = time.perf_counter() - t0
        root = store.tree_root("records", leaves)
        rng = random.Random(22)
        times: list[float] = []
        for _ in range(proofs):
            index = rng.randrange(leaves)
            t1 = time.perf_counter()
            path = store.inclusion("records", index, leaves)
            times.append(time.perf_counter() - t1)
            leaf = hashlib.sha256(index.to_bytes(8, "big")).digest()
            merkle.verify_inclusion(index, leaves, leaf, path, root)
    finally:
        store.close()
    times.sort()
    return {
        "leaves": leaves,
        "build_s": round(built, 1),
        "proofs": proofs,
        "proof_median_ms": round(statistics.median(times) * 1000, 3),
        "proof_p99_ms": round(times[int(len(times) * 0.99) - 1 if len(times) > 1 else 0] * 1000, 3),
    }


def write_markdown(r: Mapping[str, Any], doc: Path) -> None:
    line = (
        f"| {r['date']} | {r['records']:,} | {r['without_s']} s | {r['with_s']} s | **{r['ingest_ratio']}** "
        f"| {r['leaves']:,} | {r['proof_median_ms']} ms | {r['proof_p99_ms']} ms | {r['load']} |"
    )
    add_results(doc, SECTION, MARKER, [*HEADER, line, ""])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--leaves", type=int, default=10_000_000)
    p.add_argument("--proofs", type=int, default=2_000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--dir", default=None)
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sc-tlog-", dir=args.dir) as tmp:
        work = Path(tmp)
        load = load_average()
        result: dict[str, Any] = {"date": now_utc()[:10], "machine": machine()}
        result.update(ingest_ratio(args.records, args.repeat, work))
        result.update(proof_latency(args.leaves, args.proofs, work))
        result["load"] = f"{load} / {load_average()}"
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
