"""Command-line due process and disclosure: ``socialcredit cases ...`` and ``socialcredit public ...``.

The local user is the installation's operator, so these commands act as one; the same service
methods back the API and the portal.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit import access, codes
from socialcredit.cli import JsonOpt, app, emit, err, fail, open_system, out
from socialcredit.dueprocess.cases import Objection, Restoration
from socialcredit.service import NotFound

cases_app = typer.Typer(
    help="Objections, appeals, human reviews, restoration, notices and deadlines.", no_args_is_help=True
)
public_app = typer.Typer(
    help="What the public sees: lists, lookups, the transparency report.", no_args_is_help=True
)
app.add_typer(cases_app, name="cases")
app.add_typer(public_app, name="public")


def _case_dict(c: Objection | Restoration) -> dict[str, Any]:
    data = {f.name: getattr(c, f.name) for f in dataclasses.fields(c) if f.name != "events"}
    data["open"] = c.is_open
    data["history"] = [dataclasses.asdict(s) for s in c.history]
    return data


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service call, turning the user's mistakes into one clear line and exit status 2."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, NotFound, access.AccessDenied) as exc:
        if isinstance(exc, codes.CodeError):
            fail(f"CODE: invalid {exc.part}: {exc}")
        if isinstance(exc, access.AccessDenied):
            fail(f"refused: may not {exc}")
        fail(str(exc))


def _show_case(c: Objection | Restoration, as_json: bool) -> None:
    if as_json:
        emit(_case_dict(c))
        return
    if isinstance(c, Objection):
        target = c.list_id or ", ".join(c.record_ids)
        out.print(f"{c.kind} {c.id} by {c.subject} against {target}: [bold]{c.status}[/]", highlight=False)
        out.print(
            f"  review due {c.review_due}; measures {'stay' if c.measures_stay else 'suspended'} while open",
            highlight=False,
        )
        if c.decision_reason:
            out.print(
                f"  decided {c.decided_at:%Y-%m-%d} by {c.decided_by}: {c.decision_reason}", highlight=False
            )
        if c.appeal_until and c.status == "rejected":
            out.print(f"  may be appealed until {c.appeal_until}", highlight=False)
        if c.appeal_reason:
            out.print(
                f"  appeal decided {c.appeal_decided_at:%Y-%m-%d} by {c.appeal_decided_by}: "
                f"{c.appeal_reason}",
                highlight=False,
            )
    else:
        out.print(
            f"restoration {c.id} of {c.record_id} ({c.item}) for {c.subject}: [bold]{c.status}[/]; "
            f"decision due {c.decision_due}",
            highlight=False,
        )
        if c.decision_reason:
            out.print(
                f"  decided {c.decided_at:%Y-%m-%d} by {c.decided_by}: {c.decision_reason}", highlight=False
            )


@cases_app.command("list")
def cases_list(
    code: Annotated[str | None, typer.Argument(help="Only this subject's cases")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open cases")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Objections, reviews and restoration applications, each decision with its decider."""
    system = open_system()
    subject = _guard(codes.validate, code).value if code else None
    found = system.cases(principal=system.operator(), subject=subject, open_only=open_only)
    if as_json:
        emit([_case_dict(c) for c in found])
        return
    for c in found:
        _show_case(c, False)
    out.print(f"{len(found)} cases")


@cases_app.command("overdue")
def cases_overdue(as_json: JsonOpt = False) -> None:
    """What is late: open cases past a deadline, and listings whose removal was reported after it
    was due (SPC Art. 10: 3 working days from the removal ground). Exit 1 if any."""
    system = open_system()
    late = system.overdue(principal=system.operator())
    removals = system.late_removals(principal=system.operator())
    if as_json:
        emit([{**_case_dict(c), "late": why} for c, why in late] + [r.as_dict() for r in removals])
    else:
        for c, why in late:
            out.print(f"[red]{c.kind} {c.id}[/] ({c.subject}): {'; '.join(why)}", highlight=False)
        for r in removals:
            out.print(f"[red]late removal[/] {r.list_id} ({r.subject}): {'; '.join(r.late)}", highlight=False)
        out.print(f"{len(late) + len(removals)} overdue")
    raise typer.Exit(1 if late or removals else 0)


@cases_app.command("notices")
def cases_notices(
    code: Annotated[str | None, typer.Argument(help="A subject (default: every pending notice)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Notices of listing: the grounds, when the listing takes effect, how to object."""
    system = open_system()
    found = _guard(system.notices, code) if code else system.pending_notices(principal=system.operator())
    if as_json:
        emit([dataclasses.asdict(n) for n in found])
        return
    for n in found:
        out.print(
            f"{n.subject}: notice of listing on '{n.title}' given {n.noticed_on}, takes effect "
            f"{n.takes_effect_on} ({n.status})",
            highlight=False,
        )
        for rid, title, occurred, evidence in n.grounds:
            out.print(
                f"  - {occurred} {title} (record {rid[:12]}, evidence {evidence or 'none'})", highlight=False
            )
        out.print(f"  {n.how_to_object}", highlight=False)


@cases_app.command("object")
def cases_object(
    code: Annotated[str, typer.Argument(help="The subject objecting")],
    statement: Annotated[str, typer.Option(help="The objection, in the subject's words")],
    record: Annotated[str | None, typer.Option(help="The record objected to")] = None,
    list_id: Annotated[
        str | None, typer.Option("--list", help="The list entry objected to (scheme/list)")
    ] = None,
    evidence: Annotated[list[str] | None, typer.Option(help="Evidence reference (repeatable)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """File an objection on a subject's behalf (as received on paper, say)."""
    system = open_system()
    subject = _guard(codes.validate, code).value
    c = _guard(
        system.file_objection,
        principal=system.operator(),
        subject=subject,
        record_id=record,
        list_id=list_id,
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
    subject = _guard(codes.validate, code).value
    c = _guard(
        system.file_review,
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
    except ValueError as exc:
        fail(str(exc).replace("principal:", "--by:", 1))
    if case_id.startswith("res-"):
        c: Objection | Restoration = _guard(
            system.decide_restoration, principal=op, case_id=case_id, granted=uphold, reason=reason
        )
    else:
        current = _guard(system.cases, principal=op)
        found = next((x for x in current if x.id == case_id), None)
        if found is None:
            fail(f"CASE_ID: no case {case_id!r}")
        decide = system.decide_appeal if found.status == "under appeal" else system.decide_objection
        c = _guard(decide, principal=op, objection_id=case_id, upheld=uphold, reason=reason)
    _show_case(c, as_json)


@cases_app.command("appeal")
def cases_appeal(
    case_id: Annotated[str, typer.Argument(help="A rejected objection or review")],
    statement: Annotated[str, typer.Option(help="Grounds of appeal")],
    as_json: JsonOpt = False,
) -> None:
    """Appeal a rejected objection (or a review that confirmed a listing) within the appeal period."""
    system = open_system()
    _show_case(
        _guard(system.appeal, principal=system.operator(), objection_id=case_id, statement=statement), as_json
    )


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
    subject = _guard(codes.validate, code).value
    _show_case(
        _guard(
            system.apply_restoration,
            principal=system.operator(),
            subject=subject,
            record_id=record,
            conduct_corrected=conduct_corrected,
            obligations_fulfilled=obligations_fulfilled,
            commitment=commitment,
        ),
        as_json,
    )


@public_app.command("list")
def public_list(
    list_id: Annotated[
        str, typer.Argument(help="scheme/list, e.g. court-dishonest-debtors/dishonest-debtors")
    ],
    as_json: JsonOpt = False,
) -> None:
    """A public list with exactly its published fields."""
    system = open_system()
    rows = _guard(system.public_list, list_id)
    if as_json:
        emit(rows)
        return
    if not rows:
        out.print("(no entries in force)")
        return
    t = Table(*rows[0].keys())
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r.values()))
    out.print(t)


@public_app.command("lookup")
def public_lookup(
    code: Annotated[str, typer.Argument(help="An identity code")], as_json: JsonOpt = False
) -> None:
    """What the public may see of a subject by code (organisations by default)."""
    system = open_system()
    found = _guard(system.public_lookup, code)
    if as_json:
        emit(found)
        return
    out.print(f"{found['code']} {found['name'] or ''} ({found['kind']})", highlight=False)
    for r in found["records"]:
        out.print(f"  {r['occurred_on']} {r['title']} ({r['source']})", highlight=False)
    for e in found["lists"]:
        until = e["planned_end"] or "a removal ground (no fixed end)"
        out.print(f"  on {e['title']} since {e['since']} until {until}", highlight=False)


@public_app.command("transparency")
def public_transparency(as_json: JsonOpt = False) -> None:
    """The transparency report: lists, measures applied, objections, sources, score gaps."""
    system = open_system()
    report = system.transparency()
    if as_json:
        emit(report)
        return
    out.print(
        f"[bold]Transparency report[/] as of {report['as_of']:%Y-%m-%d %H:%M} UTC: "
        f"{report['subjects']:,} subjects, {report['records']:,} records"
    )
    for k, v in report["lists"].items():
        out.print(f"  on {k}: {v:,}", highlight=False)
    for k, v in report["measures_applied"].items():
        out.print(f"  {k}: " + ", ".join(f"{a} {n:,}" for a, n in v.items()), highlight=False)
    o = report["objections"]
    out.print(
        f"  objections: {o['filed']} filed, {o['upheld']} upheld, {o['rejected']} rejected, "
        f"{o['open']} open, {o['overdue']} overdue; median {o['median_days_to_decide']} days to decide",
        highlight=False,
    )
    for a in report["source_accuracy"]:
        late = f", {a['removed_late']}/{a['removals']} removals late" if a["removals"] else ""
        out.print(
            f"  source {a['source']}: {a['overturned']}/{a['records']} overturned{late}", highlight=False
        )
    for scheme_id, groups in report["scores_by_district"].items():
        out.print(
            f"  {scheme_id} by district: " + ", ".join(f"{g} {v['mean']}" for g, v in groups.items()),
            highlight=False,
        )
    for scheme_id, groups in report["scores_by_age_band"].items():
        out.print(
            f"  {scheme_id} by age band: " + ", ".join(f"{g} {v['mean']}" for g, v in groups.items()),
            highlight=False,
        )


@public_app.command("sources")
def public_sources(as_json: JsonOpt = False) -> None:
    """Each data source's accuracy: share of its records overturned on objection, and how many of
    the removals it reported came after they were due (and the median days late)."""
    system = open_system()
    rows = system.source_accuracy()
    if as_json:
        emit([dataclasses.asdict(a) for a in rows])
        return
    t = Table(
        "source",
        "records",
        "overturned",
        "share",
        "median days to correct",
        "removals",
        "reported late",
        "median days late",
    )
    for a in rows:
        t.add_row(
            a.source,
            f"{a.records:,}",
            str(a.overturned),
            f"{100 * a.overturned_share:.2f}%",
            "" if a.median_days_to_correct is None else f"{a.median_days_to_correct:.1f}",
            str(a.removals),
            str(a.removed_late),
            "" if a.median_days_late is None else f"{a.median_days_late:.1f}",
        )
    out.print(t)


__all__ = ["cases_app", "err", "public_app"]
