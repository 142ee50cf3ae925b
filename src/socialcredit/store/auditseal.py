"""The audit log's personal data at rest: a subject's code sealed under its audit key (decision 0060).

Why: an audit entry names whom it was about (``subject``) and, for a subject's own acts, who
acted (``principal``); kept in the clear, those codes outlived every erasure of the subject's
records. Here, as records are (decision 0046), the stored entry holds the subject's keyed
pseudonym instead (the one ``records.subject`` holds, so "who asked about me" is still one
indexed lookup), and the code itself only inside ``sealed``: AES-GCM under the subject's *audit
key*, a data key of class ``audit`` in the key store. Any value of ``detail`` equal to the code is
stored as :data:`MARK` and put back when the entry is opened. The chain covers the stored form,
so destroying the audit key (with the subject's last record key: ``erase_audit_keys``) leaves
every entry verifiable and its code unreadable: read back, it names the subject as
:data:`~socialcredit.shredding.ERASED_CODE`.

Why a class of its own rather than the year's record key: an entry is about the subject, not
about one year's records, and it must stay readable while any of the subject's records is; so it
goes when the subject's last record key goes, and a later entry about the same person (their
records may arrive again) is sealed under the next generation, ``audit.1``, ``audit.2``...

Sealing happens before a chain's lock is taken (:meth:`AuditSealing.stored`): it may make a key,
which writes to the key store.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socialcredit import ledger
from socialcredit.shredding import (
    AUDIT_CLASS,
    ERASED_CODE,
    Erasure,
    KeyReads,
    WrappedKey,
    remember,
    seal,
    unseal,
)
from socialcredit.store.base import Row, dumps
from socialcredit.store.sealedrows import Sealing

MARK = "\u0000subject"
"""What a ``detail`` value equal to the subject's code is stored as (no code is this string)."""
FIELDS = ("at", "key_id", "role", "principal", "action", "subject", "measure", "purpose", "answer")


def decision_id_of(detail: Any) -> str | None:
    """The decision id a decision's audit detail carries in its receipt (a ``Receipt`` or its
    JSON form), else ``None``: what the ``decision_id`` column keeps for the indexed lookup."""
    receipt = detail.get("receipt") if isinstance(detail, Mapping) else None
    found = (
        receipt.get("decision_id") if isinstance(receipt, Mapping) else getattr(receipt, "decision_id", None)
    )
    return found if isinstance(found, str) else None


def person_of(entry: Mapping[str, Any]) -> str | None:
    """Whose entry this is: its subject, or the subject who acted when it names none."""
    subject = entry.get("subject")
    if subject:
        return str(subject)
    principal = entry.get("principal")
    return str(principal) if entry.get("role") == "subject" and principal else None


def _marked(value: Any, code: str) -> Any:
    """``value`` with every string (and mapping key) equal to ``code`` replaced by :data:`MARK`."""
    if isinstance(value, str):
        return MARK if value == code else value
    if isinstance(value, Mapping):
        return {(MARK if k == code else k): _marked(v, code) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_marked(v, code) for v in value]
    return value


def _unmarked(value: Any, code: str) -> Any:
    if isinstance(value, str):
        return code if value == MARK else value
    if isinstance(value, dict):
        return {(code if k == MARK else k): _unmarked(v, code) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmarked(v, code) for v in value]
    return value


def _aad(pseudonym: str, at: Any) -> bytes:
    """What a sealed code is bound to: moved onto another entry, it does not open."""
    return f"audit\x1f{pseudonym}\x1f{ledger.iso_dt(at) if hasattr(at, 'isoformat') else at}".encode()


class AuditSealing:
    """Seals audit entries for storage and opens them again, with the record store's vault."""

    def __init__(self, sealing: Sealing) -> None:
        self.sealing = sealing
        self.vault = sealing.vault
        self._classes: dict[str, str] = {}

    def _cipher(self, pseudonym: str, got: dict[tuple[str, str], AESGCM], **how: Any) -> tuple[str, AESGCM]:
        """The live audit key of ``pseudonym`` (made if it has none): its class and cipher; ``got``
        holds the group's keys already found (``how``: :meth:`stored`'s ``source`` and ``pending``)."""
        klass = self._classes.get(pseudonym, AUDIT_CLASS)
        while True:
            pair = (pseudonym, klass)
            found = got.get(pair)
            if found is None:
                found = self.vault.keys([pair], create=True, **how).get(pair)
            if found is not None:
                got[pair] = found
                if klass != AUDIT_CLASS:
                    remember(self._classes, pseudonym, klass)
                return klass, found
            klass = _next(klass)  # destroyed: a later entry goes under the next generation

    def stored(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        source: KeyReads | None = None,
        pending: list[tuple[WrappedKey, AESGCM]] | None = None,
    ) -> list[dict[str, Any]]:
        """Each entry as stored: ``FIELDS``, ``detail`` (JSON text) and ``sealed``. A ``detail``
        mapping shared by many entries (a prepared decision's) is serialised once per call.
        ``source`` and ``pending`` go to ``Vault.keys``: with ``pending``, the keys made are left
        for the caller to store with these entries (``store/auditsqlite.py``, decision 0100)."""
        out: list[dict[str, Any]] = []
        texts: dict[int, str] = {}
        pseudonym = self.sealing.pseudonym
        persons = [person_of(e) for e in entries]
        pseudonyms = {person: pseudonym(person) for person in persons if person is not None}
        how: dict[str, Any] = {"source": source, "pending": pending}
        # every key the group needs in one key-store read (and one write for those it makes)
        got: dict[tuple[str, str], AESGCM] = {}
        if pseudonyms:
            wanted = [(p, self._classes.get(p, AUDIT_CLASS)) for p in set(pseudonyms.values())]
            got = self.vault.keys(wanted, create=True, **how)
        for e, person in zip(entries, persons, strict=True):
            row = {k: e.get(k) for k in FIELDS}
            detail = e.get("detail", {})
            text = texts.get(id(detail))
            if text is None:
                text = texts[id(detail)] = dumps(detail)
            row["sealed"] = None
            if person is not None:
                p = pseudonyms[person]
                principal = row["principal"] if row["role"] == "subject" else None
                if principal:
                    row["principal"] = pseudonym(str(principal))
                if row["subject"]:
                    row["subject"] = p
                if json.dumps(person)[1:-1] in text:
                    text = dumps(_marked(detail, person))
                klass, cipher = self._cipher(p, got, **how)
                plain = dumps({"subject": person, "principal": principal})
                blob = seal(cipher, plain.encode(), _aad(p, row["at"]))
                row["sealed"] = f"{klass}:{base64.b64encode(blob).decode()}"
            row["detail"] = text
            row["decision_id"] = decision_id_of(detail) if row["action"] == "decision" else None
            out.append(row)
        return out

    def opened(self, found: Iterable[Row]) -> list[dict[str, Any]]:
        """Stored entries as read: the codes opened where the audit key lives, else
        :data:`ERASED_CODE` in their place; ``detail`` parsed; ``sealed`` left out."""
        rows = [dict(m) for m in found]
        pairs = []
        for m in rows:
            if m.get("sealed"):
                klass = m["sealed"].split(":", 1)[0]
                pairs.append((_pseudonym(m), klass))
        ciphers = self.vault.keys(pairs) if pairs else {}
        out = []
        for m in rows:
            sealed = m.pop("sealed", None)
            detail = json.loads(m["detail"])
            if sealed:
                klass, blob = sealed.split(":", 1)
                p = _pseudonym(m)
                cipher = ciphers.get((p, klass))
                if cipher is None:
                    person = {"subject": ERASED_CODE, "principal": ERASED_CODE}
                else:
                    person = json.loads(unseal(cipher, base64.b64decode(blob), _aad(p, m["at"])))
                if m["subject"] is not None:
                    m["subject"] = person["subject"]
                if m["role"] == "subject" and m["principal"]:
                    m["principal"] = person["principal"] or person["subject"]
                detail = _unmarked(detail, person["subject"])
            out.append({**m, "detail": detail})
        return out

    def erase_audit_keys(
        self, pseudonyms: Iterable[str], live_classes: Mapping[str, Sequence[str]], at: Any, rule: str
    ) -> int:
        """Destroy the audit key of each of ``pseudonyms`` left with no live record key
        (``live_classes``: the record classes each has); returns how many were destroyed."""
        due = []
        for p in dict.fromkeys(pseudonyms):
            classes = live_classes.get(p, ())
            if classes and self.vault.store.wrapped_keys([(p, k) for k in classes]):
                continue
            klass = AUDIT_CLASS
            while True:
                pair = (p, klass)
                w = self.vault.store.wrapped_keys([pair]).get(pair)
                if w is not None:
                    due.append(Erasure(p, klass, w.key_id, at, rule))
                    break
                if not self.vault.store.erasures_of([pair]):
                    break  # never made: the subject has no audit entry sealed
                klass = _next(klass)
        for e in due:
            self._classes.pop(e.pseudonym, None)
        return self.vault.erase(due) if due else 0


def _pseudonym(m: Mapping[str, Any]) -> str:
    return str(m["subject"] if m["subject"] is not None else m["principal"])


def _next(klass: str) -> str:
    """The audit class after ``klass``: ``audit`` → ``audit.1`` → ``audit.2``..."""
    head, _, n = klass.partition(".")
    return f"{head}.{int(n or 0) + 1}"
