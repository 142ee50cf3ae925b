"""Proving the records were not altered: ``verify`` (every hash chain), signed ``checkpoint``s
for an outside party, and whole-state ``backup`` and ``restore``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from socialcredit import i18n
from socialcredit.api.models import VerifyOut
from socialcredit.api.reports import BackupOut, CheckpointCheckOut, CheckpointOut, RetentionOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, open_system, out
from socialcredit.i18n import N_
from socialcredit.settings import get_settings


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
            for p in found:
                out.print(f"[red]{chain}[/]: {p}", highlight=False)
        if not bad:
            out.print(f"[green]intact[/]: {n_records} records and {n_audit} audit entries verified")
    raise typer.Exit(1 if bad else 0)


checkpoint_app = typer.Typer(
    help="Signed checkpoints of the hash chains, for an outside party to verify later.", no_args_is_help=True
)
app.add_typer(checkpoint_app, name="checkpoint")


@checkpoint_app.command("export")
def checkpoint_export(
    file: Annotated[Path, typer.Argument(help="Where to write the checkpoint (JSON)")],
    as_json: JsonOpt = False,
) -> None:
    """Sign every chain's length and last hash with the installation's Ed25519 key (created in
    SOCIALCREDIT_HOME on first use) and write them to FILE. Refused (exit 1) if a chain is broken."""
    from socialcredit import checkpoints

    system = open_system()
    broken = {k: v for k, v in system.verify().items() if v}
    if broken:
        fail(f"the {', '.join(broken)} chain is broken; run `socialcredit verify` (nothing signed)", 1)
    key = checkpoints.load_or_create_key(get_settings().home)
    data = checkpoints.make(system.store, key, system.clock())
    try:
        file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"FILE: cannot write {file}: {exc}")
    if as_json:  # the checkpoint as written to FILE
        emit(CheckpointOut.model_validate(data))
        return
    chains = ", ".join(f"{k} {v['count']}" for k, v in data["chains"].items())
    out.print(
        f"checkpoint of {chains} signed by key {data['key_fingerprint']} written to {file}", highlight=False
    )


@checkpoint_app.command("verify")
def checkpoint_verify(
    file: Annotated[Path, typer.Argument(help="A checkpoint written by `checkpoint export`")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="Trust only this PEM public key (recommended)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Prove the current chains still extend the checkpoint: signature valid, each entry at the
    checkpointed position unchanged, every chain intact. Exit 1 naming what was rewritten."""
    from socialcredit import checkpoints

    try:
        data = checkpoints.read(file)
        trusted = checkpoints.load_public_key(public_key) if public_key else None
    except checkpoints.CheckpointError as exc:
        fail(str(exc))
    system = open_system()
    try:
        outcome = checkpoints.verify(system.store, data, trusted)
    except checkpoints.CheckpointError as exc:
        fail(f"{file}: {exc}", 1)
    if as_json:
        emit(
            CheckpointCheckOut(
                ok=outcome.ok,
                created_at=outcome.created_at,
                key_fingerprint=outcome.key_fingerprint,
                checkpoint=data["chains"],
                now=outcome.chains,
                problems=outcome.problems,
            )
        )
    else:
        for p in outcome.problems:
            out.print(f"[red]rewritten[/]: {p}", highlight=False)
        if outcome.ok:
            out.print(
                f"[green]extends[/] the checkpoint of {outcome.created_at} "
                f"(key {outcome.key_fingerprint}): "
                + ", ".join(
                    f"{k} {v['count']} -> {outcome.chains[k]['count']}" for k, v in data["chains"].items()
                ),
                highlight=False,
            )
    raise typer.Exit(0 if outcome.ok else 1)


@checkpoint_app.command("key")
def checkpoint_key() -> None:
    """Print the public key that signs checkpoints (PEM), to publish for outside verifiers."""
    from socialcredit import checkpoints

    key = checkpoints.load_or_create_key(get_settings().home)
    sys.stdout.write(checkpoints.public_pem(key))


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
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"FILE: cannot write {file}: {exc}")
    if as_json:
        emit(BackupOut.of(file, summary))
    else:
        out.print(
            f"backed up {sum(summary.tables.values()):,} rows "
            f"({summary.chains['records']['count']:,} records, "
            f"{summary.chains['audit']['count']:,} audit entries) "
            f"to {file}",
            highlight=False,
        )


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
        fail(str(exc))
    if as_json:
        emit(BackupOut.of(file, summary))
    else:
        out.print(
            f"restored {sum(summary.tables.values()):,} rows from the backup of {summary.created_at}; "
            "every chain verified",
            highlight=False,
        )


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
    runs this once a day (docs/reliability.md)."""
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
