"""The pydantic models of a scheme file.

Why pydantic: a scheme is written by people who are not programmers (a city's credit office), so
every mistake must come back as a message naming the field and the file, not a crash at run time.
All models forbid unknown keys, so a typo in a YAML key is an error rather than a silent default.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Area = Literal["administrative", "commercial", "social", "judicial"]
Polarity = Literal["positive", "negative", "neutral"]
Severity = Literal["minor", "general", "serious"]
SubjectKindName = Literal["person", "organisation"]

_ID = r"^[a-z0-9][a-z0-9.\-]*$"


def _both_kinds() -> list[SubjectKindName]:
    return ["person", "organisation"]


def _organisations() -> list[SubjectKindName]:
    return ["organisation"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Strict):
    """One information item of a catalogue: a kind of fact an agency may report."""

    code: str = Field(pattern=_ID, max_length=64, description="Stable item code, e.g. traffic.red-light")
    title: str = Field(min_length=1)
    area: Area
    polarity: Polarity
    points: int = Field(0, description="Points added (positive) or deducted (negative) by one record")
    legal_basis: str | None = Field(None, description="The regulation that allows recording this item")
    counts_for_days: int = Field(
        1095, gt=0, le=36500, description="How long one record counts after it occurred"
    )
    half_life_days: int | None = Field(
        None,
        gt=0,
        le=36500,
        description="Time decay: a record's points halve every this many days while it counts "
        "(whole points per record, rounded half up); none means full points until it stops counting",
    )
    sources: list[str] = Field(min_length=1, description="Agencies allowed to report this item")
    subjects: list[SubjectKindName] = Field(default_factory=_both_kinds)
    severity: Severity = "general"
    description: str | None = None
    base_rate_per_year: float = Field(
        0.0, ge=0, description="Typical records per subject per year; drives the demo's mix"
    )

    @model_validator(mode="after")
    def _sign_matches(self) -> Item:
        if self.polarity == "negative" and self.points > 0:
            raise ValueError(f"item {self.code}: a negative item cannot add points")
        if self.polarity == "positive" and self.points < 0:
            raise ValueError(f"item {self.code}: a positive item cannot deduct points")
        return self


class Grade(_Strict):
    """A grade and the lowest score that earns it."""

    grade: str = Field(min_length=1, max_length=8)
    min_score: float
    description: str | None = None


class PointsModel(_Strict):
    """Base points plus the points of each counting record, clamped, then graded by threshold."""

    kind: Literal["points"] = "points"
    base: int = 1000
    minimum: int | None = 0
    maximum: int | None = None
    grades: list[Grade] = Field(min_length=1, description="Highest grade first")

    @model_validator(mode="after")
    def _grades_descend(self) -> PointsModel:
        mins = [g.min_score for g in self.grades]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("grades must be listed highest first with strictly falling min_score")
        names = [g.grade for g in self.grades]
        if len(set(names)) != len(names):
            raise ValueError("grade names must be unique")
        return self

    def grade_of(self, score: float) -> str:
        """The first grade whose threshold the score reaches (the last grade catches the rest)."""
        for g in self.grades:
            if score >= g.min_score:
                return g.grade
        return self.grades[-1].grade

    @cached_property
    def _ranks(self) -> dict[str, int]:
        return {g.grade: i for i, g in enumerate(self.grades)}

    def rank(self, grade: str) -> int:
        """0 for the best grade; used to compare grades ("at most C")."""
        return self._ranks[grade]


class Criteria(_Strict):
    """What puts a subject on a list: records of given items, or a grade at or below a level."""

    items: list[str] = Field(default_factory=list, description="Any record of these items lists")
    min_records: int = Field(1, ge=1, description="How many such records within window_days")
    window_days: int | None = Field(None, gt=0)
    grade_at_most: str | None = Field(None, description="Grade of this scheme's model, or worse")
    grade_at_least: str | None = Field(None, description="For red lists: this grade or better")

    @model_validator(mode="after")
    def _something(self) -> Criteria:
        if not self.items and not self.grade_at_most and not self.grade_at_least:
            raise ValueError("criteria need items or a grade")
        return self


class Removal(_Strict):
    """How a subject comes off a list before the period ends."""

    on_items: list[str] = Field(default_factory=list, description="Fulfilment items that remove")
    within_working_days: int = Field(3, ge=0, description="Deadline to remove after fulfilment")


class Notice(_Strict):
    """Whether the subject must be noticed before the listing takes effect."""

    required: bool = True
    days: int = Field(10, ge=0, description="Days between notice and the listing taking effect")


class ListDef(_Strict):
    """A red or black list: criteria, period, removal, and what is published."""

    id: str = Field(pattern=_ID, max_length=64)
    title: str
    kind: Literal["black", "red"]
    criteria: Criteria
    period_days: int = Field(gt=0, le=36500, description="Listing period from the listing date")
    extension_days: int = Field(0, ge=0, description="Added per further qualifying record")
    max_period_days: int | None = Field(None, gt=0)
    removal: Removal = Field(default_factory=Removal)
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
    legal_basis: str | None = None


class Trigger(_Strict):
    """What makes a measure apply: active entries on lists, or a grade or score of a scheme."""

    lists: list[str] = Field(default_factory=list, description="'scheme/list' ids")
    scheme: str | None = Field(None, description="Scheme whose grade or score is tested")
    grades: list[str] = Field(default_factory=list)
    score_at_least: float | None = None
    score_below: float | None = None

    @model_validator(mode="after")
    def _something(self) -> Trigger:
        graded = bool(self.grades) or self.score_at_least is not None or self.score_below is not None
        if not self.lists and not graded:
            raise ValueError("a trigger needs lists or a grade/score condition")
        if graded and not self.scheme:
            raise ValueError("a grade or score trigger must name its scheme")
        return self


class Measure(_Strict):
    """A joint reward or punishment applied by relying parties at the point of service."""

    id: str = Field(pattern=_ID, max_length=64)
    title: str
    kind: Literal["reward", "punishment"]
    implemented_by: list[str] = Field(min_length=1, description="Relying parties that apply it")
    trigger: Trigger
    legal_basis: str | None = None
    applies_to: list[SubjectKindName] = Field(default_factory=_both_kinds)
    how_to_resolve: str | None = None


class DueProcess(_Strict):
    """Due-process periods; the defaults are the court's rules (SPC provisions, Art. 12)."""

    review_days: int = Field(15, ge=1, le=365, description="Days to review an objection")
    correction_working_days: int = Field(3, ge=1, le=60, description="Working days to correct once upheld")
    appeal_days: int = Field(10, ge=1, le=365, description="Days to appeal a rejected objection")
    appeal_decision_days: int = Field(15, ge=1, le=365, description="Days to decide an appeal")
    restoration_decision_working_days: int = Field(
        5, ge=1, le=60, description="Working days to decide a restoration application (an assumption)"
    )


class Scheme(_Strict):
    """One scheme file."""

    id: str = Field(pattern=_ID, max_length=64)
    title: str
    jurisdiction: str
    description: str | None = None
    legal_basis: str | None = None
    items: list[Item] = Field(default_factory=list)
    model: PointsModel | None = None
    lists: list[ListDef] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    due_process: DueProcess = Field(default_factory=DueProcess)
    public_lookup: list[SubjectKindName] = Field(
        default_factory=_organisations,
        description="Whose records the public may look up by code",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scheme:
        for what, ids in (
            ("item", [i.code for i in self.items]),
            ("list", [x.id for x in self.lists]),
            ("measure", [m.id for m in self.measures]),
        ):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    raise ValueError(f"{what} {i!r} is defined twice")
                seen.add(i)
        grades = {g.grade for g in self.model.grades} if self.model else set()
        for lst in self.lists:
            for g in (lst.criteria.grade_at_most, lst.criteria.grade_at_least):
                if g is not None and g not in grades:
                    raise ValueError(f"list {lst.id}: grade {g!r} is not a grade of this scheme")
        return self

    @cached_property
    def item_index(self) -> dict[str, Item]:
        """Items by code; computed once, schemes are frozen."""
        return {i.code: i for i in self.items}

    def item(self, code: str) -> Item | None:
        """The catalogue item with this code, if the scheme has it."""
        return self.item_index.get(code)

    def list_def(self, list_id: str) -> ListDef | None:
        """The list with this id, if the scheme defines it."""
        return next((x for x in self.lists if x.id == list_id), None)

    def measure(self, measure_id: str) -> Measure | None:
        """The measure with this id, if the scheme defines it."""
        return next((m for m in self.measures if m.id == measure_id), None)
