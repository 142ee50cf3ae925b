"""The agency page: enter one record with its evidence, as the pilots' information collectors
did, through the same ingestion path as a file or an HTTP batch (``System.ingest``), and see at
once whether it was accepted, a duplicate, or quarantined and why."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from socialcredit import access
from socialcredit.schemes.model import Item
from socialcredit.web.base import PREFIX, CheckedPage, Page, PageDep, PageRoute, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)

FIELDS = ("subject", "item", "source", "source_record_id", "occurred_on", "evidence", "details")
Text = Annotated[str, Form(max_length=4000)]


def _items(page: Page, principal: access.Principal) -> list[Item]:
    """The items this key may report: an agency's own, every item for an operator."""
    reg = page.system.registry
    items = list(reg.items().values())
    if principal.role == "agency":
        items = [i for i in items if principal.principal in reg.sources_by_item.get(i.code, frozenset())]
    return sorted(items, key=lambda i: (i.area, i.code))


def _form(page: Page, principal: access.Principal, values: dict[str, str], **extra: Any) -> Response:
    status = extra.pop("status", 200)
    return render(
        page,
        "record_form.html",
        status,
        items=_items(page, principal),
        values=values,
        agency=principal.principal if principal.role == "agency" else None,
        **{"result": None, "record_id": None, **extra},
    )


@router.get("/records/new")
def record_form(page: PageDep) -> Response:
    p = page.require_role("submit records", "agency", "operator")
    return _form(page, p, dict.fromkeys(FIELDS, ""))


@router.post("/records/new")
def submit_record(
    page: CheckedPage,
    subject: Text = "",
    item: Text = "",
    source: Text = "",
    source_record_id: Text = "",
    occurred_on: Text = "",
    evidence: Text = "",
    details: Text = "",
) -> Response:
    """One row through ``System.ingest``: the outcome is shown with the reasons for a quarantine,
    and the form keeps what was typed unless the record was accepted."""
    p = page.require_role("submit records", "agency", "operator")
    values = {
        "subject": subject.strip(),
        "item": item.strip(),
        "source": source.strip() if p.role == "operator" else "",
        "source_record_id": source_record_id.strip(),
        "occurred_on": occurred_on.strip(),
        "evidence": evidence.strip(),
        "details": details.strip(),
    }
    row: dict[str, Any] = {k: v for k, v in values.items() if v}
    result = page.system.ingest([(1, row)], origin="portal", principal=p)
    src = p.principal if p.role == "agency" else values["source"]
    record_id = None
    if result.accepted:  # keyed (decision 0080): the store names it
        record_id = page.system.store.stored_record_id(src or "", values["source_record_id"])
    kept = dict.fromkeys(FIELDS, "") if result.accepted else values
    if result.accepted:
        kept["source"] = values["source"]
    return _form(page, p, kept, result=result, record_id=record_id)


@router.get("/records/{record_id}/proof")
def record_proof(page: PageDep, record_id: str) -> Response:
    """The record's inclusion proof in the public log, as a file to download (what
    ``GET /records/{id}/proof`` answers; for the record's subject, operators and auditors):
    anyone can check it without us (docs/transparency.md)."""
    proof = page.system.record_proof(page.require_login(), record_id)
    return Response(
        json.dumps(proof.to_json(), indent=2) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="record-{record_id[:32]}-proof.json"'},
    )
