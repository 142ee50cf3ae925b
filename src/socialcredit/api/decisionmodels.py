"""The decision endpoint's models: the question (``DecisionIn``), the answer with its reasons
and receipt (``DecisionOut``, also ``check --json``), the reply rendered once per prepared
decision (``DecisionReplies``), and a past decision reproduced from its receipt
(``ReproductionOut``, ``GET /decisions/{id}``). Apart from :mod:`socialcredit.api.models` by
concern, as ``documentmodels`` and ``casemodels`` are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from socialcredit import codes, documents, i18n
from socialcredit.api.inputs import CODE_SCHEMA, RequestIn
from socialcredit.api.models import UtcDatetime, _moment, _utc
from socialcredit.decisions import Decision
from socialcredit.i18n import translate
from socialcredit.knowledge import Receipt
from socialcredit.rules.days import day_of
from socialcredit.schemes.titles import prose
from socialcredit.service.receipts import Reproduction


class ReasonOut(BaseModel):
    basis: str
    text: str
    list_id: str | None
    since: dt.date | None
    until: dt.date | None
    legal_basis: str | None
    how_to_resolve: str | None
    via: str | None
    explanation: list[str] = Field(
        default_factory=list,
        description="For a grade or score: what moved that score most, in plain words (reason codes)",
    )


class DecisionIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    cross_field_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {"required": ["subject"], "properties": {"subject": {"type": "string", **CODE_SCHEMA}}},
            {
                "required": ["document"],
                "properties": {"document": {"type": "string", "pattern": documents.written_pattern()}},
            },
        ]
    }
    subject: Annotated[str, Field(max_length=64, json_schema_extra=CODE_SCHEMA)] | None = Field(
        None, description="Identity code of the subject"
    )
    document: (
        Annotated[str, Field(max_length=100, json_schema_extra={"pattern": documents.written_pattern()})]
        | None
    ) = Field(
        None,
        description="Or a document linked to the subject: type:number, a passport passport:STATE:number",
    )
    measure: str = Field(max_length=64, description="Measure id, e.g. no-flights")
    purpose: str = Field(min_length=1, max_length=500, description="Why the question is asked (audited)")
    as_of: Annotated[dt.datetime | None, BeforeValidator(_moment)] = Field(
        None,
        description="Valid time asked about (default now); a bare date means the end of that day "
        "in China Standard Time",
    )
    known_at: Annotated[dt.datetime | None, BeforeValidator(_moment)] = Field(
        None,
        description="Knowledge time: answer from what the system had received by then "
        "(default now); a bare date means the end of that day in China Standard Time",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> DecisionIn:
        if (self.subject is None) == (self.document is None):
            raise ValueError("give either subject (a code) or document (e.g. passport:CHN:E12345678)")
        return self


class PositionsOut(BaseModel):
    records: int
    registry: int
    cases: int


class ReceiptOut(BaseModel):
    """What a decision was computed from: enough to compute it again (``GET /decisions/{id}``)."""

    decision_id: str
    as_of: UtcDatetime
    known_at: UtcDatetime
    positions: PositionsOut
    schemes: dict[str, str] = Field(description="Content hash of each scheme file in force, by scheme id")

    @classmethod
    def of(cls, r: Receipt) -> ReceiptOut:
        return cls(
            decision_id=r.decision_id,
            as_of=r.as_of,
            known_at=r.known_at,
            positions=PositionsOut(records=r.records, registry=r.registry, cases=r.cases),
            schemes=dict(r.schemes),
        )


class DecisionOut(BaseModel):
    """What a relying party sees: the answer and its reasons, nothing more. The subject's code
    is masked, so the reply cannot be used to collect codes."""

    ok: Literal[True] = True
    subject: str
    measure: str
    measure_kind: str
    answer: Literal["allow", "deny"]
    subject_known: bool = Field(
        True,
        description="False: the system holds no record and no registration of this subject; the "
        "answer is the rule's for a subject with nothing on file, not a clean record",
    )
    at: UtcDatetime
    reasons: list[ReasonOut]
    receipt: ReceiptOut | None = None

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        return cls(
            subject=codes.mask(d.subject),
            measure=d.measure,
            measure_kind=d.measure_kind,
            answer="allow" if d.allowed else "deny",
            subject_known=d.subject_known,
            at=d.at,
            reasons=[
                ReasonOut(
                    basis=r.basis,
                    text=translate(r.text),
                    list_id=r.list_id,
                    since=r.since,
                    until=r.until,
                    legal_basis=prose(r.legal_basis),
                    how_to_resolve=prose(r.how_to_resolve),
                    via=codes.mask(r.via) if r.via else None,
                    explanation=[translate(x) for x in r.explanation],
                )
                for r in d.reasons
            ],
            receipt=ReceiptOut.of(d.receipt) if d.receipt is not None else None,
        )


_AT = dt.datetime(1900, 1, 1)
_AT_JSON = f'"at":"{_utc(_AT)}"'.encode()
_ID = "dec-0000000000000000"
_AS_OF, _KNOWN_AT = dt.datetime(1900, 1, 2), dt.datetime(1900, 1, 3)
_MARKS = (f'"decision_id":"{_ID}"', f'"as_of":"{_utc(_AS_OF)}"', f'"known_at":"{_utc(_KNOWN_AT)}"')


class DecisionReplies:
    """The JSON body of ``DecisionOut`` for a decision, rendered by the model once per prepared
    decision and language and then only re-stamped with the time.

    Why: building and serialising the pydantic model cost about 30 µs a request, a sixth of the
    decision endpoint's whole budget, while everything but ``at`` repeats for as long as the
    subject's cached view holds. A service's prepared decision keeps the same ``reasons`` tuple
    (only ``at`` is replaced), so that object identifies the rendering; it is kept alongside, so
    its id cannot be reused while remembered. The receipt's chain positions and scheme hashes are
    part of the rendering (they move when anything is appended, far less often than questions
    come); its id and times are stamped in, as ``at`` is. The reasons are worded in the reader's
    language (``locale``, from Accept-Language), so the language is part of the key: a reply
    rendered for one reader is never served to a reader of the other language.

    A rendering is shared by subjects too (decision 0088): the masked subject is stamped in like
    the times, and the key is then the reasons *by value* with what words them (each text's
    template, values and kind: ``_wording``), the measure, the answer and the receipt's
    positions. Most people asked about are allowed for the same reason, so a question about a
    subject asked for the first time (a state decoded, new ``reasons``) no longer renders the
    model. Reasons that cannot be keyed so (a value that is not hashable) keep the first key."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._memo: dict[tuple[Any, ...], tuple[Decision, tuple[bytes, ...], bool]] = {}
        self._wordings: dict[int, tuple[Any, Any]] = {}

    def body(self, d: Decision, locale: str = i18n.DEFAULT) -> bytes:
        r = d.receipt
        positions = (r.records, r.registry, r.cases, id(r.schemes)) if r is not None else None
        shared = _shared_key(d, positions, locale, self._wording_of(d.reasons))
        key = shared or (id(d.reasons), d.subject, d.allowed, positions, locale)
        hit = self._memo.get(key)
        if (
            hit is None
            or (shared is None and hit[0].reasons is not d.reasons)
            or hit[0].measure != d.measure
            or (r is not None and hit[0].receipt is not None and hit[0].receipt.schemes is not r.schemes)
        ):
            marked = r and dataclasses.replace(r, decision_id=_ID, as_of=_AS_OF, known_at=_KNOWN_AT)
            subject = _SUBJECT if shared is not None else d.subject
            with i18n.using(locale):
                model = DecisionOut.of(dataclasses.replace(d, subject=subject, at=_AT, receipt=marked))
                text = model.model_dump_json()
            marks = [*([_SUBJECT_JSON] if shared is not None else []), _AT_JSON.decode()]
            parts = [text.encode()]
            for mark in (*marks, *(_MARKS if r is not None else ())):
                head, _, tail = parts.pop().decode().partition(mark)
                parts += [head.encode(), tail.encode()]
            hit = (d, tuple(parts), shared is not None)
            if len(self._memo) >= self.size:
                self._memo.clear()
            self._memo[key] = hit
        p = list(hit[1])
        out = [p.pop(0)]
        if hit[2]:
            out += [b'"subject":"', codes.mask(d.subject).encode(), b'"', p.pop(0)]
        at = _utc(d.at).encode()
        out += [b'"at":"', at, b'"', p.pop(0)]
        if r is not None:  # for now, all three times are one (rendered once)
            as_of = at if r.as_of == d.at else _utc(r.as_of).encode()
            known_at = at if r.known_at == d.at else _utc(r.known_at).encode()
            out += [b'"decision_id":"', r.decision_id.encode(), b'"', p.pop(0)]
            out += [b'"as_of":"', as_of, b'"', p.pop(0), b'"known_at":"', known_at, b'"', p.pop(0)]
        return b"".join(out)

    def _wording_of(self, reasons: Any) -> Any:
        """``_wording(reasons)``, remembered by the tuple's identity (the tuple kept with it, so
        its id is not reused while remembered). Why: subjects whose stored state holds the same
        line share one ``reasons`` tuple (``statecodec.decision``), and walking it was 16 µs of
        the loop's time on each question about a subject not asked before (decision 0101)."""
        hit = self._wordings.get(id(reasons))
        if hit is not None and hit[0] is reasons:
            return hit[1]
        try:
            wording = _wording(reasons)
        except TypeError:
            return None
        if len(self._wordings) >= self.size:
            self._wordings.clear()
        self._wordings[id(reasons)] = (reasons, wording)
        return wording


_SUBJECT = "000000000000000000"
"""The subject a shared rendering is made with: its masked form, ``000000********0000``, is in
no scheme hash, time or id, and the field comes first, so it marks where the subject goes."""
_SUBJECT_JSON = f'"subject":"{codes.mask(_SUBJECT)}"'


def _shared_key(d: Decision, positions: Any, locale: str, wording: Any = None) -> tuple[Any, ...] | None:
    """The key of a rendering shared by every subject whose decision equals ``d`` but for the
    subject and the times (``wording``: ``_wording(d.reasons)`` if already known); ``None`` if
    its reasons cannot be keyed by value."""
    try:
        if wording is None:
            wording = _wording(d.reasons)
        key = (wording, d.measure, d.measure_kind, d.allowed, d.subject_known, positions, locale)
        hash(key)
    except TypeError:
        return None
    return key


def _wording(x: Any) -> Any:
    """``x`` with everything that words it in a language, as a key: a text (``i18n.Text``, a
    title, joined lines) by its kind and attributes (template, values, the title's key), not
    only by its English (two templates may read alike in English and not in Chinese)."""
    if isinstance(x, str):
        attributes = getattr(x, "__dict__", None)
        return (type(x), str(x), _wording(attributes)) if attributes else x
    if isinstance(x, dict):
        return tuple(sorted((k, _wording(v)) for k, v in x.items()))
    if isinstance(x, tuple | list):
        return tuple(_wording(v) for v in x)
    names = _FIELDS.get(type(x))
    if names is None and dataclasses.is_dataclass(x) and not isinstance(x, type):
        names = _FIELDS[type(x)] = tuple(f.name for f in dataclasses.fields(x))
    if names is not None:
        return (type(x), *(_wording(getattr(x, name)) for name in names))
    return x


_FIELDS: dict[type, tuple[str, ...]] = {}
"""The field names of each dataclass ``_wording`` has met (``dataclasses.fields`` is slow)."""


class AnsweredOut(BaseModel):
    """A decision as its audit entry keeps it."""

    answer: str
    at: Any
    reasons: list[str]


class ReproductionOut(BaseModel):
    """A past decision: as answered, computed again from its receipt (``exact``: the same, as it
    must be), and for the same valid time as known now, with the sentence saying how they differ
    (``changed``, ``null`` when they do not)."""

    ok: Literal[True] = True
    decision_id: str
    answered: AnsweredOut
    reproduced: DecisionOut | None = Field(
        description="null when records the decision rested on were erased since: the answer "
        "stands as answered, and is not computed again from what is left"
    )
    exact: bool
    current: DecisionOut
    changed: str | None = Field(
        description='e.g. "answered DENY on 2025-07-01; a correction on 2025-09-01 makes it ALLOW"'
    )
    erased_on: dt.date | None = Field(
        default=None, description="when records the decision rested on were erased (the latest such)"
    )
    erased_under: str | None = Field(default=None, description="the rule they were erased under")

    @classmethod
    def of(cls, r: Reproduction) -> ReproductionOut:
        a = r.answered
        again = dataclasses.replace(r.again, at=r.receipt.known_at, receipt=r.receipt)
        return cls(
            decision_id=r.receipt.decision_id,
            answered=AnsweredOut(answer=a["answer"], at=_utc(a["at"]), reasons=a["detail"]["reasons"]),
            reproduced=None if r.erased is not None else DecisionOut.of(again),
            exact=r.exact,
            current=DecisionOut.of(r.current),
            changed=None if r.changed is None else translate(r.changed),
            erased_on=day_of(r.erased.at) if r.erased is not None else None,
            erased_under=r.erased.rule if r.erased is not None else None,
        )
