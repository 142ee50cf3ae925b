"""The relying party's page: ask whether a subject may receive a measure now, and see allow or
deny with the reasons, through ``System.check`` (audited before the answer is shown). Like the
API, the answer shows the subject's code masked: the page cannot be used to collect codes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from socialcredit import access, codes, i18n
from socialcredit.i18n import N_
from socialcredit.schemes.model import Measure
from socialcredit.service import NotFound, Question
from socialcredit.verdicts import verdict
from socialcredit.web.base import PREFIX, CheckedPage, Page, PageDep, PageRoute, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)
ASK = N_("ask for decisions")
NO_PURPOSE = N_("purpose: say why you ask (it is audited)")


def _measures(page: Page, principal: access.Principal) -> list[Measure]:
    """The measures this key may ask about: the ones it implements (all for an operator)."""
    return [m for m in page.system.registry.measures().values() if access.may_ask(principal, m)]


def _form(page: Page, principal: access.Principal, values: dict[str, str], **extra: Any) -> Response:
    status = extra.pop("status", 200)
    return render(
        page,
        "decision_form.html",
        status,
        measures=_measures(page, principal),
        values=values,
        **{"decision": None, "error": None, "verdict": None, **extra},
    )


@router.get("/decisions/new")
def decision_form(page: PageDep) -> Response:
    p = page.require_role(ASK, "relying_party", "operator")
    return _form(page, p, {"subject": "", "measure": "", "purpose": ""})


@router.post("/decisions/new")
def ask_decision(
    page: CheckedPage,
    subject: Annotated[str, Form(max_length=64)] = "",
    measure: Annotated[str, Form(max_length=64)] = "",
    purpose: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Allow or deny with the reasons; an invalid question is shown again with what to fix."""
    p = page.require_role(ASK, "relying_party", "operator")
    values = {"subject": subject.strip(), "measure": measure.strip(), "purpose": purpose.strip()}
    if not values["purpose"]:
        return _form(page, p, values, status=422, error=NO_PURPOSE)
    try:
        decision = page.system.check(
            Question(values["subject"], values["measure"], p, purpose=values["purpose"])
        )
    except (codes.CodeError, NotFound) as exc:
        with i18n.using(page.lang):
            return _form(page, p, values, status=422, error=exc.describe())
    with i18n.using(page.lang):  # the measure's and the list's titles in the page's language
        headline = i18n.translate(verdict(decision, page.system.registry))
    return _form(page, p, values, decision=decision, masked=codes.mask(decision.subject), verdict=headline)
