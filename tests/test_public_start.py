"""No population scan on a request path (issue 20 point 6; decision 0049): a server just started
answers its public pages from the snapshot the last rescore kept, labelled "as of the rescore of
...", while it rescores in the background; after that the pages follow records as they arrive,
recomputing only the subjects touched. A small demo city stands for the 100,000-resident one
(``bench/publicstart.py`` times that). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from socialcredit.store.snapshots import Snapshot
from tests.conftest import Clock, person
from tests.support.bench import load_bench
from tests.support.prepared import Prepared
from tests.support.publiccity import COURT_LIST, Reads, build_city


@pytest.fixture
def city(store_url: str, prepared: Prepared) -> dict[str, Any]:
    """The demo city in the test's own database: built once per test process, copied for each
    test (tests/support/prepared.py), since the tests write to it."""
    return prepared.copy("public-start-city", [store_url], build_city)


def started(store_url: str, clock: Clock) -> tuple[System, Reads, TestClient]:
    """A server's system just started on the city's database (``serve`` rescores off the request)."""
    system = System(Store(store_url), shipped_registry(), clock=clock)
    system.disclosure.background = True
    return system, Reads(system.store), TestClient(create_app(system))


def test_a_started_server_answers_from_the_kept_rescore_then_live(
    city: dict[str, Any], store_url: str, clock: Clock
) -> None:
    system, reads, client = started(store_url, clock)
    with client:
        report = client.get("/public/transparency").json()
        assert reads.on_request == []  # the snapshot was read, not the population
        kept = city["report"]
        assert report["rescore_of"] is not None
        assert report["rescore_of"] == report["as_of"] == kept["as_of"].isoformat() + "Z"
        assert report["lists"] == kept["lists"] and report["subjects"] == kept["subjects"]
        system.disclosure.wait_for_rescore()
        assert reads.in_background  # the rescore ran, off the request path
        live = client.get("/public/transparency").json()
        assert live["rescore_of"] is None and live["lists"] == kept["lists"]
        assert live["scores_by_district"] == kept["scores_by_district"]
        page = client.get(f"/public/lists/{COURT_LIST}", params={"per_page": 500}).json()
        assert page["data"] == city["court"] and page["rescore_of"] is None
        assert reads.on_request == []
    system.store.close()


def test_the_pages_say_which_rescore_they_are_as_of(
    city: dict[str, Any], store_url: str, clock: Clock
) -> None:
    """The first page a started server shows names the rescore it is as of, in both languages."""
    when = city["report"]["as_of"].strftime("%Y-%m-%d %H:%M")
    for lang, words in (("en", f"As of the rescore of {when} UTC"), ("zh", f"截至 {when}（UTC）的重新评分")):
        system, reads, client = started(store_url, clock)
        with client:
            path = "/portal/transparency" if lang == "zh" else f"/portal/lists/{COURT_LIST}"
            html = client.get(path, params={"lang": lang}).text
            assert words in html
            assert reads.on_request == []
            system.disclosure.wait_for_rescore()
        system.store.close()


def test_a_record_shows_on_the_list_at_once_without_a_scan(
    city: dict[str, Any], store_url: str, clock: Clock
) -> None:
    """SPC Provisions (2017), Art. 1 (1): a debtor "able to perform but refuses" is listed, with
    (Art. 6) "case number and court" published. Once rescored, the record that lists them shows
    on the next request (the 1-second freshness), computed for the touched subject alone."""
    system, reads, client = started(store_url, clock)
    with client:
        client.get("/public/transparency")
        system.disclosure.wait_for_rescore()
        debtor = person(9001)
        system.register([SubjectRow(debtor, "person", "New Debtor")])
        row = {
            "subject": debtor,
            "item": "court.dishonest.able-but-refuses",
            "source": "court",
            "source_record_id": "new-debtor",
            "occurred_on": "2026-10-30",
            "reported_at": "2026-11-02T09:00",
            "details": {"case_number": "(2026) Lu 1082 Zhi 77", "court": "Rongcheng People's Court"},
        }
        result = system.ingest([(1, row)], origin="court", principal=system.operator())
        assert result.accepted == 1, result
        page = client.get(f"/public/lists/{COURT_LIST}", params={"q": "New Debtor"}).json()
        assert [r["name"] for r in page["data"]] == ["New Debtor"] and page["rescore_of"] is None
        report = client.get("/public/transparency").json()
        assert report["lists"][COURT_LIST] == city["report"]["lists"][COURT_LIST] + 1
        assert reads.on_request == []
    system.store.close()


@pytest.mark.slow  # a real `serve` started and timed; the tests above hold the same behaviour in process
def test_the_first_request_bench_runs(tmp_path: Path) -> None:
    """``bench/publicstart.py`` at a small size (issue 20: each bench's small version runs here):
    a fresh ``socialcredit serve`` answers its first report as of the kept rescore, or live if its
    background rescore of so small a city already ended; the figures are written with the floors."""
    bench = load_bench("publicstart")
    result = bench.run(residents=200, starts=1, db=tmp_path / "city.db")
    [first] = result["starts"]
    assert first["subjects"] > 200 and first["transparency_ms"] > 0 and first["health_ms"] > 0
    assert result["floor_bare_snapshot_read_ms"] > 0 and result["rescore_s"] > 0
    assert result["ratio_to_health"] == round(first["transparency_ms"] / first["health_ms"], 2)
    doc = tmp_path / "benchmarks.md"
    bench.write_markdown(result, doc)
    text = doc.read_text()
    assert "first `/public/transparency`" in text and "<!-- publicstart-results -->" in text


def test_the_store_keeps_the_latest_snapshot(store: Store) -> None:
    """Workers started together each save their rescore: the later moment is kept, whole."""
    at = dt.datetime(2026, 11, 2, 10, 0)
    first = Snapshot("public", at, 5, 1, "schemes", {"report": {"subjects": 3}, "rows": ["王五", None]})
    assert store.snapshot("public") is None
    assert store.save_snapshot(first) and store.snapshot("public") == first
    older = Snapshot("public", at - dt.timedelta(hours=1), 4, 1, "schemes", {"report": {"subjects": 2}})
    assert not store.save_snapshot(older) and store.snapshot("public") == first
    later = Snapshot("public", at + dt.timedelta(hours=1), 6, 2, "other", {"report": {"subjects": 4}})
    assert store.save_snapshot(later) and store.snapshot("public") == later


def test_a_new_day_is_rescored_in_the_background(city: dict[str, Any], store_url: str, clock: Clock) -> None:
    """Records stop counting by the day, so a new day needs the whole population again: the
    server answers from the day before, labelled with its rescore, until the new one ends."""
    system, reads, client = started(store_url, clock)
    with client:
        client.get("/public/transparency")
        system.disclosure.wait_for_rescore()
        yesterday = client.get("/public/transparency").json()
        clock.advance(days=1)
        today = client.get("/public/transparency").json()
        assert today["rescore_of"] == yesterday["as_of"] and today["lists"] == yesterday["lists"]
        assert reads.on_request == []
        system.disclosure.wait_for_rescore()
        live = client.get("/public/transparency").json()
        assert live["rescore_of"] is None and live["as_of"] > yesterday["as_of"]
        assert reads.on_request == []
    system.store.close()


def test_serve_holds_the_kept_rescore_before_the_first_request(
    city: dict[str, Any], store_url: str, clock: Clock
) -> None:
    """``Disclosure.serve`` (what ``socialcredit serve`` calls) reads the snapshot at start: the
    first request reads nothing of the population, and is labelled until the rescore ends."""
    system = System(Store(store_url), shipped_registry(), clock=clock)
    reads = Reads(system.store)
    system.disclosure.serve()
    with TestClient(create_app(system)) as client:
        first = client.get("/public/transparency").json()
        assert first["rescore_of"] is not None or reads.in_background
        assert first["lists"] == city["report"]["lists"] and reads.on_request == []
        system.disclosure.wait_for_rescore()
        assert client.get("/public/transparency").json()["rescore_of"] is None
    system.store.close()
