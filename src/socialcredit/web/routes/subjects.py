"""The subject page (a subject's own record, or an operator's view of it), its due-process
forms, and an organisation's public page.

The subject page is the portal's answer to "how do they calculate our score?": per scheme the
score and grade, one line per counting record, the grade thresholds, the score's history, every
list entry with its grounds and dates (and, for a listing derived by rule, a form to ask for a
human review), the notices of listing, the records themselves, the objections, reviews and
restoration applications with their deadlines and deciders, and everyone who asked about the
subject (every read and decision, from the audit log). It reads through ``System.read``, so the
page view itself is audited like an API read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response
from markupsafe import Markup

from socialcredit import access, codes, documents, i18n
from socialcredit.dueprocess.cases import Objection, Restoration, restoration_eligible_from
from socialcredit.errors import Conflict, Refused
from socialcredit.history import score_history
from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry
from socialcredit.rules.days import day_of
from socialcredit.schemes import titles
from socialcredit.schemes.model import Scheme, TierModel
from socialcredit.scoring import Score
from socialcredit.scoring.dispatch import explain, timeline_over
from socialcredit.scoring.explanation import Explanation
from socialcredit.service import NotFound, SubjectView
from socialcredit.web import charts, timeaxes
from socialcredit.web.base import PREFIX, CheckedPage, Page, PageDep, PageRoute, redirect, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)

HISTORY_DAYS = 3 * 365  # how far back the score chart starts at the least
Text = Annotated[str, Form(max_length=12000)]


@dataclass(frozen=True)
class SchemeBlock:
    """One scheme's part of the subject page."""

    title: str
    score: Score
    explained: Explanation
    grades: list[tuple[str, float, float | None]]  # grade, lowest score, next grade's lowest
    chart: Any
    history: list[tuple[dt.date, int, str]]
    version: str
    """The version of the scheme that answered (in force at the view's time, decision 0038), as
    the API's ``versions`` and ``score --json`` name it: a subject sees which rules gave the score."""
    applies_from: dt.date | None
    """The first day that version applies (None: from the beginning)."""


@dataclass(frozen=True)
class Restorable:
    """A negative record and the first day its restoration may be applied for."""

    record: Record
    title: str
    severity: str
    eligible_from: dt.date


def _blocks(page: Page, view: SubjectView) -> list[SchemeBlock]:
    """Each scored scheme's block; its score history in valid time (``history.score_history``):
    a record a restoration ended counts until then, not never."""
    out = []
    every = list({r.record_id: r for x in view.ended_records for r in (x.record, x.by)}.values())
    every += [r for r in view.records if r.record_id not in {x.record_id for x in every}]
    void = page.system.unrestorable_items()
    for n, score in enumerate(view.scores.values()):
        # the version in force at the view's time; the history scores each day by its own (0038)
        scheme = page.system.registry.at(day_of(view.as_of)).scheme(score.scheme)
        model = scheme.model
        assert model is not None  # only scored schemes have scores
        versions = page.system.registry.versions(scheme.id)
        history = timeline_over(
            view.code, every, versions, view.as_of, partial(score_history, unrestorable=void)
        )
        end = day_of(view.as_of)
        first = min([d for d, _, _ in history], default=end)
        start = min(first - dt.timedelta(days=30), end - dt.timedelta(days=HISTORY_DAYS))
        grades = [
            (g.grade, g.min_score, model.grades[i - 1].min_score if i else None)
            for i, g in enumerate(model.grades)
        ]
        chart = _chart(page, scheme, history, start, end, f"history-{n}")
        start_of = next((d for d, v in versions if v is scheme), None)
        out.append(
            SchemeBlock(
                scheme.title, score, explain(score, scheme), grades, chart, history, scheme.version, start_of
            )
        )
    return out


def _chart(
    page: Page,
    scheme: Scheme,
    history: list[tuple[dt.date, int, str]],
    start: dt.date,
    end: dt.date,
    chart_id: str,
) -> Markup:
    """A scheme's score history as a chart in the page's language: a tier rating by its tiers'
    names (its levels are an order, not points), a score in points with its grades' thresholds."""
    model = scheme.model
    assert model is not None
    name = titles.title_of("scheme", scheme.id, scheme.title, scheme.id, page.lang)
    if isinstance(model, TierModel):
        tiers = [
            (model.level(t.tier), titles.title_of("tier", t.tier, t.tier, scheme.id, page.lang))
            for t in model.tiers
        ]
        title = i18n.translate(N_("{scheme}: rating history", scheme=name), page.lang)
        return charts.tier_history(
            history,
            tiers=tiers,
            base=model.base,
            start=start,
            end=end,
            title=title,
            chart_id=chart_id,
            lang=page.lang,
        )
    return charts.score_history(
        history,
        base=model.base,
        start=start,
        end=end,
        grades=[(g.grade, g.min_score) for g in model.grades[:-1]],
        title=i18n.translate(N_("{scheme}: score history", scheme=name), page.lang),
        chart_id=chart_id,
        lang=page.lang,
    )


def _subject_context(
    page: Page, principal: access.Principal, code: str, axes: timeaxes.Axes | None = None
) -> dict[str, Any]:
    """Everything the subject page shows, computed once through the service. With a knowledge
    time, the same valid time as known today too, and how the two differ."""
    system = page.system
    axes = axes or timeaxes.Axes(None, None, "", "")
    view = system.read(code, principal, purpose="portal: subject page", as_of=axes.at, known_at=axes.known_at)
    shown = (lambda c: c) if principal.role == "operator" else codes.mask
    items = system.registry.items()
    now = system.view(view.code, view.as_of) if axes.known_at is not None else view
    seen = [*view.records, *(x.record for x in view.ended_records), *now.records]
    titles = {r.item: items[r.item].title if r.item in items else r.item for r in seen}
    schemes = {sid: system.registry.scheme(sid).title for sid in view.scores}
    differences = []
    if axes.known_at is not None:
        with i18n.using(page.lang):  # sentences in the page's language
            differences = timeaxes.differences(view, now, axes.known_at, titles, schemes)
    entries: list[tuple[ListEntry, str | None]] = [(e, shown(e.via) if e.via else None) for e in view.entries]
    void = system.unrestorable_items()  # judicial records: never offered (dueprocess.restoration)
    restorable = [
        Restorable(r, titles[r.item], items[r.item].severity, eligible)
        for r in view.records
        if r.item in items
        and items[r.item].polarity == "negative"
        and r.action == "report"
        and r.item not in void
        and (eligible := restoration_eligible_from(r.occurred_on, items[r.item].severity))
    ]
    rep = view.subject.legal_representative if view.subject else None
    today = day_of(system.clock())
    links = (
        system.document_links(principal=principal, code=view.code, purpose="portal: subject page")
        if view.kind == "person"
        else []
    )
    known = timeaxes.limited(system, principal, view.code, axes.known_at, links)  # as known at K
    cases = sorted(known.cases, key=_filed, reverse=True)
    return {
        "view": view,
        "blocks": _blocks(page, view),
        "entries": entries,
        "ended_entries": [(e, shown(e.via) if e.via else None) for e in view.ended_entries],
        "titles": titles,
        "notices": system.notices(view.code, view.as_of),
        "cases": cases,
        "reviewing": {
            c.list_id: c for c in cases if isinstance(c, Objection) and c.kind == "review" and c.is_open
        },
        "restorable": restorable,
        "erasable": system.erasable(view.code) if axes.at is None and axes.known_at is None else [],
        "erased": [(e.record_id, day_of(e.at), e.rule) for e in view.erased],
        "erased_cases": [  # as known at K: those filed by then (decision 0071)
            (e.case_id, e.case_kind, day_of(e.filed_at), day_of(e.at), e.rule)
            for e in system.erased_cases(principal=principal, subject=view.code)
            if axes.known_at is None or e.filed_at <= axes.known_at
        ],
        "enrolments": system.enrolments(view.code, principal) if axes.at is None else [],
        "consents": system.consents(view.code, principal) if axes.at is None else [],
        "objectable": [(e.qualified_id, e.title) for e, _ in entries if e.status in ("active", "pending")],
        "by_rule": system.lists_by_rule(),
        "documents": [
            (documents.mask(x.document) if principal.role != "operator" else x.document, x)
            for x in known.documents
        ],
        "later": known.later,
        **_looks(system.looks_about(principal, view.code, known_at=axes.known_at)),
        "representative": shown(rep) if rep else None,
        "own": principal.role == "subject",
        "may_act": principal.role in ("subject", "operator") and axes.at is None and axes.known_at is None,
        "axes": axes,
        "differences": differences,
        "today": today,
        "errors": {},
        "values": {},
        "filed": None,
    }


def _looks(found: tuple[list[dict[str, Any]], int, dt.datetime | None]) -> dict[str, Any]:
    """ "Who asked about me": others' looks listed, the subject's own counted apart (issue 18)."""
    others, own, last = found
    return {"audit": others, "own_looks": own, "own_last": last}


def _filed(case: Any) -> dt.datetime:
    filed: dt.datetime = case.applied_at if isinstance(case, Restoration) else case.filed_at
    return filed


@router.get("/subjects/{code}")
def subject_page(
    page: PageDep,
    code: str,
    at: Annotated[
        str | None, Query(max_length=40, description="Valid time: the record as it stood then (default now)")
    ] = None,
    known_at: Annotated[
        str | None,
        Query(max_length=40, description="Knowledge time: from what the system had received by then"),
    ] = None,
    as_of: Annotated[
        dt.date | None, Query(description="The valid time as a day (older links; ``at``)")
    ] = None,
    case: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """A subject's whole record, explained, for the subject itself or an operator: for valid
    time ``at`` as known at ``known_at`` (both default to now; a bare date is the end of that
    day in China), saying where that differs from the same time as known today."""
    p = page.require_login()
    context = _subject_context(page, p, code, timeaxes.axes(at, known_at, as_of))
    context["filed"] = next((c for c in context["cases"] if c.id == case), None)
    return render(page, "subject.html", **context)


def _form_error(
    page: Page,
    principal: access.Principal,
    code: str,
    form: str,
    error: str,
    values: dict[str, str],
    status: int = 422,
) -> Response:
    """The subject page again, with the form's error next to it and what was typed kept, under
    the refusal's status (422 for a field, 404 for a missing record or list, 409 for a case's
    state)."""
    context = _subject_context(page, principal, code)
    context["errors"] = {form: error}
    context["values"] = values
    return render(page, "subject.html", status, **context)


@router.post("/subjects/{code}/objections")
def file_objection(
    page: CheckedPage,
    code: str,
    target: Annotated[str, Form(max_length=200)] = "",
    statement: Text = "",
    evidence: Text = "",
) -> Response:
    """Object to a record or a list entry (``System.file_objection``); the deadlines start now."""
    p = page.require_login()
    c = codes.validate(code)
    values = {"target": target, "statement": statement, "evidence": evidence}
    kind, _, ident = target.partition(":")
    refs = [line.strip() for line in evidence.splitlines() if line.strip()]
    try:
        if kind not in ("record", "list") or not ident:
            raise Refused(N_("choose the record or list entry you object to"), field="target")
        objection = page.system.file_objection(
            principal=p,
            subject=c.value,
            record_id=ident if kind == "record" else None,
            list_id=ident if kind == "list" else None,
            statement=statement,
            evidence=refs,
        )
    except (Refused, NotFound) as exc:
        with i18n.using(page.lang):
            message = exc.describe()
        return _form_error(page, p, c.value, "objection", message, values, exc.status)
    return redirect(page, f"{PREFIX}/subjects/{c.value}?case={objection.id}#cases")


@router.post("/subjects/{code}/reviews")
def file_review(
    page: CheckedPage,
    code: str,
    list_id: Annotated[str, Form(max_length=200)] = "",
    statement: Text = "",
    evidence: Text = "",
) -> Response:
    """Ask for a person to review a listing the system derived by rule (``System.file_review``,
    GDPR Art. 22); decided within 15 days by an operator not involved so far."""
    p = page.require_login()
    c = codes.validate(code)
    values = {"list_id": list_id, "statement": statement, "evidence": evidence}
    refs = [line.strip() for line in evidence.splitlines() if line.strip()]
    try:
        if not list_id:
            raise Refused(N_("choose the listing to review"), field="list_id")
        case = page.system.file_review(
            principal=p, subject=c.value, list_id=list_id, statement=statement, evidence=refs
        )
    except (Refused, NotFound) as exc:
        return _form_error(page, p, c.value, "review", str(exc), values, exc.status)
    return redirect(page, f"{PREFIX}/subjects/{c.value}?case={case.id}#cases")


@router.post("/subjects/{code}/restorations")
def apply_restoration(
    page: CheckedPage,
    code: str,
    record_id: Annotated[str, Form(max_length=200)] = "",
    conduct_corrected: Text = "",
    obligations_fulfilled: Text = "",
    commitment: Text = "",
) -> Response:
    """Apply for credit restoration of a negative record (``System.apply_restoration``)."""
    p = page.require_login()
    c = codes.validate(code)
    values = {
        "record_id": record_id,
        "conduct_corrected": conduct_corrected,
        "obligations_fulfilled": obligations_fulfilled,
        "commitment": commitment,
    }
    try:
        if not record_id:
            raise Refused(N_("choose the record to restore"), field="record_id")
        case = page.system.apply_restoration(
            principal=p,
            subject=c.value,
            record_id=record_id,
            conduct_corrected=conduct_corrected,
            obligations_fulfilled=obligations_fulfilled,
            commitment=commitment,
        )
    except (Refused, NotFound) as exc:
        return _form_error(page, p, c.value, "restoration", str(exc), values, exc.status)
    return redirect(page, f"{PREFIX}/subjects/{c.value}?case={case.id}#cases")


@router.post("/subjects/{code}/erasure-requests")
def file_erasure(
    page: CheckedPage,
    code: str,
    record_id: Annotated[str, Form(max_length=200)] = "",
    statement: Text = "",
) -> Response:
    """Ask for a record to be erased where the schemes allow it (``System.file_erasure``): an
    operator decides it within the review period; granted, its data key is destroyed at once."""
    p = page.require_login()
    c = codes.validate(code)
    values = {"erase_record_id": record_id, "erase_statement": statement}
    try:
        if not record_id:
            raise Refused(N_("choose the record to erase"), field="record_id")
        case = page.system.file_erasure(
            principal=p, subject=c.value, record_id=record_id, statement=statement
        )
    except (Refused, NotFound, Conflict) as exc:
        with i18n.using(page.lang):
            message = exc.describe()
        return _form_error(page, p, c.value, "erasure", message, values, exc.status)
    return redirect(page, f"{PREFIX}/subjects/{c.value}?case={case.id}#cases")


@router.post("/cases/{case_id}/appeal")
def appeal(page: CheckedPage, case_id: str, statement: Text = "") -> Response:
    """Appeal a rejected objection within the appeal period (``System.appeal``)."""
    p = page.require_login()
    try:
        objection = page.system.appeal(principal=p, objection_id=case_id, statement=statement)
    except Refused as exc:
        subject = next(
            (c.subject for c in page.system.cases(principal=p) if c.id == case_id),
            None,
        )
        if subject is None:
            raise
        return _form_error(
            page, p, subject, "cases", f"{case_id}: {exc}", {"statement": statement}, exc.status
        )
    return redirect(page, f"{PREFIX}/subjects/{objection.subject}?case={objection.id}#cases")


@router.get("/public/{code}")
def public_page(page: PageDep, code: str) -> Response:
    """What the public may see of a subject by code, as the schemes in force allow
    (``System.public_lookup``: organisations' records and current listings, as Credit China
    shows them; persons' records are private to them)."""
    return render(page, "public.html", data=page.system.public_lookup(code))


@router.post("/subjects/{code}/enrolments/{scheme}/withdraw")
def withdraw_enrolment(page: CheckedPage, code: str, scheme: str) -> Response:
    """Leave an opt-in scheme (``System.withdraw``): the subject's own button; the page again
    shows the scheme's standing as left, and no score of it."""
    return _own_act(page, code, "enrolment", lambda c, p: page.system.withdraw(c, scheme, p))


@router.post("/subjects/{code}/enrolments/{scheme}/apply")
def apply_enrolment(page: CheckedPage, code: str, scheme: str) -> Response:
    """Apply to an opt-in scheme (``System.apply``): the subject's own button beside "Leave"."""
    return _own_act(page, code, "enrolment", lambda c, p: page.system.apply(c, scheme, p))


@router.post("/subjects/{code}/consents/{scheme}/{list_id}/give")
def give_consent(page: CheckedPage, code: str, scheme: str, list_id: str) -> Response:
    """Consent to being named on a list in public (``System.consent``, decision 0042)."""
    return _consent(page, code, f"{scheme}/{list_id}", give=True)


@router.post("/subjects/{code}/consents/{scheme}/{list_id}/withdraw")
def withdraw_consent(page: CheckedPage, code: str, scheme: str, list_id: str) -> Response:
    """Withdraw that consent: the list stops naming the subject at once."""
    return _consent(page, code, f"{scheme}/{list_id}", give=False)


def _consent(page: Page, code: str, list_id: str, *, give: bool) -> Response:
    return _own_act(page, code, "consent", lambda c, p: page.system.consent(c, list_id, p, give=give))


def _own_act(page: Page, code: str, form: str, act: Callable[[str, access.Principal], object]) -> Response:
    """One of the subject's own buttons (join, leave, consent): done, the page again at its
    section; refused, the page again with the reason beside the form."""
    p = page.require_login()
    c = codes.validate(code)
    try:
        act(c.value, p)
    except (Refused, NotFound) as exc:
        return _form_error(page, p, c.value, form, str(exc), {}, exc.status)
    return redirect(page, f"{PREFIX}/subjects/{c.value}#{form}s")
