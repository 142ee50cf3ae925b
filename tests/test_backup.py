"""Backup and restore: the whole state round-trips between stores (SQLite and PostgreSQL, both
ways), the restored installation carries on where the old one stopped, and a backup that is
truncated, altered, or holds a broken chain is refused with the target left untouched."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from socialcredit import backup
from socialcredit.cli import app
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System
from socialcredit.settings import get_settings
from socialcredit.store import Store
from socialcredit.store import tables as t
from tests.conftest import BACKEND_PARAMS, Clock, org, person

P = person(81)


@pytest.fixture
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Fresh, empty stores on either backend."""
    made: list[Store] = []

    def make(backend: str) -> Store:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / ('restored-' + uuid.uuid4().hex[:6] + '.db')}"
        else:
            server = request.getfixturevalue("pg_server")
            name = "r_" + uuid.uuid4().hex[:12]
            server.psql(f"CREATE DATABASE {name};")
            url = "postgresql+psycopg://" + server.get_uri(name).split("://", 1)[1]
        made.append(Store(url))
        return made[-1]

    yield make
    for s in made:
        s.close()


def populate(system: System, clock: Clock) -> dict[str, str]:
    """Records (with a correction and quarantined rows), subjects, decisions, reads, keys."""
    system.register_rows(
        [
            (
                1,
                {
                    "code": org(3),
                    "name": "Firm",
                    "legal_representative": P,
                    "representative_since": "2020-01-01",
                },
            )
        ],
        principal=system.operator(),
    )
    rows: list[tuple[int, dict[str, Any]]] = [
        (
            i,
            {
                "subject": person(80 + i % 7),
                "item": "traffic.minor",
                "source": "traffic-police",
                "source_record_id": f"b-{i}",
                "occurred_on": "2026-02-01",
                "details": {"where": "Rongcheng", "n": i},
            },
        )
        for i in range(40)
    ]
    rows.append((40, {"subject": "12345", "item": "x"}))  # quarantined
    rows.append(
        (
            41,
            {
                "subject": org(3),
                "item": "court.dishonest.able-but-refuses",
                "source": "court",
                "source_record_id": "c-1",
                "occurred_on": "2026-03-01",
            },
        )
    )
    system.ingest(rows, origin="file:a.csv", principal=system.operator())
    first = system.store.records_for(person(80))[0]
    clock.advance(days=1)
    system.ingest(
        [
            (
                1,
                {
                    "subject": person(80),
                    "item": "traffic.minor",
                    "source": "traffic-police",
                    "source_record_id": "b-0-fix",
                    "occurred_on": "2026-02-02",
                    "action": "correct",
                    "corrects": first.record_id,
                },
            )
        ],
        origin="http",
        principal=system.operator(),
    )
    for i in range(5):
        system.check(Question(P, "no-flights", system.operator(), purpose=f"ticket {i}"))
    system.read(person(81), system.operator(), purpose="review")
    keys = {
        "operator": system.create_key("operator", "wang.fang").token,
        "subject": system.create_key("subject", P, expires_at=clock.now.replace(year=2030)).token,
    }
    revoked = system.create_key("auditor", None)
    system.store.revoke_key(revoked.key_id, clock.now)
    keys["revoked"] = revoked.token
    return keys


def table_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with store.engine.connect() as conn:
        for tb in t.metadata.sorted_tables:
            pk = list(tb.primary_key.columns) or list(tb.columns)
            out[tb.name] = [dict(m) for m in conn.execute(select(tb).order_by(*pk)).mappings()]
    return out


@pytest.mark.parametrize("target", BACKEND_PARAMS)
def test_round_trip_between_stores(
    system: System, clock: Clock, tmp_path: Path, new_store: Callable[[str], Store], target: str
) -> None:
    keys = populate(system, clock)
    path = tmp_path / "state.jsonl.gz"
    summary = backup.dump(system.store, path, clock.now)
    assert (
        summary.chains["records"]["count"] == 42 and summary.chains["audit"]["count"] == 12
    )  # decisions and reads, and each batch and key
    assert summary.tables["quarantine"] == 1 and summary.tables["api_keys"] == 3

    restored = new_store(target)
    backup.restore(path, restored)
    assert table_rows(restored) == table_rows(system.store)  # every table, every row, every value
    again = System(restored, shipped_registry(), clock=clock)
    assert again.verify() == {"records": [], "audit": [], "cases": [], "registry": []}
    # the restored installation carries on: keys, chains, quarantine ids, views
    assert again.authenticate(keys["subject"]).principal == P
    with pytest.raises(Exception, match="revoked"):
        again.authenticate(keys["revoked"])
    assert again.view(P).entries == system.view(P).entries
    clock.advance(days=1)
    more = again.ingest(
        [
            (1, {"subject": "bad"}),
            (
                2,
                {
                    "subject": P,
                    "item": "traffic.minor",
                    "source": "traffic-police",
                    "source_record_id": "after",
                    "occurred_on": "2026-05-01",
                },
            ),
        ],
        origin="after restore",
        principal=again.operator(),
    )
    assert (more.accepted, more.quarantined) == (1, 1)
    again.check(Question(P, "no-flights", again.operator(), purpose="after restore"))
    assert restored.head("records")[0] == 43 and restored.head("audit")[0] == 14
    assert again.verify() == {"records": [], "audit": [], "cases": [], "registry": []}


def _rewrite(path: Path, change: Callable[[dict[str, Any]], None], fix_checksum: bool = True) -> None:
    """Alter a backup line by line; with ``fix_checksum`` the attacker also recomputes the
    file's checksum, so only the chains can tell."""
    lines = [json.loads(raw) for raw in gzip.decompress(path.read_bytes()).splitlines()]
    for obj in lines[:-1]:
        change(obj)
    digest = hashlib.sha256()
    body = b""
    for obj in lines[:-1]:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        digest.update(line)
        body += line
    if fix_checksum:
        lines[-1]["sha256"] = digest.hexdigest()
    path.write_bytes(gzip.compress(body + json.dumps(lines[-1]).encode() + b"\n"))


def test_a_backup_with_a_broken_chain_is_refused_and_the_target_untouched(
    system: System, clock: Clock, tmp_path: Path, new_store: Callable[[str], Store]
) -> None:
    populate(system, clock)
    good = tmp_path / "good.jsonl.gz"
    backup.dump(system.store, good, clock.now)

    def alter_record(obj: dict[str, Any]) -> None:
        if obj.get("t") == "records" and obj["r"]["seq"] == 5:
            obj["r"]["subject"] = person(99)

    def drop_audit(obj: dict[str, Any]) -> None:
        if obj.get("t") == "audit" and obj["r"]["seq"] == 3:
            obj["r"]["seq"] = 99  # moved out of its place

    for name, change, fix, message in [
        ("record", alter_record, True, r"records: altered: seq 5 \("),
        ("audit", drop_audit, True, r"audit: reordered: seq 3 and seq 99 \("),
        ("checksum", alter_record, False, "checksum does not match"),
    ]:
        bad = tmp_path / f"{name}.jsonl.gz"
        bad.write_bytes(good.read_bytes())
        _rewrite(bad, change, fix)
        target = new_store("sqlite")
        with pytest.raises(backup.BackupError, match=message):
            backup.restore(bad, target)
        assert table_rows(target)["records"] == [] and target.head("records")[0] == 0, name

    cut = tmp_path / "cut.jsonl.gz"
    whole = gzip.decompress(good.read_bytes())
    cut.write_bytes(gzip.compress(whole[: whole.rindex(b"\n", 0, -1) + 1]))  # the end marker lost
    with pytest.raises(backup.BackupError, match="truncated"):
        backup.restore(cut, new_store("sqlite"))
    cut.write_bytes(gzip.compress(whole[:-200]))  # cut mid-line
    with pytest.raises(backup.BackupError, match="not a readable backup"):
        backup.restore(cut, new_store("sqlite"))
    half = tmp_path / "half.jsonl.gz"
    half.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(backup.BackupError, match="not a readable backup"):
        backup.restore(half, new_store("sqlite"))
    # a non-empty target is never merged into
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(good, system.store)


def test_no_backup_of_a_broken_chain(system: System, clock: Clock, tmp_path: Path) -> None:
    populate(system, clock)
    with system.store.engine.begin() as conn:
        conn.execute(update(t.records).where(t.records.c.seq == 3).values(evidence="edited"))
    with pytest.raises(backup.BackupError, match="records chain is broken"):
        backup.dump(system.store, tmp_path / "x.gz", clock.now)
    assert not (tmp_path / "x.gz").exists()


def test_backup_and_restore_commands(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_store: Callable[[str], Store]
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    source = System(Store(store_url), shipped_registry())
    try:
        source.ingest(
            [
                (
                    1,
                    {
                        "subject": P,
                        "item": "traffic.minor",
                        "source": "traffic-police",
                        "source_record_id": "cli-1",
                        "occurred_on": "2026-02-01",
                    },
                )
            ],
            origin="cli",
            principal=source.operator(),
        )
        out = tmp_path / "b.gz"
        r = runner.invoke(app, ["backup", str(out), "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["chains"]["records"]["count"] == 1
        target = new_store("sqlite")
        monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", target.url)
        get_settings.cache_clear()
        r = runner.invoke(app, ["restore", str(out)])
        assert r.exit_code == 0 and "every chain verified" in r.stdout, r.output
        r = runner.invoke(app, ["restore", str(out)])
        assert r.exit_code == 2 and "not empty" in r.stderr
        assert runner.invoke(app, ["verify"]).exit_code == 0
    finally:
        source.store.close()
        get_settings.cache_clear()
