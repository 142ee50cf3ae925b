"""The view cache (service/views.py): a cached decision is reused while nothing it depends on
changes, and never after - a new record, a correction, an objection, a registration, a write by
another process, a day boundary. Runs on SQLite and PostgreSQL; the other-process test starts a
real process on the embedded default."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import datetime as dt
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace
from typing import Any

import pytest

from socialcredit.rules import days
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System
from socialcredit.service import keys as service_keys
from socialcredit.service.views import Cached, ViewCache
from socialcredit.store import Store, SubjectRow
from socialcredit.store.markers import HeadReader
from socialcredit.store.subjectreads import read_subject
from tests.conftest import Clock, org, person

P, REP, ORG = person(61), person(62), org(61)
LISTING = "court.dishonest.able-but-refuses"


def row(n: int, subject: str, day: str = "2026-10-20", **kw: Any) -> tuple[int, dict[str, Any]]:
    return n, {
        "subject": subject,
        "item": kw.pop("item", LISTING),
        "source": "court",
        "source_record_id": f"views-{n}",
        "occurred_on": day,
        "reported_at": day + "T10:00:00",
        **kw,
    }


def feed(system: System, *rows: tuple[int, dict[str, Any]]) -> None:
    result = system.ingest(list(rows), origin="test", principal=system.operator())
    assert result.accepted == len(rows), result.quarantine


def allowed(system: System, code: str, measure: str = "no-flights") -> bool:
    return system.check(Question(code, measure, system.operator(), purpose="test")).allowed


def test_a_cached_decision_is_reused_until_a_record_touches_the_subject(system: System) -> None:
    assert allowed(system, P)
    hits = system.context.views.hits
    assert allowed(system, P) and system.context.views.hits == hits + 1  # answered from the cache
    feed(system, row(1, P))
    assert not allowed(system, P)  # the listing, at once
    feed(system, row(2, P, action="withdraw", corrects_source_record_id="views-1"))
    assert allowed(system, P)  # the withdrawal, at once
    assert allowed(system, P) and system.context.views.hits >= hits + 2


def test_a_record_about_someone_else_keeps_the_entry(system: System) -> None:
    assert allowed(system, P)
    feed(system, row(1, REP))
    hits = system.context.views.hits
    assert allowed(system, P) and system.context.views.hits == hits + 1
    assert not allowed(system, REP)


def test_an_objection_that_suspends_a_list_reaches_the_cached_decision(system: System, clock: Clock) -> None:
    rows = [row(i, P, f"2026-09-{i:02d}", item="court.fraud-conviction") for i in range(1, 5)]
    rows += [row(10 + i, P, f"2026-09-{10 + i:02d}", item="traffic.drunk-driving") for i in range(1, 3)]
    rows = [(n, {**r, "source": "court" if "court" in r["item"] else "traffic-police"}) for n, r in rows]
    feed(system, *rows)
    measure = "extra-scrutiny-subsidies"
    assert not allowed(system, P, measure) and not allowed(system, P, measure)
    me = system.authenticate(system.create_key("subject", P).token)
    o = system.file_objection(principal=me, subject=P, list_id="rongcheng/d-grade", statement="wrong person")
    d = system.check(Question(P, measure, system.operator(), purpose="test"))
    assert d.allowed and o.id in d.reasons[0].text
    clock.advance(hours=1)
    system.decide_objection(principal=system.operator(), objection_id=o.id, upheld=False, reason="verified")
    assert not allowed(system, P, measure)


def test_a_new_legal_representative_inherits_the_listing_at_once(system: System) -> None:
    system.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, None, None)])
    feed(system, row(1, ORG))
    assert allowed(system, REP) and allowed(system, REP)
    system.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, REP, dt.date(2020, 1, 1))])
    d = system.check(Question(REP, "no-flights", system.operator(), purpose="test"))
    assert not d.allowed and d.reasons[0].via == ORG


def test_an_organisation_record_drops_its_cached_representative(system: System) -> None:
    system.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, REP, dt.date(2020, 1, 1))])
    assert allowed(system, REP) and allowed(system, REP)
    feed(system, row(1, ORG))
    assert not allowed(system, REP)


def test_a_listing_ends_when_its_period_does_even_if_cached(system: System, clock: Clock) -> None:
    feed(system, row(1, P, item="court.dishonest.breaks-asset-reporting"))  # a fixed period (Art. 2)
    assert not allowed(system, P)
    view = system.view(P)
    [entry] = [e for e in view.entries if e.active_on(clock.now.date())]
    assert entry.planned_end is not None
    clock.now = days.start_of(entry.planned_end) + dt.timedelta(seconds=1)
    assert allowed(system, P)  # the entry's valid_until was midnight in China: recomputed on the new day


def test_the_decision_time_is_the_question_time_not_the_cache_time(system: System, clock: Clock) -> None:
    first = system.check(Question(P, "no-flights", system.operator(), purpose="test"))
    clock.advance(minutes=5)
    second = system.check(Question(P, "no-flights", system.operator(), purpose="test"))
    assert second.at == first.at + dt.timedelta(minutes=5) == clock.now
    entries = system.store.audit_entries(subject=P, limit=2)
    assert [e["at"] for e in entries] == [second.at, first.at]


def test_a_write_by_another_system_on_the_same_database_is_seen(store_url: str, clock: Clock) -> None:
    ours = System(Store(store_url), shipped_registry(), clock=clock)
    theirs = System(Store(store_url), shipped_registry(), clock=clock)
    try:
        assert allowed(ours, P) and allowed(ours, P)
        feed(theirs, row(1, P))
        assert not allowed(ours, P)
    finally:
        ours.store.close()
        theirs.store.close()


def test_a_write_by_another_process_reaches_the_event_loop_path(tmp_path: Any) -> None:
    """The server's path (``check_async``) trusts the marker the watcher thread read at most
    ``stale_after`` ago; a record ingested by a separate process must reach it within a second."""
    url = f"sqlite:///{tmp_path / 'views.db'}"
    system = System(Store(url), shipped_registry())
    op = system.operator()
    try:
        assert allowed(system, P)
        deadline = time.monotonic() + 5
        while system.decisions._prepare_check(Question(P, "no-flights", op, purpose="t"), fast=True) is None:
            assert time.monotonic() < deadline, "the watcher never made the fast path usable"
            time.sleep(0.01)
        listing = row(1, P, (dt.date.today() - dt.timedelta(days=1)).isoformat())
        script = textwrap.dedent(f"""
            from socialcredit.schemes import shipped_registry
            from socialcredit.service import System
            from socialcredit.store import Store
            s = System(Store({url!r}), shipped_registry())
            r = s.ingest([{listing!r}], origin="other", principal=s.operator())
            assert r.accepted == 1, r
        """)
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
        start = time.monotonic()
        while asyncio.run(system.check_async(Question(P, "no-flights", op, purpose="t"))).allowed:
            assert time.monotonic() - start < 1.0, "another process's record did not reach decisions"
            time.sleep(0.005)
    finally:
        system.store.close()


def test_an_entry_computed_across_an_invalidation_is_not_stored(store: Store) -> None:
    cache = ViewCache(HeadReader(store), store.subjects_touched_since)
    generation = cache.current()
    assert generation is not None
    cache.invalidate([P])  # a write lands while the entry is being computed
    entry = Cached(None, dt.datetime.max, (), time.monotonic())
    assert not cache.put(P, entry, generation)
    assert cache.put(P, entry, cache.generation) and len(cache) == 1


def test_a_registration_by_another_system_on_the_same_database_is_seen(store_url: str, clock: Clock) -> None:
    """A new legal representative registered by another process (``socialcredit register``
    while a server runs) reaches the cached decisions at once: the registry marker moved."""
    ours = System(Store(store_url), shipped_registry(), clock=clock)
    theirs = System(Store(store_url), shipped_registry(), clock=clock)
    try:
        theirs.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, None, None)])
        feed(theirs, row(1, ORG))
        assert allowed(ours, REP) and allowed(ours, REP)
        before = ours.store.heads()["registry"]
        theirs.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, REP, dt.date(2020, 1, 1))])
        assert ours.store.heads()["registry"][0] == before[0] + 1
        d = ours.check(Question(REP, "no-flights", ours.operator(), purpose="test"))
        assert not d.allowed and d.reasons[0].via == ORG
        theirs.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, REP, dt.date(2020, 1, 1))])
        assert ours.store.heads()["registry"][0] == before[0] + 1, "an unchanged registration moves nothing"
    finally:
        ours.store.close()
        theirs.store.close()


def test_a_replaced_database_drops_everything(store: Store) -> None:
    cache = ViewCache(HeadReader(store), store.subjects_touched_since)
    gen = cache.current()
    assert gen is not None
    cache.put(P, Cached(None, dt.datetime.max, (), time.monotonic()), gen)
    cache._applied = ((10**6, "elsewhere"), cache._applied[1], cache._applied[2])  # type: ignore[index]
    cache.current()
    assert len(cache) == 0


def test_one_read_of_a_subject_equals_the_stores_general_reads(system: System) -> None:
    system.register([SubjectRow(ORG, "organisation", "Views Ltd", None, None, REP, dt.date(2020, 1, 1))])
    withdrawal = row(3, REP, action="withdraw", corrects_source_record_id="views-2")
    feed(system, row(1, ORG), row(2, REP), withdrawal, row(4, REP))
    me = system.authenticate(system.create_key("subject", REP).token)
    objected = system.store.stored_record_id("court", "views-4")
    system.file_objection(principal=me, subject=REP, record_id=objected, statement="not me")
    got = read_subject(system.store, REP, representatives=True)
    assert got.subject == system.store.subject(REP)
    assert got.records == system.store.records_for(REP) and len(got.records) == 3
    assert got.represented == {ORG: system.store.records_for(ORG)}
    events = system.store.case_events(subject=REP, case_kind="objection")
    assert got.objection_events[REP] == events and len(events) == 1
    org_row = read_subject(system.store, ORG, representatives=False).subject
    assert (
        org_row == system.store.subject(ORG) and org_row is not None and org_row.legal_representative == REP
    )


def test_a_revocation_counts_at_once_here_and_within_the_trust_window_elsewhere(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_keys, "KEY_TRUST_SECONDS", 0.2)
    k = system.create_key("relying_party", "airlines")
    assert system.authenticate(k.token).key_id == k.key_id
    assert system.cached_principal(k.token) is not None
    assert system.revoke_key(k.key_id)
    assert system.cached_principal(k.token) is None  # revoked here: forgotten at once
    k2 = system.create_key("relying_party", "airlines")
    system.authenticate(k2.token)
    system.store.revoke_key(k2.key_id, system.clock())  # as another process would
    with pytest.raises(service_keys.Unauthenticated, match="revoked"):
        system.authenticate(k2.token)
    time.sleep(0.25)
    assert system.cached_principal(k2.token) is None


def test_decide_reuses_reasons_for_the_same_entry_and_never_for_another(system: System) -> None:
    from socialcredit.decisions import decide

    feed(system, row(1, P))
    view = system.view(P)
    measure = system.registry.measure("no-flights")
    assert measure is not None

    def ask(entries: list[Any]) -> Any:
        return decide(
            subject=P,
            subject_kind="person",
            measure=measure,
            entries=entries,
            scores=view.scores,
            at=view.as_of,
        )

    first, again = ask(view.entries), ask(view.entries)
    assert not first.allowed and first.reasons[0] is again.reasons[0]  # built once
    [entry] = [e for e in view.entries if e.active_on(view.as_of.date())]
    paused = dataclasses.replace(entry, suspended_by="objection-1")  # equal but for one field
    d = ask([paused])
    assert d.allowed and d.reasons[0].basis == "suspended" and "objection-1" in d.reasons[0].text
    assert not ask(view.entries).allowed


class Heads:
    """A head reader that returns the markers it is given, in turn."""

    def __init__(self, *markers: Any) -> None:
        self.markers = list(markers)

    def read(self) -> Any:
        return self.markers.pop(0)


def test_a_late_read_of_an_older_marker_does_not_empty_the_cache() -> None:
    old, new = ((5, "a"), (1, "c"), (0, ""), (0, "")), ((6, "b"), (1, "c"), (0, ""), (0, ""))
    touched: list[tuple[int, int]] = []

    def since(records: int, cases: int) -> set[str]:
        touched.append((records, cases))
        return {REP}

    clock = [0.0]
    cache = ViewCache(Heads(old, new, old, new), since, monotonic=lambda: clock[0])  # type: ignore[arg-type]
    gen = cache.current()
    assert gen is not None and cache.put(P, Cached(None, dt.datetime.max, (), time.monotonic()), gen)
    clock[0] = 2.0
    cache.current()  # the newer marker, read at 2: REP was touched, P stays
    assert len(cache) == 1 and touched == [(5, 1)]
    clock[0] = 1.0  # a thread whose read started at 1, before the newer marker was read
    cache.current()
    clock[0] = 3.0
    cache.current()
    assert len(cache) == 1 and touched == [(5, 1)]


def test_a_replaced_registry_is_not_answered_from_the_old_ones_cache(system: System) -> None:
    assert allowed(system, P) and allowed(system, P)
    hits = system.context.views.hits
    system.registry = copy.copy(system.registry)  # schemes loaded again (they may have been edited)
    assert allowed(system, P)
    assert system.context.views.hits == hits  # computed under the new registry, not served from the old
    assert allowed(system, P) and system.context.views.hits == hits + 1


def test_views_built_together_do_not_all_expire_together() -> None:
    """Each entry expires somewhere in the last quarter of ``max_age``, fixed by its subject, so
    a cache filled in one burst is not emptied in one burst."""
    marker = ((1, "a"), (0, ""), (0, ""))
    clock = [0.0]
    heads: Any = Heads(marker)
    cache = ViewCache(heads, lambda r, c: set(), max_age=60.0, monotonic=lambda: clock[0])
    gen = cache.current()
    assert gen is not None
    codes = [person(n) for n in range(200)]
    view = SimpleNamespace(as_of=dt.datetime(2026, 1, 1))
    for code in codes:
        assert cache.put(code, Cached(view, dt.datetime.max, (), 0.0), gen)
    at = dt.datetime(2026, 1, 2)

    def alive() -> int:
        return sum(cache.get(code, at) is not None for code in codes)

    clock[0] = 44.9
    assert alive() == 200
    clock[0] = 52.5
    assert 40 < alive() < 160, "about half expired half-way through the last quarter"
    clock[0] = 60.01
    assert alive() == 0
