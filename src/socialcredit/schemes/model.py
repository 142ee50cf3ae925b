"""The pydantic models of a scheme file.

Why pydantic: a scheme is written by people who are not programmers (a city's credit office), so
every mistake must come back as a message naming the field and the file, not a crash at run time.
All models forbid unknown keys, so a typo in a YAML key is an error rather than a silent default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, PrivateAttr, Tag, model_validator

from socialcredit.errors import Refused
from socialcredit.i18n import N_, fill
from socialcredit.rules import kernel
from socialcredit.rules.ops import PY
from socialcredit.schemes.common import ID as _ID
from socialcredit.schemes.common import Strict as _Strict

# the list models, re-exported: every module imports them from here
from socialcredit.schemes.listdef import Criteria as Criteria
from socialcredit.schemes.listdef import Extension as Extension
from socialcredit.schemes.listdef import GradeCriteria as GradeCriteria
from socialcredit.schemes.listdef import ItemCriteria as ItemCriteria
from socialcredit.schemes.listdef import ListCriteria as ListCriteria
from socialcredit.schemes.listdef import ListDef as ListDef
from socialcredit.schemes.listdef import Notice as Notice
from socialcredit.schemes.listdef import Period as Period
from socialcredit.schemes.listdef import Removal as Removal
from socialcredit.schemes.listdef import Track as Track

Area = Literal["administrative", "commercial", "social", "judicial"]
Polarity = Literal["positive", "negative", "neutral"]
Severity = Literal["minor", "general", "serious"]
SubjectKindName = Literal["person", "organisation"]


def _both_kinds() -> list[SubjectKindName]:
    return ["person", "organisation"]


def _organisations() -> list[SubjectKindName]:
    return ["organisation"]


class Item(_Strict):
    """One information item of a catalogue: a kind of fact an agency may report."""

    code: str = Field(pattern=_ID, max_length=64, description="Stable item code, e.g. traffic.red-light")
    title: str = Field(min_length=1)
    category: str | None = Field(
        None,
        pattern=_ID,
        max_length=64,
        description="What the item is about, from the category vocabulary (schemes/categories.yaml "
        "and the operator's own); the linter requires it and judges the item by it",
    )
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
            raise Refused(N_("item {item}: a negative item cannot add points", item=self.code))
        if self.polarity == "positive" and self.points < 0:
            raise Refused(N_("item {item}: a positive item cannot deduct points", item=self.code))
        return self


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
        """The catalogue items some rule of this model reads."""
        conds = [c for r in self.rules for c in (*r.any_of, *r.all_of)]
        return {i.code for i in scheme.items for c in conds if c.of.matches(i)}


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
            raise Refused(N_("a trigger needs lists or a grade/score condition"))
        if graded and not self.scheme:
            raise Refused(N_("a grade or score trigger must name its scheme"))
        return self


class ThirdParty(_Strict):
    """Someone other than the subject on whom a measure falls (a debtor's children's schooling)."""

    who: str = Field(min_length=1, description="Who, e.g. the debtor's children")
    legal_basis: str | None = Field(None, description="Its own basis: the subject's does not reach them")


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
    third_party: ThirdParty | None = Field(None, description="Whom else it falls on (the linter warns)")


class DueProcess(_Strict):
    """Due-process periods; the defaults are the court's rules (SPC provisions, Art. 12)."""

    review_days: int = Field(15, ge=1, le=365, description="Days to review an objection")
    correction_working_days: int = Field(3, ge=1, le=60, description="Working days to correct once upheld")
    appeal_days: int = Field(10, ge=1, le=365, description="Days to appeal a rejected objection")
    appeal_decision_days: int = Field(15, ge=1, le=365, description="Days to decide an appeal")
    restoration_decision_working_days: int = Field(
        5, ge=1, le=60, description="Working days to decide a restoration application (an assumption)"
    )


class Enrolment(_Strict):
    """How a subject opts in to (and out of) a private, opt-in scheme such as Sesame Credit."""

    item: str = Field(description="The item whose record means the subject opted in")
    withdrawal_item: str | None = Field(None, description="The item whose record means it opted out")


class Revision(_Strict):
    """What a version of a scheme says about the version it replaces: whether listings that ended
    under the earlier rules are derived again under these (``re-evaluated``: the earlier version
    mis-modelled rules that always applied, a correction of a modelling error) or stay as they
    ended (``stay-ended``: the rules themselves changed, from ``effective_from`` on; each list
    is walked in segments, ``schemes.segments``, decision 0051), and why, in words shown to the
    subjects whose entries the change touched (docs/decisions/0028)."""

    replaces: str = Field(min_length=1, max_length=32, description="The version this one replaces")
    earlier_listings: Literal["re-evaluated", "stay-ended"]
    reason: str = Field(min_length=1, description="Why, in plain words: shown to the subjects concerned")


ARCHIVE_DAYS = 730
"""A scheme's archive period unless it sets one: two years after a record stops counting, the
longest a review or an appeal of what it grounded stays open under the shipped schemes' due
process; then ``socialcredit retention run`` may destroy its key (decision 0046)."""


class Scheme(_Strict):
    """One scheme file."""

    id: str = Field(pattern=_ID, max_length=64)
    title: str
    jurisdiction: str
    version: str = Field(
        "1", pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]*$", max_length=32, description="This file's version"
    )
    effective_from: dt.date | None = Field(None, description="The day this version's rules apply from")
    revision: Revision | None = Field(None, description="What this version changes from the one before")
    description: str | None = None
    legal_basis: str | None = None
    items: list[Item] = Field(default_factory=list)
    model: Model | None = None
    lists: list[ListDef] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    due_process: DueProcess = Field(default_factory=DueProcess)
    enrolment: Enrolment | None = Field(
        None,
        description="An opt-in scheme scores only subjects with a record of this item (and none of "
        "the withdrawal item after it); without it, the scheme scores everyone its model rates",
    )
    public_lookup: list[SubjectKindName] = Field(
        default_factory=_organisations,
        description="Whose records the public may look up by code",
    )
    archive_days: int = Field(
        ARCHIVE_DAYS,
        ge=0,
        le=36500,
        description="Days a record of this scheme's items is kept, sealed, after it stops counting "
        "(for objections, appeals and audits) before its data key may be destroyed (decision 0046)",
    )
    erasure_on_request: Literal["any", "withdrawn"] = Field(
        "withdrawn",
        description="Which records of this scheme's items a subject may have erased on request "
        "(decision 0054): ``any`` (an opt-in private scheme, the member's own data, PIPL Art. 47) "
        "or only ``withdrawn`` (a record withdrawn as wrong); a record of an item several schemes "
        "share is erasable only if every one of them allows it",
    )
    _text: str | None = PrivateAttr(None)
    """The file's text as read (``loader.parse_scheme``): what a decision's receipt names by its
    hash and ``scheme_versions`` keeps, so a past answer is computed again under this version."""

    @property
    def text(self) -> str | None:
        return self._text

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the file's text (of its canonical JSON for a scheme built in code)."""
        body = self._text if self._text is not None else self.model_dump_json()
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @model_validator(mode="after")
    def _consistent(self) -> Scheme:
        if self.revision is not None and (
            self.effective_from is None or self.revision.replaces == self.version
        ):
            raise Refused(N_("revision: a revised scheme needs effective_from and replaces another version"))
        for twice, ids in (
            (N_("item {id!r} is defined twice"), [i.code for i in self.items]),
            (N_("list {id!r} is defined twice"), [x.id for x in self.lists]),
            (N_("measure {id!r} is defined twice"), [m.id for m in self.measures]),
        ):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    raise Refused(fill(twice, id=i))
                seen.add(i)
        read: list[str] = []
        if isinstance(self.model, TierModel):
            read = [code for r in self.model.rules for c in (*r.any_of, *r.all_of) for code in c.of.items]
        elif isinstance(self.model, FactorModel):
            read = [code for f in self.model.factors for code in f.items]
        for code in read:
            if code not in self.item_index:
                raise Refused(N_("model: item {item!r} is not in this scheme's catalogue", item=code))
        # each list's kind of criterion checks it (a grade it lacks, an opt-in scheme by grade);
        # imported here: the criteria's walks import this module
        from socialcredit.criteria import dispatch

        for lst in self.lists:
            problem = dispatch.CRITERIA[lst.criteria.by].check(self, lst)
            if problem is not None:
                raise ValueError(problem)
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
