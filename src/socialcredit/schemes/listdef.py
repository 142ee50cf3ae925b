"""The list models of a scheme file: criteria (by items or by grade), periods by ground, removal,
extension by decision, notice, and the list itself; :class:`Track` is the walk every evaluator
derives a list by items by (``ListDef.tracks``). Split from :mod:`socialcredit.schemes.model`,
which re-exports each, so that neither module grows past a screenful of concerns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.schemes.common import ID as _ID
from socialcredit.schemes.common import Strict as _Strict


class ListCriteria(_Strict):
    """What puts a subject on a list: one class per kind of criterion, told apart by ``by`` and
    read as the class its kind registers (``criteria/dispatch.py``, decision 0052)."""

    by: str


class ItemCriteria(ListCriteria):
    """A list by items: records of given items put a subject on it."""

    by: Literal["items"] = "items"
    items: list[str] = Field(min_length=1, description="Any record of these items lists")
    min_records: int = Field(1, ge=1, description="How many such records within window_days")
    window_days: int | None = Field(None, gt=0)


class GradeCriteria(ListCriteria):
    """A list by grade: a grade of this scheme's model at or below (or above) a level puts a
    subject on it."""

    by: Literal["grade"] = "grade"
    grade_at_most: str | None = Field(None, description="Grade of this scheme's model, or worse")
    grade_at_least: str | None = Field(None, description="For red lists: this grade or better")

    @model_validator(mode="after")
    def _something(self) -> GradeCriteria:
        if self.grade_at_most is None and self.grade_at_least is None:
            raise Refused(N_("criteria by grade need grade_at_most or grade_at_least"))
        return self


_ITEM_KEYS = frozenset({"items", "min_records", "window_days"})
_GRADE_KEYS = frozenset({"grade_at_most", "grade_at_least"})


def _criteria_by(value: Any) -> str | None:
    """The criteria's ``by``; without one, ``grade`` if a grade key is given, else ``items`` (every
    file before ``by`` existed), so existing files load unchanged."""
    if isinstance(value, dict):
        if "by" in value:
            return str(value["by"])
        return "grade" if _GRADE_KEYS & value.keys() else "items"
    by = getattr(value, "by", None)
    return by if isinstance(by, str) else None


Criteria = SerializeAsAny[ListCriteria]
"""What puts a subject on a list, chosen by ``by`` among the registered kinds of criterion
(``criteria/dispatch.py``): records of given items (``items``), or a grade at or below (or above)
a level (``grade``); dumped with every field of its own class."""


def read_criteria(value: Any) -> Any:
    """A list's ``criteria`` as the class of the kind its ``by`` names (:func:`_criteria_by`), a
    ``by`` no kind has refused naming the kinds there are. Why the registry and not a union here:
    a new kind of criterion is its own module, registered once (decision 0052)."""
    if not isinstance(value, dict):
        return value
    # imported here: the criteria's walks import the scheme models this module is part of
    from socialcredit.criteria import dispatch

    by = _criteria_by(value)
    kind = dispatch.CRITERIA.get(by or "")
    if kind is None:
        there = ", ".join(repr(b) for b in dispatch.CRITERIA)
        raise Refused(N_("criteria by {by!r}: not a kind of list criteria (by: {there})", by=by, there=there))
    return kind.criteria.model_validate(value)


class Removal(_Strict):
    """How a subject comes off a list before the period ends."""

    on_items: list[str] = Field(default_factory=list, description="Fulfilment items that remove")
    within_working_days: int = Field(
        3,
        ge=0,
        description="Deadline to remove: working days after the removal ground's own date (its "
        "record's occurred_on), or after the last day of the period",
    )


class Extension(_Strict):
    """A fixed period extended by the authority's own decision, not by a further ground: a record
    of one of ``on_items`` whose ``details`` state by how many calendar years (``years_field``,
    a whole number from ``min_years`` to ``max_years``, checked at ingest), once per entry (the
    court's list, SPC Art. 2: by 1 to 3 years, for serious violence or threats or several
    dishonest acts)."""

    on_items: list[str] = Field(min_length=1, description="The items recording an extension decision")
    years_field: str = Field(
        "extension_years", pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="Its details' field"
    )
    min_years: int = Field(1, ge=1, le=100)
    max_years: int = Field(3, ge=1, le=100)

    @model_validator(mode="after")
    def _range(self) -> Extension:
        if self.max_years < self.min_years:
            raise Refused(N_("extension: max_years is below min_years"))
        return self


class Period(_Strict):
    """Some of a list's grounds and the period an entry they open runs for: ``years`` calendar
    years from the opening record's own date (``occurred_on``: the listing decision's date),
    ended at expiry or earlier by a record of ``removal.on_items``; or ``years: none``, no fixed
    period, ended only by such a record (the court's list, SPC Art. 2 and 10: grounds (2) to (6)
    run two years, ground (1) until a removal ground of Art. 10)."""

    grounds: list[str] = Field(min_length=1, description="The list's qualifying items this period is for")
    years: int | Literal["none"] = Field(
        description="Calendar years from the ground's occurred_on (Civil Code Art. 201-202), or none"
    )
    extension: Extension | None = Field(None, description="Extension by a decision record (fixed periods)")
    removal: Removal = Field(default_factory=Removal)

    @model_validator(mode="after")
    def _fixed(self) -> Period:
        if self.years != "none" and not 1 <= self.years <= 100:
            raise Refused(N_("a period's years must be from 1 to 100, or none"))
        if self.years == "none" and self.extension is not None:
            raise Refused(N_("a period without a fixed end (years: none) cannot be extended"))
        return self


@dataclass(frozen=True)
class Track:
    """One walk of a list's entries: the grounds that open and join an entry, what ends it, and
    how long it runs. A list written with ``periods`` has one track per period; any other item
    list one, from its ``period_days``, ``extension_days``, ``max_period_days`` and ``removal``.
    Every evaluator derives a list's entries track by track (``lists``, ``engines.listing``,
    ``sim.compiled_lists``) and the kernel's :func:`~socialcredit.rules.kernel.planned_end` gives
    each its end."""

    grounds: tuple[str, ...]
    removal: Removal
    period_days: int | None = None
    """From the entry taking effect; None for a track in calendar years or with no end."""
    extension_days: int = 0
    """Added per further ground (``ListDef.extension_days``)."""
    max_period_days: int | None = None
    years: int | None = None
    """Calendar years from the opening record's occurred_on."""
    extension: Extension | None = None

    @property
    def indefinite(self) -> bool:
        """No fixed period: an entry ends only on a removal record."""
        return self.period_days is None and self.years is None

    @property
    def extension_items(self) -> tuple[str, ...]:
        return tuple(self.extension.on_items) if self.extension is not None else ()


class Notice(_Strict):
    """Whether the subject must be noticed before the listing takes effect."""

    required: bool = True
    days: int = Field(10, ge=0, description="Days between notice and the listing taking effect")


class PublicationConsent(_Strict):
    """Publication only with the subject's consent (a red list's "stories of integrity", decision
    0042): an entry is published while the subject's latest record of ``item`` or
    ``withdrawal_item`` is of ``item``. The entry itself, and any measure it triggers, do not
    depend on it: consent is to being named in public, not to the benefit."""

    item: str = Field(description="The item whose record (source self) gives consent to publication")
    withdrawal_item: str = Field(description="The item whose record withdraws it, at once")


class ListDef(_Strict):
    """A red or black list: criteria, period, removal, and what is published."""

    id: str = Field(pattern=_ID, max_length=64)
    title: str
    kind: Literal["black", "red"]
    criteria: Criteria
    period_days: int | None = Field(
        None,
        gt=0,
        le=36500,
        description="Listing period in days from the listing taking effect (every list but one "
        "written with periods)",
    )
    extension_days: int = Field(0, ge=0, description="Added per further qualifying record")
    max_period_days: int | None = Field(None, gt=0)
    removal: Removal = Field(default_factory=Removal)
    periods: list[Period] = Field(
        default_factory=list,
        description="Periods by ground, each with its removal and extension (instead of "
        "period_days, extension_days, max_period_days and removal)",
    )
    notice: Notice = Field(default_factory=lambda: Notice(required=True, days=10))
    during_objection: Literal["stay", "suspend"] = Field(
        "suspend",
        description="Whether measures triggered by this list stay in force while an objection to the "
        "entry is open (the court's list: they stay)",
    )
    lists_representative: bool = Field(
        False, description="An organisation's listing also lists its legal representative"
    )
    published_fields: list[str] = Field(default_factory=list)
    publication_consent: PublicationConsent | None = Field(
        None,
        description="Publish an entry only while the subject consents (a record of its own, "
        "withdrawable); the entry and its measures stand either way",
    )
    legal_basis: str | None = None

    @field_validator("criteria", mode="before")
    @classmethod
    def _criteria(cls, value: Any) -> Any:
        return read_criteria(value)

    @model_validator(mode="before")
    @classmethod
    def _one_kind_of_criteria(cls, data: Any) -> Any:
        crit = data.get("criteria") if isinstance(data, dict) else None
        if isinstance(crit, dict):
            # a list is by items or by grade, never both: named here, since the union's own error
            # would name neither the list nor the keys that clash
            by_items, by_grade = sorted(_ITEM_KEYS & crit.keys()), sorted(_GRADE_KEYS & crit.keys())
            if crit.get("by") == "items":
                by_items.insert(0, "by: items")
            elif crit.get("by") == "grade":
                by_grade.insert(0, "by: grade")
            if by_items and by_grade:
                raise Refused(
                    N_(
                        "list {id}: criteria are by items or by grade, not both ({items}; {grades})",
                        id=data.get("id"),
                        items=", ".join(by_items),
                        grades=", ".join(by_grade),
                    )
                )
        return data

    @model_validator(mode="after")
    def _periods(self) -> ListDef:
        if not self.periods:
            if self.period_days is None:
                raise Refused(
                    N_("list {id}: period_days is required (or, for a list by items, periods)", id=self.id)
                )
            return self
        if not isinstance(self.criteria, ItemCriteria):
            raise Refused(N_("list {id}: periods are for lists by items", id=self.id))
        clash = sorted(
            {"period_days", "extension_days", "max_period_days", "removal"} & self.model_fields_set
        )
        if clash:
            raise Refused(
                N_(
                    "list {id}: with periods, each period says it ({given} given)",
                    id=self.id,
                    given=", ".join(clash),
                )
            )
        grounds = [g for p in self.periods for g in p.grounds]
        twice = sorted({g for g in grounds if grounds.count(g) > 1})
        if twice or sorted(grounds) != sorted(set(self.criteria.items)):
            raise Refused(
                N_(
                    "list {id}: the periods' grounds must be the criteria's items, each in one period",
                    id=self.id,
                )
                if not twice
                else N_(
                    "list {id}: the periods' grounds must be the criteria's items, each in one period "
                    "({twice} in two)",
                    id=self.id,
                    twice=", ".join(twice),
                )
            )
        for p in self.periods:
            ext = p.extension.on_items if p.extension is not None else []
            both = sorted((set(p.removal.on_items) | set(ext)) & set(grounds)) + sorted(
                set(p.removal.on_items) & set(ext)
            )
            if both:
                raise Refused(
                    N_(
                        "list {id}: {items}: a ground, a removal item and an extension item are "
                        "different items",
                        id=self.id,
                        items=", ".join(both),
                    )
                )
        return self

    @property
    def qualifying_items(self) -> list[str]:
        """The items whose records put a subject on this list (none for a list by grade)."""
        return self.criteria.items if isinstance(self.criteria, ItemCriteria) else []

    @property
    def tracks(self) -> tuple[Track, ...]:
        """The walks of this list's entries (:class:`Track`), in the order written; none for a
        list by grade. (Not cached: ``model_copy(update=...)`` would copy a cached value made
        from the fields it replaces.)"""
        if not isinstance(self.criteria, ItemCriteria):
            return ()
        if not self.periods:
            return (
                Track(
                    tuple(self.criteria.items),
                    self.removal,
                    period_days=self.period_days,
                    extension_days=self.extension_days,
                    max_period_days=self.max_period_days,
                ),
            )
        return tuple(
            Track(
                tuple(p.grounds),
                p.removal,
                years=None if p.years == "none" else p.years,
                extension=p.extension,
            )
            for p in self.periods
        )

    @property
    def removal_items(self) -> list[str]:
        """Every item whose record ends an entry of this list (of any of its periods)."""
        return [i for t in self.tracks for i in t.removal.on_items] or list(self.removal.on_items)

    @property
    def extension_items(self) -> list[str]:
        """Every item whose record extends an entry of this list by decision."""
        return [i for t in self.tracks for i in t.extension_items]
