"""Submitted rows: the ledger's one validator, with the one set of reasons a row is refused.

A row an agency submits (a CSV line, a JSON object, a form) becomes a :class:`~ledger.Record`
here or is refused with ``RowError``, whose reasons each name the field at fault
(``"occurred_on: 2031-01-01 is in the future"``). Every path that takes a record row comes
through :func:`validate_row` (a :class:`~ledger.Record`) or :func:`seal_row` (a
:class:`~ledger.Sealed` record, what ingestion stores), and both judge a row the same way: a
cheap pre-check (:func:`_fast_fields`) takes the common clean row in one pass and says nothing;
any row it does not vouch for goes to the full validation (:func:`_validate_fully`), which alone
words the reasons. So a row is refused with the same reasons whichever path it came by.

Why apart from ``ledger.py``: the ledger's records, hashes and chain are what every engine must
agree on; what a submitted row may contain is the intake's concern, and the larger part of it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

from socialcredit import codes
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.ledger import (
    ACTIONS,
    FIELDS,
    SUPERSEDING,
    Action,
    Record,
    RowError,
    Sealed,
    canonical_details,
    iso_dt,
    record_id_for,
    seal_fields,
    sealed,
)
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import Registry

REQUIRED: tuple[str, ...] = ("subject", "item", "source", "source_record_id", "occurred_on")
MAX_ID = 128
MAX_EVIDENCE = 2000
MAX_DETAILS = 4096
_CONTROL = re.compile(r"[\x00-\x1f]")
EARLIEST = dt.date(1949, 10, 1)
_new_tuple = tuple.__new__  # a named tuple without its Python-level __new__: see ledger.Sealed


def _parse_date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise Refused(
            N_("expected an ISO date like 2024-03-01, got {type}", type=type(value).__name__), field=name
        )
    text = value.strip()
    try:
        if len(text) > 10:
            return dt.datetime.fromisoformat(text).date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refused(
            N_("{value} is not an ISO date like 2024-03-01", value=repr(value[:40])), field=name
        ) from None


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
                N_("{value} is not an ISO timestamp like 2024-03-01T09:30:00", value=repr(value[:40])),
                field=name,
            ) from None
    else:
        raise Refused(N_("expected an ISO timestamp, got {type}", type=type(value).__name__), field=name)
    if out.tzinfo is not None:
        out = out.astimezone(dt.UTC).replace(tzinfo=None)
    return out.replace(microsecond=0)


def _text(value: object, name: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Refused(N_("expected text, got {type}", type=type(value).__name__), field=name)
    text = str(value).strip()
    if not text:
        raise Refused(N_("is empty"), field=name)
    if len(text) > limit:
        raise Refused(N_("longer than {limit} characters", limit=limit), field=name)
    if _CONTROL.search(text):
        raise Refused(N_("contains control characters"), field=name)
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


def seal_row(
    row: Mapping[str, Any],
    *,
    registry: Registry,
    now: dt.datetime,
    source: str | None = None,
    content: bool = True,
) -> Sealed:
    """``sealed(validate_row(row, ...))``, as ingestion stores a row, or ``RowError`` with
    :func:`validate_row`'s reasons. A clean row is sealed straight from its fields without
    building the :class:`Record` (a tenth of what ingestion costs per row); a property test
    holds the two ways to the same result. Without ``content``, a clean row's plain content hash
    is left "" (``ledger.seal_fields``): a store that encrypts its records never keeps it."""
    clean = _seal_clean(row, registry, now, source, content)
    if clean is not None:
        return clean
    return sealed(_validate_fully(row, registry=registry, now=now, source=source))


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
    (:func:`_fast_path`) or are sealed straight away (:func:`_seal_clean`)."""

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
    building a :class:`Record` (:func:`_seal_clean`)."""
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
    if get("corrects_source_record_id") not in (None, ""):
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
    problems: list[str] = []  # each a Text: English as stored, worded again for its reader
    today, latest, received = _bounds(now)  # the pre-check's, so both judge time alike
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        problems.append(
            N_("{field}: unknown field (allowed: {allowed})", field=unknown[0], allowed=", ".join(FIELDS))
        )
    values = dict(row)
    if source is not None:
        claimed = values.get("source")
        if not _blank(claimed) and claimed != source:
            problems.append(
                N_(
                    "source: {claimed} is not your agency ({source})",
                    claimed=repr(str(claimed)[:40]),
                    source=source,
                )
            )
        values["source"] = source
    for name in REQUIRED:
        if _blank(values.get(name)):
            problems.append(N_("{field}: is required", field=name))

    def attempt(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Refused as exc:  # a field's refusal is a reason; anything else is a bug, raised
            problems.append(N_("{field}: {message}", field=exc.field, message=exc.message))
            return None

    code = None
    if not _blank(values.get("subject")):
        try:
            code = codes.validate(values["subject"])
        except codes.CodeError as exc:
            problems.append(
                N_(
                    "subject: invalid {part}: {message}",
                    part=codes.PARTS.get(exc.part, exc.part),
                    message=exc.message,
                )
            )
    item_code = src = srid = None
    if not _blank(values.get("item")):
        item_code = attempt(lambda: _text(values["item"], "item", 64))
    if not _blank(values.get("source")):
        src = attempt(lambda: _text(values["source"], "source", 64))
    if not _blank(values.get("source_record_id")):
        srid = attempt(lambda: _text(values["source_record_id"], "source_record_id", MAX_ID))
    item_def = registry.item_defs.get(item_code) if item_code else None
    if item_code and item_def is None:
        problems.append(N_("item: {item} is not an item of any scheme in force", item=repr(item_code)))
    if item_def is not None and src is not None:
        allowed = registry.sources_by_item.get(item_def.code, frozenset())
        if src not in allowed:
            problems.append(
                N_(
                    "source: {source} may not report item {item} (allowed: {allowed})",
                    source=repr(src),
                    item=repr(item_def.code),
                    allowed=", ".join(sorted(allowed)),
                )
            )
    if item_def is not None and code is not None and code.kind not in registry.kinds_by_item[item_def.code]:
        problems.append(
            N_(
                "item: {item} does not apply to a {kind}",
                item=repr(item_def.code),
                kind=codes.KINDS[code.kind],
            )
        )
    occurred = None
    if not _blank(values.get("occurred_on")):
        occurred = attempt(lambda: _parse_date(values["occurred_on"], "occurred_on"))
        if occurred is not None and occurred > today:
            problems.append(N_("occurred_on: {day} is in the future", day=occurred.isoformat()))
            occurred = None
        elif occurred is not None and occurred < EARLIEST:
            problems.append(
                N_("occurred_on: {day} is before {earliest}", day=occurred.isoformat(), earliest=EARLIEST)
            )
            occurred = None
    reported = received  # when the source does not say, the time we received it
    reported_given = False
    if not _blank(values.get("reported_at")):
        parsed = attempt(lambda: _parse_datetime(values["reported_at"], "reported_at"))
        if parsed is not None:
            if parsed > latest:
                problems.append(N_("reported_at: {at} is in the future", at=iso_dt(parsed)))
            elif occurred is not None and day_of(parsed) < occurred:
                problems.append(N_("reported_at: {at} is before occurred_on", at=iso_dt(parsed)))
            else:
                reported, reported_given = parsed, True
    evidence = None
    if not _blank(values.get("evidence")):
        evidence = attempt(lambda: _text(values["evidence"], "evidence", MAX_EVIDENCE))
    action = values.get("action") or "report"
    if action not in ACTIONS:
        problems.append(
            N_(
                "action: {action} is not one of {allowed}",
                action=repr(str(action)[:20]),
                allowed=", ".join(ACTIONS),
            )
        )
    corrects = None
    if not _blank(values.get("corrects")):
        corrects = attempt(lambda: _text(values["corrects"], "corrects", 64))
    if not _blank(values.get("corrects_source_record_id")):
        # the agency's own reference of the record corrected, by the same source: what it knows,
        # rather than an id it must compute (decision 0075)
        ref = attempt(lambda: _text(values["corrects_source_record_id"], "corrects_source_record_id", MAX_ID))
        if corrects is not None:
            problems.append(N_("corrects_source_record_id: give it or corrects, not both"))
        elif ref is not None and src is not None:
            corrects = record_id_for(src, ref)
    if action in SUPERSEDING and corrects is None:
        problems.append(N_("corrects: is required when action is {action}", action=action))
    if action == "report" and corrects is not None:
        problems.append(N_("corrects: only a correct, withdraw or restore record may reference another"))
    details: Mapping[str, Any] = {}
    raw_details = values.get("details")
    if not _blank(raw_details):
        if isinstance(raw_details, str):
            try:
                raw_details = json.loads(raw_details)
            except ValueError:
                problems.append(N_("details: is not valid JSON"))
                raw_details = None
        if raw_details is not None and not isinstance(raw_details, dict):
            problems.append(N_("details: must be a JSON object"))
        elif raw_details is not None:
            if len(json.dumps(raw_details, default=str)) > MAX_DETAILS:
                problems.append(N_("details: larger than {limit} bytes", limit=MAX_DETAILS))
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
    out: list[str] = []
    for name, least, most, list_id in registry.stated_details.get(item, ()):
        value = details.get(name)
        if type(value) is not int or not least <= value <= most:
            out.append(
                N_(
                    "details.{name}: a record of {item} must state it, a whole number from {least} to "
                    "{most} ({list_id} reads it), not {value}",
                    name=name,
                    item=item,
                    least=least,
                    most=most,
                    list_id=list_id,
                    value=json.dumps(value, default=str)[:20],
                )
            )
    return out


def _seal_clean(
    row: Mapping[str, Any], registry: Registry, now: dt.datetime, source: str | None, content: bool = True
) -> Sealed | None:
    """:func:`seal_row` of a row the pre-check vouches for; None for any other row."""
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
        content,
    )
