"""The relying party's question: may subject X receive measure M now?"""

from __future__ import annotations

from fastapi import APIRouter

from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.models import DecisionIn, DecisionOut

router = APIRouter(prefix="/decisions", tags=["decisions"])


@router.post("", operation_id="decide", response_model=DecisionOut)
def decide(body: DecisionIn, key: CurrentKey, system: SystemDep) -> DecisionOut:
    """Allow or deny, with the reasons (list entry or grade, since, until, legal basis, how to
    resolve). The question and the answer are written to the audit log before the reply."""
    return DecisionOut.of(system.check(body.subject, body.measure, key, purpose=body.purpose))
