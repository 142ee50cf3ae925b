"""The transparency log from outside (issue 22 points 2 to 4): signed checkpoints, inclusion
proofs of records and audit entries, consistency proofs, checked by code written apart from the
server's (plain ``hashlib`` here, JavaScript under Node below), offline on the command line, and
by a witness that cosigns. A record altered in the database fails its proof against a checkpoint
published before; a rewritten history fails consistency. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from socialcredit import checkpoints
from socialcredit.cli import app
from socialcredit.service import System
from socialcredit.store import tables as t
from socialcredit.store import tiles
from socialcredit.tlog import merkle, note, offline
from tests.conftest import person
from tests.served import cli_env, start_server
from tests.support.api import h
from tests.support.portal import client_for
from tests.support.tlog import P, fill, installation

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "transparency.md"


# ------------------------------------------------------------------ an independent verifier
# Written from RFC 9162 §2.1.3.2 and c2sp.org/signed-note alone, sharing no code with the server.


def independent_verify(proof: dict[str, Any], public: Ed25519PublicKey) -> bytes:
    """Check a proof as an outsider would; return the entry. Raises AssertionError if it fails."""
    entry = base64.b64decode(proof["entry"])
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    assert leaf.hex() == proof["leaf_hash"]
    body, _, sigs = proof["checkpoint"].partition("\n\n")
    origin, size, root_b64 = body.split("\n")
    assert int(size) == proof["tree_size"]
    verified = False
    for line in sigs.strip().split("\n"):
        _dash, name, blob_b64 = line.split(" ")
        blob = base64.b64decode(blob_b64)
        raw = public.public_bytes_raw()
        if blob[:4] == hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4]:
            public.verify(blob[4:], (body + "\n").encode())  # raises if forged
            verified = True
    assert verified, "no signature by the log's key"
    fn, sn, r = proof["leaf_index"], proof["tree_size"] - 1, leaf
    for p_hex in proof["hashes"]:
        p = bytes.fromhex(p_hex)
        assert sn > 0
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0 and r == base64.b64decode(root_b64), "the path leads to another root"
    return entry


def record_id(system: System, seq: int) -> str:
    with system.store.engine.connect() as conn:
        return str(
            conn.execute(t.records.select().where(t.records.c.seq == seq)).mappings().one()["record_id"]
        )


# ------------------------------------------------------------------ the API


def test_a_subject_gets_the_proof_of_its_record_and_it_verifies_independently(
    system: System, client: TestClient
) -> None:
    fill(system, 20)
    rid = record_id(system, 7)
    reply = client.get(f"/records/{rid}/proof", headers=h(system, "subject", P))
    assert reply.status_code == 200, reply.text
    proof = reply.json()
    assert list(proof) == ["leaf_index", "tree_size", "entry", "leaf_hash", "hashes", "checkpoint"]
    assert proof["leaf_index"] == 6 and proof["tree_size"] == 20
    entry = independent_verify(proof, system.tlog.signer.public)
    # the leaf is the record's chain link: its content hash, batch and time, no personal field
    with system.store.engine.connect() as conn:
        row = conn.execute(t.records.select().where(t.records.c.seq == 7)).mappings().one()
    assert hashlib.sha256(entry).hexdigest() == row["chain_hash"]
    assert row["content_hash"] in entry.decode() and P not in entry.decode()
    # the checkpoint served is the one the proof carries
    served = client.get("/log/records/checkpoint")
    assert served.status_code == 200 and served.text == proof["checkpoint"]
    assert served.headers["content-type"].startswith("text/plain")
    # operators and auditors may ask too; another subject and a relying party may not
    for role, principal in (("operator", "wang.fang"), ("auditor", None)):
        assert client.get(f"/records/{rid}/proof", headers=h(system, role, principal)).status_code == 200
    for role, principal in (("subject", person(3)), ("relying_party", "airlines")):
        denied = client.get(f"/records/{rid}/proof", headers=h(system, role, principal))
        assert denied.status_code == 403, denied.text
    assert client.get(f"/records/{'0' * 32}/proof", headers=h(system, "auditor")).status_code == 404
    assert client.get("/records/not-an-id/proof", headers=h(system, "auditor")).status_code == 422


def test_an_audit_entry_proof_for_auditors_and_the_subject_it_is_about(
    system: System, client: TestClient
) -> None:
    fill(system, 5)
    entries = system.store.audit_entries(subject=P, limit=1)
    seq = entries[0]["seq"]
    for headers in (h(system, "auditor"), h(system, "subject", P)):
        reply = client.get(f"/audit/{seq}/proof", headers=headers)
        assert reply.status_code == 200, reply.text
        independent_verify(reply.json(), system.tlog.signer.public)
    assert client.get(f"/audit/{seq}/proof", headers=h(system, "subject", person(3))).status_code == 403
    assert client.get("/audit/999999/proof", headers=h(system, "auditor")).status_code == 404


def test_consistency_proofs_over_http(system: System, client: TestClient) -> None:
    fill(system, 10)
    old = note.Checkpoint.parse(client.get("/log/audit/checkpoint").text.split("\n\n")[0] + "\n")
    fill(system, 10, start=10)
    new = note.Checkpoint.parse(client.get("/log/audit/checkpoint").text.split("\n\n")[0] + "\n")
    reply = client.get("/log/audit/consistency", params={"from": old.size, "to": new.size})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["from"] == old.size and body["to"] == new.size
    merkle.verify_consistency(
        old.size, new.size, old.root, new.root, [bytes.fromhex(x) for x in body["hashes"]]
    )
    bad = client.get("/log/audit/consistency", params={"from": new.size, "to": new.size + 5})
    assert bad.status_code == 404, bad.text  # no tree of that size (yet): nothing by that name
    assert bad.json()["error"].startswith("to: the audit log holds"), bad.json()
    assert client.get("/log/audit/consistency", params={"from": 5, "to": 2}).status_code == 404
    assert client.get("/log/nothing/checkpoint").status_code == 422


def test_a_record_altered_in_the_database_fails_its_proof_against_the_earlier_checkpoint(
    system: System, client: TestClient
) -> None:
    fill(system, 12)
    rid = record_id(system, 4)
    published = client.get("/log/records/checkpoint").text  # a journalist keeps this
    before = client.get(f"/records/{rid}/proof", headers=h(system, "auditor")).json()
    independent_verify(before, system.tlog.signer.public)
    with system.store.engine.begin() as conn:  # behind the application's back
        conn.execute(update(t.records).where(t.records.c.seq == 4).values(item="traffic.serious"))
    after = client.get(f"/records/{rid}/proof", headers=h(system, "auditor")).json()
    against_published = {**after, "checkpoint": published}
    with pytest.raises(AssertionError, match="another root"):
        independent_verify(against_published, system.tlog.signer.public)
    with pytest.raises(ValueError, match="another root"):
        offline.verify_proof(against_published, system.tlog.signer.public)


# ------------------------------------------------------------------ offline, on the command line


def test_proof_verify_on_the_command_line_needs_no_database(
    system: System, client: TestClient, tmp_path: Path
) -> None:
    fill(system, 6)
    proof = client.get(f"/records/{record_id(system, 2)}/proof", headers=h(system, "auditor")).json()
    path, pem = tmp_path / "proof.json", tmp_path / "log.pem"
    path.write_text(json.dumps(proof))
    pem.write_text(checkpoints.public_pem(system.tlog.signer.public))
    runner = CliRunner()
    env = {"SOCIALCREDIT_DATABASE_URL": "sqlite:////nonexistent/none.db"}  # never opened
    r = runner.invoke(app, ["proof", "verify", str(path), "--key", str(pem), "--json"], env=env)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["ok"] and out["leaf_index"] == 1 and out["origin"].endswith("/records")
    forged = {**proof, "leaf_index": 2}
    path.write_text(json.dumps(forged))
    r = runner.invoke(app, ["proof", "verify", str(path), "--key", str(pem)], env=env)
    assert r.exit_code == 1 and "does not verify" in r.stderr


# ------------------------------------------------------------------ a witness


def test_a_witness_cosigns_what_extends_what_it_saw_and_refuses_a_rewrite(
    system: System, client: TestClient
) -> None:
    log_key = system.tlog.signer.public
    me = note.Signer("witness.example/w1", checkpoints.Ed25519PrivateKey.generate())
    fill(system, 8)
    first = client.get("/log/records/checkpoint").text
    cosigned = offline.witness_step(None, first, [], log_key, me, 1_700_000_000)
    assert note.verify_cosignature(cosigned, me.name, me.public) == 1_700_000_000
    assert note.verify(cosigned, *note.signed_by(first, log_key)[:1], log_key).size == 8
    fill(system, 8, start=8)
    second = client.get("/log/records/checkpoint").text
    proof = client.get("/log/records/consistency", params={"from": 8, "to": 16}).json()["hashes"]
    again = offline.witness_step(first, second, [bytes.fromhex(x) for x in proof], log_key, me, 1_700_000_100)
    assert note.verify_cosignature(again, me.name, me.public) == 1_700_000_100
    # the log rewrites its history (a forged tree of the same size): no consistency proof holds
    forged = system.tlog.signer.sign(
        note.Checkpoint(f"{system.tlog.signer.name}/records", 16, b"\x07" * 32).body()
    )
    with pytest.raises(ValueError, match="rewritten"):
        offline.witness_step(first, forged, [bytes.fromhex(x) for x in proof], log_key, me, 1_700_000_200)


# ------------------------------------------------------------------ the docs' verifier, in JavaScript


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_documented_javascript_verifier_accepts_a_proof_and_refuses_a_forgery(
    system: System, client: TestClient, tmp_path: Path
) -> None:
    code = re.search(r"```javascript\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert code is not None, "docs/transparency.md shows the verifier"
    script = tmp_path / "verify.mjs"
    script.write_text(code.group(1))
    fill(system, 9)
    proof = client.get(f"/records/{record_id(system, 5)}/proof", headers=h(system, "auditor")).json()
    good, bad = tmp_path / "proof.json", tmp_path / "forged.json"
    good.write_text(json.dumps(proof))
    bad.write_text(json.dumps({**proof, "leaf_index": 3}))
    pem = tmp_path / "log.pem"
    pem.write_text(checkpoints.public_pem(system.tlog.signer.public))
    ok = subprocess.run(
        ["node", str(script), str(good), str(pem)], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stdout + ok.stderr
    no = subprocess.run(["node", str(script), str(bad), str(pem)], capture_output=True, text=True, timeout=60)
    assert no.returncode != 0


# ------------------------------------------------------------------ the portal


def test_the_subject_page_offers_each_record_s_proof_to_download(system: System, client: TestClient) -> None:
    fill(system, 3)
    browser = client_for(client.app, system.create_key("subject", P).token)  # type: ignore[arg-type]
    page = browser.get(f"/portal/subjects/{P}")
    assert page.status_code == 200 and "This record is in the public log:" in page.text
    rid = record_id(system, 2)
    link = f"/portal/records/{rid}/proof"
    assert link in page.text
    download = browser.get(link)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    independent_verify(download.json(), system.tlog.signer.public)
    other = client_for(client.app, system.create_key("subject", person(3)).token)  # type: ignore[arg-type]
    assert other.get(link).status_code == 403


@pytest.mark.slow  # a real server
def test_the_witness_command_cosigns_a_served_log_and_refuses_it_rewritten(tmp_path: Path) -> None:
    url, home, log_signer, system, pem = installation(tmp_path)
    fill(system, 6)
    base, proc = start_server(cli_env(url, home))
    runner = CliRunner()
    state = tmp_path / "witness"
    args = ["witness", f"{base}/log/records", "--state", str(state), "--key", str(pem), "--json"]
    try:
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout)["size"] == 6 and json.loads(first.stdout)["previous_size"] is None
        fill(system, 6, start=6)
        second = runner.invoke(app, args)
        assert second.exit_code == 0, second.output
        out = json.loads(second.stdout)
        assert out["previous_size"] == 6 and out["size"] == 12
        witness_key = checkpoints.load_or_create_key(state, "witness-ed25519.pem").public_key()
        assert note.verify_cosignature(out["cosigned"], "witness.local", witness_key) > 0
        # history rewritten, hashes and tree recomputed: the witness refuses and keeps what it saw
        with system.store.engine.begin() as conn:
            conn.execute(update(t.records).where(t.records.c.seq == 3).values(item="rewritten.item"))
        rebuilt = [merkle.leaf_hash(x) for x in system.store.leaves("records")]
        with system.store.engine.begin() as conn:
            conn.execute(t.tlog_tiles.delete().where(t.tlog_tiles.c.chain == "records"))
            tiles.grow(conn.exec_driver_sql, system.store.dialect.mark, "records", 0, rebuilt)
        fill(system, 2, start=12)
        third = runner.invoke(app, [*args[:-1]])
        assert third.exit_code == 1 and "not cosigned" in third.stderr, third.output
        kept = (state / f"{checkpoints.DEFAULT_ORIGIN}_records.checkpoint").read_text()
        assert note.Checkpoint.parse(kept.split("\n\n")[0] + "\n").size == 12
    finally:
        proc.terminate()
        proc.wait(10)
        system.store.close()
