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
from socialcredit.api.historymodels import HistoryOut
from socialcredit.api.models import SubjectOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, open_system, out, parse_at, valid_code
from socialcredit.errors import SocialCreditError
from socialcredit.i18n import N_, translate
from socialcredit.rules.days import day_of
from socialcredit.scoring.dispatch import explain
from socialcredit.scoring.explanation import Explanation
from socialcredit.scoring.result import signed_points
from socialcredit.service import NotFound, Question, System
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
        show_explanation(s.scheme, explain(s, system.registry.scheme(s.scheme)))
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
            out.print(f"  revised: {escape(translate(e.revised))}", highlight=False)
    for e in view.ended_entries:  # nothing is erased: what was in force, and what ended it
        via = f" via {e.via}" if e.via else ""
        out.print(f"list {e.qualified_id}{via}: ended, since {e.since}: {e.end_reason}", highlight=False)
    for x in view.ended_records:
        out.print(f"record {x.record.record_id} ({x.record.item}): {x.label}", highlight=False)


@app.command()
def history(
    code: Annotated[str, typer.Argument(help="Resident ID number or Unified Social Credit Code")],
    from_: Annotated[
        str | None, typer.Option("--from", help="Valid time: the first day shown (default: the first change)")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Valid time: the history up to then (default now)")] = None,
    known_at: Annotated[str | None, typer.Option(help=KNOWN_AT_HELP)] = None,
    as_json: JsonOpt = False,
) -> None:
    """A subject's score history: each change in valid time under the scheme version in force that
    day, as known at --known-at, and where today's knowledge differs, both."""
    c = valid_code(code)
    system = open_system()
    first = parse_at(from_, "--from")
    h = system.score_history(
        c.value,
        system.operator(),
        purpose="command line: history",
        since=day_of(first) if first is not None else None,
        until=parse_at(to, "--to"),
        known_at=parse_at(known_at, "--known-at"),
    )
    body = HistoryOut.of(h)
    if as_json:  # as GET /subjects/{code}/history answers an operator
        emit(body)
        return
    known = f", as known at {h.known_at:%Y-%m-%d %H:%M} UTC" if h.known_at else ""
    out.print(f"[bold]{h.code}[/] up to {h.until:%Y-%m-%d %H:%M} UTC{known}", highlight=False)
    for s in body.schemes:
        out.print(f"[bold]{escape(s.scheme)}[/] ({escape(s.title)})", highlight=False)
        t = Table(title_justify="left")
        for heading in (N_("Day"), N_("Score"), N_("Grade"), N_("Version")):
            t.add_column(translate(heading))
        for p in s.points:
            t.add_row(p.day.isoformat(), str(p.score), p.grade, p.version)
        out.print(t)
        for d in s.differences:
            out.print(f"  {escape(d.text)}", highlight=False)


def show_explanation(scheme: str, e: Explanation) -> None:
    """A score's explanation, the same for every model kind (``scoring.explanation``): the
    headline, the lines adding up to the score, the tables of records, the reason codes, what the
    next grade or tier needs. The portal and the API render the same structure."""
    out.print(f"[bold]{escape(scheme)}[/]: {escape(translate(e.headline))}", highlight=False)
    if e.lines:
        t = Table(title=translate(N_("How the score adds up")), title_justify="left")
        t.add_column(translate(N_("Line")))
        t.add_column(translate(N_("Points")), justify="right")
        for x in e.lines:
            shown = (
                f"{x.points:,.2f}".rstrip("0").rstrip(".") if x.kind == "start" else signed_points(x.points)
            )
            t.add_row(translate(x.label), shown, style="italic" if x.kind == "adjustment" else None)
        t.add_row(translate(N_("Score")), f"{e.score:,}", style="bold")
        out.print(t)
    for sec in e.sections:
        t = Table(title=translate(sec.caption), title_justify="left")
        for i, c in enumerate(sec.columns):
            t.add_column(translate(c), justify="right" if i in sec.numeric else "left")
        for row in sec.rows:
            t.add_row(*(translate(c) for c in row))
        if not sec.rows:
            t.add_row(translate(sec.empty), *[""] * (len(sec.columns) - 1))
        out.print(t)
    if e.next_tier:
        out.print(f"  {escape(translate(N_('next:')))} {escape(translate(e.next_tier))}", highlight=False)
    for r in e.reasons:
        out.print(f"  {escape(translate(N_('reason:')))} {escape(translate(r.text))}", highlight=False)


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
        question = Question(
            c.value, measure, system.operator(), purpose=purpose, at=as_of, known_at=known, via=via
        )
        d = system.check(question)
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
            out.print(f"  - {escape(translate(r.text))}", highlight=False)
            if r.legal_basis:
                out.print(f"    legal basis: {r.legal_basis}", highlight=False)
            if r.how_to_resolve and not d.allowed:
                out.print(f"    to resolve: {r.how_to_resolve}", highlight=False)
            for x in r.explanation:  # reason codes: on a denial, what lowered the score most
                out.print(f"    {escape(translate(N_('reason:')))} {escape(translate(x))}", highlight=False)
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
        if r.erased is not None:  # the answer stands as its receipt keeps it (issue 21 point 4)
            erased = N_(
                "records it rested on were erased on {day} under rule {rule}: it stands as answered "
                "and is not computed again",
                day=day_of(r.erased.at).isoformat(),
                rule=r.erased.rule,
            )
            out.print(escape(translate(erased)), highlight=False)
        else:
            again = "the same, exactly" if r.exact else f"{r.again.answer.upper()}, NOT the answer given"
            out.print(
                f"computed again from its receipt (records {r.receipt.records}, registry "
                f"{r.receipt.registry}, cases {r.receipt.cases}): {again}",
                highlight=False,
            )
        out.print(f"as known now: {r.current.answer.upper()}", highlight=False)
        if r.changed:
            out.print(r.changed, highlight=False)
    raise typer.Exit(0 if r.exact or r.erased is not None else 1)
