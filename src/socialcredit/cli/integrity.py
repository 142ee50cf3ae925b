"""Proving the records were not altered: ``verify`` (every hash chain), signed ``checkpoint``s
for an outside party, and whole-state ``backup`` and ``restore``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from socialcredit import checkpoints, i18n
from socialcredit.api.models import Listing, VerifyOut
from socialcredit.api.reports import BackupOut, CheckpointCheckOut, CheckpointOut, RetentionOut
from socialcredit.cli.common import (
    JsonOpt,
    app,
    emit,
    err,
    fail,
    open_system,
    out,
    reason,
)
from socialcredit.cli.oswords import CANNOT_READ, CANNOT_WRITE, cannot
from socialcredit.errors import NotFound, Refused
from socialcredit.i18n import N_, fill
from socialcredit.service import System
from socialcredit.service.tlog import SignedCheckpoint
from socialcredit.settings import get_settings
from socialcredit.tlog import note


@app.command()
def verify(as_json: JsonOpt = False) -> None:
    """Recompute every hash chain (records, audit log, case events) and name exactly what changed:
    "altered: seq N", "missing between seq N and M", "reordered: seq A and seq B". Exit 1 if any."""
    system = open_system()
    problems = system.verify()
    n_records, n_audit = system.store.head("records")[0], system.store.head("audit")[0]
    bad = any(problems.values())
    if as_json:  # as GET /verify answers
        emit(VerifyOut.of(problems, records=n_records, audit_entries=n_audit))
    else:
        for chain, found in problems.items():
            for p in found:  # the chain's name and the entries' ids stay as they are
                named = f" ({', '.join(p.entries)})" if p.entries else ""
                out.print(f"[red]{chain}[/]: {escape(i18n.translate(p.problem))}{named}", highlight=False)
        if not bad:
            intact = i18n.translate(N_("intact"))
            line = N_(
                "{records} records and {audit} audit entries verified", records=n_records, audit=n_audit
            )
            out.print(f"[green]{intact}[/]: {i18n.translate(line)}", highlight=False)
    raise typer.Exit(1 if bad else 0)


checkpoint_app = typer.Typer(
    help="Signed checkpoints of the transparency log (C2SP signed notes), and their key."
)
app.add_typer(checkpoint_app, name="checkpoint")
CHAINS = ("records", "audit", "cases", "registry")
BROKEN_UNSIGNED = N_("the {chains} chain is broken; run `socialcredit verify` (nothing signed)")


@checkpoint_app.callback(invoke_without_command=True)
def checkpoint(
    ctx: typer.Context,
    chain: Annotated[
        list[str] | None, typer.Option("--chain", help="records, audit, cases or registry (default: all)")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write DIR/<chain>.checkpoint")] = None,
    cosigned: Annotated[
        bool,
        typer.Option("--cosigned", help="The newest checkpoint known witnesses cosigned, with their lines"),
    ] = False,
    quorum: Annotated[
        int, typer.Option("--quorum", min=1, max=64, help="With --cosigned: how many witnesses at least")
    ] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Print each chain's newest checkpoint, signed with the installation's Ed25519 key (made in
    SOCIALCREDIT_HOME on first use), as GET /log/{chain}/checkpoint serves it; with --cosigned,
    the newest that --quorum known witnesses cosigned, as GET /log/{chain}/checkpoint/cosigned
    serves it (a chain none cosigned is named on stderr and left out; exit 1 if no chain has
    one). Refused (exit 1) if a chain is broken."""
    if ctx.invoked_subcommand is not None:
        return
    wanted = chain or list(CHAINS)
    unknown = [c for c in wanted if c not in CHAINS]
    if unknown:
        no_log = N_("no log named {chain!r}: one of {logs}", chain=unknown[0], logs=", ".join(CHAINS))
        fail(f"--chain: {escape(i18n.translate(no_log))}")
    system = open_system()
    broken = {k: v for k, v in system.verify().items() if v}
    if broken:
        fail(i18n.translate(fill(BROKEN_UNSIGNED, chains=", ".join(broken))), 1)
    signed = _cosigned(system, wanted, quorum) if cosigned else [system.checkpoint(c) for c in wanted]
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for s in signed:
                (out_dir / f"{s.chain}.checkpoint").write_text(s.note, encoding="utf-8")
        except OSError as exc:
            fail("--out: " + cannot(CANNOT_WRITE, out_dir, exc))
    if as_json:
        key_id = system.tlog.signer.key_id().hex()
        emit(
            Listing[CheckpointOut].of_rows(
                CheckpointOut(
                    chain=s.chain,
                    origin=s.checkpoint.origin,
                    size=s.checkpoint.size,
                    root_hash=s.checkpoint.root.hex(),
                    key_id=key_id,
                    note=s.note,
                )
                for s in signed
            )
        )
    elif out_dir is None:
        sys.stdout.write("\n".join(s.note for s in signed))
    else:
        written = N_("{n} checkpoints written to {directory}", n=len(signed), directory=str(out_dir))
        out.print(escape(i18n.translate(written)), highlight=False)


def _cosigned(system: System, chains: list[str], quorum: int) -> list[SignedCheckpoint]:
    """Each chain's newest cosigned checkpoint; a chain without one named on stderr."""
    found: list[SignedCheckpoint] = []
    for chain in chains:
        try:
            found.append(system.latest_cosigned(chain, quorum))
        except NotFound as exc:
            err.print(i18n.translate(exc.message), highlight=False, markup=False)
    if not found:
        raise typer.Exit(1)
    return found


@checkpoint_app.command("verify")
def checkpoint_verify(
    file: Annotated[
        Path, typer.Argument(help="A checkpoint saved from `socialcredit checkpoint` or the API")
    ],
    key: Annotated[Path, typer.Option("--key", help="The log's public key (PEM), as published")],
    as_json: JsonOpt = False,
) -> None:
    """Prove the log still extends a checkpoint it published: the signature holds under the
    published key, and the consistency proof from its tree to the tree now holds against its root
    hash. Exit 1 naming the chain rewritten; exit 3 if the checkpoint was signed before a sealing
    epoch recorded by an earlier release, which left nothing to prove it against."""
    try:
        text = file.read_text(encoding="utf-8")
        public = checkpoints.load_public_key(key)
    except (OSError, UnicodeError) as exc:
        fail("FILE: " + cannot(CANNOT_READ, file, exc))
    except checkpoints.CheckpointError as exc:
        fail(escape(exc.describe()))
    system = open_system()
    try:
        earlier = _json_object(text)
        if earlier is not None:  # a JSON checkpoint of an earlier release
            legacy = checkpoints.check_legacy(system.store, earlier, public)
            _report_legacy(legacy, as_json)
            raise typer.Exit(0 if legacy and all(o.ok for o in legacy) else 1)
        outcome = checkpoints.check(system.store, text, public)
    except Refused as exc:
        fail(f"{escape(str(file))}: {escape(exc.describe())}", 1)
    if as_json:
        emit(_checked(outcome))
    else:
        _report([outcome])
    raise typer.Exit(0 if outcome.ok else UNBRIDGED if outcome.unbridged else 1)


UNBRIDGED = 3
"""``checkpoint verify``'s exit status for a checkpoint that can be neither proved nor disproved
(signed before an epoch record of an earlier release): not 1, which says the log was rewritten."""


def _json_object(text: str) -> dict[str, Any] | None:
    """The JSON object ``text`` is, if it is one (else a signed note, or nothing readable)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _checked(outcome: checkpoints.Outcome) -> CheckpointCheckOut:
    return CheckpointCheckOut(
        ok=outcome.ok,
        chain=outcome.chain,
        checkpoint_size=outcome.then,
        size_now=outcome.now,
        problems=outcome.problems,
        epoch=outcome.epoch,
        unbridged=outcome.unbridged,
    )


def unbridged(outcome: checkpoints.Outcome) -> str:
    """Why a checkpoint signed before an epoch record of an earlier release cannot be checked:
    said as what it is, not as a rewrite (decision 0066)."""
    return N_(
        "cannot be checked: the checkpoint ({chain}, {then} entries) was signed before the "
        "pre-sealing epoch of {date}, whose record, made by an earlier release, names no root of "
        "the clear chain's tree, and that tree was not kept; no rewrite is shown, and none can be "
        "ruled out (check it with the earlier release, on a backup made before sealing)",
        chain=outcome.chain,
        then=outcome.then,
        date=outcome.unbridged,
    )


def _report(outcomes: list[checkpoints.Outcome]) -> None:
    for outcome in outcomes:
        rewritten = escape(i18n.translate(N_("rewritten")))
        for p in outcome.problems:
            out.print(f"[red]{rewritten}[/]: {escape(i18n.translate(p))}", highlight=False)
        if outcome.unbridged:
            out.print(f"[yellow]{escape(i18n.translate(unbridged(outcome)))}[/]", highlight=False)
        if outcome.ok and outcome.epoch:
            said = N_(
                "verified against the pre-sealing epoch of {date}: the checkpoint ({chain}, {then} "
                "entries) is of the chain before it was sealed, and the log now ({now} entries) "
                "extends the sealed chain from the epoch on",
                date=outcome.epoch,
                chain=outcome.chain,
                then=outcome.then,
                now=outcome.now,
            )
            out.print(f"[green]{escape(i18n.translate(said))}[/]", highlight=False)
        elif outcome.ok:
            said = N_(
                "extends the checkpoint: {chain} {then} -> {now}",
                chain=outcome.chain,
                then=outcome.then,
                now=outcome.now,
            )
            out.print(f"[green]{escape(i18n.translate(said))}[/]", highlight=False)


def _report_legacy(outcomes: list[checkpoints.Outcome], as_json: bool) -> None:
    if as_json:
        emit(Listing[CheckpointCheckOut].of_rows(_checked(o) for o in outcomes))
    else:
        _report(outcomes)


@checkpoint_app.command("witnesses")
def checkpoint_witnesses(
    add: Annotated[
        str | None, typer.Option("--add", help="A verifier key, as `socialcredit witness` prints it")
    ] = None,
) -> None:
    """List the witnesses whose cosignatures the log accepts (POST /log/{chain}/cosignature) and
    serves with its checkpoints, from SOCIALCREDIT_HOME/witnesses.txt; ``--add`` adds one."""
    from socialcredit import checkpoints

    home = get_settings().home
    try:
        if add is not None:
            checkpoints.add_witness(home, add)
        known = checkpoints.load_witnesses(home)
    except (OSError, Refused) as exc:
        why = escape(reason(exc))
        fail(f"--add: {why}" if add is not None else why)
    for w in known:
        sys.stdout.write(w.vkey() + "\n")


@checkpoint_app.command("key")
def checkpoint_key(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace the key (the old public one is kept)")
    ] = False,
) -> None:
    """Print the public key that signs checkpoints (PEM) and its signed-note verifier key, to
    publish for outside verifiers and witnesses. ``--rotate`` makes a new key first."""
    from socialcredit import checkpoints

    settings = get_settings()
    try:
        log = (checkpoints.rotate if rotate else checkpoints.signer)(settings.home, settings.log_origin)
    except (OSError, Refused) as exc:
        why = reason(exc)
        fail(escape(f"{settings.home / checkpoints.KEY_FILE}: {why}"))
    sys.stdout.write(checkpoints.public_pem(log.public))
    sys.stdout.write(note.vkey(log.name, log.public) + "\n")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (gzip JSON Lines)")],
    as_json: JsonOpt = False,
) -> None:
    """Write the whole state (every table, one consistent moment) to FILE, with a checksum.
    Refused (exit 1) if a chain is already broken."""
    from socialcredit.backup import BackupError, dump

    system = open_system()
    try:
        summary = dump(system.store, file, system.clock())
    except BackupError as exc:
        fail(escape(exc.describe()), 1)
    except OSError as exc:
        fail("FILE: " + cannot(CANNOT_WRITE, file, exc))
    if as_json:
        emit(BackupOut.of(file, summary))
    else:
        said = N_(
            "backed up {rows} rows ({records} records, {audit} audit entries) to {file}",
            rows=f"{sum(summary.tables.values()):,}",
            records=f"{summary.chains['records']['count']:,}",
            audit=f"{summary.chains['audit']['count']:,}",
            file=str(file),
        )
        out.print(escape(i18n.translate(said)), highlight=False)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `socialcredit backup`")],
    as_json: JsonOpt = False,
) -> None:
    """Restore a backup into the (empty) database: the file's checksum and every hash chain in it
    are verified first; a broken backup is refused and the database left untouched."""
    from socialcredit.backup import BackupError
    from socialcredit.backup import restore as restore_backup

    system = open_system()
    try:
        summary = restore_backup(file, system.store)
    except BackupError as exc:
        fail(escape(exc.describe()))
    if as_json:
        emit(BackupOut.of(file, summary))
    else:
        said = N_(
            "restored {rows} rows from the backup of {created_at}; every chain verified",
            rows=f"{sum(summary.tables.values()):,}",
            created_at=summary.created_at,
        )
        out.print(escape(i18n.translate(said)), highlight=False)


retention_app = typer.Typer(
    help="Erasure that happens on its own: destroy the keys of records past retention and archive.",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(as_json: JsonOpt = False) -> None:
    """Destroy every data key whose records have all passed their retention period plus their
    scheme's archive period and ground no list entry in force (a court listing of ground (1)
    stands until removed). The records then read as erased; `verify` still counts them. `serve`
    runs this once a day (docs/reliability.md). Exports, rescore outputs and public snapshots made
    before an erasure that hold erased records are then deleted (decision 0055)."""
    from dataclasses import asdict

    system = open_system()
    report = system.retention_run()
    if as_json:
        emit(RetentionOut(**asdict(report)))
        return
    out.print(
        i18n.translate(
            N_(
                "erased {records} records under {keys} keys; kept {counting} keys still within "
                "retention or archive and {in_force} grounding an entry in force",
                records=report.erased_records,
                keys=report.erased_keys,
                counting=report.kept_counting,
                in_force=report.kept_in_force,
            )
        ),
        highlight=False,
    )
    out.print(
        i18n.translate(
            N_(
                "purged {files} exports or rescore outputs and {snapshots} public snapshots "
                "holding records erased since they were made",
                files=report.purged_files,
                snapshots=report.dropped_snapshots,
            )
        ),
        highlight=False,
    )
