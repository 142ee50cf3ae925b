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
