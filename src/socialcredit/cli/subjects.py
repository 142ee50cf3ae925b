"""A subject's answers: ``score`` (every score explained record by record, and the list
entries) and ``check`` (the relying party's question, exit 0 allow, 1 deny).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from socialcredit import i18n
from socialcredit.api.decisionmodels import DecisionOut, ReproductionOut
from socialcredit.api.models import SubjectOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, open_system, out, parse_at, valid_code
from socialcredit.errors import SocialCreditError
from socialcredit.schemes import titles
from socialcredit.scoring.result import signed_points
from socialcredit.service import NotFound, System
from socialcredit.verdicts import verdict

AT_HELP = (
    "Valid time: answer for this date/time (default now); a bare date means the end of that day "
    "in China Standard Time"
)
KNOWN_AT_HELP = (
    "Knowledge time: answer from what the system had received by then (default now); a bare "
    "date means the end of that day in China Standard Time"
)


@app.command()
def score(
    code: Annotated[str, typer.Argument(help="Resident ID number or Unified Social Credit Code")],
    at: Annotated[str | None, typer.Option(help=AT_HELP)] = None,
    known_at: Annotated[str | None, typer.Option(help=KNOWN_AT_HELP)] = None,
    scheme: Annotated[str | None, typer.Option(help="Only this scheme")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A subject's scores and grades, each explained record by record, and its list entries."""
    c = valid_code(code)
    system = open_system()
    if scheme is not None and scheme not in system.registry.schemes:
        fail(f"--scheme: no scheme {scheme!r} (have: {', '.join(system.registry.schemes)})")
    view = system.read(
        c.value,
        system.operator(),
        purpose="command line: score",
        as_of=parse_at(at),
        known_at=parse_at(known_at, "--known-at"),
    )
    scores = [s for s in view.scores.values() if scheme is None or s.scheme == scheme]
    if as_json:  # as GET /subjects/{code} answers an operator
        emit(
            SubjectOut.of(dataclasses.replace(view, scores={s.scheme: s for s in scores}), mask_others=False)
        )
        return
    known = f", as known at {parse_at(known_at, '--known-at'):%Y-%m-%d %H:%M} UTC" if known_at else ""
    out.print(
        f"[bold]{view.code}[/] ({view.kind}) as of {view.as_of:%Y-%m-%d %H:%M} UTC{known}", highlight=False
    )
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
                titles.title_of("item", line.item, line.title, s.scheme),  # Chinese under --lang zh-CN
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
    for e in view.ended_entries:  # nothing is erased: what was in force, and what ended it
        via = f" via {e.via}" if e.via else ""
        out.print(f"list {e.qualified_id}{via}: ended, since {e.since}: {e.end_reason}", highlight=False)
    for x in view.ended_records:
        out.print(f"record {x.record.record_id} ({x.record.item}): {x.label}", highlight=False)


@app.command()
def check(
    code: Annotated[
        str,
        typer.Argument(
            help="The subject's identity code, or a document linked to it: type:number, a passport "
            "passport:STATE:number"
        ),
    ],
    measure: Annotated[str, typer.Argument(help="Measure id, e.g. no-flights")],
    purpose: Annotated[
        str, typer.Option(help="Why you ask (written to the audit log)")
    ] = "command line check",
    at: Annotated[str | None, typer.Option(help=AT_HELP)] = None,
    known_at: Annotated[str | None, typer.Option(help=KNOWN_AT_HELP)] = None,
    receipt: Annotated[
        str | None, typer.Option(help="Reproduce the past decision with this id from its receipt")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The relying party's question: may CODE receive MEASURE now (or at --at, as known at
    --known-at)? Exit 0 allow, 1 deny. The answer carries its receipt (``--json``). Asked by a
    document, the answer and the audit entry are those of the subject it is linked to."""
    system = open_system()
    subject, via = code, None
    if ":" in code:  # a document (an identity code has no colon)
        try:
            subject, doc = system.resolve_document(code)
        except SocialCreditError as exc:
            fail(f"CODE: {exc.message}")
        via = doc.type
    c = valid_code(subject)
    if receipt is not None:
        reproduce(system, c.value, measure, receipt, as_json)
        return
    as_of, known = parse_at(at), parse_at(known_at, "--known-at")
    try:
        d = system.check(
            c.value, measure, system.operator(), purpose=purpose, at=as_of, known_at=known, via=via
        )
    except NotFound as exc:
        fail(f"MEASURE: {exc} (have: {', '.join(sorted(system.registry.measures()))})")
    if as_json:  # as POST /decisions answers
        emit(DecisionOut.of(d))
    else:
        if d.receipt is not None:
            out.print(f"decision {d.receipt.decision_id}", highlight=False)
        colour = "green" if d.allowed else "red"
        headline = escape(i18n.translate(verdict(d, system.registry)))
        out.print(f"[bold {colour}]{d.answer.upper()}[/] — {headline}", highlight=False)
        out.print(f"  {d.measure} ({d.measure_kind}), {d.subject}", highlight=False)
        for r in d.reasons:
            out.print(f"  - {r.text}", highlight=False)
            if r.legal_basis:
                out.print(f"    legal basis: {r.legal_basis}", highlight=False)
            if r.how_to_resolve and not d.allowed:
                out.print(f"    to resolve: {r.how_to_resolve}", highlight=False)
    raise typer.Exit(0 if d.allowed else 1)


def reproduce(system: System, code: str, measure: str, decision_id: str, as_json: bool) -> None:
    """``check --receipt``: the past decision as answered, computed again from its receipt, and
    as known now (exit 0 when computed again exactly, 1 when not)."""
    r = system.reproduce(decision_id, system.operator())
    if (r.again.subject, r.again.measure) != (code, measure):
        fail(f"--receipt: decision {decision_id} was about another subject or measure")
    if as_json:
        emit(ReproductionOut.of(r))
    else:
        answered = r.answered
        out.print(
            f"decision {decision_id}: answered {answered['answer'].upper()}"
            f" at {answered['at']:%Y-%m-%d %H:%M} UTC for {r.receipt.as_of:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
        again = "the same, exactly" if r.exact else f"{r.again.answer.upper()}, NOT the answer given"
        out.print(
            f"computed again from its receipt (records {r.receipt.records}, registry {r.receipt.registry}, "
            f"cases {r.receipt.cases}): {again}",
            highlight=False,
        )
        out.print(f"as known now: {r.current.answer.upper()}", highlight=False)
        if r.changed:
            out.print(r.changed, highlight=False)
    raise typer.Exit(0 if r.exact else 1)
