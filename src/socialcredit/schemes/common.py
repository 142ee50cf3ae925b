"""What every scheme model shares: strict, frozen pydantic models (an unknown key is an error, not
a silent default) and the pattern of an id."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

ID = r"^[a-z0-9][a-z0-9.\-]*$"
"""Item codes, list, measure and scheme ids: lower case, digits, dots and dashes."""

Area = Literal["administrative", "commercial", "social", "judicial"]
Polarity = Literal["positive", "negative", "neutral"]
Severity = Literal["minor", "general", "serious"]
SubjectKindName = Literal["person", "organisation"]


def both_kinds() -> list[SubjectKindName]:
    return ["person", "organisation"]


def organisations() -> list[SubjectKindName]:
    return ["organisation"]


class Strict(BaseModel):
    """A scheme model: unknown keys refused, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy without the values cached from this one (``item_index``, ``grades``, ranks):
        pydantic copies an instance's ``__dict__``, cached properties included, so a copy with
        other items would otherwise answer with this one's items."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _cached_names(type(self)):
            copy.__dict__.pop(name, None)
        return copy


def _cached_names(cls: type) -> list[str]:
    """The cached properties of a class and its bases."""
    return [k for c in cls.__mro__ for k, v in vars(c).items() if isinstance(v, cached_property)]
