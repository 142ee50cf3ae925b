"""A subject's answers: ``score`` (every score explained record by record, and the list
entries) and ``check`` (the relying party's question, exit 0 allow, 1 deny).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from socialcredit import codes, i18n
from socialcredit.api.decisionmodels import DecisionOut, ReproductionOut
from socialcredit.api.historymodels import HistoryOut
from socialcredit.api.models import SubjectOut
from socialcredit.cli.common import (
    JsonOpt,
    answer_word,
    app,
    emit,
    fail,
    open_system,
    out,
    parse_at,
    prose,
    registry_title,
    say,
    valid_code,
)
from socialcredit.decisions import MEASURE_KINDS
from socialcredit.errors import SocialCreditError
from socialcredit.i18n import N_, reword, translate
from socialcredit.rules.days import day_of
from socialcredit.schemes import titles
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
    """A subject's scores and grades, each explained record by record, and its list entries; a
    record erased is a line "erased on D under rule R", with no content."""
    c = valid_code(code)
    system = open_system()
    if scheme is not None and scheme not in system.registry.schemes:
        have = ", ".join(system.registry.schemes)
        fail(i18n.translate(N_("--scheme: no scheme {scheme!r} (have: {have})", scheme=scheme, have=have)))
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
    about = dict(code=f"[bold]{view.code}[/]", kind=codes.KINDS.get(view.kind, view.kind))
    as_of = f"{view.as_of:%Y-%m-%d %H:%M}"
    if known_at:
        known = f"{parse_at(known_at, '--known-at'):%Y-%m-%d %H:%M}"
        say(
            N_(
                "{code} ({kind}) as of {as_of} UTC, as known at {known} UTC",
                **about,
                as_of=as_of,
                known=known,
            )
        )
    else:
        say(N_("{code} ({kind}) as of {as_of} UTC", **about, as_of=as_of))
    for s in scores:
        show_explanation(s.scheme, explain(s, system.registry.scheme(s.scheme)))
    for e in view.entries:
        via = translate(N_(" via {organisation}", organisation=e.via)) if e.via else ""
        if e.planned_end:
            end = N_("planned end {day}", day=e.planned_end)
        else:
            end = N_("no fixed end (until a removal ground)")
        line = N_(
            "list {list}{via}: {status} since {since}, {end}",
            list=e.qualified_id,
            via=via,
            status=reword(e.status),
            since=e.since,
            end=end,
        )
        if e.ended_on:
            ended = N_("ended {day} ({why})", day=e.ended_on, why=reword(e.end_reason or ""))
            line = N_("{line}, {ended}", line=line, ended=ended)
        if e.days_late:
            late = N_("{days} days after removal was due ({due})", days=e.days_late, due=e.removal_due)
            line = N_("{line}, {ended}", line=line, ended=late)
        say(line)
        if e.revised:
            say(N_("  revised: {note}", note=escape(reword(e.revised))))
    for e in view.ended_entries:  # nothing is erased: what was in force, and what ended it
        via = translate(N_(" via {organisation}", organisation=e.via)) if e.via else ""
        why = reword(e.end_reason or "")
        say(
            N_(
                "list {list}{via}: ended, since {since}: {why}",
                list=e.qualified_id,
                via=via,
                since=e.since,
                why=why,
            )
        )
    for x in view.ended_records:
        rid, item = x.record.record_id, x.record.item
        say(N_("record {record} ({item}): {label}", record=rid, item=item, label=reword(x.label)))
    for gone in SubjectOut.of(view, mask_others=False).erased_records:  # a line, no content
        out.print(escape(translate(N_("record {id}: {label}", id=gone.record_id, label=gone.label))))


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
    until = f"{h.until:%Y-%m-%d %H:%M}"
    if h.known_at:
        known = f"{h.known_at:%Y-%m-%d %H:%M}"
        say(
            N_(
                "{code} up to {until} UTC, as known at {known} UTC",
                code=f"[bold]{h.code}[/]",
                until=until,
                known=known,
            )
        )
    else:
        say(N_("{code} up to {until} UTC", code=f"[bold]{h.code}[/]", until=until))
    for s in body.schemes:
        title = titles.title_of("scheme", s.scheme, s.title, s.scheme)
        out.print(f"[bold]{escape(s.scheme)}[/] ({escape(title)})", highlight=False)
        t = Table(title_justify="left")
        for heading in (N_("Day"), N_("Score"), N_("Grade"), N_("Version")):
            t.add_column(translate(heading))
        for p in s.points:
            t.add_row(p.day.isoformat(), str(p.score), reword(p.grade), p.version)
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
    purpose: Annotated[str, typer.Option(help="Why you ask (written to the audit log)")] = N_(
        "command line check"
    ),
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
            fail(f"CODE: {translate(exc.message)}")
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
        have = ", ".join(sorted(system.registry.measures()))
        fail(translate(N_("MEASURE: {refusal} (have: {have})", refusal=exc.describe(), have=have)))
    if as_json:  # as POST /decisions answers
        emit(DecisionOut.of(d))
    else:
        if d.receipt is not None:
            say(N_("decision {decision_id}", decision_id=d.receipt.decision_id))
        colour = "green" if d.allowed else "red"
        headline = escape(i18n.translate(verdict(d, system.registry)))
        out.print(f"[bold {colour}]{answer_word(d.answer)}[/] — {headline}", highlight=False)
        measure = registry_title(system, "measure", d.measure)
        kind = translate(MEASURE_KINDS.get(d.measure_kind, d.measure_kind))
        out.print(f"  {measure} ({kind}), {d.subject}", highlight=False)
        for r in d.reasons:
            out.print(f"  - {escape(translate(r.text))}", highlight=False)
            if r.legal_basis:
                say(N_("    legal basis: {basis}", basis=escape(prose(r.legal_basis))))
            if r.how_to_resolve and not d.allowed:
                say(N_("    to resolve: {how}", how=escape(prose(r.how_to_resolve))))
            for x in r.explanation:  # reason codes: on a denial, what lowered the score most
                out.print(f"    {escape(translate(N_('reason:')))} {escape(translate(x))}", highlight=False)
    raise typer.Exit(0 if d.allowed else 1)


def reproduce(system: System, code: str, measure: str, decision_id: str, as_json: bool) -> None:
    """``check --receipt``: the past decision as answered, computed again from its receipt, and
    as known now (exit 0 when computed again exactly, 1 when not)."""
    r = system.reproduce(decision_id, system.operator())
    if (r.again.subject, r.again.measure) != (code, measure):
        fail(
            translate(
                N_(
                    "--receipt: decision {decision_id} was about another subject or measure",
                    decision_id=decision_id,
                )
            )
        )
    if as_json:
        emit(ReproductionOut.of(r))
    else:
        answered = r.answered
        at, as_of = f"{answered['at']:%Y-%m-%d %H:%M}", f"{r.receipt.as_of:%Y-%m-%d %H:%M}"
        say(
            N_(
                "decision {decision_id}: answered {answer} at {at} UTC for {as_of} UTC",
                decision_id=decision_id,
                answer=answer_word(answered["answer"]),
                at=at,
                as_of=as_of,
            )
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
            if r.exact:
                again = N_("the same, exactly")
            else:
                again = N_("{answer}, NOT the answer given", answer=answer_word(r.again.answer))
            say(
                N_(
                    "computed again from its receipt (records {records}, registry {registry}, "
                    "cases {cases}): {again}",
                    records=r.receipt.records,
                    registry=r.receipt.registry,
                    cases=r.receipt.cases,
                    again=again,
                )
            )
        say(N_("as known now: {answer}", answer=answer_word(r.current.answer)))
        if r.changed:
            out.print(translate(r.changed), highlight=False)
    raise typer.Exit(0 if r.exact or r.erased is not None else 1)
