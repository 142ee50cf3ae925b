"""The transparency log's answers: an inclusion proof in exactly the shape issue 22 gives, and a
consistency proof (docs/transparency.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

HEX = "^[0-9a-f]{64}$"


class InclusionProofOut(BaseModel):
    """An entry's inclusion proof: check it with ``socialcredit proof verify`` or a few lines of
    any language (docs/transparency.md)."""

    leaf_index: int = Field(ge=0, description="The entry's index in the tree (its seq minus one)")
    tree_size: int = Field(ge=1, description="The size of the tree the path and the checkpoint are of")
    entry: str = Field(description="Base64 of the exact leaf bytes (docs/transparency.md)")
    leaf_hash: str = Field(pattern=HEX, description="SHA-256(0x00 || entry), hex")
    hashes: list[str] = Field(description="The audit path, hex, in RFC 9162 order (leaf end first)")
    checkpoint: str = Field(description="The log's signed checkpoint of that tree (a C2SP signed note)")


class ConsistencyOut(BaseModel):
    """The proof that the tree of ``to`` entries extends the tree of ``from`` entries."""

    model_config = ConfigDict(populate_by_name=True)

    first: int = Field(alias="from", ge=0)
    second: int = Field(alias="to", ge=0)
    hashes: list[str] = Field(description="Hex, in RFC 9162 order")


NOTE = (
    r"^[^\n]+\n(0|[1-9][0-9]{0,18})\n[A-Za-z0-9+/]{43}=\n\n"
    r"(\u2014 [^ \n+]{1,128} (?:[A-Za-z0-9+/]{4}){2,40}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\n){1,8}$"
)
"""A checkpoint note with signature lines (c2sp.org/signed-note, tlog-checkpoint)."""


class CosignatureIn(BaseModel):
    """A witness's cosignature: the checkpoint as the log served it, with the witness's
    cosignature/v1 line added (``socialcredit witness --submit`` sends it)."""

    note: str = Field(
        pattern=NOTE, max_length=4096, description="The cosigned checkpoint, a C2SP signed note"
    )


class CosignatureOut(BaseModel):
    """The cosignatures kept: served with the checkpoint of that size from now on."""

    chain: str
    size: int = Field(ge=0)
    witnesses: list[str] = Field(description="The witnesses whose cosignatures were kept")


class EpochOut(BaseModel):
    """A chain's epoch record as the log's key signed it (``store/epochs.py``): the chain was
    re-linked over its sealed form at ``count`` entries. Check the signature over the canonical
    JSON of every field but ``signature`` (docs/transparency.md)."""

    model_config = ConfigDict(extra="allow")

    format: str
    chain: str
    epoch: int
    created_at: str
    count: int
    old_head: str
    new_head: str
    old_tree: str | None = Field(None, description="The tree kept from before (consistency ?epoch=)")
    old_root: str | None = Field(None, description="Its root hash at count, hex")
    new_root: str | None = Field(None, description="The sealed tree's root hash at count, hex")
    public_key: str
    key_fingerprint: str
    signature: str


class EpochsOut(BaseModel):
    """Every epoch record of a chain, oldest first (none for a chain never re-linked)."""

    epochs: list[EpochOut]
