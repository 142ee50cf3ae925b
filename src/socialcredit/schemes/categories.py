"""The vocabulary of item categories: what an item is about, and whether any scheme may score it.

Why a vocabulary, and why data: the linter used to judge an item by its words only, and many items
the public record reports (political speech, "rumours", news reporting, family life, contacts'
conduct) passed it clean under innocent wording. Now every item declares a ``category`` and is
judged by what it is about; the words are a second line (:mod:`.keywords`). The vocabulary is a
shipped YAML file (``categories.yaml``), so a reader can audit it without reading Python, and an
operator may add categories of their own in a file of the same shape.

What an operator may not do is change the meaning of a shipped category: not weaken a
never-scorable one (``scorable: never``), and not redefine a scorable one either, since every
scheme that files an item under ``tax`` relies on what ``tax`` means. An operator's new category
that is scorable but whose own words say it is about a never-scorable subject ("civic opinions")
is refused too: that would be a never-scorable category under another name.

The core reads no settings: the operator's file comes in as text from the caller
(:func:`extend`), read by the command line or the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from socialcredit.schemes.keywords import never_terms
from socialcredit.schemes.loader import SchemeError

Scorable = Literal["yes", "never", "opt-in-only"]

_ID = r"^[a-z0-9][a-z0-9.\-]*$"


class CategoryError(SchemeError):
    """A vocabulary file is malformed, or tries to redefine a shipped category."""


class Titles(BaseModel):
    """A category's name in English and Chinese, the languages of the schemes it judges."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class Category(BaseModel):
    """One category: its id (what an item's ``category`` names), titles, whether it may be scored,
    what it covers and examples from the public record."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=_ID, max_length=64)
    title: Titles
    scorable: Scorable
    description: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1)

    @field_validator("scorable", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted yes/no as a boolean; an operator writing `scorable: yes`
        # means the word, and `no` can only mean never
        if value is True:
            return "yes"
        if value is False:
            return "never"
        return value

    def __str__(self) -> str:
        return f"{self.title.en} ({self.title.zh})"

    def worded(self, locale: str) -> str:
        """Its name in a message to a reader of ``locale``: the Chinese title alone for a Chinese
        reader, both titles otherwise (as ``str``, what the English findings have always said)."""
        return self.title.zh if locale == "zh_CN" else str(self)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: list[Category] = Field(min_length=1)


@dataclass(frozen=True)
class Vocabulary:
    """The categories an installation judges items by: the shipped ones plus the operator's."""

    categories: Mapping[str, Category]
    added: Mapping[str, str]
    """The operator's categories, each with the file that added it."""

    def get(self, category_id: str) -> Category | None:
        """The category with this id, if the vocabulary has it."""
        return self.categories.get(category_id)

    def never(self) -> list[Category]:
        """The never-scorable categories, in file order."""
        return [c for c in self.categories.values() if c.scorable == "never"]


def parse_categories(text: str, source: str) -> list[Category]:
    """The categories of one vocabulary file; errors name the file and the field."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CategoryError(f"{source}: not valid YAML: {exc}") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise CategoryError("\n".join(lines)) from None
    seen: set[str] = set()
    for c in parsed.categories:
        if c.id in seen:
            raise CategoryError(f"{source}: category {c.id!r} is defined twice")
        seen.add(c.id)
    return parsed.categories


SHIPPED_FILE = "categories.yaml"


@cache
def shipped_vocabulary() -> Vocabulary:
    """The categories shipped with the package (``schemes/categories.yaml``)."""
    text = resources.files("socialcredit.schemes").joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    return Vocabulary({c.id: c for c in parse_categories(text, SHIPPED_FILE)}, {})


def extend(base: Vocabulary, text: str, source: str) -> Vocabulary:
    """``base`` with the operator's categories from ``text`` (read from ``source``) added.

    Refused, naming the category: any id ``base`` already has (a never-scorable one cannot be
    redefined or weakened, a scorable one keeps its meaning for every scheme), and a category
    that may be scored but whose own words are about a never-scorable category."""
    added = parse_categories(text, source)
    problems: list[str] = []
    for c in added:
        old = base.get(c.id)
        if old is not None and old.scorable == "never":
            problems.append(
                f"{source}: category {c.id}: {old} is never scorable and cannot be redefined or weakened"
            )
        elif old is not None:
            problems.append(
                f"{source}: category {c.id}: already defined ({old}); every scheme filing an item "
                "under it relies on that meaning: add a category with a new id instead"
            )
        elif c.scorable != "never":
            texts = [c.id, c.title.en, c.title.zh, c.description, *c.examples]
            hits = {cat: term for t in texts for cat, term in never_terms(t)}
            for cat, term in hits.items():
                never = base.get(cat)
                problems.append(
                    f"{source}: category {c.id}: its words are about {never or cat} ({term!r}), "
                    f"which is never scorable; it cannot be scorable: {c.scorable}"
                )
    if problems:
        raise CategoryError("\n".join(problems))
    return Vocabulary(
        {**base.categories, **{c.id: c for c in added}},
        {**base.added, **{c.id: source for c in added}},
    )
