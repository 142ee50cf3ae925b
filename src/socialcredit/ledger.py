"""The ledger: append-only credit records with provenance, validated, deduplicated, hash-chained.

Observers of the reported systems stress that it is "less a score, more a record": the record
is the primary artifact and scores and lists are views of it. So records are never edited; a
correction or a withdrawal is a new record that references the one it corrects, and the
*effective* ledger at a time is a pure function of the records known by then.

This module is pure: it defines a record and the fields a submitted row may carry
(:data:`FIELDS`), computes content and chain hashes (:func:`content_hash`, :func:`chain_hash`;
:func:`sealed`, a record as ingestion stores it) and derives the effective records
(:func:`effective`). Validating a submitted row is ``intake.validate_row``'s; diagnosing a stored
chain is ``chaincheck``'s. Storing is the store adapter's job; it must call these functions so
that every engine agrees on what a record is.

Every submitted row ends in exactly one of three outcomes: accepted, duplicate (the same
``(source, source_record_id)`` with the same content was already accepted), or quarantined
with reasons naming each bad field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

from socialcredit import codes
from socialcredit.errors import Refused
from socialcredit.rules.days import day_of

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
    "corrects_source_record_id",
    "details",
)
GENESIS = "0" * 64


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
    stored: tuple[str, str] | None = None
    """Where the record is stored encrypted (every record since schema 0006): its retention class
    and sealed content (``ledger.stored_preimage``); None for a record read in the clear."""
    first_reported_at: dt.datetime | None = None
    """For a correction in force (:func:`effective` sets it): when the fact it corrects was first
    reported, the ``reported_at`` of the first record of its chain of corrections; None otherwise.
    A list's walk places a correction there (:attr:`walked_at`): it corrects that report, and
    makes no new one (a court's listing decision corrected is the same listing)."""

    @property
    def walked_at(self) -> dt.datetime:
        """Where a list's walk places the record in reporting order: when the fact was first
        reported (:attr:`first_reported_at`), else its own ``reported_at``."""
        return self.first_reported_at or self.reported_at

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
    """The unkeyed id of a record, from its provenance: the id of every record stored before
    decision 0080, and the input of the keyed id every record gets since (``Sealing.record_id``,
    an HMAC of this under the installation's pseudonym key). Not an id to name a new record by:
    whoever guesses an agency's reference could confirm it against an unkeyed id, so a caller asks
    the store (``Store.stored_record_id``)."""
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
    content: bool = True,
) -> Sealed:
    """A record's fields sealed with their content and claim hashes: the one definition of both,
    used by :func:`sealed` (and so by ``verify``) and by ingestion's sealing of a clean row
    (``intake.seal_row``). Fields are joined by the unit separator (text fields are validated
    free of control characters, so it cannot occur inside one and the joined form is
    unambiguous) and None is spelled ``\x00``. Built with f-strings, not a generic join: hashing
    is a large part of what ingestion costs per record. Without ``content`` the content hash is
    left "": a record stored encrypted is hashed in its stored form instead
    (:func:`stored_preimage`), so ingest would compute the plain one only to discard it."""
    sep = "\x1f"
    ev = "\x00" if evidence is None else evidence
    corr = "\x00" if corrects is None else corrects
    rep = reported.isoformat(timespec="seconds")
    head = f"{record_id}{sep}{subject}{sep}"
    tail = f"{item}{sep}{source}{sep}{srid}{sep}{occurred.isoformat()}{sep}"
    rest = f"{sep}{ev}{sep}{action}{sep}{corr}{sep}{details}"
    claim = f"{head}{tail}{rep}{rest}" if given else f"{head}{tail}\x00{rest}"
    sha256 = hashlib.sha256
    plain = ""
    if content:
        plain = sha256(f"{head}{kind}{sep}{tail}{rep}{sep}{1 if given else 0}{rest}".encode()).hexdigest()
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
            plain,
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


def content_hash(r: Record) -> str:
    """Hash of everything stored about a record (checked by ``verify``): its id, subject and
    kind, item, source and source record id, dates, whether ``reported_at`` was given,
    evidence, action, what it corrects and its canonical details."""
    return sealed(r).content_hash


def claim_hash(r: Record) -> str:
    """Hash of what the source *submitted*: the same submission again is a duplicate even when
    it left ``reported_at`` out (which we fill with the time of receipt)."""
    return sealed(r).claim_hash


def link_bytes(prev: str, seq: int, content: str, at: dt.datetime, tag: str) -> bytes:
    """The bytes every chain's link hashes, and the leaf of its Merkle tree (docs/transparency.md):
    ``prev|seq|content|at|tag`` in UTF-8, where ``prev`` is the entry before's chain hash (hex),
    ``at`` its time as :func:`iso_dt` writes it and ``tag`` the batch id (records) or the chain's
    name. One definition, so that the chain hash (SHA-256 of these bytes) and the log's leaf hash
    (SHA-256 of 0x00 and these bytes) cover exactly the same stored form of an entry."""
    return f"{prev}|{seq}|{content}|{iso_dt(at)}|{tag}".encode()


def retention_class(occurred_on: dt.date | str) -> str:
    """The retention class a record's data key belongs to: the year it occurred (decision 0046).
    Why the year: every record of one subject and year can be erased together once the last of
    them has passed its retention and archive periods, without a key per record (a key read per
    record would cost ingest) and without holding a young record's key hostage to an old one."""
    return str(occurred_on)[:4]


ON_REQUEST = "erasure on request"
"""How the rule of an erasure on request begins (``service/erasures.RULE``): such an erased
year's later records go under its next class (``store/sealedrows``, decision 0054)."""


def on_request(rule: str) -> bool:
    """Whether an erasure's rule is an erasure on request (not retention's)."""
    return rule.startswith(ON_REQUEST)


def canonical_ts(value: dt.datetime | str) -> str:
    """A time as :func:`iso_dt` writes it, from a datetime or SQLite's stored text of one."""
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}"
    return value.isoformat(timespec="seconds")


def stored_preimage(
    record_id: str,
    pseudonym: str,
    kind: str,
    item: str,
    source: str,
    srid: str,
    occurred: dt.date | str,
    reported: dt.datetime | str,
    given: bool,
    action: str,
    corrects: str | None,
    klass: str,
    sealed: str,
    claim: str,
) -> str:
    """The one definition of the bytes the ledger stores for an encrypted record, and so of its
    content hash (:func:`stored_content_hash`, which the chain links) and of the leaf a Merkle log
    takes (issue 22). It holds the keyed pseudonym and the ciphertext, never the subject's code,
    details or evidence, and the keyed claim hash, so it reveals no personal data and can be
    checked without any key: an erasure (destroying the key) leaves it and the chain valid."""
    sep = "\x1f"
    corr = "\x00" if corrects is None else corrects
    # canonical_ts, inlined: ingest builds this once per record (decision 0081)
    rep = (
        f"{reported[:10]}T{reported[11:19]}"
        if type(reported) is str
        else reported.isoformat(timespec="seconds")  # type: ignore[union-attr]
    )
    return (
        f"v2{sep}{record_id}{sep}{pseudonym}{sep}{kind}{sep}{item}{sep}{source}{sep}{srid}{sep}"
        f"{str(occurred)[:10]}{sep}{rep}{sep}{1 if given else 0}{sep}{action}{sep}"
        f"{corr}{sep}{klass}{sep}{sealed}{sep}{claim}"
    )


def stored_content_hash(*fields: Any) -> str:
    """SHA-256 of :func:`stored_preimage` (same arguments)."""
    return hashlib.sha256(stored_preimage(*fields).encode()).hexdigest()


def chain_hash(
    prev: str, seq: int, content: str, at: dt.datetime, tag: str, leaves: list[bytes] | None = None
) -> str:
    """Link an entry to the one before it: any edit, removal or reordering breaks a link. With
    ``leaves``, the entry's Merkle leaf hash is appended to it (the transparency log's)."""
    data = link_bytes(prev, seq, content, at, tag)
    if leaves is not None:
        leaves.append(hashlib.sha256(LEAF_PREFIX + data).digest())
    return hashlib.sha256(data).hexdigest()


LEAF_PREFIX = b"\x00"
"""RFC 6962's leaf prefix (``tlog.merkle.leaf_hash``), inlined on the append paths."""


def chain_linker(
    received_at: dt.datetime, batch_id: str, leaves: list[bytes] | None = None
) -> Callable[[str, int, str], str]:
    """:func:`chain_hash` with the receipt time and batch fixed: ``link(prev, seq, content)``,
    each link's leaf hash appended to ``leaves`` when given.
    Why: a chunk links thousands of records received together, and this is the one step of
    ingestion that must run under the chain's lock, so its per-record work is kept to one
    formatted string and two SHA-256 (the link, and the log's leaf). The bytes are
    :func:`link_bytes`' (a test holds them equal)."""
    tail = f"|{iso_dt(received_at)}|{batch_id}"
    sha256 = hashlib.sha256

    if leaves is None:

        def link(prev: str, seq: int, content: str) -> str:
            return sha256(f"{prev}|{seq}|{content}{tail}".encode()).hexdigest()

        return link

    keep = leaves.append

    def link_and_leaf(prev: str, seq: int, content: str) -> str:
        data = f"{prev}|{seq}|{content}{tail}".encode()
        keep(sha256(LEAF_PREFIX + data).digest())
        return sha256(data).hexdigest()

    return link_and_leaf


class RowError(Refused):
    """A row cannot be accepted; ``reasons`` name each bad field."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


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
    if any(r.action == "correct" for r in out):
        out = _first_reported(out, known)
    out.sort(key=lambda r: (r.occurred_on, r.seq))
    return out


def _first_reported(out: list[Record], known: Sequence[Record]) -> list[Record]:
    """``out`` with each correction's :attr:`Record.first_reported_at`: the ``reported_at`` of the
    first record of its chain (a correction of a correction goes back to the report) about the
    same subject; a correction that names another subject than the record it corrects is a
    report about that subject from when it arrived (``engines.listing`` computes the same)."""
    by_id = {r.record_id: r for r in known}
    placed = []
    for r in out:
        if r.action != "correct":
            placed.append(r)
            continue
        first, seen = r, {r.record_id}
        while (
            first.corrects is not None
            and first.corrects in by_id
            and first.corrects not in seen
            and by_id[first.corrects].subject == r.subject
        ):
            first = by_id[first.corrects]
            seen.add(first.record_id)
            if first.action != "correct":
                break
        placed.append(replace(r, first_reported_at=first.reported_at) if first is not r else r)
    return placed
