"""Which scheme fields each evaluator reads, refuses, or may leave aside: no silent field.

A field one evaluator reads and another silently ignores is a wrong answer waiting for the
scheme that uses it (the simulator once ignored ``half_life_days``: a Rongcheng item with a
one-year half-life scored 950 at the point of service and 900 in the simulator, silently). So
every evaluator declares each field of every scheme model (:func:`scheme_fields`) in one of
three ways:

- **read**: it affects the evaluator's results, and the evaluator computes it as the kernel does;
- **refused**: a scheme that uses it is refused before anything is computed, with a message
  naming the field and where the scheme sets it (:meth:`Declaration.check`); or, for a field of
  one list (a kind of list criterion the evaluator has no population form of), that list alone is
  skipped, named with the field, and the rest of its scheme is computed
  (:meth:`Declaration.skipped`, decision 0063);
- **inert**: it cannot change the evaluator's results (a title, the published fields, the
  measures for an evaluator that decides none).

``tests/test_rules_fields.py`` walks every field against every declaration and fails on one left
undeclared or declared twice; for each refusal it sets the field in a shipped scheme and expects
the refusal to name it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel

from socialcredit.criteria import dispatch as criteria
from socialcredit.errors import Refused
from socialcredit.schemes.model import FactorModel, ListDef, Scheme
from socialcredit.scoring.dispatch import KINDS


class SchemeRefused(Refused):
    """An evaluator cannot compute a scheme as written; the message names the field."""

    def __init__(self, evaluator: str, scheme: str, reasons: list[str]) -> None:
        self.evaluator, self.scheme, self.reasons = evaluator, scheme, reasons
        super().__init__(f"{evaluator} cannot evaluate scheme {scheme}: " + "; ".join(reasons))


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    """The pydantic models inside a field's annotation (through unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models(arg)
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            yield from _models(arg)


def scheme_fields(root: type[BaseModel] = Scheme) -> list[str]:
    """Every field of every model a scheme file can hold, as ``Model.field``, in a stable order.

    >>> "Item.half_life_days" in scheme_fields() and "Condition.within_days" in scheme_fields()
    True
    """
    seen: dict[type[BaseModel], None] = {}
    # a list's criteria are read as the class of their kind (``criteria/dispatch.py``)
    todo = [root, *(c.criteria for c in criteria.CRITERIA.values() if root is Scheme)]
    while todo:
        model = todo.pop(0)
        if model in seen:
            continue
        seen[model] = None
        hints = typing.get_type_hints(model, include_extras=True)
        for name in model.model_fields:
            todo.extend(m for m in _models(hints[name]) if m not in seen)
    return [f"{m.__name__}.{name}" for m in seen for name in m.model_fields]


@dataclass(frozen=True)
class Refusal:
    """A field an evaluator refuses, and how to find where a scheme uses it: ``used`` yields a
    place for each use (``item traffic.red-light``); none means the scheme does not use it.

    A refusal may cover some values of a field only (a factor's ``source: contacts``, while
    ``source: items`` is read)."""

    field: str
    used: Callable[[Scheme], Iterable[str]]
    why: str


@dataclass(frozen=True)
class ListRefusal:
    """A field an evaluator refuses list by list: ``used`` gives the place where a list uses it
    (``list repeat (by: repeat)``), or None. Why not a :class:`Refusal`: what the evaluator cannot
    compute is that one list, and refusing the whole scheme for it would also drop its scores and
    its other lists, which it computes as the kernel does (decision 0063)."""

    field: str
    used: Callable[[ListDef], str | None]
    why: str


@dataclass(frozen=True)
class Declaration:
    """One evaluator's declaration of every scheme field."""

    evaluator: str
    read: frozenset[str]
    inert: frozenset[str]
    refused: tuple[Refusal, ...] = field(default=())
    lists: tuple[ListRefusal, ...] = field(default=())
    """Fields whose use skips only the list that uses them (:meth:`skipped`)."""

    def reasons(self, scheme: Scheme) -> list[str]:
        """Why this evaluator refuses ``scheme``, one reason per use of a refused field."""
        return [f"{where} sets {r.field} ({r.why})" for r in self.refused for where in r.used(scheme)]

    def skipped(self, scheme: Scheme) -> dict[str, str]:
        """The lists of ``scheme`` this evaluator skips, by qualified id (``scheme/list``), with
        the reason naming the list and the field; the rest of the scheme it computes."""
        out: dict[str, str] = {}
        for lst in scheme.lists:
            for r in self.lists:
                where = r.used(lst)
                if where is not None:
                    out.setdefault(f"{scheme.id}/{lst.id}", f"{where} sets {r.field} ({r.why})")
        return out

    def check(self, scheme: Scheme) -> None:
        """Refuse ``scheme`` (:class:`SchemeRefused`) when it uses a field this evaluator refuses."""
        reasons = self.reasons(scheme)
        if reasons:
            raise SchemeRefused(self.evaluator, scheme.id, reasons)

    def declared(self) -> dict[str, set[str]]:
        """Every declared field with how (``read``, ``refused``, ``inert``; a field refused for
        some values may be read for the others)."""
        out: dict[str, set[str]] = {}
        for how, names in (
            ("read", self.read),
            ("inert", self.inert),
            ("refused", {r.field for r in self.refused} | {r.field for r in self.lists}),
        ):
            for name in names:
                out.setdefault(name, set()).add(how)
        return out


INERT = frozenset(
    {
        "Scheme.title",
        "Scheme.jurisdiction",
        "Scheme.description",
        "Scheme.legal_basis",
        "Scheme.public_lookup",
        "Scheme.archive_days",
        "Scheme.erasure_on_request",
        "Item.title",
        "Item.category",
        "Item.legal_basis",
        "Item.description",
        "Grade.description",
        "Tier.description",
        "TierRule.title",
        "Factor.title",
        "ListDef.title",
        "ListDef.published_fields",
        "ListDef.legal_basis",
        "Measure.title",
        "Measure.legal_basis",
        "Measure.how_to_resolve",
        "Measure.third_party",
        "ThirdParty.who",
        "ThirdParty.legal_basis",
    }
)
"""Fields no evaluator's results depend on: what is shown or published, never computed with.
(``Scheme.public_lookup`` decides who may look a subject up, not any score, entry or decision;
``Scheme.archive_days`` when a record no longer counting may be erased, which the ledger's reads
then leave out for every evaluator alike; ``Scheme.erasure_on_request`` which records a
subject may ask to have erased, likewise.
An item's ``category`` and a measure's ``third_party`` are what the linter judges a scheme by, at
load: a scheme that fails it is never in force, so no evaluator computes with them.)"""

_COMMON = frozenset(
    {
        # which version of a scheme answers for a day: the registry picks it (``Registry.at``)
        # before any evaluator sees the scheme, the same for all of them (decision 0038)
        "Scheme.version",
        "Scheme.effective_from",
        "Scheme.id",
        "Scheme.items",
        "Scheme.model",
        "Scheme.lists",
        "Scheme.enrolment",
        "Item.code",
        "Item.area",
        "Item.polarity",
        "Item.points",
        "Item.counts_for_days",
        "Item.half_life_days",
        "Item.severity",
        "Item.subjects",
        "Grade.grade",
        "Grade.min_score",
        "Enrolment.item",
        "Enrolment.withdrawal_item",
        "ListDef.id",
        "ListDef.kind",
        "ListDef.criteria",
        "ListDef.period_days",
        "ListDef.extension_days",
        "ListDef.max_period_days",
        "ListDef.removal",
        "ListDef.notice",
        "ListDef.during_objection",
        "ListDef.lists_representative",
        "ListCriteria.by",
        "Removal.on_items",
        "Removal.within_working_days",
        "ListDef.periods",
        "Period.grounds",
        "Period.years",
        "Period.extension",
        "Period.removal",
        "Extension.on_items",
        "Extension.years_field",
        "Extension.min_years",
        "Extension.max_years",
        "Notice.required",
        "Notice.days",
    }
)
"""The fields scores and list entries are computed from whatever the kind of model."""


def criteria_fields(by: str) -> frozenset[str]:
    """The fields of a kind of list criterion: every field of its scheme-file class (its module
    declares them by declaring the class)."""
    cls = criteria.CRITERIA[by].criteria
    return frozenset(f"{cls.__name__}.{name}" for name in cls.model_fields)


def listed_by(formed: Collection[str]) -> tuple[frozenset[str], frozenset[str], ListRefusal]:
    """An evaluator's declaration of the list criteria, from the kinds it has a population form
    of (``formed``): their fields read; each other kind refused by its ``by`` (a list by it is
    skipped, named, and the rest of its scheme computed), its other fields inert, since no list by
    it is ever computed."""
    read: set[str] = set()
    inert: set[str] = set()
    for by in criteria.CRITERIA:
        names = criteria_fields(by)
        if by in formed:
            read |= names
        else:
            inert |= {n for n in names if not n.endswith(".by")}

    def used(lst: ListDef) -> str | None:
        by = lst.criteria.by
        return None if by in formed else f"list {lst.id} (by: {by})"

    why = "no population form of this kind of list criterion; the list stays per subject"
    return frozenset(read), frozenset(inert), ListRefusal("ListCriteria.by", used, why)


SCORING = _COMMON | frozenset().union(*(m.fields for m in KINDS.values()))
"""The fields scores and list entries are computed from: the common ones and those each kind of
model reads (``ScoringModel.fields``, declared in its core module). Every evaluator runs a
model's one population form (``ScoringModel.score_of`` over its feeds), so a kind's fields are
read by every evaluator alike and a new kind needs no edit here."""

REVISION = frozenset({"Scheme.revision", "Revision.replaces", "Revision.earlier_listings", "Revision.reason"})
"""What a revised scheme says of the version it replaces: the per-subject evaluator compares an
entry with what the replaced version gave and shows the subject the difference (``ListEntry.revised``).
No evaluator computes with it otherwise: the registry reads it to place the version in time before
any evaluator sees the scheme (a correction replaces the version it names for every day,
``Registry.at``), and ``schemes.segments`` reads it to cut a list's history where the rules changed
and earlier listings stay ended (``stay-ended``, decision 0051): every evaluator is given the same
segments, each a version's list, so none reads the revision itself."""

DECIDING = frozenset(
    {
        "Scheme.measures",
        "Measure.id",
        "Measure.kind",
        "Measure.implemented_by",
        "Measure.trigger",
        "Measure.applies_to",
        "Trigger.lists",
        "Trigger.scheme",
        "Trigger.grades",
        "Trigger.score_at_least",
        "Trigger.score_below",
    }
)
"""The fields decisions on measures are computed from."""

DUE_PROCESS = frozenset(
    {
        "Scheme.due_process",
        "DueProcess.review_days",
        "DueProcess.correction_working_days",
        "DueProcess.appeal_days",
        "DueProcess.appeal_decision_days",
        "DueProcess.restoration_decision_working_days",
    }
)
"""The deadlines of objections, appeals and restoration."""

PUBLICATION = frozenset(
    {"ListDef.publication_consent", "PublicationConsent.item", "PublicationConsent.withdrawal_item"}
)
"""Whether an entry is published, by the subject's consent (decision 0042): read by the per-subject
evaluator, which alone publishes lists (``System.public_list``, the public lookup); it changes no
score, entry or decision, so the engines and the simulator, which publish nothing, leave it aside."""

INGEST = frozenset({"Item.sources", "Item.base_rate_per_year"})
"""Who may report an item (checked when a record is submitted, before any evaluator sees it) and
how often it typically occurs (the synthetic city's and the simulator's behaviour)."""


def _counting_contacts(scheme: Scheme) -> Iterable[str]:
    model = scheme.model
    if isinstance(model, FactorModel):
        return [f"factor {f.id}" for f in model.factors if f.source == "contacts" and f.counts]
    return []


CONTACTS = Refusal(
    "Factor.source",
    _counting_contacts,
    "a counting relationships factor reads declared contacts' scores, which no ledger or export "
    "holds; score it per subject, or simulate it with --relationships",
)
"""The relationships factor, refused wherever contacts are not at hand."""

PER_SUBJECT = Declaration(
    "the per-subject evaluator (score, lists, check)",
    read=SCORING
    | DECIDING
    | DUE_PROCESS
    | REVISION
    | PUBLICATION
    | frozenset().union(*(criteria_fields(by) for by in criteria.CRITERIA)),
    inert=INERT | INGEST,
)
"""The reference: one subject at the point of service reads every rule."""
