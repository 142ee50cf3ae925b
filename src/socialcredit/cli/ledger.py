"""Records and subjects in, the ledger out: ``ingest``, ``register``, ``export`` (Parquet for
the engines) and ``rescore`` (the whole population on DuckDB or Spark).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.markup import escape

from socialcredit import formats, i18n
from socialcredit.api.models import IngestOut, RegisterOut
from socialcredit.api.reports import ExportOut, RescoreOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, open_system, out, parse_at, progress_bar, say
from socialcredit.cli.oswords import CANNOT_WRITE, cannot, problem
from socialcredit.cli.subjects import KNOWN_AT_HELP
from socialcredit.i18n import N_, fill
from socialcredit.ledger import IngestResult, Quarantined
from socialcredit.schemes.segments import segmented
from socialcredit.service.records import RegisterResult
from socialcredit.settings import get_settings
from socialcredit.subjects import SUBJECT_FIELDS


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines or Parquet file of records")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet")] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, max=1_000_000, help="Rows per committed chunk")
    ] = 20_000,
    as_json: JsonOpt = False,
) -> None:
    """Ingest an agency file. Every row ends accepted, duplicate or quarantined with a reason.
    Each chunk commits on its own: after a crash, re-running the same file completes it."""
    system = open_system()
    try:
        kind = formats.detect_format(file, fmt)
        total = formats.count_rows(file, kind) if file.is_file() else None
        rows = formats.read_rows(file, kind)
        with progress_bar(i18n.translate(N_("ingesting {file}", file=file.name)), total) as p:
            result = system.ingest(
                rows,
                origin=f"file:{file.name}",
                principal=system.operator(),
                chunk_size=chunk_size,
                progress=lambda n: p.advance(p.task_ids[0], n),
            )
    except formats.FileRefused as exc:
        fail(exc.describe())
    _summary(IngestOut.of(result) if as_json else None, result, INGESTED, INGESTED_MORE)


SHOWN = 20
"""How many quarantined rows ``ingest`` and ``register`` print (``--json`` gives them all)."""
INGESTED = N_(
    "{submitted} rows: [green]{accepted} accepted[/], {duplicate} duplicate, "
    "[yellow]{quarantined} quarantined[/] (batch {batch_id})"
)
INGESTED_MORE = N_("... {n} more quarantined rows are kept with batch {batch_id}")
REGISTERED = N_(
    "{submitted} subjects: {added} added, {updated} updated, {unchanged} unchanged, {quarantined} quarantined"
)
REGISTERED_MORE = N_("... {n} more quarantined rows: --json lists them all")


def _summary(answer: BaseModel | None, result: IngestResult | RegisterResult, told: str, more: str) -> None:
    """What ``ingest`` and ``register`` say of a file, one way for both: with ``--json`` the API's
    answer (``answer``), else the counts (``told``, filled from ``result``'s counts), the first
    :data:`SHOWN` quarantined rows with their reasons and, past those, how many more and where
    (``more``)."""
    if answer is not None:
        emit(answer)
        return
    counts = {f.name: getattr(result, f.name) for f in fields(result) if f.name != "quarantine"}
    say(fill(told, **counts))
    _quarantined(result.quarantine[:SHOWN])
    if result.quarantined > SHOWN:
        line = fill(more, **counts, n=result.quarantined - SHOWN)
        out.print("  " + escape(i18n.translate(line)))


def _quarantined(rows: Sequence[Quarantined]) -> None:
    """Each quarantined row's reasons, stored in English, worded in the command's language."""
    for q in rows:
        reasons = "; ".join(i18n.reword(r) for r in q.reasons)
        if all(str(r).startswith(f"line {q.row_number}: ") for r in q.reasons):
            out.print("  " + escape(reasons))  # a file reader's reasons name their line already
        else:
            out.print(
                "  " + escape(i18n.translate(N_("row {n}: {reasons}", n=q.row_number, reasons=reasons)))
            )


@app.command()
def register(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines or Parquet file of subjects")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register subjects (code, name, sex, district, legal_representative, representative_since):
    each row is added, updated, unchanged or quarantined with a reason."""
    system = open_system()
    try:
        rows = formats.read_rows(file, fmt, SUBJECT_FIELDS)
        result = system.register_rows(rows, principal=system.operator())
    except formats.FileRefused as exc:
        fail(exc.describe())
    _summary(RegisterOut.of(result) if as_json else None, result, REGISTERED, REGISTERED_MORE)


@app.command("export")
def export_ledger_cmd(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory to write: an earlier export of this ledger there gets the records since"
        ),
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Rewrite the whole export, not only the records since the last")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write the ledger as a Parquet dataset partitioned by year of occurrence, with the subjects and
    a manifest (counts, chain head), for `socialcredit rescore` and Spark jobs.
    Into an earlier export of the same ledger, only the records appended since are written."""
    from socialcredit.engines.export import export_ledger, prior_export

    system = open_system()
    total = system.store.head("records")[0]
    earlier = None if full else prior_export(system.store, directory, total)
    todo = total - (int(earlier["chain_count"]) if earlier else 0)
    try:
        with progress_bar(
            i18n.translate(N_("exporting to {directory}", directory=str(directory))), todo
        ) as p:
            result = export_ledger(
                system.store,
                directory,
                progress=lambda n: p.advance(p.task_ids[0], n),
                clock=system.clock,
                full=full,
            )
    except (FileExistsError, NotADirectoryError, PermissionError) as exc:
        # a refusal of ours names the directory itself; the system's reason gets the frame
        fail("DIRECTORY: " + (cannot(CANNOT_WRITE, directory, exc) if exc.errno else escape(problem(exc))))
    if as_json:
        emit(ExportOut.of(result))
    else:
        how = (
            N_("wrote {n} records", n=f"{result.appended:,}")
            if result.appended == result.records
            else N_(
                "appended the {n} records since the last export (generation {generation})",
                n=f"{result.appended:,}",
                generation=result.generation,
            )
        )
        say(
            N_(
                "{how}: {records} records and {subjects} subjects in {directory} (years {years}; "
                "chain head {head}) in {seconds}s",
                how=i18n.translate(how),
                records=f"{result.records:,}",
                subjects=f"{result.subjects:,}",
                directory=escape(str(result.directory)),
                years=", ".join(map(str, result.years)) or i18n.translate(N_("none")),
                head=result.chain_head[:16],
                seconds=f"{result.seconds:.1f}",
            )
        )


@app.command()
def rescore(
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark (local mode or spark-submit)")
    ] = "duckdb",
    at: Annotated[str | None, typer.Option(help="Score as of this date/time (default: now)")] = None,
    known_at: Annotated[str | None, typer.Option(help=KNOWN_AT_HELP)] = None,
    source: Annotated[
        Path | None, typer.Option("--from", help="An export directory (default: export the ledger first)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", help="Where to write the scores (default: in the export)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rescore the whole population under every scored scheme on DuckDB or Spark; write every
    subject's score and grade as Parquet and print the grade distribution per scheme."""
    from socialcredit import engines
    from socialcredit.engines.export import export_ledger, register_output
    from socialcredit.rules.days import day_of

    if engine not in ("duckdb", "spark"):
        fail(i18n.translate(N_("--engine: {engine} is not one of duckdb, spark", engine=repr(engine))))
    as_of, known = parse_at(at), parse_at(known_at, "--known-at")
    system = open_system()
    as_of = as_of or system.clock()
    if source is not None:
        try:
            engines.read_manifest(source)
        except (FileNotFoundError, ValueError) as exc:
            fail(
                i18n.translate(
                    N_("--from: {problem} (run `socialcredit export DIR` first)", problem=problem(exc))
                )
            )
    steps = 3 if source is not None else 4
    with progress_bar(i18n.translate(N_("rescoring on {engine}", engine=engine)), steps) as p:
        task = p.task_ids[0]
        if source is None:
            source = get_settings().home / "export"
            export_ledger(system.store, source, clock=system.clock)
            p.advance(task)
        target = output or source / ("scores.parquet" if engine == "duckdb" else "scores-spark")
        try:
            runner = engines.engine(engine)
        except ValueError as exc:  # a DuckDB setting from the environment it refused (0103)
            from socialcredit.engines.duck import SettingRefused

            if not isinstance(exc, SettingRefused):
                raise
            variable = f"SOCIALCREDIT_DUCKDB_{exc.setting.upper()}"
            refused = N_(
                "{variable}={value}: DuckDB refused it: {problem}",
                variable=variable,
                value=exc.value,
                problem=exc.problem,
            )
            fail(i18n.translate(refused))
        except ImportError as exc:
            fail(
                i18n.translate(
                    N_(
                        "--engine spark needs `pip install 'socialcredit[spark]'` and Java 17: {problem}",
                        problem=str(exc),
                    )
                )
            )
        in_force = system.registry.at(day_of(as_of))  # the versions in force that day (0038)
        result = engines.rescore(
            runner,
            source,
            in_force.scored(),
            as_of,
            target,
            list_schemes=list(in_force.schemes.values()),
            progress=lambda _stage: p.advance(task),
            holidays=system.holidays,
            known_at=known,
            segments=segmented(in_force),
        )
        runner.close()
    for written in (result.output, result.lists_output):
        if written is not None:  # purged by the retention run once it holds erased content
            register_output(system.store, Path(written), source, system.clock())
    if as_json:
        emit(RescoreOut.of(result))
        return
    said = [
        N_(
            "rescored {subjects} subjects ({records} records) on {engine} as of {as_of}",
            subjects=f"{result.subjects:,}",
            records=f"{result.records:,}",
            engine=result.engine,
            as_of=f"{result.as_of:%Y-%m-%d %H:%M}",
        )
    ]
    if result.known_at:
        said.append(N_("as known at {known_at}", known_at=f"{result.known_at:%Y-%m-%d %H:%M}"))
    said.append(
        N_("in {seconds}s; scores in {output}", seconds=f"{result.seconds:.1f}", output=result.output)
    )
    if result.lists_output:
        said.append(N_("list entries in {output}", output=result.lists_output))
    out.print(escape(" ".join(i18n.translate(x) for x in said)), highlight=False)
    for list_id, by_status in result.lists.items():
        held = result.suspended.get(list_id)
        counts = ", ".join(f"{i18n.reword(k)} {n:,}" for k, n in by_status.items())
        line = i18n.translate(N_("list {list_id}: {counts}", list_id=list_id, counts=counts))
        if held:
            line += " " + i18n.translate(N_("({n} suspended by an open objection)", n=f"{held:,}"))
        out.print("  " + escape(line), highlight=False)
    for what, why in {**result.skipped, **result.lists_refused}.items():
        not_done = N_("not rescored: {what}: {why}", what=what, why=i18n.reword(why))
        out.print("  " + escape(i18n.translate(not_done)), highlight=False)
    for scheme_id, by_kind in result.grades.items():
        for kind, dist in by_kind.items():
            total = sum(dist.values()) or 1
            out.print(
                f"  {scheme_id} ({i18n.reword(kind)}): "
                + ", ".join(f"{g} {n:,} ({100 * n / total:.1f}%)" for g, n in dist.items()),
                highlight=False,
            )
