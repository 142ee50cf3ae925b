"""Tampering: audit entries deleted or reordered are named by ``verify``; a history rewritten
with every hash recomputed and its Merkle tree rebuilt (which ``verify`` cannot see) fails the
consistency proof from a signed checkpoint (a C2SP signed note), which an outside party checks
with the published public key. Runs on SQLite and PostgreSQL."""

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
from socialcredit.service import Question, System
from socialcredit.settings import get_settings
from socialcredit.store import Store, caseepochs, recordids, tiles
from socialcredit.store import tables as t
from socialcredit.store.base import ERASURES_MARKER
from socialcredit.store.sealedrows import own_hash_ok
from socialcredit.store.sql import REGISTRY_MARKER
from socialcredit.tlog import merkle, note
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
        system.check(Question(P, "no-flights", rp, purpose=f"ticket {start}-{i}"))


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
    form's hashes need no key: ``store/sealedrows.py``); and rebuild the records' Merkle tree
    from the rewritten chain, so that the tiles agree with it too."""
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
    rebuild_tree(store, "records")


def rebuild_tree(store: Store, chain: str) -> None:
    """The chain's tiles thrown away and grown again from its stored entries."""
    leaves = [merkle.leaf_hash(x) for x in store.leaves(chain)]
    with store.engine.begin() as conn:
        conn.execute(delete(t.tlog_tiles).where(t.tlog_tiles.c.chain == chain))
        tiles.grow(conn.exec_driver_sql, store.dialect.mark, chain, 0, leaves)


def cut_audit(store: Store, keep: int) -> None:
    """Erase the newest audit entries and wind the head back: a consistent, shorter chain."""
    with store.engine.begin() as conn:
        head = conn.execute(select(t.audit.c.chain_hash).where(t.audit.c.seq == keep)).scalar_one()
        conn.execute(delete(t.audit).where(t.audit.c.seq > keep))
        conn.execute(
            update(t.chain_heads).where(t.chain_heads.c.chain == "audit").values(count=keep, head=head)
        )
    rebuild_tree(store, "audit")


def pem_of(printed: str) -> str:
    """The PEM block of what ``checkpoint key`` prints (the verifier key line follows it)."""
    return printed.split(END)[0] + END


END = "-----END PUBLIC KEY-----\n"


def save(tmp_path: Path) -> dict[str, Path]:
    """Every chain's checkpoint now, saved as a party outside would keep it, and the published key."""
    code, listed = cli("checkpoint", "--out", str(tmp_path / "cp"))
    assert code == 0, listed
    assert {c["chain"] for c in listed["data"]} == {"records", "audit", "cases", "registry"}
    (tmp_path / "published.pem").write_text(pem_of(runner.invoke(app, ["checkpoint", "key"]).stdout))
    return {c["chain"]: tmp_path / "cp" / f"{c['chain']}.checkpoint" for c in listed["data"]}


def test_checkpoint_round_trip_and_growth(env: System, tmp_path: Path) -> None:
    fill(env, 0, 20, 3)
    saved = save(tmp_path)
    text = saved["records"].read_text()
    origin, size = text.split("\n")[:2]
    assert origin == f"{checkpoints.DEFAULT_ORIGIN}/records" and size == "20"
    assert (get_settings().home / checkpoints.KEY_FILE).stat().st_mode & 0o077 == 0  # owner only
    fill(env, 20, 10, 2)  # the history grows after the checkpoint: the log still extends it
    pem = str(tmp_path / "published.pem")
    for chain in ("records", "audit"):
        code, out = cli("checkpoint", "verify", str(saved[chain]), "--key", pem)
        assert code == 0 and out["ok"] and out["problems"] == [], out
    code, out = cli("checkpoint", "verify", str(saved["records"]), "--key", pem)
    assert out["checkpoint_size"] == 20 and out["size_now"] == 30


def test_a_rewritten_history_that_verify_cannot_see_fails_consistency(env: System, tmp_path: Path) -> None:
    fill(env, 0, 20, 3)
    saved = save(tmp_path)
    fill(env, 20, 5, 0)
    rewrite_record(
        env.store, 7, subject=env.store.sealing.pseudonym(person(99))
    )  # moved to someone else, hashes recomputed
    assert env.verify()["records"] == []  # the rewrite is internally consistent
    code, out = cli("checkpoint", "verify", str(saved["records"]), "--key", str(tmp_path / "published.pem"))
    assert code == 1 and not out["ok"]
    assert out["problems"] == ["records: the consistency proof does not hold: the log was rewritten"]


def test_erased_audit_entries_fail_the_checkpoint(env: System, tmp_path: Path) -> None:
    fill(env, 0, 5, 6)
    saved = save(tmp_path)
    cut_audit(env.store, 4)  # three answered decisions erased (the batch's entry and 6), head wound back
    assert env.verify()["audit"] == []
    code, out = cli("checkpoint", "verify", str(saved["audit"]), "--key", str(tmp_path / "published.pem"))
    assert code == 1
    assert out["problems"] == ["audit: the checkpoint holds 7 entries, the log now only 4"]


def test_an_altered_or_foreign_checkpoint_is_refused(env: System, tmp_path: Path) -> None:
    fill(env, 0, 5, 1)
    saved = save(tmp_path)
    pem = str(tmp_path / "published.pem")
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(saved["records"].read_text().replace("\n5\n", "\n4\n", 1))  # claims less than signed
    r = runner.invoke(app, ["checkpoint", "verify", str(forged), "--key", pem])
    assert r.exit_code == 1 and "signature does not match" in r.stderr
    # a checkpoint signed by another key does not verify against the published one
    other = note.Signer(checkpoints.DEFAULT_ORIGIN, checkpoints.load_or_create_key(tmp_path / "elsewhere"))
    foreign = tmp_path / "foreign.checkpoint"
    foreign.write_text(other.sign(note.Checkpoint(f"{other.name}/records", 5, b"\0" * 32).body()))
    r = runner.invoke(app, ["checkpoint", "verify", str(foreign), "--key", pem])
    assert r.exit_code == 1 and "no signature in the note is by this key" in r.stderr
    junk = tmp_path / "junk.checkpoint"
    junk.write_text("{not a note")
    r = runner.invoke(app, ["checkpoint", "verify", str(junk), "--key", pem])
    assert r.exit_code == 1 and "not a signed note" in r.stderr


def test_the_key_rotates_and_each_checkpoint_names_its_key(env: System, tmp_path: Path) -> None:
    fill(env, 0, 3, 0)
    saved = save(tmp_path)
    old_pem = tmp_path / "published.pem"
    r = runner.invoke(app, ["checkpoint", "key", "--rotate"])
    assert r.exit_code == 0, r.output
    new_pem, vkey = r.stdout.split("-----END PUBLIC KEY-----\n")
    assert new_pem + "-----END PUBLIC KEY-----\n" != old_pem.read_text()
    name, key_id = vkey.split("+")[:2]
    newer = runner.invoke(app, ["checkpoint", "--chain", "records"]).stdout
    assert f"\u2014 {name} " in newer and key_id != ""
    # the old checkpoint still verifies under the retired key, kept public in checkpoint-keys/
    retired = list((get_settings().home / checkpoints.RETIRED).glob("*.pem"))
    assert len(retired) == 1 and retired[0].read_text() == old_pem.read_text()
    assert cli("checkpoint", "verify", str(saved["records"]), "--key", str(old_pem))[0] == 0
    (tmp_path / "new.pem").write_text(new_pem + "-----END PUBLIC KEY-----\n")
    r = runner.invoke(
        app, ["checkpoint", "verify", str(saved["records"]), "--key", str(tmp_path / "new.pem")]
    )
    assert r.exit_code == 1 and "no signature in the note is by this key" in r.stderr


def test_no_checkpoint_of_a_broken_chain(env: System, tmp_path: Path) -> None:
    fill(env, 0, 5, 0)
    with env.store.engine.begin() as conn:
        conn.execute(update(t.records).where(t.records.c.seq == 2).values(evidence="edited"))
    r = runner.invoke(app, ["checkpoint", "--out", str(tmp_path / "cp")])
    assert r.exit_code == 1 and "records chain is broken" in r.stderr
    assert not (tmp_path / "cp").exists()


def test_every_chain_is_checkpointed(env: System) -> None:
    with env.store.engine.connect() as conn:
        chains = {c for (c,) in conn.execute(select(t.chain_heads.c.chain))}
    # rows of chain_heads that are marks, not chains: the keyed ids' (decision 0080), the count of
    # erasures other processes' caches watch, and the move of old erasure requests (decision 0094)
    marks = {recordids.MARK, ERASURES_MARKER, caseepochs.MOVED}
    assert chains - marks == {*env.store.logs()} and REGISTRY_MARKER in chains


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
