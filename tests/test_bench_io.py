"""The ingestion and decision benchmarks run (tiny versions), so they cannot rot, and what they
compare is what they claim: the ingest floor stores the very rows the ingest stored, and every
decision answered over HTTP is in the audit log."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from socialcredit.store import Store
from tests.support.bench import load_bench

# benchmarks against a real server: out of the inner loop (pytest -m "not slow"), in CI
pytestmark = pytest.mark.slow


def test_ingest_bench_runs_against_a_floor_of_the_same_rows(tmp_path: Path) -> None:
    bench = load_bench("ingest")
    result = bench.main(["--records", "3000", "--chunk-size", "1000", "--verify", "--dir", str(tmp_path)])
    assert result["records"] == 3000 and result["verified"]
    assert result["ingest_s"] > 0 and result["floor_s"] > 0 and result["validate_s"] > 0
    # the ratio is of the unrounded times; the reported seconds are rounded to milliseconds, which
    # at 3,000 rows (a floor of a few ms) moves their quotient by several per cent
    i, f, half = result["ingest_s"], result["floor_s"], 0.0005
    assert (i - half) / (f + half) - 0.005 <= result["ratio"] <= (i + half) / max(f - half, 1e-9) + 0.005
    # the floor inserted exactly the tuples the ingest stored (the bench checks; here, again)
    ingested = bench.stored_tuples(tmp_path / "ingest-0.db")
    assert len(ingested) == 3000 and ingested == bench.stored_tuples(tmp_path / "floor-0.db")
    assert ingested == bench.stored_tuples(tmp_path / "engine-0.db")  # SQLite's own copy, too
    assert [row[0] for row in ingested] == list(range(1, 3001))  # one chain, in order
    # issue 21 point 5's floor (decision 0069): the same ingest stored in the clear, same run
    clear = bench.stored_tuples(tmp_path / "clear-0.db")
    assert len(clear) == 3000 and all(row[-2:] == (None, None) for row in clear)  # no class, no ciphertext
    assert all(row[-1] for row in ingested[:3])
    # the same records: stored in the clear under their unkeyed ids, encrypted under those ids
    # keyed by the installation's pseudonym key (decision 0080)
    sealed = Store(f"sqlite:///{tmp_path / 'ingest-0.db'}")
    try:
        assert sealed.sealing.keyed_ids([r[1] for r in clear]) == [r[1] for r in ingested]
    finally:
        sealed.close()
    # stored as a clear ledger stores them: each with its plain content hash, which ingest skips
    # computing only for a store that encrypts (decision 0081); the clear chain verifies
    bench.verify_ingested(f"sqlite:///{tmp_path / 'clear-0.db'}")
    w, c = result["ingest_s"], result["ingest_without_encryption_s"]
    assert c == min(result["clear_runs_s"]) and abs(result["encryption_overhead"] - (w / c - 1)) < 0.01
    # each run's CPU split between this process and the sealing helper (decision 0105)
    for runs, helpers in (
        ("ingest_cpu_runs_s", "ingest_helper_cpu_s"),
        ("clear_cpu_runs_s", "clear_helper_cpu_s"),
    ):
        assert len(result[runs]) == len(result[helpers]) == result["repeat"]
        assert all(0 <= h <= cpu for cpu, h in zip(result[runs], result[helpers], strict=True))
    slower = [
        max(cpu - h, h)
        for cpu, h in zip(result["ingest_cpu_runs_s"], result["ingest_helper_cpu_s"], strict=True)
    ]
    clear_slower = [
        max(cpu - h, h)
        for cpu, h in zip(result["clear_cpu_runs_s"], result["clear_helper_cpu_s"], strict=True)
    ]
    assert (
        abs(result["encryption_overhead_slower_process_cpu"] - (min(slower) / min(clear_slower) - 1)) < 0.05
    )
    assert result["engine_floor_s"] > 0 and result["engine_floor_records_per_s"] > 0
    # the peer floor (decision 0107) did the work: every row stored, keyed, sealed and chained
    peer = bench.stored_tuples(tmp_path / "peer-0.db")
    assert len(peer) == 3000 and [row[0] for row in peer] == list(range(1, 3001))
    head = ""
    for row in peer:  # seq, ..., received_at, batch_id, content_hash, claim_hash, chain_hash, klass, sealed
        link = f"{head}|{row[0]}|{row[-5]}|{row[-7]}|{row[-6]}"
        head = hashlib.sha256(link.encode()).hexdigest()
        assert row[-3] == head and row[-2] == row[7][:4] and row[-1]
    assert {row[2] for row in peer}.isdisjoint(r[2] for r in clear)  # pseudonyms, not codes
    with sqlite3.connect(tmp_path / "peer-0.db") as conn:
        (keys,) = conn.execute("SELECT count(*) FROM peer_keys").fetchone()
    assert keys == len({(row[2], row[-2]) for row in peer})
    share = result["copy_share"]
    assert share["peer"] > 0 and share["ingest"] > 0 and share["executemany"] > 0
    assert result["peer_floor_s"] == min(result["peer_runs_s"]) and result["ingest_over_peer"] > 0
    # the bulk floor built the same table: the same rows, every index, record_id still unique
    bulk = tmp_path / "bulk-0.db"
    assert ingested == bench.stored_tuples(bulk) and result["bulk_floor_s"] > 0
    with sqlite3.connect(bulk) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"ix_records_subject", "ix_records_item", "ix_records_corrects"} <= names
        with pytest.raises(sqlite3.IntegrityError, match="record_id"):
            conn.execute("CREATE TEMP TABLE one AS SELECT * FROM records LIMIT 1")
            conn.execute("UPDATE one SET seq = seq + 10000")
            conn.execute("INSERT INTO records SELECT * FROM one")
    # (the export's ratio is not recomputed here: at 3,000 records its read floor is a few
    # milliseconds, below what the rounded figures can resolve)
    assert result["export_s"] > 0 and result["export_read_floor_s"] > 0 and result["export_ratio"] > 0
    # the next export appended the day's 1 % alone (the bench checks the counts and generation)
    assert result["export_incremental_records"] == 30 and result["export_incremental_s"] > 0

    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n## Someone else's\n\nTheirs.\n")
    bench.write_markdown(result, doc)
    bench.write_markdown({**result, "records": 4000}, doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nIntro.\n\n## Someone else's\n\nTheirs.\n")
    assert "engine floor: SQLite's own" in text and "bulk floor: SQLite's own copy" in text
    assert text.count("## Ingestion") == 1 and text.index("### ingest: 4,000 records") < text.index(
        "### ingest: 3,000 records"
    )


def test_postgres_ingest_bench_runs_against_a_bare_copy_of_the_same_rows(tmp_path: Path) -> None:
    """Issue 20 point 5: on PostgreSQL the floor is a bare COPY of the very rows the ingest stored
    into the same table and indexes; the bench checks both tables hold the same rows."""
    bench = load_bench("ingest_pg")
    result = bench.main(["--records", "2000", "--chunk-size", "500", "--verify", "--repeat", "2"])
    assert result["records"] == 2000 and result["verified"] and result["postgres"]
    assert len(result["ingest_runs_s"]) == 2 and len(result["floor_runs_s"]) == 2
    assert result["floor_s"] == min(result["floor_runs_s"])
    assert result["ingest_s"] == min(result["ingest_runs_s"])
    ratio = result["floor_s"] / result["ingest_s"]
    assert abs(result["rate_ratio"] - ratio) <= 0.01 + ratio * 0.01
    # each side's whole cost: the server's CPU (from /proc) beside the bench process's (0104)
    assert result["ingest_server_cpu_s"] > 0 and result["floor_server_cpu_s"] >= 0
    assert result["ingest_total_cpu_s"] >= result["ingest_server_cpu_s"]
    cpu_ratio = result["floor_total_cpu_s"] / result["ingest_total_cpu_s"]  # of the rounded seconds
    assert abs(result["cpu_ratio"] - cpu_ratio) <= 0.002 + cpu_ratio * 0.02
    doc = tmp_path / "benchmarks.md"
    bench.write_markdown(result, doc)
    text = doc.read_text()
    assert "floor: one bare `COPY` of the same rows" in text
    assert f"CPU ratio (process and server, the floor's over the ingest's): {result['cpu_ratio']}" in text
    assert "ingest into PostgreSQL: 2,000 records" in text


def test_ingest_bench_rows_are_deterministic() -> None:
    bench = load_bench("ingest")
    from socialcredit.schemes import shipped_registry

    registry = shipped_registry()
    a, b = bench.make_rows(500, 2014, registry), bench.make_rows(500, 2014, registry)
    assert a == b and len(a) == 500 and a != bench.make_rows(500, 7, registry)


def test_decision_bench_runs_under_wrk_and_every_answer_is_audited_once(tmp_path: Path) -> None:
    """Issue 20: the floor is a bare async endpoint, the load is wrk, the decision runs ask about
    distinct residents and the same ones again, and every answered decision is audited once."""
    bench = load_bench("decisions")
    result = bench.main(
        ["--residents", "300", "--subjects", "50", "--connections", "4", "--seconds", "1", "--warmup", "1"]
        + ["--calls", "50", "--dir", str(tmp_path), "--rates", "100,60", "--paced-seconds", "0.5"]
        + ["--rounds", "2", "--ask", "distinct,repeat", "--most-rate", "3000"]
    )
    assert [p["rate"] for p in result["paced"]] == [100, 60]
    for p, due in zip(result["paced"], (50, 30), strict=True):
        paced = p["decisions"]  # open loop: every request due is sent and answered, in each round
        assert paced["answered"] == due and paced["errors"] == 0 and p["floor"]["answered"] == due
        assert paced["p50_ms"] <= paced["p99_ms"] <= paced["max_ms"]
        assert paced["p99_ms"] == min(p["decisions_p99_each_ms"]) and len(p["floor_p99_each_ms"]) == 2
    rounds = result["rounds_closed"]
    assert len(rounds) == 2
    for row in rounds:
        for name in ("floor", "distinct", "repeat"):
            f = row[name]
            assert f["answered"] > 0 and f["errors"] == 0 and f["answered"] <= f["written"]
            assert f["p50_ms"] <= f["p99_ms"] <= f["max_ms"]
        assert row["distinct"]["rps_ratio"] == round(row["distinct"]["rps"] / row["floor"]["rps"], 3)
    assert result["distinct_rps_ratio"] == [row["distinct"]["rps_ratio"] for row in rounds]
    # the audited floor (decision 0107): the same work written bare, in every round, every answer
    # of its own audited once in its own chain (audited_rows checks the chain)
    for row in rounds:
        a = row["audited_floor"]
        assert a["answered"] > 0 and a["errors"] == 0 and a["answered"] <= a["written"]
        assert a["rps_ratio"] == round(a["rps"] / row["floor"]["rps"], 3)
        assert a["distinct_rps_ratio"] == round(row["distinct"]["rps"] / a["rps"], 3)
    assert result["audited_floor_audit"]["audited_exactly_once"]
    assert result["audited_floor_audit"]["audit_runs_checked"] == 2
    assert result["audited_floor_rows"] > 0
    # 300 residents (about 150 persons) run out within a second: the rest ask again, and say so
    assert result["distinct_repeats"] > 0
    assert result["audited_exactly_once"] and result["audit_twice"] == 0 and result["chains_verify"]
    assert result["audit_runs_checked"] == 2 * (2 + 2)  # per round: two wrk runs, two paced
    ip = result["in_process"]
    assert ip["check_us"] > 0 and any(k.startswith("decide_") for k in ip)

    # --reuse: the city built above, asked again; earlier runs' entries in its log are not this run's
    again = bench.main(
        ["--residents", "300", "--connections", "4", "--seconds", "1", "--warmup", "0", "--calls", "10"]
        + ["--dir", str(tmp_path), "--reuse", "--rates", "50", "--paced-seconds", "0.2", "--rounds", "1"]
        + ["--ask", "distinct", "--most-rate", "3000"]
    )
    assert again["city_reused"] and not result["city_reused"]
    assert again["audited_exactly_once"] and again["audit_runs_checked"] == 2 and again["chains_verify"]
    assert again["audited_floor_audit"]["audited_exactly_once"]

    doc = tmp_path / "benchmarks.md"
    bench.write_markdown(result, doc)
    text = doc.read_text()
    assert "| 1 | floor: bare async FastAPI |" in text
    assert "| 2 | `POST /decisions`, distinct residents |" in text
    assert "| 2 | audited floor: the same work written bare |" in text
    assert "| 100 | `POST /decisions` | 50 | 0 |" in text
    assert "| 60 | floor: bare async FastAPI | 30 | 0 |" in text


def test_decision_bench_audit_check_finds_a_missing_and_a_doubled_entry() -> None:
    """The exactly-once check can fail: an answer missing from the log, or a purpose logged twice."""
    from collections import Counter

    bench = load_bench("decisions")
    run = bench.WrkRun(
        seconds=1.0, written=5, completed=4, non2xx=0, socket_errors=0, p50_ms=1, p90_ms=1, p99_ms=1, max_ms=1
    )
    real = bench.Driven({"distinct": bench.Closed(run, "http r0 distinct", 0.1, 10)}, {})
    bare = bench.Driven({}, {})
    ok = Counter({f"http r0 distinct {k}": 1 for k in range(4)})
    assert bench.audit_check(ok, [(bare, real)])["audited_exactly_once"]
    short = Counter({f"http r0 distinct {k}": 1 for k in range(3)})
    assert bench.audit_check(short, [(bare, real)])["audit_short"]
    doubled = Counter({**ok, "http r0 distinct 0": 2})
    assert bench.audit_check(doubled, [(bare, real)])["audit_twice"] == 1


def test_decision_bench_generator_survives_connections_the_server_closes() -> None:
    """A server may close a keep-alive connection (uvicorn does after 5 s idle): the paced
    generator must count what it could not send as errors, never wait for it forever."""
    import asyncio

    load_bench("decisions")  # puts bench/ on the path, where the generator finds benchlib
    httpload = load_bench("httpload")

    async def scenario() -> tuple[int, int]:
        async def one_reply_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            body = b'{"answer":"allow"}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(one_reply_then_close, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            load = await asyncio.wait_for(httpload._paced(port, "k", ["S1"], 2, 20.0, 0.5, "t"), 10)
        return load.answered, len(load.errors)

    answered, errors = asyncio.run(scenario())
    assert answered == 2 and errors == 8  # 10 due, 2 connections each answering once


def test_sealing_bench_runs_against_a_bare_loop_that_stores_the_same(tmp_path: Path) -> None:
    """bench/sealing.py (decision 0092): sealing's CPU a record, beside a bare loop of the same C
    calls whose rows it checks against sealing's own."""
    bench = load_bench("sealing")
    result = bench.main(["--records", "1500", "--repeat", "1"])
    assert result["records"] == 1500 and 0 < result["keys"] <= 1500
    assert min(result["sealing_new_keys_us"], result["sealing_cached_us"], result["floor_us"]) > 0
    # the check the bench makes fails on a floor that stored anything else
    store = Store(f"sqlite:///{tmp_path / 'k.db'}")
    try:
        sealing = store.sealing
        good = sealing.seal_chunk(_converted(store, 3))[0]
        made = [tuple(r) for r in good if r is not None]
        bench.check(sealing, good, made)
        wrong = [(*made[0][:14], "0" * 64, *made[0][15:]), *made[1:]]
        with pytest.raises(AssertionError):
            bench.check(sealing, good, wrong)
    finally:
        store.close()


def _converted(store: Store, n: int) -> list[tuple[object, ...]]:
    """``n`` of the ingest bench's rows, validated and converted as ingest converts them."""
    from socialcredit.schemes import shipped_registry
    from socialcredit.service import utcnow
    from socialcredit.service.sealing import Sealer

    registry = shipped_registry()
    raws = load_bench("ingest").make_rows(n, 2014, registry)
    sealer = Sealer(registry, utcnow(), None, store.stored_row(), None, content=False)
    return [values for values, _ in sealer.many(raws) if values is not None]


def test_decision_profile_runs_and_splits_the_servers_cpu_by_thread(tmp_path: Path) -> None:
    """Decision 0088: the in-process profile of ``POST /decisions`` under wrk gives each thread's
    CPU a request and the profile of every thread, on a city built by the decision bench."""
    import os

    from socialcredit.settings import get_settings

    bench = load_bench("decisions_profile")
    saved = dict(os.environ)
    try:
        result = bench.main(
            ["--residents", "200", "--seconds", "1", "--connections", "4", "--dir", str(tmp_path)]
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
    for run in (result["threads"], result["profile"]):
        assert run["wrk"]["answered"] > 0 and run["wrk"]["errors"] == 0
        by_thread = run["cpu_us_per_request_by_thread"]
        assert "MainThread" in by_thread and run["cpu_us_per_request"] == sum(by_thread.values())
