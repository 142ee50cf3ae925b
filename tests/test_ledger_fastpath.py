"""The fast path of row validation accepts only what the full validation accepts, and builds the
same record; anything else falls through to the full validation and its reasons."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from socialcredit import intake, ledger
from tests.conftest import org, person
from tests.support.ingest import NOW, REG, properties, row_strategy


def _fast_path_agrees(row: dict[str, Any], source: str | None) -> None:
    fast = intake._fast_path(row, REG, NOW, source)
    try:
        full: ledger.Record | None = intake._validate_fully(row, registry=REG, now=NOW, source=source)
    except ledger.RowError:
        full = None
    if fast is not None:
        assert full == fast


# The same property twice: 300 examples in the inner loop, 1,500 in the slow set CI runs
# (tests/support/ingest.py, ``properties``; decision 0093).
test_fast_path_agrees_with_full_validation, test_fast_path_agrees_with_full_validation_at_length = properties(
    _fast_path_agrees, row_strategy, st.one_of(st.none(), st.sampled_from(["court", "traffic-police"]))
)


def test_clean_rows_take_the_fast_path() -> None:
    rows = [
        {
            "subject": person(1),
            "item": "traffic.minor",
            "source": "traffic-police",
            "source_record_id": "t-1",
            "occurred_on": "2026-05-01",
        },
        {
            "subject": org(1),
            "item": "court.dishonest.able-but-refuses",
            "source": "court",
            "source_record_id": "c",
            "occurred_on": "2026-05-01",
            "reported_at": "2026-05-02T09:00:00",
            "evidence": "case 1",
            "details": {"case_number": "(2026) 1"},
        },
    ]
    for row in rows:
        fast = intake._fast_path(row, REG, NOW, None)
        assert fast is not None and fast == intake._validate_fully(row, registry=REG, now=NOW, source=None)
