"""Public disclosure: the lists as published (exactly the fields each list publishes, through
``System.public_list``), the transparency report (``System.transparency``) with its charts, and
the data sources' accuracy figures. Open to everyone, logged in or not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from socialcredit import i18n
from socialcredit.i18n import N_
from socialcredit.schemes import titles
from socialcredit.web import charts
from socialcredit.web.base import PREFIX, PageDep, PageRoute, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)

FIELD_NAMES = {  # worded in the page's language by the template (|tr)
    "name": N_("Name"),
    "sex": N_("Sex"),
    "age": N_("Age"),
    "id_number_masked": N_("ID number (masked)"),
    "code": N_("Code"),
    "legal_representative": N_("Legal representative"),
    "obligation": N_("Obligation"),
    "performance": N_("Performance"),
    "conduct": N_("Dishonest conduct"),
    "case_number": N_("Case number"),
    "court": N_("Court"),
    "grade": N_("Grade"),
    "district": N_("District"),
}


@router.get("/lists")
def lists_index(page: PageDep) -> Response:
    lists = [(f"{s.id}/{lst.id}", s, lst) for s, lst in page.system.registry.lists()]
    return render(page, "lists.html", lists=lists, field_names=FIELD_NAMES)


@router.get("/lists/{scheme_id}/{list_id}")
def public_list(page: PageDep, scheme_id: str, list_id: str) -> Response:
    """One list as published: its entries in force, with the published fields only."""
    qualified = f"{scheme_id}/{list_id}"
    rows = page.system.public_list(qualified)
    lst = page.system.registry.list_def(qualified)
    return render(
        page,
        "public_list.html",
        qualified=qualified,
        lst=lst,
        scheme=page.system.registry.scheme(scheme_id),
        rows=rows,
        fields=lst.published_fields,
        field_names=FIELD_NAMES,
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
            )
            if rows
            else None
        )
        out.append((scheme_id, by, chart))
    return out


@router.get("/transparency")
def transparency(page: PageDep) -> Response:
    """The transparency report: list sizes, measures applied, objections and their outcomes,
    source accuracy, and score distributions by district and age band."""
    report = page.system.transparency()
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
        lists_chart=charts.bar_chart(
            [(list_titles.get(k, k), float(v)) for k, v in report["lists"].items()],
            title=i18n.translate(N_("Subjects on each list"), page.lang),
            unit=i18n.translate(N_("subjects"), page.lang),
            chart_id="lists",
        ),
        measures_chart=charts.bar_chart(
            [
                (measure_titles.get(m, m), float(a.get("deny", 0)))
                for m, a in report["measures_applied"].items()
            ],
            title=i18n.translate(N_("Decisions that denied a subject, by measure"), page.lang),
            unit=i18n.translate(N_("decisions denied"), page.lang),
            chart_id="measures",
        ),
        accuracy_chart=charts.bar_chart(
            [(a["source"], round(100 * a["overturned_share"], 1)) for a in accuracy],
            title=i18n.translate(N_("Share of each source's records overturned on objection"), page.lang),
            unit="%",
            chart_id="accuracy",
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
