"""The command line: the whole core from a terminal, each command with ``--json`` for scripts.

Bad input exits with status 2 and one clear line naming what is wrong; never a stack trace.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from socialcredit import access, codes, formats, inforce
from socialcredit.schemes.lint import lint_file
from socialcredit.schemes.loader import Registry, SchemeError
from socialcredit.schemes.safeguards import SafeguardsFailed
from socialcredit.scoring.result import signed_points
from socialcredit.service import NotFound, System
from socialcredit.settings import Settings, get_settings
from socialcredit.store import Store
from socialcredit.subjects import SUBJECT_FIELDS

app = typer.Typer(
    help="socialcredit: an open, auditable social credit system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False, indent=2) + "\n")


def load_registry(settings: Settings) -> Registry:
    """The shipped schemes plus any ``*.yaml`` in ``$SOCIALCREDIT_HOME/schemes``, refused
    (``SafeguardsFailed``) if any fails the safeguards (:mod:`socialcredit.inforce`)."""
    return inforce.load_registry(settings)


SAFEGUARDS_FAILED = (
    "a scheme in force fails the safeguards, so nothing that serves, scores, decides or ingests "
    "starts until it is fixed or removed (`socialcredit lint` lists every finding):"
)


def open_system(url: str | None = None) -> System:
    settings = get_settings()
    try:
        registry = load_registry(settings)
    except SafeguardsFailed as exc:
        fail(f"{SAFEGUARDS_FAILED}\n{escape(str(exc))}")
    except SchemeError as exc:
        fail(f"a scheme in force is invalid:\n{exc}")
    try:
        store = Store(url or settings.url())
    except Exception as exc:  # a database that cannot be opened is the user's to fix
        fail(f"cannot open the database {url or settings.url()}: {exc.__class__.__name__}: {exc}")
    try:
        holidays = settings.calendar().holidays
    except (OSError, ValueError) as exc:
        fail(f"holidays: {exc}")
    return System(store, registry, holidays=holidays)


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as p:
        p.add_task(description, total=total)
        yield p


def _parse_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"--at: {value!r} is not an ISO date or timestamp like 2025-06-30")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _code(value: str) -> codes.Code:
    try:
        return codes.validate(value)
    except codes.CodeError as exc:
        fail(f"CODE: invalid {exc.part}: {exc}")


# ---------------------------------------------------------------------------------- commands


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
        with progress_bar(f"ingesting {file.name}", total) as p:
            result = system.ingest(
                rows,
                origin=f"file:{file.name}",
                principal=system.operator(),
                chunk_size=chunk_size,
                progress=lambda n: p.advance(p.task_ids[0], n),
            )
    except formats.FileRefused as exc:
        fail(str(exc))
    data = {
        "batch_id": result.batch_id,
        "submitted": result.submitted,
        "accepted": result.accepted,
        "duplicate": result.duplicate,
        "quarantined": result.quarantined,
        "quarantine": [{"row": q.row_number, "reasons": list(q.reasons)} for q in result.quarantine],
    }
    if as_json:
        emit(data)
        return
    out.print(
        f"{result.submitted} rows: [green]{result.accepted} accepted[/], "
        f"{result.duplicate} duplicate, [yellow]{result.quarantined} quarantined[/] "
        f"(batch {result.batch_id})"
    )
    for q in result.quarantine[:20]:
        out.print(f"  row {q.row_number}: {'; '.join(q.reasons)}", highlight=False)
    if result.quarantined > 20:
        out.print(
            f"  ... {result.quarantined - 20} more quarantined rows are kept with batch {result.batch_id}"
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
        fail(str(exc))
    data = {k: getattr(result, k) for k in ("submitted", "added", "updated", "unchanged", "quarantined")}
    data["quarantine"] = [{"row": q.row_number, "reasons": list(q.reasons)} for q in result.quarantine]
    if as_json:
        emit(data)
        return
    out.print(
        f"{result.submitted} subjects: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.quarantined} quarantined"
    )
    for q in result.quarantine[:20]:
        out.print(f"  row {q.row_number}: {'; '.join(q.reasons)}", highlight=False)


@app.command()
def score(
    code: Annotated[str, typer.Argument(help="Resident ID number or Unified Social Credit Code")],
    at: Annotated[str | None, typer.Option(help="Score as of this date/time (default: now)")] = None,
    scheme: Annotated[str | None, typer.Option(help="Only this scheme")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A subject's scores and grades, each explained record by record, and its list entries."""
    c = _code(code)
    system = open_system()
    if scheme is not None and scheme not in system.registry.schemes:
        fail(f"--scheme: no scheme {scheme!r} (have: {', '.join(system.registry.schemes)})")
    view = system.read(c.value, system.operator(), purpose="command line: score", as_of=_parse_at(at))
    scores = [s for s in view.scores.values() if scheme is None or s.scheme == scheme]
    if as_json:
        emit(
            {
                "code": view.code,
                "kind": view.kind,
                "as_of": view.as_of,
                "scores": [
                    {
                        "scheme": s.scheme,
                        "score": s.score,
                        "grade": s.grade,
                        "base": s.base,
                        "model": s.kind,
                        "start": s.start,
                        "explanation": [asdict(c) for c in s.contributions],
                        "factors": [asdict(f) for f in s.factors],
                        "adjustments": [asdict(a) for a in s.adjustments],
                        "reasons": [asdict(r) for r in s.reasons],
                    }
                    for s in scores
                ],
                "lists": [
                    {
                        "list": e.qualified_id,
                        "status": e.status,
                        "since": e.since,
                        "planned_end": e.planned_end,
                        "ended_on": e.ended_on,
                        "end_reason": e.end_reason,
                        "removal_due": e.removal_due,
                        "days_late": e.days_late,
                        "via": e.via,
                        "grounds": list(e.grounds),
                        "extended_by": e.extended_by,
                        "revised": e.revised,
                    }
                    for e in view.entries
                ],
            }
        )
        return
    out.print(f"[bold]{view.code}[/] ({view.kind}) as of {view.as_of:%Y-%m-%d %H:%M} UTC", highlight=False)
    for s in scores:
        if s.kind == "tier":
            title = f"{s.scheme}: rated {s.grade} (a tier model: no points; records it read below)"
        else:
            title = f"{s.scheme}: {s.score} points, grade {s.grade}"
        t = Table(title=title, title_justify="left")
        for col in ("occurred", "item", "source", "points", "counts until", "record"):
            t.add_column(col)
        if s.start is not None:
            start = "base" if s.kind == "points" else "minimum (the factors add to it)"
            t.add_row("", start, "", str(s.start), "", "")
        for f in s.factors:
            state = f"weight {f.weight:g}" if f.enabled else "off"
            t.add_row("", f"factor {f.title} ({state}): value {f.value:g}", "", f"{f.points:.2f}", "", "")
        # a clamp or a rounding is a line of its own, set apart, right after the lines it adjusts
        # (a factor model's records add to their factors' values, not to the score)
        adjustments = [("", a.text, "", signed_points(a.points), "", "") for a in s.adjustments]
        for row in adjustments if s.kind == "factor" else ():
            t.add_row(*row, style="italic")
        for line in s.contributions:
            t.add_row(
                line.occurred_on.isoformat(),
                line.title,
                line.source,
                f"{line.points:+d}",
                line.counts_until.isoformat(),
                line.record_id[:12],
            )
        for row in adjustments if s.kind == "points" else ():
            t.add_row(*row, style="italic")
        out.print(t)
        for r in s.reasons:
            out.print(f"  reason: {r.text}", highlight=False)
    for e in view.entries:
        via = f" via {e.via}" if e.via else ""
        end = f"planned end {e.planned_end}" if e.planned_end else "no fixed end (until a removal ground)"
        late = f", {e.days_late} days after removal was due ({e.removal_due})" if e.days_late else ""
        out.print(
            f"list {e.qualified_id}{via}: {e.status} since {e.since}, {end}"
            + (f", ended {e.ended_on} ({e.end_reason}){late}" if e.ended_on else ""),
            highlight=False,
        )
        if e.revised:
            out.print(f"  revised: {e.revised}", highlight=False)


@app.command()
def check(
    code: Annotated[str, typer.Argument(help="The subject's identity code")],
    measure: Annotated[str, typer.Argument(help="Measure id, e.g. no-flights")],
    purpose: Annotated[
        str, typer.Option(help="Why you ask (written to the audit log)")
    ] = "command line check",
    as_json: JsonOpt = False,
) -> None:
    """The relying party's question: may CODE receive MEASURE now? Exit 0 allow, 1 deny."""
    c = _code(code)
    system = open_system()
    try:
        d = system.check(c.value, measure, system.operator(), purpose=purpose)
    except NotFound as exc:
        fail(f"MEASURE: {exc} (have: {', '.join(sorted(system.registry.measures()))})")
    if as_json:
        emit(
            {
                "subject": d.subject,
                "measure": d.measure,
                "answer": d.answer,
                "at": d.at,
                "reasons": [
                    {
                        "basis": r.basis,
                        "text": r.text,
                        "list": r.list_id,
                        "since": r.since,
                        "until": r.until,
                        "legal_basis": r.legal_basis,
                        "how_to_resolve": r.how_to_resolve,
                    }
                    for r in d.reasons
                ],
            }
        )
    else:
        colour = "green" if d.allowed else "red"
        out.print(f"[bold {colour}]{d.answer.upper()}[/] {d.measure} for {d.subject}", highlight=False)
        for r in d.reasons:
            out.print(f"  - {r.text}", highlight=False)
            if r.legal_basis:
                out.print(f"    legal basis: {r.legal_basis}", highlight=False)
            if r.how_to_resolve and not d.allowed:
                out.print(f"    to resolve: {r.how_to_resolve}", highlight=False)
    raise typer.Exit(0 if d.allowed else 1)


@app.command()
def verify(as_json: JsonOpt = False) -> None:
    """Recompute the ledger's and the audit log's hash chains; name every break. Exit 1 if any."""
    system = open_system()
    problems = system.verify()
    n_records, n_audit = system.store.head("records")[0], system.store.head("audit")[0]
    bad = any(problems.values())
    if as_json:
        emit(
            {
                "ok": not bad,
                "records": n_records,
                "audit_entries": n_audit,
                "problems": {
                    k: [{"seq": p.seq, "record_id": p.record_id, "problem": p.problem} for p in v]
                    for k, v in problems.items()
                },
            }
        )
    else:
        for chain, found in problems.items():
            for p in found:
                out.print(f"[red]{chain}[/]: {p}", highlight=False)
        if not bad:
            out.print(f"[green]intact[/]: {n_records} records and {n_audit} audit entries verified")
    raise typer.Exit(1 if bad else 0)


@app.command()
def lint(
    file: Annotated[
        Path | None, typer.Argument(help="A scheme YAML file (default: every scheme in force)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a scheme: valid, every item with a legal basis and a category that may be scored,
    nothing about political expression, religion, petitioning, association, private life or
    contacts, no measure on a third party without its own basis. The same rules refuse a scheme in
    force at load. Exit 1 on errors."""
    settings = get_settings()
    try:
        if file is not None:
            findings = [(str(file), f) for f in lint_file(file, inforce.vocabulary(settings))]
        else:
            findings = inforce.findings(inforce.load(settings))
    except SchemeError as exc:
        fail(str(exc))
    errors = [f for _, f in findings if f.level == "error"]
    if as_json:
        emit({"ok": not errors, "findings": [{"file": src, **asdict(f)} for src, f in findings]})
    else:
        for src, f in findings:
            colour = "red" if f.level == "error" else "yellow"
            where = f"{src}: {f.where}" if file is None else f.where
            out.print(f"[{colour}]{f.level}[/] {escape(f'{where} [{f.rule}]: {f.message}')}", highlight=False)
        what = str(file) if file is not None else "the schemes in force"
        out.print(f"{what}: {len(errors)} errors, {len(findings) - len(errors)} warnings", highlight=False)
    raise typer.Exit(1 if errors else 0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
) -> None:
    """Serve the HTTP API."""
    settings = get_settings()
    system = open_system()
    run_server(system, host or settings.host, port or settings.port)


def run_server(system: System, host: str, port: int) -> None:
    import uvicorn

    from socialcredit.api import create_app

    err.print(
        f"serving the portal on http://{host}:{port}/portal/ and the API on http://{host}:{port}/ "
        "(docs at /docs); Ctrl-C stops"
    )
    uvicorn.run(create_app(system), host=host, port=port, log_level="warning")


@app.command()
def demo(
    residents: Annotated[int, typer.Option(min=100, max=10_000_000, help="City size")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same city")] = 2014,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after the summary")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Replace a previous demo database")] = False,
    port: Annotated[int | None, typer.Option(help="Port to serve on")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a synthetic city (residents, organisations, 20 agencies, ~10 records per resident over
    three years), ingest it, score it, list it, print a summary, then serve the API."""
    from socialcredit.demo import origin_of, run_demo

    settings = get_settings()
    system = open_system()
    url = settings.url()
    origins = system.store.batches_by_origin()
    mine = origin_of(residents, seed)
    only_demo = all(o.startswith("demo city") for o in origins)
    if fresh and origins:
        if not only_demo:
            fail(f"--fresh: the database {url} holds more than a demo; it will not be deleted")
        system.store.reset()
        origins = {}
    reuse = mine in origins and set(origins) == {mine}
    if origins and not reuse:
        fail(
            f"the database {url} already holds other data ({', '.join(list(origins)[:3])}); "
            "run the demo with another SOCIALCREDIT_HOME, or --fresh to replace a previous demo"
        )
    if reuse:
        err.print(f"the city (residents={residents}, seed={seed}) is already in {url}; reusing it")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as p:
        ing = p.add_task("ingesting records", total=None)
        sco = p.add_task("scoring and listing", total=None, start=False)

        def on_ingest(n: int, total: int) -> None:
            p.update(ing, total=max(total, p.tasks[ing].completed + n), advance=n)

        def on_score(n: int, total: int) -> None:
            if not p.tasks[sco].started:
                p.start_task(sco)
            p.update(sco, total=total, advance=n)

        result = run_demo(
            system, residents=residents, seed=seed, ingest_progress=on_ingest, score_progress=on_score
        )
        p.update(ing, total=p.tasks[ing].completed)
    operator = system.create_key("operator", "demo-operator", name="demo operator")
    airline = system.create_key("relying_party", "airlines", name="demo airline")
    examples = result.summary.examples
    subject_code = next(iter(examples.get("court-dishonest-debtors/dishonest-debtors", [])), None) or next(
        c for v in examples.values() for c in v
    )
    subject = system.create_key("subject", subject_code, name="demo subject")
    s = result.summary
    data = {
        "database": url,
        "reused": reuse,
        "residents": residents,
        "organisations": len(result.city.subjects) - residents,
        "agencies": len(result.city.agencies),
        "submitted": result.ingest.submitted,
        "accepted": result.ingest.accepted,
        "duplicate": result.ingest.duplicate,
        "quarantined": result.ingest.quarantined,
        "as_of": s.as_of,
        "grades": s.grades,
        "lists": s.lists,
        "examples": examples,
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "keys": {
            "operator": operator.token,
            "relying_party (airlines)": airline.token,
            f"subject {subject_code}": subject.token,
        },
    }
    if as_json:
        emit(data)
    else:
        out.print(
            f"[bold]A synthetic city[/]: {residents:,} residents, {data['organisations']:,} organisations, "
            f"{data['agencies']} agencies; {s.records:,} records "
            f"({result.ingest.accepted:,} accepted, {result.ingest.duplicate:,} duplicate, "
            f"{result.ingest.quarantined:,} quarantined) as of {s.as_of:%Y-%m-%d}"
        )
        for scheme_id, dist in s.grades.items():
            total = sum(dist.values()) or 1
            out.print(
                f"  {scheme_id} grades: "
                + ", ".join(f"{g} {n:,} ({100 * n / total:.1f}%)" for g, n in dist.items()),
                highlight=False,
            )
        for list_id, n in s.lists.items():
            out.print(f"  on {list_id}: {n:,}", highlight=False)
        out.print("Subjects to look up:")
        for label, found in examples.items():
            out.print(f"  {label}: {', '.join(found)}", highlight=False)
        out.print("Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()))
        out.print("Keys (shown once):", highlight=False)
        for label, token in data["keys"].items():  # type: ignore[attr-defined]
            out.print(f"  {label}: {token}", highlight=False)
        out.print(
            f"Try: socialcredit score {subject_code}   |   socialcredit check {subject_code} no-flights",
            highlight=False,
        )
    if not no_serve:
        import threading

        # the public pages need today's population scan; warm it while the server starts
        threading.Thread(target=system.scan, name="warm-scan", daemon=True).start()
        run_server(system, settings.host, port or settings.port)


# ---------------------------------------------------------------------------------- keys


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Argument(help="operator, agency, relying_party, subject or auditor")],
    principal: Annotated[
        str | None,
        typer.Argument(
            help="agency id, implementer name, identity code, or for an operator the person who "
            "holds the key (required: case decisions are recorded against that person)"
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key")] = "",
    days: Annotated[int | None, typer.Option(help="Expire after this many days")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key; the token is printed once and only its hash is stored."""
    if role not in access.ROLES:
        fail(f"ROLE: {role!r} is not one of {', '.join(access.ROLES)}")
    system = open_system()
    expires = system.clock() + dt.timedelta(days=days) if days else None
    try:
        key = system.create_key(role, principal, name=name, expires_at=expires)
    except ValueError as exc:
        fail(str(exc).replace("principal:", "PRINCIPAL:"))
    if as_json:
        emit(
            {
                "key_id": key.key_id,
                "role": key.role,
                "principal": key.principal,
                "token": key.token,
                "expires_at": key.expires_at,
            }
        )
    else:
        out.print(f"key {key.key_id} ({key.role}{' ' + key.principal if key.principal else ''}):")
        out.print(key.token, highlight=False)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys (never their tokens)."""
    system = open_system()
    rows = system.store.list_keys()
    if as_json:
        emit(
            [
                {
                    "key_id": k.key_id,
                    "role": k.role,
                    "principal": k.principal,
                    "name": k.name,
                    "created_at": k.created_at,
                    "expires_at": k.expires_at,
                    "revoked_at": k.revoked_at,
                }
                for k in rows
            ]
        )
        return
    t = Table("key", "role", "principal", "name", "created", "expires", "revoked")
    for k in rows:
        t.add_row(
            k.key_id,
            k.role,
            k.principal or "",
            k.name,
            f"{k.created_at:%Y-%m-%d}",
            f"{k.expires_at:%Y-%m-%d}" if k.expires_at else "",
            f"{k.revoked_at:%Y-%m-%d}" if k.revoked_at else "",
        )
    out.print(t)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id")], as_json: JsonOpt = False) -> None:
    """Revoke a key at once."""
    system = open_system()
    if not system.store.revoke_key(key_id, system.clock()):
        fail(f"KEY_ID: no active key {key_id!r}")
    if as_json:
        emit({"revoked": key_id})
    else:
        out.print(f"revoked {key_id}")


# ---------------------------------------------------------------------------------- engines


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
        with progress_bar(f"exporting to {directory}", todo) as p:
            result = export_ledger(
                system.store,
                directory,
                progress=lambda n: p.advance(p.task_ids[0], n),
                clock=system.clock,
                full=full,
            )
    except (FileExistsError, NotADirectoryError, PermissionError) as exc:
        fail(f"DIRECTORY: {exc}")
    data = {
        "directory": str(result.directory),
        "records": result.records,
        "appended": result.appended,
        "generation": result.generation,
        "subjects": result.subjects,
        "years": result.years,
        "chain_count": result.chain_count,
        "chain_head": result.chain_head,
        "seconds": round(result.seconds, 3),
    }
    if as_json:
        emit(data)
    else:
        how = (
            f"wrote {result.appended:,} records"
            if result.appended == result.records
            else f"appended the {result.appended:,} records since the last export "
            f"(generation {result.generation})"
        )
        out.print(
            f"{how}: {result.records:,} records and {result.subjects:,} subjects in {result.directory} "
            f"(years {', '.join(map(str, result.years)) or 'none'}; chain head {result.chain_head[:16]}) "
            f"in {result.seconds:.1f}s",
            highlight=False,
        )


@app.command()
def rescore(
    engine: Annotated[
        str, typer.Option(help="duckdb (embedded) or spark (local mode or spark-submit)")
    ] = "duckdb",
    at: Annotated[str | None, typer.Option(help="Score as of this date/time (default: now)")] = None,
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
    from socialcredit.engines.export import export_ledger

    if engine not in ("duckdb", "spark"):
        fail(f"--engine: {engine!r} is not one of duckdb, spark")
    as_of = _parse_at(at)
    system = open_system()
    as_of = as_of or system.clock()
    if source is not None:
        try:
            engines.read_manifest(source)
        except (FileNotFoundError, ValueError) as exc:
            fail(f"--from: {exc} (run `socialcredit export DIR` first)")
    steps = 3 if source is not None else 4
    with progress_bar(f"rescoring on {engine}", steps) as p:
        task = p.task_ids[0]
        if source is None:
            source = get_settings().home / "export"
            export_ledger(system.store, source, clock=system.clock)
            p.advance(task)
        target = output or source / ("scores.parquet" if engine == "duckdb" else "scores-spark")
        try:
            runner = engines.engine(engine)
        except ImportError as exc:
            fail(f"--engine spark needs `pip install 'socialcredit[spark]'` and Java 17: {exc}")
        result = engines.rescore(
            runner,
            source,
            system.registry.scored(),
            as_of,
            target,
            list_schemes=list(system.registry.schemes.values()),
            progress=lambda _stage: p.advance(task),
            holidays=system.holidays,
        )
        runner.close()
    data = {
        "engine": result.engine,
        "as_of": result.as_of,
        "subjects": result.subjects,
        "records": result.records,
        "grades": result.grades,
        "output": result.output,
        "seconds": round(result.seconds, 3),
        "stages": {k: round(v, 3) for k, v in result.stages.items()},
        "ledger": dict(result.ledger),
        "skipped": result.skipped,
        "lists": result.lists,
        "lists_output": result.lists_output,
        "lists_refused": result.lists_refused,
        "lists_suspended": result.suspended,
    }
    if as_json:
        emit(data)
        return
    out.print(
        f"rescored {result.subjects:,} subjects ({result.records:,} records) on {result.engine} as of "
        f"{result.as_of:%Y-%m-%d %H:%M} in {result.seconds:.1f}s; scores in {result.output}"
        + (f", list entries in {result.lists_output}" if result.lists_output else ""),
        highlight=False,
    )
    for list_id, by_status in result.lists.items():
        held = result.suspended.get(list_id)
        out.print(
            f"  list {list_id}: "
            + ", ".join(f"{k} {n:,}" for k, n in by_status.items())
            + (f" ({held:,} suspended by an open objection)" if held else ""),
            highlight=False,
        )
    for what, why in {**result.skipped, **result.lists_refused}.items():
        out.print(f"  not rescored: {what}: {why}", highlight=False)
    for scheme_id, by_kind in result.grades.items():
        for kind, dist in by_kind.items():
            total = sum(dist.values()) or 1
            out.print(
                f"  {scheme_id} ({kind}): "
                + ", ".join(f"{g} {n:,} ({100 * n / total:.1f}%)" for g, n in dist.items()),
                highlight=False,
            )


@keys_app.command("rotate")
def keys_rotate(
    key_id: Annotated[str, typer.Argument(help="The key id")],
    days: Annotated[int | None, typer.Option(help="Expire after this many days (default: as before)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a key by a new token for the same role and principal; the old one is revoked at once."""
    system = open_system()
    now = system.clock()
    try:
        new = system.store.rotate_key(key_id, now, expires_at=now + dt.timedelta(days=days) if days else True)
    except ValueError as exc:
        fail(f"KEY_ID: {exc}")
    if new is None:
        fail(f"KEY_ID: no active key {key_id!r}")
    if as_json:
        emit(
            {
                "revoked": key_id,
                "key_id": new.key_id,
                "role": new.role,
                "principal": new.principal,
                "token": new.token,
                "expires_at": new.expires_at,
            }
        )
    else:
        out.print(
            f"revoked {key_id}; key {new.key_id} ({new.role}{' ' + new.principal if new.principal else ''}):"
        )
        out.print(new.token, highlight=False)


# ---------------------------------------------------------------------------------- checkpoints

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
    if as_json:
        emit(data)
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
            {
                "ok": outcome.ok,
                "created_at": outcome.created_at,
                "key_fingerprint": outcome.key_fingerprint,
                "checkpoint": data["chains"],
                "now": outcome.chains,
                "problems": outcome.problems,
            }
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


# ---------------------------------------------------------------------------------- backup


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
    data = {
        "file": str(file),
        "created_at": summary.created_at,
        "tables": summary.tables,
        "chains": summary.chains,
    }
    if as_json:
        emit(data)
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
    data = {
        "file": str(file),
        "created_at": summary.created_at,
        "tables": summary.tables,
        "chains": summary.chains,
    }
    if as_json:
        emit(data)
    else:
        out.print(
            f"restored {sum(summary.tables.values()):,} rows from the backup of {summary.created_at}; "
            "every chain verified",
            highlight=False,
        )


def main() -> None:
    app()


# The due-process and disclosure command groups register themselves on `app`.
from socialcredit import cli_cases  # noqa: E402, F401
from socialcredit import cli_sim as cli_sim  # noqa: E402, F401  (registers `simulate`)
