"""The relying party's question: may subject X receive measure M now?

The route is ``async def`` (``System.check_async``): with the subject's view cached, the
decision is a few microseconds of work on the event loop and the request then awaits its audit
entry's group commit without holding a worker thread; anything that needs the store (a cold
subject, a moved change marker) runs in a worker thread, so the loop never waits on the
database. The reply body is rendered once per prepared decision (``DecisionReplies``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.models import DecisionIn, DecisionOut, DecisionReplies

router = APIRouter(prefix="/decisions", tags=["decisions"])
replies = DecisionReplies()


@router.post("", operation_id="decide", response_model=DecisionOut)
async def decide(body: DecisionIn, key: CurrentKey, system: SystemDep) -> Response:
    """Allow or deny, with the reasons (list entry or grade, since, until, legal basis, how to
    resolve). The question and the answer are written to the audit log before the reply."""
    decision = await system.check_async(body.subject, body.measure, key, purpose=body.purpose)
    return Response(replies.body(decision), media_type="application/json")
