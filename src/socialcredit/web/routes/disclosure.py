"""Public disclosure: the lists as published (exactly the fields each list publishes, through
``System.public_list``), the transparency report (``System.transparency``) with its charts, and
the data sources' accuracy figures. Open to everyone, logged in or not."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from socialcredit import i18n
from socialcredit.i18n import N_
from socialcredit.schemes import titles
from socialcredit.service.publicwords import FIELD_NAMES
from socialcredit.web import charts, timeaxes
from socialcredit.web.base import PREFIX, PageDep, PageRoute, finish, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)


@router.get("/lists")
def lists_index(page: PageDep) -> Response:
    lists = [(f"{s.id}/{lst.id}", s, lst) for s, lst in page.system.registry.lists()]
    return render(page, "lists.html", lists=lists, field_names=FIELD_NAMES)


@router.get("/lists/{scheme_id}/{list_id}")
def public_list(
    page: PageDep,
    scheme_id: str,
    list_id: str,
    q: Annotated[str, Query(max_length=100)] = "",
    p: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """One list as published: its entries in force, with the published fields only, searched by
    a fragment of them (``q``) and paged (``p``, :data:`PER_PAGE` rows), with what the page
    counts beside what the transparency report counts (:class:`ListCensus`)."""
    qualified = f"{scheme_id}/{list_id}"
    with i18n.using(page.lang):  # the rows' conduct, performance and obligation in the page's language
        found = page.system.public_page(qualified, search=q, page=p)
    lst = page.system.registry.list_def(qualified)
    return render(
        page,
        "public_list.html",
        qualified=qualified,
        lst=lst,
        scheme=page.system.registry.scheme(scheme_id),
        found=found,
        query=q.strip(),
        census=page.system.list_census()[qualified],
        fields=lst.published_fields,
        field_names=FIELD_NAMES,
        links=_page_links(found.page, found.pages),
        organisations=sum(1 for k, _ in page.system.public_entries(qualified) if k == "organisation"),
    )


def _page_links(current: int, pages: int) -> list[int | None]:
    """The page numbers to link: the first, the last and two either side of the current one;
    None where numbers are left out."""
    keep = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    out: list[int | None] = []
    for n in keep:
        if out and out[-1] is not None and n > out[-1] + 1:
            out.append(None)
        out.append(n)
    return out


@router.get("/lists/{scheme_id}/{list_id}/organisations.csv")
def public_list_csv(
    page: PageDep, scheme_id: str, list_id: str, q: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    """The organisations on a list, as a CSV of exactly the published fields (the search too).
    Persons are left out: a copy of a person's listing would outlive its removal, which the
    list's rules require within 3 working days (issue 18; decision 0039)."""
    qualified = f"{scheme_id}/{list_id}"
    with i18n.using(page.lang):  # as the page it is downloaded from reads (and searches) them
        found = page.system.public_page(qualified, search=q, page=1, per_page=10**9)
    lst = page.system.registry.list_def(qualified)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(lst.published_fields)
    for kind, row in zip(found.kinds, found.rows, strict=True):
        if kind == "organisation":
            writer.writerow(["" if row[f] is None else row[f] for f in lst.published_fields])
    name = f"{scheme_id}-{list_id}-organisations.csv"
    return finish(
        page,
        Response(
            "\ufeff" + buffer.getvalue(),  # a BOM, so a spreadsheet reads the Chinese names as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        ),
    )


def _group_charts(
    groups: dict[str, dict[str, dict[str, Any]]], what: str, key: str, titles: dict[str, str], lang: str
) -> list[Any]:
    """A dot chart of each group's mean score per scheme; none for a tier rating, whose "score" is
    a tier level (a mean of levels means nothing): its table gives each group's grades instead."""
    out = []
    for n, (scheme_id, by) in enumerate(sorted(groups.items())):
        rows = [(g, float(v["mean"])) for g, v in by.items() if v.get("mean") is not None]
        chart = (
            charts.dot_chart(
                rows,
                title=i18n.translate(
                    N_(
                        "Mean score under {scheme} by {what}",
                        scheme=titles.get(scheme_id, scheme_id),
                        what=what,
                    ),
                    lang,
                ),
                unit=i18n.translate(N_("points (mean score)"), lang),
                chart_id=f"{key}-{n}",
                lang=lang,
            )
            if rows
            else None
        )
        out.append((scheme_id, by, chart))
    return out


@router.get("/transparency")
def transparency(
    page: PageDep,
    known_at: Annotated[
        str | None,
        Query(max_length=40, description="Knowledge time: the report as it stood then (default now)"),
    ] = None,
) -> Response:
    """The transparency report: list sizes, measures applied, objections and their outcomes,
    source accuracy, and score distributions by district and age band; with ``known_at``, as it
    stood then (only the subjects and records known by then), as the API's and the CLI's."""
    report = page.system.transparency(known_at=timeaxes.moment(known_at, "known_at"))
    accuracy = report["source_accuracy"]
    registry = page.system.registry
    list_titles = {
        f"{s.id}/{lst.id}": titles.title_of("list", lst.id, lst.title, s.id, page.lang)
        for s, lst in registry.lists()
    }
    measure_titles = {
        m.id: titles.title_of("measure", m.id, m.title, None, page.lang) for m in registry.measures().values()
    }
    scheme_titles = {
        s.id: titles.title_of("scheme", s.id, s.title, s.id, page.lang) for s in registry.schemes.values()
    }
    return render(
        page,
        "transparency.html",
        report=report,
        # the pages' census is of what is known now: shown beside today's report only
        census={} if report["known_at"] else page.system.list_census(),
        list_titles=list_titles,
        lists_chart=charts.bar_chart(
            [(list_titles.get(k, k), float(v)) for k, v in report["lists"].items()],
            title=i18n.translate(N_("Subjects on each list"), page.lang),
            unit=i18n.translate(N_("subjects"), page.lang),
            chart_id="lists",
            lang=page.lang,
        ),
        measures_chart=charts.bar_chart(
            [
                (measure_titles.get(m, m), float(a.get("deny", 0)))
                for m, a in report["measures_applied"].items()
            ],
            title=i18n.translate(N_("Decisions that denied a subject, by measure"), page.lang),
            unit=i18n.translate(N_("decisions denied"), page.lang),
            chart_id="measures",
            lang=page.lang,
        ),
        accuracy_chart=charts.bar_chart(
            [(a["source"], round(100 * a["overturned_share"], 1)) for a in accuracy],
            title=i18n.translate(N_("Share of each source's records overturned on objection"), page.lang),
            unit="%",
            chart_id="accuracy",
            lang=page.lang,
        ),
        districts=_group_charts(
            report["scores_by_district"],
            i18n.translate(N_("district"), page.lang),
            "district",
            scheme_titles,
            page.lang,
        ),
        ages=_group_charts(
            report["scores_by_age_band"],
            i18n.translate(N_("age band"), page.lang),
            "age",
            scheme_titles,
            page.lang,
        ),
    )
