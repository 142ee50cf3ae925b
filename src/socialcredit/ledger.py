"""The ledger: append-only credit records with provenance, validated, deduplicated, hash-chained.

Observers of the reported systems stress that it is "less a score, more a record": the record
is the primary artifact and scores and lists are views of it. So records are never edited; a
correction or a withdrawal is a new record that references the one it corrects, and the
*effective* ledger at a time is a pure function of the records known by then.

This module is pure: it validates submitted rows (:func:`validate_row`), computes content and
chain hashes (:func:`content_hash`, :func:`chain_hash`), checks a chain (:func:`verify_chain`)
and derives the effective records (:func:`effective`). Storing is the store adapter's job; it
must call these functions so that every engine agrees on what a record is.

Every submitted row ends in exactly one of three outcomes: accepted, duplicate (the same
``(source, source_record_id)`` with the same content was already accepted), or quarantined
with reasons naming each bad field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, cast

from socialcredit import codes
from socialcredit.errors import Refused
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import Registry

Action = Literal["report", "correct", "withdraw", "restore"]
ACTIONS: tuple[str, ...] = ("report", "correct", "withdraw", "restore")
# correct: the referenced record was wrong and this one replaces it; withdraw: it was wrong and
# nothing replaces it; restore: it was right, but credit restoration ends its effect from now on.
SUPERSEDING: tuple[str, ...] = ("correct", "withdraw", "restore")
FIELDS: tuple[str, ...] = (
    "subject",
    "item",
    "source",
    "source_record_id",
    "occurred_on",
    "reported_at",
    "evidence",
    "action",
    "corrects",
    "details",
)
REQUIRED: tuple[str, ...] = ("subject", "item", "source", "source_record_id", "occurred_on")
MAX_ID = 128
MAX_EVIDENCE = 2000
MAX_DETAILS = 4096
GENESIS = "0" * 64
_CONTROL = re.compile(r"[\x00-\x1f]")
EARLIEST = dt.date(1949, 10, 1)


@dataclass(frozen=True, slots=True)
class Record:
    """One accepted credit record. ``seq`` and the hashes are set when it is appended."""

    record_id: str
    subject: str
    subject_kind: codes.SubjectKind
    item: str
    source: str
    source_record_id: str
    occurred_on: dt.date
    reported_at: dt.datetime
    evidence: str | None = None
    action: Action = "report"
    corrects: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    reported_given: bool = True
    seq: int = 0
    received_at: dt.datetime | None = None
    batch_id: str | None = None
    content_hash: str = ""
    claim_hash: str = ""
    chain_hash: str = ""

    @property
    def reported_on(self) -> dt.date:
        return day_of(self.reported_at)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A submitted row that was not accepted, kept whole with the reasons why."""

    row_number: int
    raw: Mapping[str, Any]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of one submitted batch; accepted + duplicate + quarantined == submitted."""

    batch_id: str
    submitted: int
    accepted: int
    duplicate: int
    quarantined: int
    quarantine: tuple[Quarantined, ...] = ()

    def __post_init__(self) -> None:
        if self.accepted + self.duplicate + self.quarantined != self.submitted:
            raise AssertionError("ingest counts do not add up")  # a bug, never bad input


def record_id_for(source: str, source_record_id: str) -> str:
    """A record id derived from its provenance, so the same source record has the same id on
    every store and a re-submission is recognised without a lookup table."""
    return hashlib.sha256(f"{source}\x1f{source_record_id}".encode()).hexdigest()[:32]


def iso_dt(value: dt.datetime) -> str:
    """Canonical timestamp text for hashing: UTC, whole seconds, no zone suffix."""
    return value.isoformat(timespec="seconds")


def canonical_details(details: Mapping[str, Any]) -> str:
    """The one text form of a record's details, for storage and hashing."""
    if not details:
        return "{}"
    return json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class Sealed(NamedTuple):
    """A record as ingestion stores it: its fields, its details as canonical text and its content
    and claim hashes (everything but its place in the chain).

    Why a named tuple rather than a dataclass: ingestion builds one per submitted row and the
    store hands it to its driver as a row of values in this order (``store/dialect.py``), so it
    must stay a plain tuple in speed and shape; the names are for the code that reads it."""

    record_id: str
    subject: str
    subject_kind: str
    item: str
    source: str
    source_record_id: str
    occurred_on: dt.date
    reported_at: dt.datetime
    reported_given: bool
    evidence: str | None
    action: str
    corrects: str | None
    details: str
    content_hash: str
    claim_hash: str


SEALED_FIELDS: tuple[str, ...] = Sealed._fields
"""The order of a :class:`Sealed` record's values, and so of the columns ingestion inserts."""

_new_tuple = tuple.__new__
"""Builds a named tuple from a tuple of its values in one C call: its generated ``__new__`` is a
Python function, whose call cost a twelfth of sealing a row, once per row (measured)."""


def seal_fields(
    record_id: str,
    subject: str,
    kind: str,
    item: str,
    source: str,
    srid: str,
    occurred: dt.date,
    reported: dt.datetime,
    given: bool,
    evidence: str | None,
    action: str,
    corrects: str | None,
    details: str,
) -> Sealed:
    """A record's fields sealed with their content and claim hashes: the one definition of both,
    used by :func:`sealed` (and so by ``verify``) and by ingestion's sealing of a clean row
    (``intake.seal_row``). Fields are joined by the unit separator (text fields are validated
    free of control characters, so it cannot occur inside one and the joined form is
    unambiguous) and None is spelled ``\x00``. Built with f-strings, not a generic join: hashing
    is a large part of what ingestion costs per record."""
    sep = "\x1f"
    ev = "\x00" if evidence is None else evidence
    corr = "\x00" if corrects is None else corrects
    rep = reported.isoformat(timespec="seconds")
    head = f"{record_id}{sep}{subject}{sep}"
    tail = f"{item}{sep}{source}{sep}{srid}{sep}{occurred.isoformat()}{sep}"
    rest = f"{sep}{ev}{sep}{action}{sep}{corr}{sep}{details}"
    if given:
        content = f"{head}{kind}{sep}{tail}{rep}{sep}1{rest}"
        claim = f"{head}{tail}{rep}{rest}"
    else:
        content = f"{head}{kind}{sep}{tail}{rep}{sep}0{rest}"
        claim = f"{head}{tail}\x00{rest}"
    sha256 = hashlib.sha256
    return _new_tuple(
        Sealed,
        (
            record_id,
            subject,
            kind,
            item,
            source,
            srid,
            occurred,
            reported,
            given,
            evidence,
            action,
            corrects,
            details,
            sha256(content.encode()).hexdigest(),
            sha256(claim.encode()).hexdigest(),
        ),
    )


def sealed(r: Record) -> Sealed:
    """A record as ingestion stores it (see :class:`Sealed`), from one encoding of it."""
    return seal_fields(
        r.record_id,
        r.subject,
        r.subject_kind,
        r.item,
        r.source,
        r.source_record_id,
        r.occurred_on,
        r.reported_at,
        r.reported_given,
        r.evidence,
        r.action,
        r.corrects,
        canonical_details(r.details),
    )


def seal_row(
    row: Mapping[str, Any], *, registry: Registry, now: dt.datetime, source: str | None = None
) -> Sealed | None:
    """``sealed(validate_row(row, ...))`` for a clean row, computed without building the
    :class:`Record` (a tenth of what ingestion costs per row); None when the row needs
    :func:`validate_row`'s full judgement (it may still be valid). A property test holds the two
    to the same result."""
    f = _fast_fields(row, registry, now, source)
    if f is None:
        return None
    # unpacked rather than read by name: a tenth of what sealing a row costs (measured)
    record_id, subject, kind, item, src, srid, occurred, reported, given, evidence, details = f
    return seal_fields(
        record_id,
        subject,
        kind,
        item,
        src,
        srid,
        occurred,
        reported,
        given,
        evidence,
        "report",
        None,
        canonical_details(details),
    )


def content_hash(r: Record) -> str:
    """Hash of everything stored about a record (checked by ``verify``): its id, subject and
    kind, item, source and source record id, dates, whether ``reported_at`` was given,
    evidence, action, what it corrects and its canonical details."""
    return sealed(r).content_hash


def claim_hash(r: Record) -> str:
    """Hash of what the source *submitted*: the same submission again is a duplicate even when
    it left ``reported_at`` out (which we fill with the time of receipt)."""
    return sealed(r).claim_hash


def chain_hash(prev: str, seq: int, content: str, received_at: dt.datetime, batch_id: str) -> str:
    """Link a record to the one before it: any edit, removal or reordering breaks a link."""
    return chain_linker(received_at, batch_id)(prev, seq, content)


def chain_linker(received_at: dt.datetime, batch_id: str) -> Callable[[str, int, str], str]:
    """:func:`chain_hash` with the receipt time and batch fixed: ``link(prev, seq, content)``.
    Why: a chunk links thousands of records received together, and this is the one step of
    ingestion that must run under the chain's lock, so its per-record work is kept to one
    formatted string and one SHA-256."""
    tail = f"|{iso_dt(received_at)}|{batch_id}"
    sha256 = hashlib.sha256

    def link(prev: str, seq: int, content: str) -> str:
        return sha256(f"{prev}|{seq}|{content}{tail}".encode()).hexdigest()

    return link


# ---------------------------------------------------------------------------------- validation


def _parse_date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise Refused(f"expected an ISO date like 2024-03-01, got {type(value).__name__}", field=name)
    text = value.strip()
    try:
        if len(text) > 10:
            return dt.datetime.fromisoformat(text).date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{value[:40]!r} is not an ISO date like 2024-03-01", field=name) from None


def _parse_datetime(value: object, name: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        out = value
    elif isinstance(value, dt.date):
        out = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        try:
            out = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise Refused(
                f"{value[:40]!r} is not an ISO timestamp like 2024-03-01T09:30:00", field=name
            ) from None
    else:
        raise Refused(f"expected an ISO timestamp, got {type(value).__name__}", field=name)
    if out.tzinfo is not None:
        out = out.astimezone(dt.UTC).replace(tzinfo=None)
    return out.replace(microsecond=0)


def _text(value: object, name: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Refused(f"expected text, got {type(value).__name__}", field=name)
    text = str(value).strip()
    if not text:
        raise Refused("is empty", field=name)
    if len(text) > limit:
        raise Refused(f"longer than {limit} characters", field=name)
    if _CONTROL.search(text):
        raise Refused("contains control characters", field=name)
    return text


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_row(
    row: Mapping[str, Any],
    *,
    registry: Registry,
    now: dt.datetime,
    source: str | None = None,
) -> Record:
    """Turn one submitted row into a :class:`Record`, or raise ``RowError`` listing every
    problem, each naming its field. ``source``, when given, is the authenticated agency: a row
    may omit its source, and may not claim another agency's."""
    fast = _fast_path(row, registry, now, source)
    if fast is not None:
        return fast
    return _validate_fully(row, registry=registry, now=now, source=source)


_FIELD_SET = frozenset(FIELDS)
_VALID_CODES: dict[str, codes.Code] = {}
_VALID_CODES_MAX = 1 << 18
_BOUNDS: tuple[dt.datetime, tuple[dt.date, dt.datetime, dt.datetime]] | None = None


def _remember_code(subject: str, code: codes.Code) -> None:
    """Remember a valid code exactly as submitted. Why: a subject has many records, and the
    fast path then spends one dict probe on it instead of normalising and looking it up again.
    Only valid codes are kept: a valid code stays valid (its birth date only recedes into the
    past), so the memo never needs invalidating; it is emptied when full to bound memory."""
    if len(_VALID_CODES) >= _VALID_CODES_MAX:
        _VALID_CODES.clear()
    _VALID_CODES[subject] = code


def _bounds(now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """(today, the latest acceptable ``reported_at``, ``now`` to the second) for ``now``; an
    ingest asks with the same ``now`` for every row, so they are computed once."""
    global _BOUNDS
    cached = _BOUNDS  # one read: another thread may replace it meanwhile
    if cached is not None and cached[0] == now:
        return cached[1]
    bounds = (day_of(now), now + dt.timedelta(minutes=5), now.replace(microsecond=0))
    _BOUNDS = (now, bounds)
    return bounds


class _Clean(NamedTuple):
    """A clean row's fields as the fast path gives them, before they become a :class:`Record`
    (:func:`_fast_path`) or are sealed straight away (:func:`seal_row`)."""

    record_id: str
    subject: str
    subject_kind: codes.SubjectKind
    item: str
    source: str
    source_record_id: str
    occurred_on: dt.date
    reported_at: dt.datetime
    reported_given: bool
    evidence: str | None
    details: dict[str, Any]


def _fast_path(
    row: Mapping[str, Any], registry: Registry, now: dt.datetime, source: str | None
) -> Record | None:
    """The common, clean row in one pass, or None to let :func:`_validate_fully` judge it and
    name every problem. It accepts only what the full validation would accept unchanged (no
    whitespace to strip, plain dates, a plain report), so both give the same record; a property
    test holds them to that. Ingestion spends most of its time here."""
    f = _fast_fields(row, registry, now, source)
    if f is None:
        return None
    return Record(
        record_id=f.record_id,
        subject=f.subject,
        subject_kind=f.subject_kind,
        item=f.item,
        source=f.source,
        source_record_id=f.source_record_id,
        occurred_on=f.occurred_on,
        reported_at=f.reported_at,
        evidence=f.evidence,
        action="report",
        corrects=None,
        details=f.details,
        reported_given=f.reported_given,
    )


def _fast_fields(
    row: Mapping[str, Any], registry: Registry, now: dt.datetime, source: str | None
) -> _Clean | None:
    """:func:`_fast_path`'s checks, giving the record's fields: ingestion seals them without
    building a :class:`Record` (:func:`seal_row`)."""
    if not row.keys() <= _FIELD_SET:
        return None
    get = row.get
    subject, item, src, srid, occurred_text = (
        get("subject"),
        get("item"),
        get("source"),
        get("source_record_id"),
        get("occurred_on"),
    )
    if source is not None:
        if src not in (None, "", source):
            return None
        src = source
    if not (
        type(subject) is str
        and type(item) is str
        and type(src) is str
        and type(srid) is str
        and type(occurred_text) is str
        and len(subject) == 18
        and len(occurred_text) == 10
        and 0 < len(srid) <= MAX_ID
        and srid.strip() == srid
        and not _CONTROL.search(srid)
    ):
        return None
    if get("action") not in (None, "", "report") or get("corrects") not in (None, ""):
        return None
    if item in registry.stated_details:  # its details are checked on the full path
        return None
    allowed = registry.sources_by_item.get(item)
    if allowed is None or src not in allowed:
        return None
    code = _VALID_CODES.get(subject)
    if code is None:
        try:
            code = codes.validate(subject)
        except codes.CodeError:
            return None
        if code.value != subject:
            return None
        _remember_code(subject, code)
    if code.kind not in registry.kinds_by_item[item]:
        return None
    try:
        occurred = dt.date.fromisoformat(occurred_text)
    except ValueError:
        return None
    today, latest, received = _bounds(now)
    if occurred > today or occurred < EARLIEST:
        return None
    reported_text = get("reported_at")
    if reported_text is None or reported_text == "":
        reported, given = received, False
    elif type(reported_text) is str and reported_text.strip() == reported_text:
        try:
            reported = dt.datetime.fromisoformat(reported_text)
        except ValueError:
            return None
        if reported.tzinfo is not None or reported > latest:
            return None
        if day_of(reported) < occurred:
            return None
        if reported.microsecond:
            reported = reported.replace(microsecond=0)
        given = True
    else:
        return None
    evidence = get("evidence")
    if evidence is not None:
        if type(evidence) is not str or evidence.strip() != evidence or len(evidence) > MAX_EVIDENCE:
            return None
        if _CONTROL.search(evidence):
            return None
        evidence = evidence or None
    details = get("details")
    if details is None or details == "":
        details = {}
    elif type(details) is not dict or (details and len(json.dumps(details, default=str)) > MAX_DETAILS):
        return None
    return _new_tuple(
        _Clean,
        (
            record_id_for(src, srid),
            subject,
            code.kind,
            item,
            src,
            srid,
            occurred,
            reported,
            given,
            evidence,
            details,
        ),
    )


def _validate_fully(
    row: Mapping[str, Any], *, registry: Registry, now: dt.datetime, source: str | None
) -> Record:
    problems: list[str] = []
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        problems.append(f"{unknown[0]}: unknown field (allowed: {', '.join(FIELDS)})")
    values = dict(row)
    if source is not None:
        claimed = values.get("source")
        if not _blank(claimed) and claimed != source:
            problems.append(f"source: {str(claimed)[:40]!r} is not your agency ({source})")
        values["source"] = source
    for name in REQUIRED:
        if _blank(values.get(name)):
            problems.append(f"{name}: is required")

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Refused as exc:  # a field's refusal is a reason; anything else is a bug, raised
            problems.append(str(exc))
            return None

    code = None
    if not _blank(values.get("subject")):
        try:
            code = codes.validate(values["subject"])
        except codes.CodeError as exc:
            problems.append(f"subject: invalid {exc.part}: {exc}")
    item_code = src = srid = None
    if not _blank(values.get("item")):
        item_code = attempt(lambda: _text(values["item"], "item", 64))
    if not _blank(values.get("source")):
        src = attempt(lambda: _text(values["source"], "source", 64))
    if not _blank(values.get("source_record_id")):
        srid = attempt(lambda: _text(values["source_record_id"], "source_record_id", MAX_ID))
    item_def = registry.item_defs.get(item_code) if item_code else None
    if item_code and item_def is None:
        problems.append(f"item: {item_code!r} is not an item of any scheme in force")
    if item_def is not None and src is not None:
        allowed = registry.sources_by_item.get(item_def.code, frozenset())
        if src not in allowed:
            problems.append(
                f"source: {src!r} may not report item {item_def.code!r} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
    if item_def is not None and code is not None and code.kind not in registry.kinds_by_item[item_def.code]:
        problems.append(f"item: {item_def.code!r} does not apply to a {code.kind}")
    occurred = None
    if not _blank(values.get("occurred_on")):
        occurred = attempt(lambda: _parse_date(values["occurred_on"], "occurred_on"))
        if occurred is not None and occurred > day_of(now):
            problems.append(f"occurred_on: {occurred.isoformat()} is in the future")
            occurred = None
        elif occurred is not None and occurred < EARLIEST:
            problems.append(f"occurred_on: {occurred.isoformat()} is before {EARLIEST}")
            occurred = None
    reported = now.replace(microsecond=0)  # when the source does not say, the time we received it
    reported_given = False
    if not _blank(values.get("reported_at")):
        parsed = attempt(lambda: _parse_datetime(values["reported_at"], "reported_at"))
        if parsed is not None:
            if parsed > now + dt.timedelta(minutes=5):
                problems.append(f"reported_at: {iso_dt(parsed)} is in the future")
            elif occurred is not None and day_of(parsed) < occurred:
                problems.append(f"reported_at: {iso_dt(parsed)} is before occurred_on")
            else:
                reported, reported_given = parsed, True
    evidence = None
    if not _blank(values.get("evidence")):
        evidence = attempt(lambda: _text(values["evidence"], "evidence", MAX_EVIDENCE))
    action = values.get("action") or "report"
    if action not in ACTIONS:
        problems.append(f"action: {str(action)[:20]!r} is not one of {', '.join(ACTIONS)}")
    corrects = None
    if not _blank(values.get("corrects")):
        corrects = attempt(lambda: _text(values["corrects"], "corrects", 64))
    if action in SUPERSEDING and corrects is None:
        problems.append(f"corrects: is required when action is {action}")
    if action == "report" and corrects is not None:
        problems.append("corrects: only a correct, withdraw or restore record may reference another")
    details: Mapping[str, Any] = {}
    raw_details = values.get("details")
    if not _blank(raw_details):
        if isinstance(raw_details, str):
            try:
                raw_details = json.loads(raw_details)
            except ValueError:
                problems.append("details: is not valid JSON")
                raw_details = None
        if raw_details is not None and not isinstance(raw_details, dict):
            problems.append("details: must be a JSON object")
        elif raw_details is not None:
            if len(json.dumps(raw_details, default=str)) > MAX_DETAILS:
                problems.append(f"details: larger than {MAX_DETAILS} bytes")
            else:
                details = raw_details
    if item_def is not None and action in ("report", "correct"):
        problems.extend(_stated_details(item_def.code, details, registry))
    if problems:
        raise RowError(tuple(problems))
    assert code is not None and item_code and src and srid and occurred is not None
    return Record(
        record_id=record_id_for(src, srid),
        subject=code.value,
        subject_kind=code.kind,
        item=item_code,
        source=src,
        source_record_id=srid,
        occurred_on=occurred,
        reported_at=reported,
        reported_given=reported_given,
        evidence=evidence,
        action=cast(Action, action),
        corrects=corrects,
        details=details,
    )


def _stated_details(item: str, details: Mapping[str, Any], registry: Registry) -> list[str]:
    """What a record of ``item`` lacks of the details a list reads from it (``Extension``: the
    years an extension decision states, a whole number within the list's bounds)."""
    out = []
    for name, least, most, list_id in registry.stated_details.get(item, ()):
        value = details.get(name)
        if type(value) is not int or not least <= value <= most:
            out.append(
                f"details.{name}: a record of {item} must state it, a whole number from {least} to "
                f"{most} ({list_id} reads it), not {json.dumps(value, default=str)[:20]}"
            )
    return out


class RowError(Refused):
    """A row cannot be accepted; ``reasons`` name each bad field."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# ---------------------------------------------------------------------------------- the chain


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break in a hash chain, naming the record."""

    seq: int
    record_id: str
    problem: str

    def __str__(self) -> str:
        return f"seq {self.seq} (record {self.record_id}): {self.problem}"


def verify_chain(
    rows: Iterable[tuple[int, str, str, str, str]],
    *,
    recompute: Callable[[int], str] | None = None,
    head: tuple[int, str] | None = None,
) -> Iterator[ChainProblem]:
    """Walk ``(seq, record_id, content_hash, chain_hash, expected_chain_hash)`` rows in
    stored order and name each break.

    The caller supplies the chain hash recomputed from the stored content (so a changed field
    shows as a mismatch on that record), and ``head`` (count, last hash) kept apart from the
    rows, so that removing the newest records is caught too."""
    expected_seq = 1
    last_seq, last_hash = 0, GENESIS
    for seq, record_id, _content, stored, recomputed in rows:
        if seq != expected_seq:
            if seq > expected_seq:
                yield ChainProblem(
                    expected_seq, "?", f"missing: records {expected_seq}..{seq - 1} were removed"
                )
            else:
                yield ChainProblem(seq, record_id, "out of order or repeated")
        if stored != recomputed:
            yield ChainProblem(
                seq,
                record_id,
                "altered: its content or position no longer "
                "matches its hash (or the record before it changed)",
            )
        expected_seq = seq + 1
        last_seq, last_hash = seq, stored
    if head is not None:
        count, head_hash = head
        if last_seq < count:
            yield ChainProblem(
                last_seq + 1,
                "?",
                f"missing: records {last_seq + 1}..{count} were removed from the end of the ledger",
            )
        elif last_seq == count and head_hash != last_hash:
            yield ChainProblem(last_seq, "?", "the chain head does not match the last record")


# ---------------------------------------------------------------------------------- effective view


def effective(
    records: Sequence[Record],
    as_of: dt.datetime | None = None,
    superseded: Iterable[str] = (),
    unrestorable: Container[str] = frozenset(),
) -> list[Record]:
    """The records in force at ``as_of``, in order of occurrence then ledger position.

    Only records reported by ``as_of`` count. A record is superseded once a correction, a
    withdrawal or a restoration referencing it has been reported; a correction in force stands for
    the fact it corrects (it carries the corrected subject, item and dates), so corrections may
    chain. A restoration of a record whose item is in ``unrestorable`` (a judicial record, or one
    that can start a judicial listing: ``dueprocess.restoration``) supersedes nothing: credit
    restoration never ends a court listing, even where one was granted before that rule.
    ``superseded`` adds ids known to be corrected or withdrawn by records outside ``records`` (a
    population run reads one subject at a time; a correction may have moved a record to another
    subject); a restoration concerns its subject's own record, so it is always in ``records``.
    """
    known = [r for r in records if as_of is None or r.reported_at <= as_of]
    void: set[str] = set()
    if unrestorable and any(r.action == "restore" for r in known):
        items = {r.record_id: r.item for r in known}
        void = {
            r.record_id
            for r in known
            if r.action == "restore" and items.get(r.corrects or "", r.item) in unrestorable
        }
    gone = {r.corrects for r in known if r.corrects is not None and r.record_id not in void}
    gone |= set(superseded)
    out = [r for r in known if r.action in ("report", "correct") and r.record_id not in gone]
    out.sort(key=lambda r: (r.occurred_on, r.seq))
    return out
