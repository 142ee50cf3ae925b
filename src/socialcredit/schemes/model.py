"""The pydantic models of a scheme file.

Why pydantic: a scheme is written by people who are not programmers (a city's credit office), so
every mistake must come back as a message naming the field and the file, not a crash at run time.
All models forbid unknown keys, so a typo in a YAML key is an error rather than a silent default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, model_validator

from socialcredit.errors import Refused
from socialcredit.i18n import N_, fill
from socialcredit.schemes.common import ID as _ID
from socialcredit.schemes.common import Area as Area
from socialcredit.schemes.common import Polarity as Polarity
from socialcredit.schemes.common import Severity as Severity
from socialcredit.schemes.common import Strict as _Strict
from socialcredit.schemes.common import SubjectKindName as SubjectKindName
from socialcredit.schemes.common import both_kinds as _both_kinds
from socialcredit.schemes.common import organisations as _organisations

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

# the scoring models, re-exported likewise
from socialcredit.schemes.scoremodels import SEVERITY_RANK as SEVERITY_RANK
from socialcredit.schemes.scoremodels import Condition as Condition
from socialcredit.schemes.scoremodels import Factor as Factor
from socialcredit.schemes.scoremodels import FactorModel as FactorModel
from socialcredit.schemes.scoremodels import Grade as Grade
from socialcredit.schemes.scoremodels import Model as Model
from socialcredit.schemes.scoremodels import PointsModel as PointsModel
from socialcredit.schemes.scoremodels import Selector as Selector
from socialcredit.schemes.scoremodels import Tier as Tier
from socialcredit.schemes.scoremodels import TierModel as TierModel
from socialcredit.schemes.scoremodels import TierRule as TierRule


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


ReasonText = Annotated[str, Field(min_length=1)]
"""A revision's reason in one language."""


class Revision(_Strict):
    """What a version of a scheme says about the version it replaces: whether listings that ended
    under the earlier rules are derived again under these (``re-evaluated``: the earlier version
    mis-modelled rules that always applied, a correction of a modelling error) or stay as they
    ended (``stay-ended``: the rules themselves changed, from ``effective_from`` on; each list
    is walked in segments, ``schemes.segments``, decision 0051), and why, in words shown to the
    subjects whose entries the change touched (docs/decisions/0028)."""

    replaces: str = Field(min_length=1, max_length=32, description="The version this one replaces")
    earlier_listings: Literal["re-evaluated", "stay-ended"]
    reason: ReasonText | dict[Literal["en", "zh-CN"], ReasonText] = Field(
        description="Why, in plain words: shown to the subjects concerned. A text is English (worded in "
        "Chinese where the shipped schemes' prose has it); a mapping gives it in English (en), Chinese "
        "(zh-CN) or both, each reader reading their own, else the other marked as such (decision 0072)"
    )

    @model_validator(mode="after")
    def _some_reason(self) -> Revision:
        if not self.reason:
            raise Refused(N_("revision.reason: give the reason in English (en), Chinese (zh-CN) or both"))
        return self


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
            if problem is not None:  # a Text of ours: worded in the reader's language
                raise Refused(problem)
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
