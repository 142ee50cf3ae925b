"""Subjects: the people and organisations records are about, and who represents whom.

An organisation links to its legal representative, because the court's rules list an
organisation "together with" the people responsible for it; that link decides who else a
listing reaches, so it is validated as carefully as a record: the representative must be a valid
person code, and only organisations have one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from socialcredit import codes
from socialcredit.ledger import RowError

SUBJECT_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "sex",
    "district",
    "legal_representative",
    "representative_since",
)


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """A registered subject (person or organisation)."""

    code: str
    kind: str
    name: str | None = None
    sex: str | None = None
    district: str | None = None
    legal_representative: str | None = None
    representative_since: dt.date | None = None


def _opt_text(value: object, name: str, limit: int, problems: list[str]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        problems.append(f"{name}: expected text, got {type(value).__name__}")
        return None
    text = value.strip()
    if len(text) > limit or any(ord(c) < 32 for c in text):
        problems.append(f"{name}: longer than {limit} characters or contains control characters")
        return None
    return text


def validate_subject(row: Mapping[str, Any]) -> SubjectRow:
    """A :class:`SubjectRow` from a submitted row, or ``RowError`` naming every bad field."""
    problems: list[str] = []
    unknown = sorted(set(row) - set(SUBJECT_FIELDS))
    if unknown:
        problems.append(f"{unknown[0]}: unknown field (allowed: {', '.join(SUBJECT_FIELDS)})")
    code = None
    try:
        code = codes.validate(row.get("code"))
    except codes.CodeError as exc:
        problems.append(
            "code: is required" if row.get("code") in (None, "") else f"code: invalid {exc.part}: {exc}"
        )
    name = _opt_text(row.get("name"), "name", 200, problems)
    district = _opt_text(row.get("district"), "district", 64, problems)
    sex = _opt_text(row.get("sex"), "sex", 1, problems)
    if sex is not None and sex not in ("M", "F"):
        problems.append(f"sex: {sex!r} is not M or F")
    rep = None
    raw_rep = row.get("legal_representative")
    if raw_rep not in (None, ""):
        try:
            rep = codes.validate(raw_rep, "person").value
        except codes.CodeError as exc:
            problems.append(f"legal_representative: invalid {exc.part}: {exc}")
        if code is not None and code.kind == "person":
            problems.append("legal_representative: only an organisation has a legal representative")
    since = None
    raw_since = row.get("representative_since")
    if raw_since not in (None, ""):
        try:
            since = raw_since if isinstance(raw_since, dt.date) else dt.date.fromisoformat(str(raw_since))
        except ValueError:
            problems.append(f"representative_since: {str(raw_since)[:40]!r} is not an ISO date")
    if problems:
        raise RowError(tuple(problems))
    assert code is not None
    if code.kind == "person" and sex is None:
        sex = codes.sex(code.value)
    return SubjectRow(code.value, code.kind, name, sex, district, rep, since)


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One registration or change of it, as the registry's hash chain keeps it: ``row`` is the
    registration as it stood after the change, ``at`` when the system received it (knowledge
    time), ``seq`` its place in the chain."""

    seq: int
    at: dt.datetime
    row: SubjectRow


@dataclass(frozen=True, slots=True)
class Tenure:
    """A person's term as an organisation's legal representative, in valid time: from
    ``valid_from`` (``None``: as far back as the registry knows) up to, not including,
    ``valid_to`` (``None``: still in office). ``opened`` and ``closed`` are the registry entries
    that began and ended it."""

    organisation: str
    person: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    opened: int
    closed: int | None = None

    def overlaps(self, since: dt.date, until: dt.date | None) -> bool:
        """Whether the term shares a day with ``[since, until)``."""
        starts_before_end = until is None or self.valid_from is None or self.valid_from < until
        ends_after_start = self.valid_to is None or since < self.valid_to
        return starts_before_end and ends_after_start


def tenures(
    organisation: str, entries: Sequence[RegistryEntry], day: Callable[[dt.datetime], dt.date]
) -> list[Tenure]:
    """The terms of ``organisation``'s legal representatives, from its registry entries in chain
    order; ``day`` gives the day (China Standard Time) an entry was received.

    The rule, once for every evaluator: a term begins on the entry's ``representative_since``, or
    on the day the change was received when none is given (on the organisation's first registration:
    as far back as the registry knows, which is what the registry always assumed). A change to
    another person ends the current term the day the next begins; a registration without a
    representative ends it the day it was received; the same person with another
    ``representative_since`` corrects the start of the current term. Nothing is erased: a term
    ended by a change stays, so a listing through the organisation falls on whoever represented
    it on each day (Supreme People's Court provisions, Art. 2: the list names a listed
    organisation's legal representative)."""
    out: list[Tenure] = []
    current: Tenure | None = None
    for n, entry in enumerate(entries):
        rep, since = entry.row.legal_representative, entry.row.representative_since
        received = day(entry.at)
        if current is not None and rep == current.person:
            if since is not None and since != current.valid_from:
                current = Tenure(organisation, rep, since, None, current.opened)
            continue
        start = since if since is not None else (received if n else None)
        if current is not None:
            end = start if rep is not None and start is not None else received
            if current.valid_from is not None and end < current.valid_from:
                end = current.valid_from  # a change dated before the term began: it never held
            out.append(
                Tenure(organisation, current.person, current.valid_from, end, current.opened, entry.seq)
            )
            current = None
        if rep is not None:
            current = Tenure(organisation, rep, start, None, entry.seq)
    if current is not None:
        out.append(current)
    return out


def registry_content(row: SubjectRow) -> str:
    """The canonical text of a registration that the registry's chain hashes and stores."""
    since = row.representative_since.isoformat() if row.representative_since else None
    fields = [row.code, row.kind, row.name, row.sex, row.district, row.legal_representative, since]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def registry_row(payload: str) -> SubjectRow:
    """The registration a chain entry's stored ``payload`` holds (:func:`registry_content`)."""
    code, kind, name, sex, district, rep, since = json.loads(payload)
    return SubjectRow(code, kind, name, sex, district, rep, dt.date.fromisoformat(since) if since else None)
