"""A scheme's scoring model: points, tiers or factors, each graded (``Model``, chosen by ``kind``).

Why its own module: the models are the part of a scheme file that says how a score is made, read
by the scorers and the engines; the rest of the file (items, lists, measures, versions) is
:mod:`socialcredit.schemes.model`, which re-exports these names.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.rules import kernel
from socialcredit.rules.ops import PY
from socialcredit.schemes.common import ID as _ID
from socialcredit.schemes.common import Area, Polarity, Severity, SubjectKindName
from socialcredit.schemes.common import Strict as _Strict
from socialcredit.schemes.common import both_kinds as _both_kinds

if TYPE_CHECKING:  # the scheme model imports this module
    from socialcredit.schemes.model import Item, Scheme


class Grade(_Strict):
    """A grade and the lowest score that earns it."""

    grade: str = Field(min_length=1, max_length=16)
    min_score: float
    description: str | None = None


class _GradedByThreshold(_Strict):
    """A model whose score is graded by thresholds, highest grade first (points and factor models)."""

    grades: list[Grade] = Field(min_length=1, description="Highest grade first")

    def grade_of(self, score: float) -> str:
        """The first grade whose threshold the score reaches (the last grade catches the rest)."""
        grade: str = kernel.grade_of(score, self.grades, PY)
        return grade

    @cached_property
    def _ranks(self) -> dict[str, int]:
        return {g.grade: i for i, g in enumerate(self.grades)}

    def rank(self, grade: str) -> int:
        """0 for the best grade; used to compare grades ("at most C")."""
        return self._ranks[grade]


class PointsModel(_GradedByThreshold):
    """Base points plus the points of each counting record, clamped, then graded by threshold.

    Every subject is scored (the relational engines score the whole population the same way)."""

    subjects: ClassVar[tuple[SubjectKindName, ...]] = ("person", "organisation")
    """Not a field of the file: who is scored, read like the other models' ``subjects``."""

    kind: Literal["points"] = "points"
    base: int = 1000
    minimum: int | None = 0
    maximum: int | None = None

    @model_validator(mode="after")
    def _grades_descend(self) -> PointsModel:
        _check_grades(self.grades)
        return self


SEVERITY_RANK: dict[str, int] = {"minor": 0, "general": 1, "serious": 2}


class Selector(_Strict):
    """Which records a tier rule reads: every constraint given must hold (listed item codes, a
    polarity, severities, areas), so "any serious negative record" is
    ``{polarity: negative, severities: [serious]}``."""

    items: list[str] = Field(default_factory=list, description="Only these item codes")
    polarity: Polarity | None = None
    severities: list[Severity] = Field(default_factory=list)
    areas: list[Area] = Field(default_factory=list)

    def matches(self, item: Item) -> bool:
        """Whether a record of ``item`` is selected."""
        return (
            (not self.items or item.code in self.items)
            and (self.polarity is None or item.polarity == self.polarity)
            and (not self.severities or item.severity in self.severities)
            and (not self.areas or item.area in self.areas)
        )


class Condition(_Strict):
    """A test over the counting records a selector picks, within the last ``within_days`` days:
    how many there are (``at_least``/``at_most``) and/or the sum of their (decayed) item points
    (``points_at_most``/``points_at_least``). Every bound given must hold."""

    of: Selector
    within_days: int | None = Field(None, gt=0, le=36500, description="Only records this recent")
    at_least: int | None = Field(None, ge=1)
    at_most: int | None = Field(None, ge=0)
    points_at_least: int | None = None
    points_at_most: int | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Condition:
        bounds = (self.at_least, self.at_most, self.points_at_least, self.points_at_most)
        if all(b is None for b in bounds):
            raise Refused(N_("a condition needs at_least, at_most, points_at_least or points_at_most"))
        return self


class TierRule(_Strict):
    """A rule giving a tier: it holds when every ``all_of`` condition and (if any are given) at
    least one ``any_of`` condition holds. Rules are tried in the order written; the first that
    holds gives the tier."""

    tier: str
    title: str | None = Field(None, description="The rule in plain words, shown as a reason")
    any_of: list[Condition] = Field(default_factory=list)
    all_of: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> TierRule:
        if not self.any_of and not self.all_of:
            raise Refused(N_("rule for tier {tier!r} needs any_of or all_of conditions", tier=self.tier))
        return self


class Tier(_Strict):
    """One tier of a tier model, e.g. Honest Shanghai's "very good"."""

    tier: str = Field(min_length=1, max_length=16)
    description: str | None = None


class TierModel(_Strict):
    """Tiers from rules over records, with no points (Honest Shanghai: very good / good / bad).

    For the shared score shape a tier's ``score`` is its level counted from the lowest tier (0), so
    its :attr:`grades` are the tiers with those levels as thresholds."""

    kind: Literal["tier"]
    subjects: list[SubjectKindName] = Field(
        default_factory=_both_kinds,
        description="Who is scored under this model (an enterprise rating: organisations)",
    )
    tiers: list[Tier] = Field(min_length=2, description="Best tier first")
    default: str = Field(description="The tier when no rule holds")
    rules: list[TierRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_tiers(self) -> TierModel:
        names = [t.tier for t in self.tiers]
        if len(set(names)) != len(names):
            raise Refused(N_("tier names must be unique"))
        for t in [self.default, *(r.tier for r in self.rules)]:
            if t not in names:
                raise Refused(
                    N_("{tier!r} is not one of the tiers ({tiers})", tier=t, tiers=", ".join(names))
                )
        return self

    @cached_property
    def grades(self) -> list[Grade]:
        """The tiers as grades, the lowest at level 0."""
        n = len(self.tiers)
        return [
            Grade(grade=t.tier, min_score=n - 1 - i, description=t.description)
            for i, t in enumerate(self.tiers)
        ]

    @property
    def base(self) -> int:
        """The level of the default tier: a subject with no record that any rule reads."""
        return self.level(self.default)

    def level(self, tier: str) -> int:
        """0 for the lowest tier, counting up."""
        return len(self.tiers) - 1 - self.rank(tier)

    def grade_of(self, score: float) -> str:
        """The tier at a level (levels outside the range give the nearest tier)."""
        grade: str = kernel.grade_of(score, self.grades, PY)
        return grade

    @cached_property
    def _ranks(self) -> dict[str, int]:
        return {t.tier: i for i, t in enumerate(self.tiers)}

    def rank(self, grade: str) -> int:
        """0 for the best tier."""
        return self._ranks[grade]

    def items_read(self, scheme: Scheme) -> set[str]:
        """The catalogue items some rule of this model reads: every rule against every item, so
        found once per model and scheme (a decision state's build asks once per subject; the
        caller only reads the set)."""
        key = (id(self), id(scheme))
        kept = _TIER_READS.get(key)
        if kept is None or kept[0] is not self or kept[1] is not scheme:
            conds = [c for r in self.rules for c in (*r.any_of, *r.all_of)]
            kept = _TIER_READS[key] = (
                self,
                scheme,
                {i.code for i in scheme.items for c in conds if c.of.matches(i)},
            )
        return kept[2]


class Factor(_Strict):
    """One factor of a factor model: a value from records or contacts, mapped to [0, 1], weighted.

    ``source: items``: the value is the sum of the (decayed) points of the counting records of the
    factor's ``items`` (each item belongs to one factor). ``source: contacts``: the value is the
    mean score of the subject's declared contacts under the same scheme (``default_value`` when
    none are declared): the interpersonal-relationships factor critics object to, which the linter
    flags whenever it is switched on."""

    id: str = Field(pattern=_ID, max_length=64)
    title: str
    source: Literal["items", "contacts"] = "items"
    items: list[str] = Field(default_factory=list)
    weight: float = Field(ge=0)
    enabled: bool = True
    map: list[tuple[float, float]] = Field(
        min_length=2,
        description="Piecewise-linear map from the factor's value to [0, 1]: (value, mapped) points "
        "with strictly rising values; values beyond the ends take the end's mapped value",
    )
    default_value: float | None = Field(None, description="A contacts factor's value with no contacts")

    @model_validator(mode="after")
    def _consistent(self) -> Factor:
        xs = [x for x, _ in self.map]
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise Refused(N_("factor {id}: map values must rise strictly", id=self.id))
        if any(not 0 <= y <= 1 for _, y in self.map):
            raise Refused(N_("factor {id}: mapped values must lie in [0, 1]", id=self.id))
        if self.source == "items" and not self.items:
            raise Refused(N_("factor {id}: an items factor needs items", id=self.id))
        if self.source == "contacts" and (self.items or self.default_value is None):
            raise Refused(
                N_("factor {id}: a contacts factor has no items and needs default_value", id=self.id)
            )
        return self

    @property
    def counts(self) -> bool:
        """Whether the factor moves the score at all."""
        return self.enabled and self.weight > 0

    def mapped(self, value: float) -> float:
        """The scheme's piecewise-linear map at ``value``.

        >>> Factor(id="f", title="F", items=["x"], weight=1, map=[(-100, 0), (0, 0.5), (100, 1)]).mapped(-50)
        0.25
        """
        out: float = kernel.mapped(value, self, PY)
        return out


class FactorModel(_GradedByThreshold):
    """A bounded score from weighted factors (Sesame Credit: 350 to 950 from five factors):
    ``minimum + (maximum - minimum) * sum(weight * mapped) / sum(weight)`` over the factors that
    count, rounded half up, then graded by threshold."""

    kind: Literal["factor"]
    subjects: list[SubjectKindName] = Field(
        default_factory=_both_kinds,
        description="Who is scored under this model (an enterprise rating: organisations)",
    )
    minimum: int = 350
    maximum: int = 950
    factors: list[Factor] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> FactorModel:
        if self.maximum <= self.minimum:
            raise Refused(N_("maximum must be above minimum"))
        if not any(f.counts for f in self.factors):
            raise Refused(N_("at least one factor must be enabled with a positive weight"))
        ids = [f.id for f in self.factors]
        if len(set(ids)) != len(ids):
            raise Refused(N_("factor ids must be unique"))
        owners: dict[str, str] = {}
        for f in self.factors:
            for code in f.items:
                if code in owners:
                    raise Refused(
                        N_(
                            "item {item} is in factors {first} and {second}: one factor per item",
                            item=code,
                            first=owners[code],
                            second=f.id,
                        )
                    )
                owners[code] = f.id
        _check_grades(self.grades)
        return self

    @property
    def total_weight(self) -> float:
        return sum(f.weight for f in self.factors if f.counts)

    @property
    def reads_contacts(self) -> bool:
        """Whether a counting factor reads declared contacts' scores (the relationships factor),
        which no ledger or export holds: such a model is scored per subject only."""
        return any(f.source == "contacts" and f.counts for f in self.factors)

    @property
    def base(self) -> int:
        """The score with no records and no contacts."""
        return self.score_of(
            {f.id: (f.default_value if f.source == "contacts" else 0.0) or 0.0 for f in self.factors}
        )

    def points_of(self, factor: Factor, value: float) -> float:
        """What a factor at ``value`` is worth in the score (unrounded)."""
        out: float = kernel.factor_points(self, factor, factor.mapped(value), PY)
        return out

    def score_of(self, values: dict[str, float]) -> int:
        """The score from each factor's value, rounded half up."""
        mapped = {f.id: f.mapped(values[f.id]) for f in self.factors if f.counts}
        out: int = kernel.factor_score(self, mapped, PY)
        return out

    def items_read(self, scheme: Scheme) -> set[str]:
        """The catalogue items some counting factor reads."""
        return {code for f in self.factors if f.counts for code in f.items}


_TIER_READS: dict[tuple[int, int], tuple[object, object, set[str]]] = {}
"""``TierModel.items_read`` by model and scheme, each held so that its id is not reused."""


def _check_grades(grades: list[Grade]) -> None:
    mins = [g.min_score for g in grades]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        raise Refused(N_("grades must be listed highest first with strictly falling min_score"))
    names = [g.grade for g in grades]
    if len(set(names)) != len(names):
        raise Refused(N_("grade names must be unique"))


def _model_kind(value: Any) -> str:
    """The model's ``kind``; a model without one is a points model (every scheme before tiers and
    factors existed), so existing files load unchanged."""
    if isinstance(value, dict):
        return str(value.get("kind", "points"))
    return str(getattr(value, "kind", "points"))


Model = Annotated[
    Annotated[PointsModel, Tag("points")]
    | Annotated[TierModel, Tag("tier")]
    | Annotated[FactorModel, Tag("factor")],
    Discriminator(_model_kind),
]
"""A scheme's scoring model, chosen by ``kind``: ``points`` (the default), ``tier`` or ``factor``."""
