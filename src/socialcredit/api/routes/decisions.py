"""The relying party's question: may subject X receive measure M now?

This route is the hot path, and is written for it:

- ``async def`` (``System.check_async``): with the subject's view cached, the decision is a few
  microseconds of work on the event loop and the request then awaits its audit entry's group
  commit without holding a worker thread; anything that needs the store (a cold subject, a
  moved change marker, a token not verified in the last second) runs in a worker thread, so the
  loop never waits on the database.
- No FastAPI dependencies: resolving the key, system and body dependencies (two header
  parameters, three levels of dependants) cost about 0.3 ms a request, more than the decision
  and the audit together. The body is validated by the same ``DecisionIn`` model, the key read
  from the same two headers, errors raised as the same exceptions (one error shape, the same
  statuses); the OpenAPI document still describes both headers and the body.
- The reply body is rendered once per decision and language (``DecisionReplies``), shared by
  every subject whose decision is the same but for the subject and the times (decision 0088);
  the reasons are worded in the language ``Accept-Language`` asks for (English without one), as
  an error line is.
- Over HTTP this function is reached ahead of the router (:mod:`socialcredit.api.hotpath`,
  decision 0019): it must not rely on anything the router adds to a request (path parameters,
  dependencies, the route in the scope).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from socialcredit import access, i18n
from socialcredit.api.decisionmodels import DecisionIn, DecisionOut, DecisionReplies, ReproductionOut
from socialcredit.api.deps import SECURITY, CurrentKey, SystemDep
from socialcredit.api.errors import BODY_UNREADABLE, reader
from socialcredit.i18n import N_
from socialcredit.service import Question, System

router = APIRouter(prefix="/decisions", tags=["decisions"])
replies = DecisionReplies()

_OPENAPI: dict[str, Any] = {
    "security": SECURITY,
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": DecisionIn.model_json_schema()}},
    },
}
# Who may ask at all; which measures each may ask about is the service's check.
ASKERS = ("relying_party", "operator")
ONLY_ASKERS = N_("ask for decisions: only relying parties and operators do")


@router.post("", operation_id="decide", response_model=DecisionOut, openapi_extra=_OPENAPI)
async def decide(request: Request) -> Response:
    """Allow or deny, with the reasons (list entry or grade, since, until, legal basis, how to
    resolve). The question and the answer are written to the audit log before the reply. Ask by
    the subject's code or by a document linked to it (``document``: same answer, same audit entry
    naming the subject and the document type; an unknown document is 404)."""
    system: System = request.app.state.system
    raw = await request.body()  # first, as FastAPI would: an oversized body is refused (413) unread
    try:
        data = json.loads(raw) if raw else None
    except json.JSONDecodeError as e:
        error = {"type": "json_invalid", "loc": ("body", e.pos), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([{**error, "ctx": {"error": e.msg}}], body=e.doc) from None
    except Exception:  # not UTF-8, nested too deep: the router answers these 400 too
        raise HTTPException(400, BODY_UNREADABLE) from None
    token, authorization, language = _headers(request.scope["headers"])
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    key = system.cached_principal(token)
    if key is None:
        key = await run_in_threadpool(system.authenticate, token)
    # as a role dependency would on the router: a key that may never ask is told so before its
    # body is judged (403 before 422)
    access.require(key.role in ASKERS, ONLY_ASKERS)
    try:
        body = DecisionIn.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None
    subject, via = body.subject, None
    if body.document is not None:  # a relying party asking by passport: the same question, noted
        subject, doc = await run_in_threadpool(system.resolve_document, body.document)
        via = doc.type
    assert subject is not None
    question = Question(
        subject, body.measure, key, purpose=body.purpose, at=body.as_of, known_at=body.known_at, via=via
    )
    decision = await system.check_async(question)
    locale = _locale(language)
    return Response(
        replies.body(decision, locale),
        media_type="application/json",
        headers={"Content-Language": i18n.TAGS[locale]},
    )


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str | None]:
    """``X-API-Key``, ``Authorization`` and ``Accept-Language``, each its first value as
    ``request.headers.get`` gives it, in one pass over the raw list (building the headers
    object and three lookups was 6 µs a question; decision 0101)."""
    token = authorization = language = None
    for name, value in raw:
        if name == b"x-api-key":
            token = value.decode("latin-1") if token is None else token
        elif name == b"authorization":
            authorization = value.decode("latin-1") if authorization is None else authorization
        elif name == b"accept-language":
            language = value.decode("latin-1") if language is None else language
    return token, authorization, language


@lru_cache(maxsize=256)
def _locale(accept_language: str | None) -> str:
    """The reasons' language, as an API error's (``Accept-Language``, English without it):
    negotiated once per distinct header, since a relying party sends the same one every time."""
    return reader(accept_language)


@router.get("/{decision_id}", operation_id="reproduce_decision", response_model=ReproductionOut)
def reproduce(
    decision_id: Annotated[
        str, Path(pattern="^dec-[0-9a-f]{16}$", description="A decision's id (its receipt)")
    ],
    key: CurrentKey,
    system: SystemDep,
) -> ReproductionOut:
    """A past decision reproduced from its receipt: the answer given, the same answer computed
    again from the chain positions and scheme versions it names, and the answer for the same
    valid time as known now, with a sentence where they differ. Its asker, operators and
    auditors may ask."""
    return ReproductionOut.of(system.reproduce(decision_id, key))
