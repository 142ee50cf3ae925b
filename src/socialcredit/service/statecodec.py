"""A subject's prepared decisions as the text kept in ``decision_state`` (``store/decisionstate.py``),
and the digest of what they were computed under.

Why its own codec, not pickle: the rows outlive a process and are read by every worker, so the
text is plain JSON of plain values, read back into the very :class:`Decision` and
:class:`Reason` values that were written (``tests/test_decision_state.py`` holds every demo
resident's decisions equal through it). Why a basis digest: a state computed under other scheme
files or another holiday calendar must not answer, yet needs no migration either: a row whose
``basis`` differs is simply due.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from socialcredit.decisions import Decision, Reason
from socialcredit.schemes.loader import Registry

FORMAT = "2"
"""The payload's format: part of the basis, so a new format makes every old row due."""

Prepared = tuple[Decision, dict[str, Any]]
"""A decision prepared for a measure and its audit detail (``service.decisions._detail``)."""


def basis(registry: Registry, holidays: Iterable[dt.date]) -> str:
    """The digest of everything a state is computed under besides the store: every scheme file
    loaded (all versions, by content hash), the holiday calendar and this codec's format."""
    parts = sorted(f"{s.id}@{s.version}:{s.content_hash}" for s in registry.kept)
    text = json.dumps([FORMAT, parts, sorted(d.isoformat() for d in holidays)])
    return hashlib.sha256(text.encode()).hexdigest()


def encode(decisions: Mapping[str, Prepared], represents: Iterable[str]) -> str:
    """The payload: a first line with the organisations the subject's decisions include as
    legal representative, then a line per measure, its id, a tab and its decision as JSON (its
    subject, time and receipt are the row's or the reply's). Lines, so that a question decodes
    its own measure's line only: parsing all of them cost more than the row's read."""
    lines = [json.dumps(list(represents))]
    for mid, (d, _) in decisions.items():
        line = [d.measure_kind, d.allowed, d.subject_known, [_reason(r) for r in d.reasons]]
        lines.append(f"{mid}\t{json.dumps(line, separators=(',', ':'), ensure_ascii=False)}")
    return "\n".join(lines)


def represents(payload: str) -> tuple[str, ...]:
    """The organisations ``encode`` wrote."""
    return tuple(json.loads(payload.partition("\n")[0]))


def decision(payload: str, measure_id: str, code: str, as_of: dt.datetime) -> Decision | None:
    """The decision on ``measure_id`` ``encode`` wrote (``None``: none was)."""
    start = payload.find(f"\n{measure_id}\t")
    if start < 0:
        return None
    start += len(measure_id) + 2
    end = payload.find("\n", start)
    kind, allowed, known, reasons = json.loads(payload[start : end if end >= 0 else None])
    return Decision(code, measure_id, kind, allowed, as_of, tuple(_unreason(r) for r in reasons), None, known)


def decode(payload: str, code: str, as_of: dt.datetime) -> tuple[dict[str, Decision], tuple[str, ...]]:
    """Every decision (by measure id) and the represented organisations ``encode`` wrote."""
    ids = [line.partition("\t")[0] for line in payload.split("\n")[1:]]
    found = {mid: decision(payload, mid, code, as_of) for mid in ids}
    return {mid: d for mid, d in found.items() if d is not None}, represents(payload)


def _reason(r: Reason) -> list[Any]:
    return [
        r.basis,
        r.text,
        r.list_id,
        r.since.isoformat() if r.since else None,
        r.until.isoformat() if r.until else None,
        list(r.grounds),
        r.legal_basis,
        r.how_to_resolve,
        r.via,
        list(r.explanation),
    ]


def _unreason(v: list[Any]) -> Reason:
    basis_, text, list_id, since, until, grounds, legal, how, via, explanation = v
    return Reason(
        basis_,
        text,
        list_id,
        dt.date.fromisoformat(since) if since else None,
        dt.date.fromisoformat(until) if until else None,
        tuple(grounds),
        legal,
        how,
        via,
        tuple(explanation),
    )
