"""The court's fixed-period track walked in one recursive statement on DuckDB (decision 0082)
gives the rounds' entries, column for column (``engines.recursive`` against ``walk.entries``).

DOMAIN.md, the court's list, Art. 2: "for grounds (2) to (6) the listing lasts **2 years**
(calendar years, from the listing decision) [...] the court may **extend it by 1 to 3 years**. A
debtor who performs or corrects the conduct may be removed early by the court's decision." The
export is the list floors' bench data, dense in court records (about four per debtor), so
entries expire, are extended, removed early and opened again after they ended; the rounds stay
the walk on Spark, and both are held to the per-subject walk by ``tests/test_engines_windows.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pytest

from socialcredit.engines import listing, recursive, relational, walk
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.ops import EPOCH
from socialcredit.rules import days, kernel
from socialcredit.rules.ops import PY
from socialcredit.schemes.loader import shipped_registry
from tests.support.bench import load_bench

COURT = shipped_registry().scheme("court-dishonest-debtors")
(LIST,) = COURT.lists
UNTIL_REMOVED, FIXED = LIST.tracks
LEGACY = shipped_registry().previous["court-dishonest-debtors"]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bench = load_bench("listfloors")
    where = tmp_path_factory.mktemp("recursive") / "export"
    path: Path = bench.generate(where, 800, 16_000, court_share=0.03)
    return path


@pytest.fixture()
def engine() -> Any:
    e = DuckDBEngine(threads=1)
    yield e
    e.close()


def _events(engine: DuckDBEngine, export: Path) -> ir.Table:
    bench = load_bench("listfloors")
    eff = relational.effective(engine.records(export), bench.AS_OF)
    crit = listing._crit(LIST)
    return walk.events(eff, FIXED, crit, listing._period_ends(eff, FIXED)).cache()


def _rows(engine: DuckDBEngine, t: ir.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = engine.to_arrow(t).to_pylist()
    return sorted(rows, key=lambda r: (r["subject"], r["start"]))


def test_the_recursive_walk_gives_the_rounds_entries(engine: DuckDBEngine, export: Path) -> None:
    bench = load_bench("listfloors")
    events = _events(engine, export)
    crit, notice, today = listing._crit(LIST), kernel.notice_days(LIST), days.day_number(bench.AS_OF)
    assert recursive.walks(events, FIXED, crit, None)
    rounds = _rows(engine, walk.entries(events, None, FIXED, crit, notice, None, today))
    once = _rows(engine, recursive.entries(events, FIXED, crit, notice, today))
    assert once == rounds
    reasons = {(r["end_reason"] or "open").split(":")[0] for r in once}
    assert reasons == {"open", "expired", "fulfilled"}
    assert any(r["planned"] - r["since"] > 2 * 366 + 31 for r in once)  # extended (Art. 2)
    assert any(r["grounds"] > 1 for r in once)
    again = [r["subject"] for r in once]
    assert len(again) > len(set(again))  # listed again after an entry ended


def test_only_a_materialised_duckdb_track_of_calendar_years_is_walked_at_once(
    engine: DuckDBEngine, export: Path
) -> None:
    events = _events(engine, export)
    crit = listing._crit(LIST)
    assert not recursive.walks(events, FIXED, crit, 3)  # a bound on the rounds keeps the rounds
    assert not recursive.walks(events, UNTIL_REMOVED, crit, None)  # no period: until_removed
    (legacy,) = LEGACY.lists[0].tracks
    assert not recursive.walks(events, legacy, listing._crit(LEGACY.lists[0]), None)  # days
    assert not recursive.walks(events.filter(events.pos >= 0), FIXED, crit, None)  # not a table


def test_the_period_ends_on_arrays_are_the_kernels_day_by_day() -> None:
    """``walk.period_ends`` evaluates the kernel on NumPy arrays (decision 0102): every day from
    the calendar's first to 2100, 29 February of leap and century years among them, gives the
    planned end plain Python gives, unextended and for each extension Art. 2 allows."""
    origin = EPOCH.toordinal()
    first, last = (listing.CALENDAR_FROM - EPOCH).days, (dt.date(2101, 3, 1) - EPOCH).days
    occurred = [*range(first, last), None, first]  # a null and a repeat: one row a day
    ends = walk.period_ends(occurred, FIXED).to_pydict()
    assert ends["e_occ"] == list(range(first, last))
    assert walk.extension_years(FIXED) == [0, 1, 2, 3]
    for y in walk.extension_years(FIXED):
        want = [kernel.planned_end(FIXED, d, d, 0, y, PY, origin) for d in range(first, last)]
        assert ends[walk.end_column(y)] == want, y
    leap = (dt.date(2024, 2, 29) - EPOCH).days
    assert dt.date.fromordinal(ends["end_0"][leap - first] + origin) == dt.date(2026, 3, 1)  # Art. 202
