"""No shipped scheme changed behaviour in the rules-kernel refactor (issue 15): a deterministic demo
city of 1,500 residents, rescored on DuckDB, gives the scores and list entries, field for field,
that the release before the refactor (commit 0f579c7) wrote to ``tests/data/demo-rescore-0f579c7.jsonl.gz``.

To regenerate after a deliberate change of behaviour, run ``demo_rows`` on the new tree (the
``__main__`` of this module prints them) and say in the commit which rule changed and why."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq

from socialcredit import synth
from socialcredit.engines.base import rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store

GOLDEN = Path(__file__).parent / "data" / "demo-rescore-0f579c7.jsonl.gz"

AS_OF = dt.datetime(2026, 10, 31, 23, 59, 59)


def demo_rows(root: Path) -> list[str]:
    store = Store(f"sqlite:///{root / 'city.db'}")
    system = System(store, shipped_registry())
    city = synth.generate_city(residents=1500, seed=2014, registry=system.registry)
    system.register(city.subjects)
    rows = list(synth.generate_records(city, registry=system.registry, seed=2014))
    system.ingest(enumerate(rows, start=1), origin="demo", principal=system.operator())
    export_ledger(store, root / "export")
    registry = system.registry
    scored = registry.scored()
    engine = DuckDBEngine()
    rescore(
        engine,
        root / "export",
        scored,
        AS_OF,
        root / "scores.parquet",
        list_schemes=list(registry.schemes.values()),
        lists_out=root / "lists.parquet",
    )
    engine.close()
    store.close()
    out = []
    for r in sorted(
        pq.read_table(root / "scores.parquet").to_pylist(), key=lambda r: (r["subject"], r["scheme"])
    ):
        out.append(json.dumps({"score": [r["subject"], r["scheme"], int(r["score"]), r["grade"]]}))
    lists = pq.read_table(root / "lists.parquet").to_pylist()
    rows = sorted(json.dumps({k: str(v) for k, v in sorted(r.items())}) for r in lists)
    out.extend('{"entry": ' + r + "}" for r in rows)
    return out


def test_the_demo_city_rescores_as_before_the_refactor(tmp_path: Path) -> None:
    want = gzip.decompress(GOLDEN.read_bytes()).decode().splitlines()
    got = demo_rows(tmp_path)
    assert len(got) == len(want) > 5000
    assert sum(1 for line in want if line.startswith('{"entry"')) > 100, "the city has list entries"
    differ = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    assert not differ, f"{len(differ)} rows differ from the previous release, e.g. {differ[:3]}"


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        sys.stdout.write("\n".join(demo_rows(Path(d))) + "\n")
