"""Checking the transparency log from outside: ``proof verify`` (an inclusion proof, offline,
with nothing but the log's published key) and ``witness`` (a witness's round: fetch the newest
checkpoint, prove it extends the last one seen, cosign it). Neither opens a database."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit import checkpoints
from socialcredit.api.reports import ProofVerifyOut, WitnessOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, out
from socialcredit.errors import Refused
from socialcredit.tlog import merkle, note, offline

proof_app = typer.Typer(
    help="Inclusion proofs of the transparency log, checked offline.", no_args_is_help=True
)
app.add_typer(proof_app, name="proof")
WITNESS_KEY = "witness-ed25519.pem"
TIMEOUT = 30


def _public(key: Path) -> Any:
    try:
        return checkpoints.load_public_key(key)
    except Refused as exc:
        fail(f"--key: {exc}")


@proof_app.command("verify")
def proof_verify(
    file: Annotated[Path, typer.Argument(help="A proof, as GET /records/{id}/proof gave it")],
    key: Annotated[Path, typer.Option("--key", help="The log's public key (PEM), as published")],
    as_json: JsonOpt = False,
) -> None:
    """Verify an inclusion proof without the database: the checkpoint is signed by the key, the
    leaf hash is the entry's, and the path leads to the checkpoint's root. Exit 1 if it fails."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        fail(f"PROOF: cannot read {file}: {exc}")
    if not isinstance(data, dict):
        fail("PROOF: not a JSON object")
    public = _public(key)
    try:
        v = offline.verify_proof(data, public)
    except (merkle.ProofError, Refused) as exc:
        fail(f"{file}: does not verify: {exc}", 1)
    if as_json:
        emit(
            ProofVerifyOut(
                ok=True,
                origin=v.origin,
                leaf_index=v.leaf_index,
                tree_size=v.tree_size,
                key_name=v.key_name,
                key_id=v.key_id,
                entry=v.entry.decode("utf-8", "replace"),
            )
        )
        return
    out.print(
        f"[green]verified[/]: entry {v.leaf_index + 1} of {v.origin} ({v.tree_size} entries), "
        f"signed by {v.key_name} (key {v.key_id})",
        highlight=False,
    )
    out.print(v.entry.decode("utf-8", "replace"), highlight=False, markup=False)


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:  # noqa: S310 (the operator's URL)
            body: bytes = reply.read()
            return body
    except (urllib.error.URLError, OSError) as exc:
        fail(f"URL: cannot fetch {url}: {exc}", 1)


def _witness_key(state: Path, name: str) -> note.Signer:
    """The witness's own key, made on its first round, kept beside what it saw."""
    return note.Signer(name, checkpoints.load_or_create_key(state, WITNESS_KEY))


@app.command()
def witness(
    url: Annotated[str, typer.Argument(help="A chain's log: http(s)://HOST/log/records")],
    state: Annotated[Path, typer.Option("--state", help="The witness's directory: its key, what it saw")],
    key: Annotated[Path, typer.Option("--key", help="The log's public key (PEM), as published")],
    name: Annotated[str, typer.Option("--name", help="The witness's key name")] = "witness.local",
    as_json: JsonOpt = False,
) -> None:
    """Fetch the log's newest checkpoint, verify it under the log's key and, from the last one
    this witness saw, the consistency proof; then cosign it (C2SP tlog-cosignature) and keep it.
    Exit 1 (nothing cosigned) if the log was rewritten or shrank."""
    base = url.rstrip("/")
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        fail("URL: an http(s) URL of a chain's log, such as http://127.0.0.1:8000/log/records")
    log_key = _public(key)
    try:
        me = _witness_key(state, name)
    except (OSError, Refused, ValueError) as exc:
        fail(f"--state: {exc}")
    newest = _get(base + "/checkpoint").decode("utf-8", "replace")
    try:
        _n, cp = note.signed_by(newest, log_key)
    except Refused as exc:
        fail(f"the checkpoint does not verify under the log's key: {exc}", 1)
    seen = state / (cp.origin.replace("/", "_") + ".checkpoint")
    previous = seen.read_text(encoding="utf-8") if seen.exists() else None
    before: int | None = None
    hashes: list[bytes] = []
    if previous is not None:
        _n, old = note.signed_by(previous, log_key)
        before = old.size
        if 0 < old.size <= cp.size:
            query = urllib.parse.urlencode({"from": old.size, "to": cp.size})
            reply = json.loads(_get(f"{base}/consistency?{query}"))
            hashes = [bytes.fromhex(h) for h in reply.get("hashes", [])]
    try:
        cosigned = offline.witness_step(previous, newest, hashes, log_key, me, int(time.time()))
    except (merkle.ProofError, Refused) as exc:
        fail(f"not cosigned: {exc}", 1)
    seen.write_text(cosigned, encoding="utf-8")
    if as_json:
        emit(WitnessOut(origin=cp.origin, previous_size=before, size=cp.size, cosigned=cosigned))
        return
    out.print(cosigned, highlight=False, markup=False)
