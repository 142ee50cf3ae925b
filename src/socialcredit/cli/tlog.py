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
from rich.markup import escape

from socialcredit import checkpoints
from socialcredit.api.reports import ProofVerifyOut, WitnessOut
from socialcredit.cli.common import JsonOpt, app, emit, err, fail, out, reason
from socialcredit.cli.oswords import CANNOT_READ, cannot, problem
from socialcredit.errors import Refused
from socialcredit.i18n import N_, translate
from socialcredit.tlog import merkle, note, offline

proof_app = typer.Typer(
    help="Inclusion proofs of the transparency log, checked offline.", no_args_is_help=True
)
app.add_typer(proof_app, name="proof")
WITNESS_KEY = "witness-ed25519.pem"
TIMEOUT = 30
EXAMPLE_URL = "http://127.0.0.1:8000/log/records"


def _public(key: Path) -> Any:
    try:
        return checkpoints.load_public_key(key)
    except Refused as exc:
        fail(f"--key: {escape(exc.describe())}")


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
        fail("PROOF: " + cannot(CANNOT_READ, file, exc))
    if not isinstance(data, dict):
        fail("PROOF: " + translate(N_("not a JSON object")))
    public = _public(key)
    try:
        v = offline.verify_proof(data, public)
    except (merkle.ProofError, Refused) as exc:
        why = reason(exc)
        fail(escape(translate(N_("{file}: does not verify: {why}", file=str(file), why=why))), 1)
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
    verified = translate(N_("verified"))
    said = N_(
        "entry {n} of {origin} ({size} entries), signed by {key_name} (key {key_id})",
        n=v.leaf_index + 1,
        origin=v.origin,
        size=v.tree_size,
        key_name=v.key_name,
        key_id=v.key_id,
    )
    out.print(f"[green]{escape(verified)}[/]: {escape(translate(said))}", highlight=False)
    out.print(v.entry.decode("utf-8", "replace"), highlight=False, markup=False)


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:  # noqa: S310 (the operator's URL)
            body: bytes = reply.read()
            return body
    except (urllib.error.URLError, OSError) as exc:
        fail(
            "URL: " + escape(translate(N_("cannot fetch {url}: {problem}", url=url, problem=problem(exc)))), 1
        )


def _witness_key(state: Path, name: str) -> note.Signer:
    """The witness's own key, made on its first round, kept beside what it saw."""
    return note.Signer(name, checkpoints.load_or_create_key(state, WITNESS_KEY))


@app.command()
def witness(
    url: Annotated[str, typer.Argument(help="A chain's log: http(s)://HOST/log/records")],
    state: Annotated[Path, typer.Option("--state", help="The witness's directory: its key, what it saw")],
    key: Annotated[Path, typer.Option("--key", help="The log's public key (PEM), as published")],
    name: Annotated[str, typer.Option("--name", help="The witness's key name")] = "witness.local",
    submit: Annotated[
        bool, typer.Option("--submit", help="Post the cosignature back to the log (POST .../cosignature)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fetch the log's newest checkpoint, verify it under the log's key and, from the last one
    this witness saw, the consistency proof (across the log's signed epoch record if the chain
    was sealed since); then cosign it (C2SP tlog-cosignature), keep it and, with ``--submit``,
    post it back to the log. Exit 1 (nothing cosigned) if the log was rewritten or shrank, or if
    the log refused the cosignature submitted."""
    base = url.rstrip("/")
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        fail(
            "URL: " + translate(N_("an http(s) URL of a chain's log, such as {example}", example=EXAMPLE_URL))
        )
    log_key = _public(key)
    try:
        me = _witness_key(state, name)
    except (OSError, Refused, ValueError) as exc:
        fail(f"--state: {escape(reason(exc))}")
    newest = _get(base + "/checkpoint").decode("utf-8", "replace")
    try:
        _n, cp = note.signed_by(newest, log_key)
    except Refused as exc:
        unverified = N_("the checkpoint does not verify under the log's key: {why}", why=exc.describe())
        fail(escape(translate(unverified)), 1)
    newest = _log_signed_only(newest, log_key)
    seen = state / (cp.origin.replace("/", "_") + ".checkpoint")
    previous = seen.read_text(encoding="utf-8") if seen.exists() else None
    before: int | None = None
    hashes: list[bytes] = []
    epoch: str | None = None
    now = int(time.time())
    if previous is not None:
        _n, old = note.signed_by(previous, log_key)
        before = old.size
        if 0 < old.size <= cp.size:
            hashes = _consistency(base, old.size, cp.size)
    try:
        cosigned = offline.witness_step(previous, newest, hashes, log_key, me, now)
    except (merkle.ProofError, Refused) as exc:
        across = _across_epoch(base, previous, cp, log_key) if previous is not None else None
        if across is None and previous is not None:
            _unbridged(base, previous, log_key)
        if across is None:
            why = reason(exc)
            fail(escape(translate(N_("not cosigned: {why}", why=why))), 1)
        epoch, cosigned = across, me.cosign(newest, now)
    seen.write_text(cosigned, encoding="utf-8")
    submitted = _submit(base, cosigned) if submit else None
    if as_json:
        emit(
            WitnessOut(
                origin=cp.origin,
                previous_size=before,
                size=cp.size,
                cosigned=cosigned,
                witness_key=note.vkey(me.name, me.public, note.COSIGNATURE_V1),
                epoch=epoch,
                submitted=submitted,
            )
        )
    else:
        out.print(cosigned, highlight=False, markup=False)
        out.print(note.vkey(me.name, me.public, note.COSIGNATURE_V1), highlight=False, markup=False)
    if submitted is False:
        raise typer.Exit(1)


def _log_signed_only(text: str, log_key: Any) -> str:
    """The checkpoint with the log's signature line alone (the cosignatures others made dropped),
    which this witness then cosigns."""
    body, signatures = note.split(text)
    name, _cp = note.signed_by(text, log_key)
    mine = note.key_id(name, log_key)
    return body + "\n" + "".join(s.line() for s in signatures if s.name == name and s.key_id == mine)


def _consistency(base: str, first: int, second: int, epoch: int | None = None) -> list[bytes]:
    query = {"from": first, "to": second, **({"epoch": epoch} if epoch is not None else {})}
    reply = json.loads(_get(f"{base}/consistency?{urllib.parse.urlencode(query)}"))
    return [bytes.fromhex(h) for h in reply.get("hashes", [])]


def _across_epoch(base: str, previous: str, new: note.Checkpoint, log_key: Any) -> str | None:
    """The date of the log's epoch record across which the checkpoint seen before leads to the
    newest (the chain was sealed and re-linked in between: ``store/epochs.py``), or ``None``."""
    _n, old = note.signed_by(previous, log_key)
    try:
        records = json.loads(_get(base + "/epochs")).get("epochs", [])
    except (ValueError, AttributeError):
        return None
    for data in records:
        try:
            epoch = checkpoints.read_epoch(data, log_key)
            if old.size > epoch.count or new.size < epoch.count:
                continue
            to_epoch = _consistency(base, old.size, epoch.count, epoch.epoch)
            checkpoints.across_epoch(old, epoch, to_epoch, new, _consistency(base, epoch.count, new.size))
        except (merkle.ProofError, Refused, ValueError):
            continue
        return epoch.created_at[:10]
    return None


def _unbridged(base: str, previous: str, log_key: Any) -> None:
    """Exit 1 with what happened if the checkpoint seen before precedes a sealing epoch whose
    record, made by an earlier release, names no tree root: nothing is cosigned, but the log is
    not said to be rewritten, since nothing kept can prove or disprove it (decision 0066)."""
    _n, old = note.signed_by(previous, log_key)
    try:
        records = json.loads(_get(base + "/epochs")).get("epochs", [])
    except (ValueError, AttributeError):
        return
    for data in records:
        if not isinstance(data, dict) or not checkpoints.is_unbridged(data, old.size):
            continue
        try:
            checkpoints.check_signed(data, log_key)
        except Refused:
            continue
        said = N_(
            "not cosigned: the checkpoint seen before ({size} entries) precedes the log's "
            "pre-sealing epoch of {date}, whose record, made by an earlier release, names no root "
            "of the clear chain's tree; nothing kept proves or disproves that the log extends it. "
            "Start this witness again from the log's newest checkpoint (a new --state directory) "
            "once its operator has explained the epoch",
            size=old.size,
            date=str(data.get("created_at", ""))[:10],
        )
        err.print(translate(said), highlight=False, markup=False)
        raise typer.Exit(1)


def _submit(base: str, cosigned: str) -> bool:
    """Post the cosigned note to the log; whether it accepted it (its refusal is printed)."""
    request = urllib.request.Request(  # noqa: S310 (the operator's URL, checked http(s) above)
        base + "/cosignature",
        data=json.dumps({"note": cosigned}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT):  # noqa: S310
            return True
    except urllib.error.HTTPError as exc:
        try:
            said = json.loads(exc.read()).get("error", "")
        except (ValueError, AttributeError):
            said = str(exc)
        refused = translate(N_("the log refused the cosignature: {why}", why=said))
        err.print(refused, highlight=False, markup=False)
        return False
    except (urllib.error.URLError, OSError) as exc:
        unsent = translate(N_("the cosignature could not be sent: {why}", why=problem(exc)))
        err.print(unsent, highlight=False, markup=False)
        return False
