"""Ingest rows as a client might send them, valid or not in every field (a hypothesis strategy),
for the tests that hold the fast path of validation, and the pipelines built on it, to the full
validation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def properties(
    check: Callable[..., None], *strategies: st.SearchStrategy[Any], quick: int = 300, at_length: int = 1500
) -> tuple[Callable[..., None], Callable[..., None]]:
    """The property ``check`` over ``strategies`` as two tests: ``quick`` examples for the inner
    loop and ``at_length`` examples marked ``slow``, which CI runs. Why: at 1,500 examples these
    properties (the ingest fast path against the full validation) took about 5 s of CPU of an
    inner loop held to two minutes (20 s under load); the inner loop keeps a few hundred, and
    nothing leaves the suite (decision 0093)."""
    quick_test = settings(max_examples=quick, deadline=None)(given(*strategies)(check))
    thorough = settings(max_examples=at_length, deadline=None)(given(*strategies)(check))
    return quick_test, pytest.mark.slow(thorough)
