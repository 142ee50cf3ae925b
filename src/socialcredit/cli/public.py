"""``socialcredit public ...``: what the public sees (a list's published fields, a lookup where
the schemes allow it, the transparency report, the sources' accuracy), from the same service
methods as the API's ``/public`` routes and the portal's public pages.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit import i18n
from socialcredit.api.casemodels import PublicListOut, PublicLookupOut, SourcesOut, TransparencyOut
from socialcredit.cli.common import JsonOpt, answer_word, app, emit, open_system, out, parse_at, say
from socialcredit.cli.subjects import AT_HELP, KNOWN_AT_HELP
from socialcredit.i18n import N_
from socialcredit.schemes import titles
from socialcredit.service.publiclists import PER_PAGE
from socialcredit.service.publicwords import FIELD_NAMES

public_app = typer.Typer(
    help="What the public sees: lists, lookups, the transparency report.", no_args_is_help=True
)
app.add_typer(public_app, name="public")


@public_app.command("list")
def public_list(
    list_id: Annotated[
        str, typer.Argument(help="scheme/list, e.g. court-dishonest-debtors/dishonest-debtors")
    ],
    at: Annotated[str | None, typer.Option(help=AT_HELP)] = None,
    known_at: Annotated[str | None, typer.Option(help=KNOWN_AT_HELP)] = None,
    search: Annotated[str, typer.Option(help="A part of any published field")] = "",
    page: Annotated[int, typer.Option(min=1, help="Page number")] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=500, help="Rows per page")] = PER_PAGE,
    as_json: JsonOpt = False,
) -> None:
    """A public list with exactly its published fields (as it stood at --at, as known at
    --known-at: what was published then), searched and paged as the API and the portal page it
    (``GET /public/lists/{scheme}/{list}?q=&page=&per_page=``)."""
    system = open_system()
    found = system.public_page(
        list_id,
        search=search,
        page=page,
        per_page=per_page,
        as_of=parse_at(at),
        known_at=parse_at(known_at, "--known-at"),
    )
    rows = found.rows
    if as_json:
        emit(PublicListOut.of_page(found))
        return
    if not rows:
        say(N_("(no entries in force)"))
        return
    first = (found.page - 1) * per_page + 1
    say(
        N_(
            "rows {first} to {last} of {total}, page {page} of {pages}",
            first=first,
            last=first + len(rows) - 1,
            total=found.total,
            page=found.page,
            pages=found.pages,
        )
    )
    t = Table(*(i18n.translate(FIELD_NAMES.get(f, f)) for f in rows[0]))  # --json keeps the ids
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r.values()))
    out.print(t)


@public_app.command("lookup")
def public_lookup(
    code: Annotated[str, typer.Argument(help="An identity code")], as_json: JsonOpt = False
) -> None:
    """What the public may see of a subject by code (organisations by default)."""
    system = open_system()
    found = system.public_lookup(code)
    if as_json:
        emit(PublicLookupOut.model_validate(found))
        return
    out.print(f"{found['code']} {found['name'] or ''} ({found['kind']})", highlight=False)
    for r in found["records"]:
        title = titles.title_of("item", r["item"], r["title"])  # in the reader's language
        out.print(f"  {r['occurred_on']} {title} ({r['source']})", highlight=False)
    for e in found["lists"]:
        until = e["planned_end"] or N_("a removal ground (no fixed end)")
        scheme_id, _sep, list_id = e["list"].partition("/")
        named = titles.title_of("list", list_id, e["title"], scheme_id)
        out.print(
            "  "
            + i18n.translate(
                N_("on {list} since {since} until {until}", list=named, since=e["since"], until=until)
            ),
            highlight=False,
        )


@public_app.command("transparency")
def public_transparency(
    known_at: Annotated[
        str | None,
        typer.Option(help="Knowledge time: the report as it stood then, from what was known by then"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The transparency report: lists, measures applied, objections, sources, score gaps (as it
    stood at --known-at, when given)."""
    system = open_system()
    report = system.transparency(known_at=parse_at(known_at, "--known-at"))
    if as_json:
        emit(TransparencyOut.model_validate(report))
        return
    stamp = "%Y-%m-%d %H:%M"
    known = (
        i18n.translate(N_(", as known at {time} UTC", time=f"{report['known_at']:{stamp}}"))
        if report["known_at"]
        else ""
    )
    say(
        N_(
            "[bold]Transparency report[/] as of {time} UTC{known}: {subjects} subjects, {records} records",
            time=f"{report['as_of']:{stamp}}",
            known=known,
            subjects=f"{report['subjects']:,}",
            records=f"{report['records']:,}",
        )
    )
    # the pages' census is of what is known now: shown beside today's report only
    census = system.list_census() if not known else {}
    for k, v in report["lists"].items():
        c = census.get(k)
        rows = (
            N_(
                " ({published} published rows + {via} legal representatives through their organisation)",
                published=f"{c.published:,}",
                via=f"{c.via:,}",
            )
            if c
            else ""
        )
        line(N_("on {list}: {count} in force{rows}", list=k, count=f"{v:,}", rows=rows))
    for k, v in report["measures_applied"].items():
        out.print(f"  {k}: " + ", ".join(f"{answer_word(a)} {n:,}" for a, n in v.items()), highlight=False)
    o = report["objections"]
    line(
        N_(
            "objections: {filed} filed, {upheld} upheld, {rejected} rejected, {open} open, "
            "{overdue} overdue; median {days} days to decide",
            filed=o["filed"],
            upheld=o["upheld"],
            rejected=o["rejected"],
            open=o["open"],
            overdue=o["overdue"],
            days=o["median_days_to_decide"],
        )
    )
    for a in report["source_accuracy"]:
        late = (
            N_(", {late}/{removals} removals late", late=a["removed_late"], removals=a["removals"])
            if a.get("removals")
            else ""
        )
        line(
            N_(
                "source {source}: {overturned}/{records} overturned{late}",
                source=a["source"],
                overturned=a["overturned"],
                records=a["records"],
                late=late,
            )
        )
    for template, key in (
        (N_("{scheme} by district: {means}"), "scores_by_district"),
        (N_("{scheme} by age band: {means}"), "scores_by_age_band"),
    ):
        for scheme_id, groups in report[key].items():
            line(i18n.fill(template, scheme=scheme_id, means=group_scores(scheme_id, groups)))


def group_scores(scheme_id: str, groups: dict[str, dict[str, Any]]) -> str:
    """Each group's mean score; for a tier rating, which has no mean (its score is a tier level:
    issue 18's "mean 1.2" for a tier rating, printed here as "None"), each group's grades by the
    tiers' names in the reader's language."""
    if all(v["mean"] is not None for v in groups.values()):
        return ", ".join(f"{g} {v['mean']}" for g, v in groups.items())
    return "; ".join(
        f"{g}: "
        + ", ".join(f"{titles.title_of('tier', t, t, scheme_id)} {n}" for t, n in v["grades"].items())
        for g, v in groups.items()
    )


def line(text: str) -> None:
    """An indented line of the report, in the command's language (names and numbers as they
    are)."""
    out.print("  " + i18n.translate(text), highlight=False)


SOURCES_COLUMNS = (
    N_("source"),
    N_("records"),
    N_("overturned"),
    N_("share"),
    N_("median days to correct"),
    N_("removals"),
    N_("reported late"),
    N_("median days late"),
)
"""``public sources``' columns, worded for the reader (they were English under ``--lang zh-CN``)."""


@public_app.command("sources")
def public_sources(as_json: JsonOpt = False) -> None:
    """Each data source's accuracy: share of its records overturned on objection, and how many of
    the removals it reported came after they were due (and the median days late)."""
    system = open_system()
    rows = system.source_accuracy()
    if as_json:
        emit(SourcesOut.of(rows))
        return
    t = Table(*(i18n.translate(h) for h in SOURCES_COLUMNS))
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
