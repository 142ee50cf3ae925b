"""Case events sealed at rest: the subject's code and the case's content encrypted (decision 0061).

Why: a case event carries what a person wrote or was told (an objection's statement and
evidence, a decision's reason, an erasure request's file) and names its subject. Stored in the
clear, it would outlive every erasure of the subject's records. So, as a record's row is
(``sealedrows.py``, decision 0046), an event is stored with the subject's keyed pseudonym for
``subject``, ``""`` for ``payload``, and the AES-GCM ciphertext of the code and the payload under
the subject's data key of class ``cases.YEAR``, the year the case was filed: every event of a
case under one key, so a case is erased whole, never half.

Why a class of its own and not the records' year key: a case must outlive the key it is about
(an erasure request's decision is read, audited and shown after the key it destroyed is gone),
and must keep its key while it is open whatever the records' retention says. ``retention run``
destroys a ``cases.YEAR`` key once every case under it is closed and its last step is older
than the longest archive period (``service/retention.py``). An event whose key is gone is left
out of every read; :func:`erased_cases` says which cases were erased, when and under what rule.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from socialcredit import ledger
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.errors import Conflict
from socialcredit.i18n import N_
from socialcredit.shredding import remember, seal, unseal
from socialcredit.store.sealedrows import Sealing

PREFIX = "cases."
"""The retention classes of case keys begin with this (a record's class is its year)."""


@dataclass(frozen=True, slots=True)
class ErasedCase:
    """A case whose key was destroyed, as its readers are shown it: "erased on ``at`` under
    ``rule``", with its id, kind and filing time and nothing else."""

    case_id: str
    case_kind: str
    filed_at: dt.datetime
    at: dt.datetime
    rule: str


ERASURE = "erasure"
"""The case kind whose files are sealed under a class of their own: ``cases.era.YEAR`` (decision
0071; ``case_events.klass`` holds 16 characters)."""


def case_class(filed_at: dt.datetime, case_kind: str | None = None) -> str:
    """The retention class of a case filed at ``filed_at``: ``cases.YEAR``, or for an erasure
    request ``cases.era.YEAR``. Why apart: granting a request destroys the keys of the
    subject's other case files (``service/erasures``), and the request's own file must stay
    readable: it is what the decision and its audit entry are read from (decision 0071)."""
    if case_kind == ERASURE:
        return f"{PREFIX}era.{filed_at.year}"
    return f"{PREFIX}{filed_at.year}"


def fresh_class(sealing: Sealing, pseudonym: str, base: str) -> str:
    """The class a new case of this subject is sealed under: ``base``, or its first later
    generation (``base.1``, ``base.2``...) whose key was never destroyed. Why: a destroyed key is
    never made again (``shredding.Vault.keys``), and a subject whose case files of a year were
    erased on request may still object the same year (decision 0071)."""
    klass, n = base, 0
    while sealing.vault.store.erasures_of([(pseudonym, klass)]):
        n += 1
        klass = f"{base}.{n}"
    return klass


def _aad(case_id: str, kind: str, at: dt.datetime) -> bytes:
    """What a sealed event is bound to: a ciphertext moved onto another event fails to open."""
    return f"{case_id}\x1f{kind}\x1f{ledger.iso_dt(at)}".encode()


def seal_event(sealing: Sealing, e: CaseEvent, klass: str) -> tuple[str, str]:
    """The event's stored (pseudonym, ciphertext), under the subject's key of ``klass`` (made on
    first use). A case whose key was destroyed takes no further step: its file is erased."""
    p = sealing.pseudonym(e.subject)
    cipher = sealing.vault.keys([(p, klass)], create=True).get((p, klass))
    if cipher is None:
        raise Conflict(N_("case {case_id} was erased", case_id=e.case_id), field="case_id")
    plain = json.dumps({"subject": e.subject, "payload": dict(e.payload)}, sort_keys=True)
    return p, base64.b64encode(seal(cipher, plain.encode(), _aad(e.case_id, e.kind, e.at))).decode()


def open_events(sealing: Sealing, rows: Iterable[Mapping[Any, Any]]) -> list[CaseEvent]:
    """Stored case events as events, decrypted in one key read; an event whose key was
    destroyed is left out (its case reads as erased); a row stored in the clear reads as it was."""
    rows = list(rows)
    pairs = [(m["subject"], m["klass"]) for m in rows if m["sealed"] is not None]
    ciphers = sealing.vault.keys(pairs) if pairs else {}
    out = []
    for m in rows:
        if m["sealed"] is None:
            code, payload = m["subject"], json.loads(m["payload"])
        else:
            cipher = ciphers.get((m["subject"], m["klass"]))
            if cipher is None:
                continue
            blob = base64.b64decode(m["sealed"])
            opened = json.loads(unseal(cipher, blob, _aad(m["case_id"], m["kind"], m["at"])))
            code, payload = opened["subject"], opened["payload"]
            remember(sealing.codes, m["subject"], code)
        out.append(
            CaseEvent(
                m["case_id"],
                m["case_kind"],
                m["kind"],
                m["at"],
                code,
                m["key_id"],
                m["role"],
                payload,
                m["seq"],
            )
        )
    return out


def erased_cases(sealing: Sealing, rows: Iterable[Mapping[Any, Any]]) -> list[ErasedCase]:
    """Of these stored case events (in chain order), the cases whose key was destroyed."""
    firsts: dict[str, Mapping[Any, Any]] = {}
    for m in rows:
        if m["sealed"] is not None:
            firsts.setdefault(m["case_id"], m)
    if not firsts:
        return []
    pairs = [(m["subject"], m["klass"]) for m in firsts.values()]
    gone = sealing.vault.store.erasures_of(pairs)
    out = []
    for case_id, m in firsts.items():
        e = gone.get((m["subject"], m["klass"]))
        if e is not None:
            out.append(ErasedCase(case_id, m["case_kind"], m["at"], e.at, e.rule))
    return out
