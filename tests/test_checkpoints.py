"""Tampering: audit entries deleted or reordered are named by ``verify``; a history rewritten
with every hash recomputed (which ``verify`` cannot see) is caught by a signed checkpoint, which
an outside party checks with the published public key. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from socialcredit import checkpoints, ledger
from socialcredit.cli import app
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import Store
from socialcredit.store import tables as t
from socialcredit.store.sealedrows import own_hash_ok
from socialcredit.store.sql import REGISTRY_MARKER
from tests.conftest import person

runner = CliRunner()
P = person(71)


def rows(start: int, n: int) -> list[tuple[int, dict[str, Any]]]:
    return [
        (
            i,
            {
                "subject": person(70 + i % 5),
                "item": "traffic.minor",
                "source": "traffic-police",
                "source_record_id": f"cp-{i}",
                "occurred_on": "2026-04-01",
            },
        )
        for i in range(start, start + n)
    ]


def fill(system: System, start: int, n: int, decisions: int) -> None:
    system.ingest(rows(start, n), origin="test", principal=system.operator())
    rp = system.operator()
    for i in range(decisions):
        system.check(P, "no-flights", rp, purpose=f"ticket {start}-{i}")


@pytest.fixture
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[System]:
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    system = System(Store(store_url), shipped_registry())
    yield system
    system.store.close()
    get_settings.cache_clear()


def cli(*args: str) -> tuple[int, Any]:
    r = runner.invoke(app, [*args, "--json"])
    return r.exit_code, json.loads(r.stdout) if r.stdout.strip().startswith("{") else r.output


def rewrite_record(store: Store, seq: int, **changes: Any) -> None:
    """What an intruder with the database can do: change a record's stored row and recompute
    every hash after it and the chain head, so that the chain is consistent again (the stored
    form's hashes need no key: ``store/sealedrows.py``)."""
    with store.engine.begin() as conn:
        rows = [dict(m) for m in conn.execute(select(t.records).order_by(t.records.c.seq)).mappings()]
        prev = ledger.GENESIS
        for m in rows:
            if m["seq"] == seq:
                m.update(changes)
            content, _ = own_hash_ok(m)
            chained = ledger.chain_hash(prev, m["seq"], content, m["received_at"], m["batch_id"])
            conn.execute(
                update(t.records)
                .where(t.records.c.seq == m["seq"])
                .values(subject=m["subject"], content_hash=content, chain_hash=chained)
            )
            prev = chained
        conn.execute(update(t.chain_heads).where(t.chain_heads.c.chain == "records").values(head=prev))


def cut_audit(store: Store, keep: int) -> None:
    """Erase the newest audit entries and wind the head back: a consistent, shorter chain."""
    with store.engine.begin() as conn:
        head = conn.execute(select(t.audit.c.chain_hash).where(t.audit.c.seq == keep)).scalar_one()
        conn.execute(delete(t.audit).where(t.audit.c.seq > keep))
        conn.execute(
            update(t.chain_heads).where(t.chain_heads.c.chain == "audit").values(count=keep, head=head)
        )


def test_checkpoint_round_trip_and_growth(env: System, tmp_path: Path) -> None:
    fill(env, 0, 20, 3)
    code, cp = cli("checkpoint", "export", str(tmp_path / "cp.json"))
    assert code == 0, cp
    # 3 decisions and the batch's own entry (every batch is audited)
    assert cp["chains"]["records"]["count"] == 20 and cp["chains"]["audit"]["count"] == 4
    assert (get_settings().home / checkpoints.KEY_FILE).stat().st_mode & 0o077 == 0  # owner only
    fill(env, 20, 10, 2)  # the history grows after the checkpoint: it still extends it
    code, out = cli("checkpoint", "verify", str(tmp_path / "cp.json"))
    assert code == 0 and out["ok"] and out["now"]["records"]["count"] == 30 and out["problems"] == []
    # an outside party pins the published key
    pem = tmp_path / "published.pem"
    pem.write_text(runner.invoke(app, ["checkpoint", "key"]).stdout)
    code, out = cli("checkpoint", "verify", str(tmp_path / "cp.json"), "--public-key", str(pem))
    assert code == 0 and out["key_fingerprint"] == cp["key_fingerprint"]


def test_a_rewritten_history_that_verify_cannot_see_breaks_the_checkpoint(
    env: System, tmp_path: Path
) -> None:
    fill(env, 0, 20, 3)
    assert cli("checkpoint", "export", str(tmp_path / "cp.json"))[0] == 0
    fill(env, 20, 5, 0)
    rewrite_record(
        env.store, 7, subject=env.store.sealing.pseudonym(person(99))
    )  # moved to someone else, hashes recomputed
    assert env.verify()["records"] == []  # the rewrite is internally consistent
    code, out = cli("checkpoint", "verify", str(tmp_path / "cp.json"))
    assert code == 1 and not out["ok"]
    assert out["problems"] == [
        "records: entry 20 no longer has the checkpointed hash: "
        "the history up to the checkpoint was rewritten"
    ]


def test_erased_audit_entries_break_the_checkpoint(env: System, tmp_path: Path) -> None:
    fill(env, 0, 5, 6)
    assert cli("checkpoint", "export", str(tmp_path / "cp.json"))[0] == 0
    cut_audit(env.store, 4)  # three answered decisions erased (the batch's entry and 6), head wound back
    assert env.verify()["audit"] == []
    code, out = cli("checkpoint", "verify", str(tmp_path / "cp.json"))
    assert code == 1
    assert out["problems"] == ["audit: the checkpoint holds 7 entries, the chain now only 4"]


def test_an_altered_or_foreign_checkpoint_is_refused(env: System, tmp_path: Path) -> None:
    fill(env, 0, 5, 1)
    path = tmp_path / "cp.json"
    assert cli("checkpoint", "export", str(path))[0] == 0
    data = json.loads(path.read_text())
    data["chains"]["records"]["count"] = 4  # make the checkpoint claim less than was signed
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    r = runner.invoke(app, ["checkpoint", "verify", str(forged)])
    assert r.exit_code == 1 and "signature does not match" in r.stderr
    # a checkpoint signed by another key fails against the pinned one
    other = checkpoints.load_or_create_key(tmp_path / "elsewhere")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(checkpoints.make(env.store, other, env.clock())))
    pem = tmp_path / "published.pem"
    pem.write_text(runner.invoke(app, ["checkpoint", "key"]).stdout)
    r = runner.invoke(app, ["checkpoint", "verify", str(foreign), "--public-key", str(pem)])
    assert r.exit_code == 1 and "not by the trusted key" in r.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    r = runner.invoke(app, ["checkpoint", "verify", str(junk)])
    assert r.exit_code == 2 and "not a readable checkpoint" in r.stderr


def test_no_checkpoint_of_a_broken_chain(env: System, tmp_path: Path) -> None:
    fill(env, 0, 5, 0)
    with env.store.engine.begin() as conn:
        conn.execute(update(t.records).where(t.records.c.seq == 2).values(evidence="edited"))
    r = runner.invoke(app, ["checkpoint", "export", str(tmp_path / "cp.json")])
    assert r.exit_code == 1 and "records chain is broken" in r.stderr
    assert not (tmp_path / "cp.json").exists()


def test_every_chain_is_checkpointed(env: System) -> None:
    with env.store.engine.connect() as conn:
        chains = {c for (c,) in conn.execute(select(t.chain_heads.c.chain))}
    assert chains == {*checkpoints.CHAIN_TABLES, REGISTRY_MARKER}  # the registry row is a marker, not a chain


# ------------------------------------------------------------------ audit tampering named by verify


def test_verify_names_a_deleted_audit_entry(env: System) -> None:
    fill(env, 0, 2, 5)
    with env.store.engine.begin() as conn:
        conn.execute(delete(t.audit).where(t.audit.c.seq == 3))
    # the gap between its neighbours, and not the untouched entry that linked to it
    assert [p.problem for p in env.verify()["audit"]] == ["missing between seq 2 and 4"]


def test_verify_names_deleted_newest_audit_entries(env: System) -> None:
    fill(env, 0, 2, 5)
    with env.store.engine.begin() as conn:
        conn.execute(delete(t.audit).where(t.audit.c.seq >= 4))
    assert [p.problem for p in env.verify()["audit"]] == ["missing after seq 3"]


def test_verify_names_reordered_audit_entries(env: System) -> None:
    fill(env, 0, 2, 5)
    with env.store.engine.begin() as conn:
        a, b = (conn.execute(select(t.audit).where(t.audit.c.seq == s)).mappings().one() for s in (2, 3))
        conn.execute(delete(t.audit).where(t.audit.c.seq.in_([2, 3])))
        conn.execute(t.audit.insert(), [{**dict(a), "seq": 3}, {**dict(b), "seq": 2}])
    assert [p.problem for p in env.verify()["audit"]] == ["reordered: seq 2 and seq 3"]
