"""Request bodies and what their JSON Schema states: the rules the server enforces, so that a
request valid by the OpenAPI document is one the server accepts (schemathesis's positive data
check, issue #18), and one it refuses is invalid by the document.

What JSON Schema cannot state (an identity code's check characters, birth date and region) is
named by a format, ``identity-code`` (``codes.FORMAT``), for a client generator to supply.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from socialcredit import codes

# An identity code in a schema: its canonical pattern and its format, whose check characters,
# birth date and region no pattern can state (codes.PATTERN). Only stated, not enforced by the
# model: ``codes.validate`` enforces the whole rule and says which part is wrong (and also takes
# a code written with spaces or dashes, or in lower case).
CODE_SCHEMA: dict[str, Any] = {"format": codes.FORMAT, "pattern": codes.PATTERN}
CODE_DESCRIPTION = (
    "Identity code: an 18-digit resident ID number or an 18-character Unified Social Credit Code, "
    "check characters included"
)


def code_field(description: str = CODE_DESCRIPTION) -> Any:
    """A body field holding an identity code (see ``CODE_SCHEMA``)."""
    return Field(max_length=64, description=description, json_schema_extra=CODE_SCHEMA)


class RequestIn(BaseModel):
    """A request body whose text fields may not hold a NUL character: no code, measure, purpose
    or statement needs one, and PostgreSQL refuses it in a text column, so it would surface as a
    server error (schemathesis found one) instead of a 422 naming the field.

    Its JSON Schema says so (a pattern on every free text field), and a subclass adds the rules
    across its fields that the server enforces (``cross_field_rules``: which field is required
    with which), so that a request valid by the schema is one the server accepts (schemathesis's
    positive data check, issue #18)."""

    cross_field_rules: ClassVar[dict[str, Any]] = {}

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters (\\u0000) are not accepted")
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        for prop in schema.get("properties", {}).values():
            _state_no_nul(prop)
        schema.update(cls.cross_field_rules)
        return schema


NO_NUL = "^[^\\u0000]*$"
# what the server strips before it counts: at least one character that is not a space
TEXT_PATTERN = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"
"""Text with something in it besides white space, as the server strips it: Python's ``str.strip``
also takes U+001C..U+001F and U+0085 for white space, which a schema's ``\\s`` does not, so
schemathesis sent an evidence of one U+001C, valid by the schema, that the server found empty."""


def _state_no_nul(prop: dict[str, Any]) -> None:
    """A free text property (a string with no pattern, format or fixed values) gets ``NO_NUL``."""
    for branch in prop.get("anyOf", []):
        _state_no_nul(branch)
    if isinstance(prop.get("items"), dict):
        _state_no_nul(prop["items"])
    if prop.get("type") == "string" and not {"pattern", "format", "enum", "const"} & prop.keys():
        prop["pattern"] = NO_NUL


def text_field(description: str | None = None) -> Any:
    """A statement or reason: 1 to 4000 characters, not all of them spaces (the server strips)."""
    return Field(
        min_length=1,
        max_length=4000,
        description=description,
        json_schema_extra={"pattern": TEXT_PATTERN},
    )
