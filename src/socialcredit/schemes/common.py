"""What every scheme model shares: strict, frozen pydantic models (an unknown key is an error, not
a silent default) and the pattern of an id."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ID = r"^[a-z0-9][a-z0-9.\-]*$"
"""Item codes, list, measure and scheme ids: lower case, digits, dots and dashes."""


class Strict(BaseModel):
    """A scheme model: unknown keys refused, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
