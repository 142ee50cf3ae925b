"""Subjects: the people and organisations records are about, and who represents whom.

An organisation links to its legal representative, because the court's rules list an
organisation "together with" the people responsible for it; that link decides who else a
listing reaches, so it is validated as carefully as a record: the representative must be a valid
person code, and only organisations have one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
