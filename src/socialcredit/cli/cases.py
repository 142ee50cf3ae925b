"""``socialcredit cases ...``: objections, human reviews, appeals, restoration, notices and
deadlines.

The local user is the installation's operator, so these commands act as one (a decision names
its decider with ``--by``); the same service methods back the API and the portal.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from socialcredit import codes, i18n
from socialcredit.api.casemodels import CaseOut, CasesOut, NoticesOut, OverdueOut
from socialcredit.cli.common import JsonOpt, app, emit, fail, open_system, out, refusal, say
from socialcredit.dueprocess.cases import ErasureRequest, Objection
from socialcredit.errors import Refused
from socialcredit.i18n import N_, reword
from socialcredit.rules.days import day_of
from socialcredit.service.casefiles import Case

cases_app = typer.Typer(
    help="Objections, appeals, human reviews, restoration, erasure, notices and deadlines.",
    no_args_is_help=True,
)
app.add_typer(cases_app, name="cases")


def _show_case(c: Case, as_json: bool) -> None:
    if as_json:
        emit(CaseOut.of(c))
        return
    if isinstance(c, ErasureRequest):
        _show_erasure(c)
        return
    status = f"[bold]{escape(reword(c.status))}[/]"
    if isinstance(c, Objection):
        target = c.list_id or ", ".join(c.record_ids)
        say(
            N_(
                "{kind} {id} by {subject} against {target}: {status}",
                kind=reword(c.kind),
                id=c.id,
                subject=c.subject,
                target=target,
                status=status,
            )
        )
        if c.measures_stay:
            say(N_("  review due {day}; measures stay while open", day=c.review_due))
        else:
            say(N_("  review due {day}; measures suspended while open", day=c.review_due))
        if c.decision_reason:
            at = f"{c.decided_at:%Y-%m-%d}"
            say(N_("  decided {at} by {by}: {reason}", at=at, by=c.decided_by, reason=c.decision_reason))
        if c.appeal_until and c.status == "rejected":
            say(N_("  may be appealed until {day}", day=c.appeal_until))
        if c.appeal_reason:
            at = f"{c.appeal_decided_at:%Y-%m-%d}"
            say(
                N_(
                    "  appeal decided {at} by {by}: {reason}",
                    at=at,
                    by=c.appeal_decided_by,
                    reason=c.appeal_reason,
                )
            )
    else:
        say(
            N_(
                "restoration {id} of {record} ({item}) for {subject}: {status}; decision due {day}",
                id=c.id,
                record=c.record_id,
                item=c.item,
                subject=c.subject,
                status=status,
                day=c.decision_due,
            )
        )
        if c.decision_reason:
            at = f"{c.decided_at:%Y-%m-%d}"
            say(N_("  decided {at} by {by}: {reason}", at=at, by=c.decided_by, reason=c.decision_reason))


def _show_erasure(c: ErasureRequest) -> None:
    """An erasure request: what it would erase, its due date, and how it was decided."""
    status = i18n.translate(N_(c.status))
    line = N_(
        "erasure {id} of {record} ({n} records of {year}) for {subject}: {status}; decision due {due}",
        id=c.id,
        record=c.record_id,
        n=len(c.record_ids),
        year=c.year,
        subject=c.subject,
        status=status,
        due=c.decision_due.isoformat(),
    )
    out.print(escape(i18n.translate(line)), highlight=False)
    if c.decided_at is not None and c.decision_reason:
        decided = N_(
            "  decided {day} by {who}: {reason}",
            day=c.decided_at.date().isoformat(),
            who=c.decided_by or "",
            reason=c.decision_reason,
        )
        out.print(escape(i18n.translate(decided)), highlight=False)
    if c.rule:
        out.print(escape(i18n.translate(N_("  erased under rule {rule}", rule=c.rule))), highlight=False)


@cases_app.command("list")
def cases_list(
    code: Annotated[str | None, typer.Argument(help="Only this subject's cases")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open cases")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Objections, reviews, restoration applications and erasure requests, each decision with its
    decider."""
    system = open_system()
    subject = codes.validate(code).value if code else None
    found = system.cases(principal=system.operator(), subject=subject, open_only=open_only)
    erased = [] if open_only else system.erased_cases(principal=system.operator(), subject=subject)
    if as_json:
        emit(CasesOut.of(found, erased))
        return
    for c in found:
        _show_case(c, False)
    for e in erased:  # their files can no longer be read (decision 0071)
        say(
            N_(
                "case {case_id} was erased on {day} under rule {rule}",
                case_id=e.case_id,
                day=day_of(e.at).isoformat(),
                rule=e.rule,
            )
        )
    out.print(i18n.ngettext("%(num)d case", "%(num)d cases", len(found)) % {"num": len(found)})


@cases_app.command("overdue")
def cases_overdue(as_json: JsonOpt = False) -> None:
    """What is late: open cases past a deadline, and listings whose removal was reported after it
    was due (SPC Art. 10: 3 working days from the removal ground). Exit 1 if any."""
    system = open_system()
    late = system.overdue(principal=system.operator())
    removals = system.late_removals(principal=system.operator())
    if as_json:
        emit(OverdueOut.of(late, removals))
    else:
        for c, why in late:
            late_now = "; ".join(i18n.translate(w) for w in why)
            out.print(f"[red]{reword(c.kind)} {c.id}[/] ({c.subject}): {escape(late_now)}", highlight=False)
        for r in removals:
            late_now = "; ".join(i18n.translate(w) for w in r.late)
            late_removal = i18n.translate(N_("late removal"))
            out.print(
                f"[red]{late_removal}[/] {r.list_id} ({r.subject}): {escape(late_now)}", highlight=False
            )
        say(N_("{count} overdue", count=len(late) + len(removals)))
    raise typer.Exit(1 if late or removals else 0)


@cases_app.command("notices")
def cases_notices(
    code: Annotated[str | None, typer.Argument(help="A subject (default: every pending notice)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Notices of listing: the grounds, when the listing takes effect, how to object."""
    system = open_system()
    found = system.notices(code) if code else system.pending_notices(principal=system.operator())
    if as_json:
        emit(NoticesOut.of(found))
        return
    for n in found:
        say(
            N_(
                "{subject}: notice of listing on '{title}' given {noticed}, takes effect "
                "{effective} ({status})",
                subject=n.subject,
                title=i18n.translate(n.title),
                noticed=n.noticed_on,
                effective=n.takes_effect_on,
                status=reword(n.status),
            )
        )
        for rid, title, occurred, evidence in n.grounds:
            shown = evidence or N_("none")
            line = N_(
                "  - {day} {title} (record {record}, evidence {evidence})",
                day=occurred,
                title=i18n.translate(title),
                record=rid[:12],
                evidence=shown,
            )
            say(line)
        out.print(f"  {escape(i18n.translate(n.how_to_object))}", highlight=False)


@cases_app.command("object")
def cases_object(
    code: Annotated[str, typer.Argument(help="The subject objecting")],
    statement: Annotated[str, typer.Option(help="The objection, in the subject's words")],
    record: Annotated[str | None, typer.Option(help="The record objected to")] = None,
    list_id: Annotated[
        str | None, typer.Option("--list", help="The list entry objected to (scheme/list)")
    ] = None,
    document: Annotated[
        str | None, typer.Option(help="A document wrongly linked to the subject (passport:CHN:E12345678)")
    ] = None,
    evidence: Annotated[list[str] | None, typer.Option(help="Evidence reference (repeatable)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """File an objection on a subject's behalf (as received on paper, say): to a record, a list
    entry or a document wrongly linked to the subject (upheld, the link ends)."""
    system = open_system()
    subject = codes.validate(code).value
    c = system.file_objection(
        principal=system.operator(),
        subject=subject,
        record_id=record,
        list_id=list_id,
        document=document,
        statement=statement,
        evidence=evidence or [],
    )
    _show_case(c, as_json)


@cases_app.command("review")
def cases_review(
    code: Annotated[str, typer.Argument(help="The subject asking")],
    list_id: Annotated[str, typer.Option("--list", help="The listing to review (scheme/list)")],
    statement: Annotated[str, typer.Option(help="Why a person should look at it, in the subject's words")],
    evidence: Annotated[list[str] | None, typer.Option(help="Evidence reference (repeatable)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask for human review of a listing the system derived by rule (a list by grade, say: GDPR
    Art. 22), on a subject's behalf. Decided within 15 days, with ``cases decide``, by an operator
    not involved in the subject's cases so far."""
    system = open_system()
    subject = codes.validate(code).value
    c = system.file_review(
        principal=system.operator(),
        subject=subject,
        list_id=list_id,
        statement=statement,
        evidence=evidence or [],
    )
    _show_case(c, as_json)


@cases_app.command("decide")
def cases_decide(
    case_id: Annotated[
        str, typer.Argument(help="An objection or a review (under review or appeal), or a restoration")
    ],
    reason: Annotated[str, typer.Option(help="The reason, shown to the subject")],
    uphold: Annotated[bool, typer.Option("--uphold/--reject", help="Uphold (grant) or reject (refuse)")],
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="The person deciding (as their operator keys name them): recorded in the case "
            "history, and an appeal or a review must be decided by someone else",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Decide a case. An upheld objection withdraws the records at once; a granted restoration
    ends the record's effect from now. The decision names its decider (``--by``)."""
    system = open_system()
    try:
        op = system.operator(by)
    except Refused as exc:
        fail(refusal(exc, {"principal": "--by"}))
    c: Case
    if case_id.startswith("res-"):
        c = system.decide_restoration(principal=op, case_id=case_id, granted=uphold, reason=reason)
    elif case_id.startswith("era-"):
        c = system.decide_erasure(principal=op, case_id=case_id, granted=uphold, reason=reason)
    else:
        current = system.cases(principal=op)
        found = next((x for x in current if x.id == case_id), None)
        if found is None:
            fail(i18n.translate(N_("CASE_ID: no case {case_id!r}", case_id=case_id)))
        decide = system.decide_appeal if found.status == "under appeal" else system.decide_objection
        c = decide(principal=op, objection_id=case_id, upheld=uphold, reason=reason)
    _show_case(c, as_json)


@cases_app.command("erase")
def cases_erase(
    code: Annotated[str, typer.Argument(help="The subject asking")],
    record: Annotated[str, typer.Argument(help="The record to erase (with every record of its year)")],
    statement: Annotated[str, typer.Option(help="The request, in the subject's words")],
    as_json: JsonOpt = False,
) -> None:
    """Ask, on a subject's behalf, for a record to be erased where the schemes allow it (a record
    withdrawn as wrong, or an opt-in scheme's own): its data key, and every record of the subject
    and year under it, goes once ``cases decide --uphold`` grants it (by another operator)."""
    system = open_system()
    subject = codes.validate(code).value
    _show_case(
        system.file_erasure(
            principal=system.operator(), subject=subject, record_id=record, statement=statement
        ),
        as_json,
    )


@cases_app.command("appeal")
def cases_appeal(
    case_id: Annotated[str, typer.Argument(help="A rejected objection or review")],
    statement: Annotated[str, typer.Option(help="Grounds of appeal")],
    as_json: JsonOpt = False,
) -> None:
    """Appeal a rejected objection (or a review that confirmed a listing) within the appeal period."""
    system = open_system()
    _show_case(system.appeal(principal=system.operator(), objection_id=case_id, statement=statement), as_json)


@cases_app.command("restore")
def cases_restore(
    code: Annotated[str, typer.Argument(help="The subject applying")],
    record: Annotated[str, typer.Argument(help="The negative record to restore")],
    conduct_corrected: Annotated[str, typer.Option(help="How the conduct was corrected")],
    obligations_fulfilled: Annotated[str, typer.Option(help="How the obligations were fulfilled")],
    commitment: Annotated[str, typer.Option(help="The public credit commitment")],
    as_json: JsonOpt = False,
) -> None:
    """Apply for credit restoration after the minimum publication period."""
    system = open_system()
    subject = codes.validate(code).value
    _show_case(
        system.apply_restoration(
            principal=system.operator(),
            subject=subject,
            record_id=record,
            conduct_corrected=conduct_corrected,
            obligations_fulfilled=obligations_fulfilled,
            commitment=commitment,
        ),
        as_json,
    )
