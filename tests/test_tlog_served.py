"""The transparency log as others use it (issue 22, decision 0056): its tiles and entries at the
C2SP tlog-tiles paths, rebuilt into the checkpoint's root by a client written here from the spec
alone; witnesses' cosignatures submitted, checked and served with the checkpoint; and a proof
asked for is a look at the entry, audited and shown to its subject. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import struct
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from socialcredit import checkpoints
from socialcredit.cli import app
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import tables as t
from socialcredit.tlog import merkle, note
from tests.served import cli_env, start_server
from tests.support.api import h
from tests.support.portal import client_for
from tests.support.tlog import P, fill, independent_root, ingest_records, installation

# ------------------------------------------------------------------ a tiles client, from the spec
# c2sp.org/tlog-tiles: "tile/<L>/<N>[.p/<W>]", N in zero-padded 3-digit path elements, all but the
# last after an "x"; "The partial tile at level l for a tree of size s has floor(s / 256**l) mod
# 256 entries"; entry bundles are "sequences of big-endian uint16 length-prefixed log entries".


def spec_path(n: int, width: int = 0) -> str:
    digits = str(n).zfill(3 * max(1, -(-len(str(n)) // 3)))
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    path = "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])
    return f"{path}.p/{width}" if width else path


def fetch_level(client: TestClient, chain: str, level: int, size: int) -> list[bytes]:
    """Every hash of ``level`` the tree of ``size`` has tiles for, full tiles then the partial."""
    count = size // 256**level
    out: list[bytes] = []
    for n in range(-(-count // 256)):
        width = min(256, count - 256 * n)
        reply = client.get(f"/log/{chain}/tile/{level}/{spec_path(n, width if width < 256 else 0)}")
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "application/octet-stream"
        assert len(reply.content) == 32 * width
        if width == 256:
            assert "immutable" in reply.headers["cache-control"]
        out += [reply.content[i : i + 32] for i in range(0, len(reply.content), 32)]
    return out


def checkpoint_of(text: str) -> tuple[int, bytes]:
    _origin, size, root = text.split("\n\n")[0].split("\n")
    return int(size), base64.b64decode(root)


def test_an_independent_client_rebuilds_the_checkpoint_root_from_the_served_tiles(
    system: System, client: TestClient
) -> None:
    ingest_records(system, 300)  # a full level-0 tile, a partial one of 44, a level-1 tile of 1
    size, root = checkpoint_of(client.get("/log/records/checkpoint").text)
    assert size == 300
    leaves = fetch_level(client, "records", 0, size)
    assert len(leaves) == 300 and independent_root(leaves) == root
    assert fetch_level(client, "records", 1, size) == [
        independent_root(leaves[:256])
    ]  # a full tile's root above
    # the entries bundles hash to the level-0 tiles, and hold no code, evidence or detail
    entries: list[bytes] = []
    for path in (spec_path(0), spec_path(1, 44)):
        reply = client.get(f"/log/records/tile/entries/{path}")
        assert reply.status_code == 200 and "immutable" in reply.headers["cache-control"]
        data, pos = reply.content, 0
        while pos < len(data):
            (length,) = struct.unpack(">H", data[pos : pos + 2])
            entries.append(data[pos + 2 : pos + 2 + length])
            pos += 2 + length
    assert [hashlib.sha256(b"\x00" + e).digest() for e in entries] == leaves
    assert not any(P.encode() in e or b"photo" in e for e in entries)
    # a tile the tree does not reach, or an index written two ways, is not served
    assert client.get(f"/log/records/tile/0/{spec_path(1, 45)}").status_code == 404
    assert client.get(f"/log/records/tile/0/{spec_path(1)}").status_code == 404
    assert client.get("/log/records/tile/0/x000/000").status_code == 404
    assert client.get("/log/records/tile/entries/002").status_code == 404
    # the audit log's leaves name subjects and key holders: its hash tiles only
    audit_size, audit_root = checkpoint_of(client.get("/log/audit/checkpoint").text)
    assert independent_root(fetch_level(client, "audit", 0, audit_size)) == audit_root
    closed = client.get(f"/log/audit/tile/entries/{spec_path(0, 1)}")
    assert closed.status_code == 403 and "hash tiles are public" in closed.json()["error"]


def test_the_registry_log_serves_its_entries_and_they_hold_nothing_personal(
    system: System, client: TestClient
) -> None:
    """Issue 22 (decision 0074): a registry entry is sealed, its leaf covers a hash of its stored
    form, so its entries bundle is served as the records log's is, and holds no code, name or
    document number (the published registry of organisations is the registry's own affair)."""
    from socialcredit.documents import parse
    from socialcredit.subjects import SubjectRow
    from tests.conftest import org, person

    a, o = person(91), org(91)
    system.register([SubjectRow(a, "person", "Chen Ling", "F", "Zhangdian")])
    system.register([SubjectRow(o, "organisation", "Zibo Steel", None, None, a)])
    system.store.link_document(a, parse("passport:CHN:E12345678"), "seen", system.clock())
    size, root = checkpoint_of(client.get("/log/registry/checkpoint").text)
    assert size == 3
    reply = client.get(f"/log/registry/tile/entries/{spec_path(0, 3)}")
    assert reply.status_code == 200
    data, pos, entries = reply.content, 0, []
    while pos < len(data):
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        entries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    assert independent_root([hashlib.sha256(b"\x00" + e).digest() for e in entries]) == root
    secrets = (a, o, "Chen Ling", "Zibo Steel", "E12345678", system.store.sealing.pseudonym(a))
    assert not [x for x in secrets if any(x.encode() in e for e in entries)]
    # a registry that kept an entry in the clear (its chain did not verify when 0015 sealed it)
    # serves its hash tiles only
    with system.store.engine.begin() as conn:
        conn.execute(t.registry.update().where(t.registry.c.seq == 1).values(sealed=None))
    assert client.get(f"/log/registry/tile/entries/{spec_path(0, 3)}").status_code == 403


def raw_get(client: TestClient, url: str, accept: str) -> tuple[bytes, dict[str, str]]:
    """The bytes as sent, before the HTTP client undoes any content coding."""
    with client.stream("GET", url, headers={"Accept-Encoding": accept}) as reply:
        assert reply.status_code == 200, reply.read()
        return b"".join(reply.iter_raw()), dict(reply.headers)


def bundle_entries(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        out.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return out


def test_entries_bundles_are_gzip_compressed_for_a_client_that_accepts_it(
    system: System, client: TestClient
) -> None:
    # c2sp.org/tlog-tiles: "Entry bundles SHOULD be compressed at the HTTP layer. Logs MAY use
    # Content-Encoding: gzip [...] Clients SHOULD include gzip and identity in their
    # Accept-Encoding headers." and "This endpoint is immutable".
    ingest_records(system, 300)
    size, root = checkpoint_of(client.get("/log/records/checkpoint").text)
    url = f"/log/records/tile/entries/{spec_path(0)}"
    packed, headers = raw_get(client, url, "gzip, identity")
    assert headers["content-encoding"] == "gzip" and "immutable" in headers["cache-control"]
    assert "accept-encoding" in headers["vary"].lower()
    plain, plain_headers = raw_get(client, url, "identity")
    assert "content-encoding" not in plain_headers and "immutable" in plain_headers["cache-control"]
    assert gzip.decompress(packed) == plain and len(packed) < len(plain)
    assert raw_get(client, url, "gzip;q=0, *")[1].get("content-encoding") is None
    assert raw_get(client, url, "br;q=1, *;q=0.5")[1]["content-encoding"] == "gzip"
    assert raw_get(client, url, "gzip, identity")[0] == packed  # the same bytes each time
    # an independent client rebuilds the root from the decompressed bundles alone
    partial, _ = raw_get(client, f"/log/records/tile/entries/{spec_path(1, 44)}", "gzip")
    entries = bundle_entries(gzip.decompress(packed)) + bundle_entries(gzip.decompress(partial))
    assert size == 300 and independent_root([hashlib.sha256(b"\x00" + e).digest() for e in entries]) == root


def test_a_known_witness_s_cosignature_is_kept_and_served_with_the_checkpoint(
    system: System, client: TestClient
) -> None:
    fill(system, 4)
    me = note.Signer("witness.example/w1", Ed25519PrivateKey.generate())
    served = client.get("/log/records/checkpoint")
    assert served.headers["cache-control"] == "no-cache"
    cosigned = me.cosign(served.text, 1_700_000_000)
    # not (yet) a witness the operator configured: refused, naming the field
    unknown = client.post("/log/records/cosignature", json={"note": cosigned})
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"].startswith("note: witness.example/w1 is not a witness this log knows")
    system.tlog.witnesses = lambda: [note.Witness(me.name, me.public)]
    bad = cosigned[:-10] + ("A" if cosigned[-10] != "A" else "B") + cosigned[-9:]
    refused = client.post("/log/records/cosignature", json={"note": bad})
    assert refused.status_code == 422 and "does not verify" in refused.json()["error"], refused.text
    forged = note.Signer(system.tlog.signer.name, Ed25519PrivateKey.generate()).sign(
        served.text.split("\n\n")[0] + "\n"
    )
    assert client.post("/log/records/cosignature", json={"note": me.cosign(forged, 1)}).status_code == 404
    accepted = client.post("/log/records/cosignature", json={"note": cosigned})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"chain": "records", "size": 4, "witnesses": ["witness.example/w1"]}
    with_it = client.get("/log/records/checkpoint").text
    assert with_it == cosigned
    assert note.verify_cosignature(with_it, me.name, me.public) == 1_700_000_000
    # a witness the operator no longer knows is no longer served; a tree grown has its own
    system.tlog.witnesses = list
    assert client.get("/log/records/checkpoint").text == served.text
    system.tlog.witnesses = lambda: [note.Witness(me.name, me.public)]
    fill(system, 1, start=4)
    assert client.get("/log/records/checkpoint").text.count("\u2014") == 1


def test_the_newest_cosigned_checkpoint_is_served_beside_the_newest(
    system: System, client: TestClient, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # c2sp.org/tlog-cosignature: "Log clients can verify a quorum of cosignatures to prevent
    # split-view attacks before trusting an inclusion proof." A cosignature is of one tree: on a
    # growing log the relying party takes the newest cosigned one, then a consistency proof.
    fill(system, 3)
    w1, w2 = (note.Signer(f"witness.example/w{i}", Ed25519PrivateKey.generate()) for i in (1, 2))
    system.tlog.witnesses = lambda: [note.Witness(w.name, w.public) for w in (w1, w2)]
    none_yet = client.get("/log/records/checkpoint/cosigned")
    assert none_yet.status_code == 404 and none_yet.json()["error"].startswith("quorum: ")
    at_3 = client.get("/log/records/checkpoint").text
    for w in (w1, w2):
        submitted = client.post("/log/records/cosignature", json={"note": w.cosign(at_3, 1_700_000_000)})
        assert submitted.is_success
    fill(system, 1, start=3)
    at_4 = client.get("/log/records/checkpoint").text
    assert client.post("/log/records/cosignature", json={"note": w1.cosign(at_4, 1_700_000_100)}).is_success
    fill(system, 1, start=4)
    newest = client.get("/log/records/checkpoint").text
    assert newest.count("\u2014") == 1  # grown since: the newest carries no cosignature
    size_now, root_now = checkpoint_of(newest)
    # the newest cosigned by one witness, by two, by three (none)
    one = client.get("/log/records/checkpoint/cosigned")
    assert one.status_code == 200 and one.headers["cache-control"] == "no-cache"
    assert one.text == w1.cosign(at_4, 1_700_000_100)
    two = client.get("/log/records/checkpoint/cosigned", params={"quorum": 2}).text
    assert checkpoint_of(two)[0] == checkpoint_of(at_3)[0] and two.count("\u2014") == 3
    assert note.verify_cosignature(two, w2.name, w2.public) == 1_700_000_000
    assert client.get("/log/records/checkpoint/cosigned", params={"quorum": 3}).status_code == 404
    # and the newest extends it, by the consistency proof the log serves
    size, root = checkpoint_of(two)
    proof = client.get("/log/records/consistency", params={"from": size, "to": size_now}).json()
    merkle.verify_consistency(size, size_now, root, root_now, [bytes.fromhex(x) for x in proof["hashes"]])
    # a witness the operator no longer knows no longer counts
    system.tlog.witnesses = lambda: [note.Witness(w1.name, w1.public)]
    assert client.get("/log/records/checkpoint/cosigned", params={"quorum": 2}).status_code == 404
    # the command line, on the same database, with the witnesses configured in its home
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    for w in (w1, w2):
        checkpoints.add_witness(env / "home", note.vkey(w.name, w.public, note.COSIGNATURE_V1))
    runner = CliRunner()
    shown = runner.invoke(app, ["checkpoint", "--cosigned", "--quorum", "2", "--chain", "records", "--json"])
    assert shown.exit_code == 0, shown.output
    (row,) = json.loads(shown.stdout)["data"]
    assert row["size"] == size and note.verify_cosignature(row["note"], w1.name, w1.public) == 1_700_000_000
    missing = runner.invoke(app, ["checkpoint", "--cosigned", "--chain", "audit"])
    assert missing.exit_code == 1 and "no checkpoint of the audit log" in missing.stderr, missing.output


def test_the_operator_configures_witnesses_by_their_verifier_keys(env: Path) -> None:
    me = note.Signer("witness.example/w2", Ed25519PrivateKey.generate())
    vkey = note.vkey(me.name, me.public, note.COSIGNATURE_V1)
    runner = CliRunner()
    added = runner.invoke(app, ["checkpoint", "witnesses", "--add", vkey])
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == vkey
    assert [w.vkey() for w in checkpoints.load_witnesses(env / "home")] == [vkey]
    wrong = runner.invoke(app, ["checkpoint", "witnesses", "--add", vkey.replace("+", "+00", 1)])
    assert wrong.exit_code == 2 and "--add" in wrong.stderr, wrong.output
    assert runner.invoke(app, ["checkpoint", "witnesses"]).stdout.strip() == vkey


def test_asking_for_a_proof_is_audited_and_shown_to_the_subject(system: System, client: TestClient) -> None:
    fill(system, 3)
    with system.store.engine.connect() as conn:
        rid = str(conn.execute(t.records.select().where(t.records.c.seq == 2)).mappings().one()["record_id"])
    public_before = system.store.head("audit")[0]
    assert client.get("/log/records/checkpoint").status_code == 200
    assert client.get("/log/audit/consistency", params={"from": 1, "to": 2}).status_code == 200
    assert system.store.head("audit")[0] == public_before  # public checkpoints name no one
    operator = system.create_key("operator", "wang.fang")
    reply = client.get(f"/records/{rid}/proof", headers={"X-API-Key": operator.token})
    assert reply.status_code == 200
    looks, _own, _last = system.store.looks_about(P)
    proof_looks = [x for x in looks if x["action"] == "proof"]
    assert len(proof_looks) == 1 and proof_looks[0]["principal"] == "wang.fang"
    assert proof_looks[0]["detail"] == {"chain": "records", "record_id": rid, "seq": 2, "tree_size": 3}
    seq = system.store.audit_entries(subject=P, limit=1)[0]["seq"]
    assert client.get(f"/audit/{seq}/proof", headers=h(system, "auditor")).status_code == 200
    looks, _own, _last = system.store.looks_about(P)
    assert [x["detail"]["chain"] for x in looks if x["action"] == "proof"] == ["audit", "records"]
    # the subject's own ask is audited too, counted with its own looks
    _looks, own_before, _ = system.store.looks_about(P)
    assert client.get(f"/records/{rid}/proof", headers=h(system, "subject", P)).status_code == 200
    assert system.store.looks_about(P)[1] == own_before + 1
    # and the subject sees who asked, in "who asked about me"
    browser = client_for(client.app, system.create_key("subject", P).token)  # type: ignore[arg-type]
    page = browser.get(f"/portal/subjects/{P}?lang=en")
    assert page.status_code == 200
    watchers = page.text[page.text.index('id="h-watchers"') :]
    assert "wang.fang" in watchers and "proof" in watchers and "inclusion proof" in watchers


@pytest.mark.slow  # a real server
def test_the_witness_command_submits_its_cosignature_and_the_log_serves_it(tmp_path: Path) -> None:
    url, home, _log_signer, system, pem = installation(tmp_path)
    state, stranger = tmp_path / "witness", tmp_path / "stranger"
    mine = checkpoints.load_or_create_key(state, "witness-ed25519.pem")  # made before its first round
    checkpoints.add_witness(home, note.vkey("witness.local", mine.public_key(), note.COSIGNATURE_V1))
    fill(system, 5)
    base, proc = start_server(cli_env(url, home))
    runner = CliRunner()
    args = ["witness", f"{base}/log/records", "--key", str(pem), "--submit", "--json"]
    try:
        known = runner.invoke(app, [*args, "--state", str(state)])
        assert known.exit_code == 0, known.output
        out = json.loads(known.stdout)
        assert out["submitted"] is True and out["witness_key"].startswith("witness.local+")
        with urllib.request.urlopen(f"{base}/log/records/checkpoint", timeout=30) as reply:  # noqa: S310
            served = reply.read().decode()
        assert served == out["cosigned"]
        assert note.verify_cosignature(served, "witness.local", mine.public_key()) > 0
        unknown = runner.invoke(app, [*args, "--state", str(stranger)])
        assert unknown.exit_code == 1 and "not a witness this log knows" in unknown.stderr, unknown.output
        assert json.loads(unknown.stdout)["submitted"] is False
    finally:
        proc.terminate()
        proc.wait(10)
        system.store.close()
