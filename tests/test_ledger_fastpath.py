"""The fast path of row validation accepts only what the full validation accepts, and builds the
same record; anything else falls through to the full validation and its reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit import intake, ledger
from socialcredit.schemes import shipped_registry
from tests.conftest import org, person

REG = shipped_registry()
NOW = dt.datetime(2026, 11, 2, 10, 0, 0)
ITEMS = sorted(REG.item_defs)

maybe_text = st.one_of(
    st.none(), st.just(""), st.just(" "), st.text(max_size=12), st.sampled_from(["x", " padded ", "a\x01b"])
)
row_strategy = st.fixed_dictionaries(
    {
        "subject": st.one_of(
            st.sampled_from(
                [
                    person(1),
                    person(2),
                    org(1),
                    "110105194912310021",
                    "12345",
                    person(1).lower(),
                    " " + person(3),
                ]
            ),
            maybe_text,
        ),
        "item": st.one_of(st.sampled_from(ITEMS), maybe_text),
        "source": st.one_of(
            st.sampled_from(sorted({s for v in REG.sources_by_item.values() for s in v})), maybe_text
        ),
        "source_record_id": st.one_of(st.text(min_size=1, max_size=10), maybe_text),
        "occurred_on": st.one_of(
            st.dates(dt.date(1940, 1, 1), dt.date(2027, 12, 31)).map(str),
            maybe_text,
            st.just("2026-02-30"),
            st.just("2026-05-01T10:00:00"),
        ),
    },
    optional={
        "reported_at": st.one_of(
            st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2027, 1, 1)).map(lambda d: d.isoformat()),
            maybe_text,
            st.just("2026-05-01T10:00:00+08:00"),
        ),
        "evidence": maybe_text,
        "action": st.sampled_from([None, "", "report", "withdraw", "bogus"]),
        "corrects": st.one_of(st.none(), st.just(""), st.just("a" * 32)),
        "details": st.one_of(
            st.none(), st.just(""), st.just({}), st.just({"case_number": "1"}), st.just("{}"), st.just([1])
        ),
        "colour": st.just("red"),
    },
)


@settings(max_examples=1500, deadline=None)
@given(row_strategy, st.one_of(st.none(), st.sampled_from(["court", "traffic-police"])))
def test_fast_path_agrees_with_full_validation(row: dict[str, Any], source: str | None) -> None:
    fast = intake._fast_path(row, REG, NOW, source)
    try:
        full: ledger.Record | None = intake._validate_fully(row, registry=REG, now=NOW, source=source)
    except ledger.RowError:
        full = None
    if fast is not None:
        assert full == fast


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
