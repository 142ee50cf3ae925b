"""The transparency log over HTTP: each chain's signed checkpoint and consistency proofs, for
anyone (a witness, a journalist, a subject's lawyer); they hold hashes only (docs/transparency.md).
The inclusion proofs of a record and of an audit entry are beside them (``GET /records/{id}/proof``,
``GET /audit/{seq}/proof``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse, Response

from socialcredit.api.deps import SystemDep
from socialcredit.api.logmodels import ConsistencyOut

router = APIRouter(prefix="/log", tags=["transparency log"])

ChainPath = Annotated[
    str,
    Path(
        pattern="^(records|audit|cases|registry)$", description="A chain: records, audit, cases or registry"
    ),
]
SIZE = 2**63 - 1


@router.get(
    "/{chain}/checkpoint",
    operation_id="log_checkpoint",
    response_class=Response,  # errors stay JSON in the document (PlainTextResponse would relabel them)
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "A signed note"}
    },
)
def checkpoint(chain: ChainPath, system: SystemDep) -> PlainTextResponse:
    """The chain's newest checkpoint, a C2SP tlog-checkpoint signed note: origin, tree size, root
    hash (base64), an empty line, and the log's Ed25519 signature line naming its key."""
    return PlainTextResponse(system.checkpoint(chain).note, media_type="text/plain; charset=utf-8")


@router.get("/{chain}/consistency", operation_id="log_consistency", response_model=ConsistencyOut)
def consistency(
    chain: ChainPath,
    system: SystemDep,
    first: Annotated[int, Query(alias="from", ge=0, le=SIZE, description="The older tree's size")],
    second: Annotated[int, Query(alias="to", ge=0, le=SIZE, description="The newer tree's size")],
) -> ConsistencyOut:
    """The RFC 9162 consistency proof that the chain's tree of ``to`` entries extends its tree of
    ``from`` entries (hashes in hex, in the RFC's order)."""
    hashes = system.consistency(chain, first, second)
    return ConsistencyOut.model_validate({"from": first, "to": second, "hashes": [h.hex() for h in hashes]})
