"""The transparency log over HTTP: each chain's signed checkpoint and consistency proofs, for
anyone (a witness, a journalist, a subject's lawyer); they hold hashes only (docs/transparency.md).
The inclusion proofs of a record and of an audit entry are beside them (``GET /records/{id}/proof``,
``GET /audit/{seq}/proof``)."""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from socialcredit.api.deps import SystemDep
from socialcredit.api.logmodels import ConsistencyOut, CosignatureIn, CosignatureOut, EpochsOut
from socialcredit.tlog import note, tiles
from socialcredit.tlog.tiles import PATH as TILE_PATH

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
    hash (base64), an empty line, the log's Ed25519 signature line naming its key, and the
    cosignatures (cosignature/v1) known witnesses submitted for this tree. Mutable: cached a few
    seconds at most (C2SP tlog-tiles)."""
    return PlainTextResponse(
        system.cosigned_checkpoint(chain).note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get(
    "/{chain}/checkpoint/cosigned",
    operation_id="log_checkpoint_cosigned",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "A signed note"}
    },
)
def checkpoint_cosigned(
    chain: ChainPath,
    system: SystemDep,
    quorum: Annotated[
        int, Query(ge=1, le=64, description="How many known witnesses must have cosigned it")
    ] = 1,
) -> PlainTextResponse:
    """The newest checkpoint that at least ``quorum`` witnesses the operator configured cosigned,
    with their cosignature lines (decision 0066): the checkpoint above is always the newest tree,
    which on a busy log has seldom been cosigned yet. Prove the newest extends this one with
    ``consistency?from=<its size>&to=<the newest's>``. 404 naming ``quorum`` if none has."""
    return PlainTextResponse(
        system.latest_cosigned(chain, quorum).note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.post("/{chain}/cosignature", operation_id="log_cosignature", response_model=CosignatureOut)
def cosignature(chain: ChainPath, body: CosignatureIn, system: SystemDep) -> CosignatureOut:
    """A witness submits its cosignature (C2SP tlog-cosignature) of a checkpoint this log signed:
    the note as served, with its cosignature/v1 line added. Kept and served with the checkpoint of
    that tree if the witness is one the operator configured (``socialcredit checkpoint witnesses``)
    and the signature holds; refused naming ``note`` otherwise."""
    names = system.submit_cosignature(chain, body.note)
    size = note.Checkpoint.parse(body.note.partition("\n\n")[0] + "\n").size
    return CosignatureOut(chain=chain, size=size, witnesses=names)


@router.get("/{chain}/epochs", operation_id="log_epochs", response_model=EpochsOut)
def epochs(chain: ChainPath, system: SystemDep) -> JSONResponse:
    """The chain's epoch records, signed by the log's key: when it was re-linked over its sealed
    form, the old and new chain heads and tree roots. A checkpoint signed before an epoch is
    proved against it (``consistency?epoch=``; docs/transparency.md)."""
    return JSONResponse({"epochs": system.log_epochs(chain)})  # as signed: no field added or dropped


IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def binary(what: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI document's word for a 200 answered with bytes."""
    schema = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"content": {"application/octet-stream": schema}, "description": what}}


TilePath = Annotated[
    str,
    Path(
        pattern=TILE_PATH,
        description="The index in 3-digit path elements (x001/x234/067), .p/<W> after a partial tile",
    ),
]


@router.get(
    "/{chain}/tile/entries/{index:path}",
    operation_id="log_entries",
    response_class=Response,
    responses=binary("An entries bundle (C2SP tlog-tiles)"),
)
def entries(chain: ChainPath, index: TilePath, system: SystemDep, request: Request) -> Response:
    """A C2SP tlog-tiles entries bundle: each entry's exact leaf bytes after its length (big-endian
    uint16), 256 to a full bundle. The records and registry logs only: their leaves hold hashes
    of the sealed entries, never their fields; the audit and cases entries are proved one by one
    to those who may read them. Compressed (``Content-Encoding: gzip``) for a client that accepts gzip, as the
    spec asks of bundles; the same bytes uncompressed to one that does not."""
    n, width = tiles.parse_path(index)
    bundle = system.log_entries(chain, n, width)
    headers = {**IMMUTABLE, "Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        # mtime 0: the same bundle compresses to the same bytes every time, as an immutable
        # resource should (a cache or a mirror comparing copies sees one)
        packed = gzip.compress(bundle, compresslevel=6, mtime=0)
        return Response(
            packed, media_type="application/octet-stream", headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(bundle, media_type="application/octet-stream", headers=headers)


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` value admits gzip (RFC 9110 12.5.3): named, or ``*``, with a
    weight above zero, and not refused by name (``gzip;q=0``)."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding.strip():
            weights[coding.strip().lower()] = weight
    if "gzip" in weights:
        return weights["gzip"] > 0
    return weights.get("*", 0.0) > 0


@router.get(
    "/{chain}/tile/{level}/{index:path}",
    operation_id="log_tile",
    response_class=Response,
    responses=binary("A hash tile (C2SP tlog-tiles)"),
)
def tile(
    chain: ChainPath,
    level: Annotated[str, Path(pattern="^(0|[1-9]|[1-5][0-9]|6[0-3])$", description="The level, 0 to 63")],
    index: TilePath,
    system: SystemDep,
) -> Response:
    """A C2SP tlog-tiles hash tile: up to 256 concatenated SHA-256 hashes of the subtrees of height
    8 x level, full (8,192 bytes, immutable) or, with .p/<W>, the first W (a partial tile of a
    checkpoint's tree; its bytes never change either). Anyone rebuilds any root or proof from them."""
    n, width = tiles.parse_path(index)
    return Response(
        system.log_tile(chain, int(level), n, width), media_type="application/octet-stream", headers=IMMUTABLE
    )


@router.get("/{chain}/consistency", operation_id="log_consistency", response_model=ConsistencyOut)
def consistency(
    chain: ChainPath,
    system: SystemDep,
    first: Annotated[int, Query(alias="from", ge=0, le=SIZE, description="The older tree's size")],
    second: Annotated[int, Query(alias="to", ge=0, le=SIZE, description="The newer tree's size")],
    epoch: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="In the tree kept from before this epoch")
    ] = None,
) -> ConsistencyOut:
    """The RFC 9162 consistency proof that the chain's tree of ``to`` entries extends its tree of
    ``from`` entries (hashes in hex, in the RFC's order); with ``epoch``, in the tree the chain had
    before that epoch re-linked it (``GET /log/{chain}/epochs``)."""
    hashes = system.consistency(chain, first, second, epoch)
    return ConsistencyOut.model_validate({"from": first, "to": second, "hashes": [h.hex() for h in hashes]})
