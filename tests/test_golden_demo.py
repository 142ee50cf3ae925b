"""No shipped scheme changed behaviour but where a rule deliberately changed: a deterministic demo city
of 1,500 residents, rescored on DuckDB.

- Every score, and every list entry but the court's list's, is what the release before the rules
  kernel refactor (issue 15, commit 0f579c7) wrote to ``tests/data/demo-rescore-0f579c7.jsonl.gz``,
  field for field, though the day boundary moved to China Standard Time (the city reports in
  Chinese office hours, and ``AS_OF`` is the end of the same day in China).
- The court's list changed deliberately (issue 16, point 1; decision 0028; scheme version 2): ground
  (1) has no fixed period and ends only by one of the seven removal grounds of Art. 10 (the city's
  follow-ups now include the four added); grounds (2) to (6) run 2 calendar years from the listing
  decision's own date and end early only by the court's decision; a further ground no longer
  extends a listing; removal is due 3 working days from the removal ground's own date or the end
  of the period. The whole output of this release, court rows included, is
  ``tests/data/demo-rescore-court-rules.jsonl.gz``.

To regenerate after a deliberate change of behaviour, run ``demo_rows`` on the new tree (the
``__main__`` of this module prints them), add a file beside these (keep them: each is the record of
a release) and say in the commit and here which rule changed and why."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from socialcredit import synth
from socialcredit.engines.base import rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store

GOLDEN = Path(__file__).parent / "data" / "demo-rescore-0f579c7.jsonl.gz"
COURT_RULES = Path(__file__).parent / "data" / "demo-rescore-court-rules.jsonl.gz"
CHANGED = "court-dishonest-debtors/dishonest-debtors"
"""The list whose rules changed since ``GOLDEN`` (issue 16, point 1)."""

AS_OF = dt.datetime(2026, 10, 31, 15, 59, 59)
"""The last second of 31 October 2026 in China (23:59:59 there), where every rule counts its days
since the day boundary moved to China Standard Time (``rules.days``); the synthetic city reports in
Chinese office hours, so every record falls on the day it fell on before, and the rows are the same."""


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


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return demo_rows(tmp_path_factory.mktemp("golden"))


def _unchanged(lines: list[str]) -> list[str]:
    """The rows no deliberate change since ``GOLDEN`` touched: all but the court's list's."""
    return [
        line
        for line in lines
        if not line.startswith('{"entry"') or json.loads(line)["entry"]["list"] != CHANGED
    ]


def test_the_demo_city_rescores_as_before_the_refactor(rows: list[str]) -> None:
    want = _unchanged(gzip.decompress(GOLDEN.read_bytes()).decode().splitlines())
    got = _unchanged(rows)
    assert len(got) == len(want) > 5000
    assert sum(1 for line in want if line.startswith('{"entry"')) > 100, "the city has list entries"
    differ = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    assert not differ, f"{len(differ)} rows differ from the previous release, e.g. {differ[:3]}"


def test_the_court_list_rescores_by_its_provisions(rows: list[str]) -> None:
    """The whole output as this release wrote it, the court's list by its provisions included: on
    it, listings with no fixed period (ground (1)) and with one (grounds (2) to (6)), active and
    removed, as well as one expired."""
    want = gzip.decompress(COURT_RULES.read_bytes()).decode().splitlines()
    assert len(rows) == len(want)
    differ = [(g, w) for g, w in zip(rows, want, strict=True) if g != w]
    assert not differ, f"{len(differ)} rows differ from this release's, e.g. {differ[:3]}"
    court = [json.loads(line)["entry"] for line in want if line.startswith('{"entry"') and CHANGED in line]
    seen = {(e["status"], e["planned_end"] == "None") for e in court}
    assert {
        ("active", True),
        ("removed", True),
        ("active", False),
        ("removed", False),
        ("expired", False),
    } <= seen


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        sys.stdout.write("\n".join(demo_rows(Path(d))) + "\n")
