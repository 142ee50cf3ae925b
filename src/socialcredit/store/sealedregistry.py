"""The registry's chain at rest: an entry's code and content sealed under its subject's registry key
(issue 21 point 1; decision 0074).

Why: a registry entry is a registration (a person's code, name, sex, district; an organisation's
code, name and legal representative's code) or a document link (a person's document number and
the evidence for it). Kept in the clear, it outlived every erasure of the subject, and its chain
hash covered guessable codes with no key. So, as case events are (``sealedcases.py``), an entry
is stored with the subject's keyed pseudonym in ``code`` (the one ``records.subject`` holds:
"the registry history of X" stays one indexed read), ``""`` in ``payload``, and the AES-GCM
ciphertext of its payload in ``sealed`` under the subject's key of class ``registry`` (a
destroyed one is never made again: a later registration of the same subject goes under
``registry.1``, ``registry.2``...). The chain covers the pseudonym, kind, class and ciphertext
(:func:`registry_content_of`), so an entry whose key was destroyed still verifies, and each entry
keeps its own hash (``chaincheck.own_hash``, decision 0071).

The key is made before the registry's lock is taken (:meth:`RegistrySealing.cipher`): the key
table is written by a connection of its own.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socialcredit import ledger
from socialcredit.shredding import remember, seal, unseal
from socialcredit.store.base import Row, dumps
from socialcredit.store.sealedrows import Sealing

REGISTRY_CLASS = "registry"
"""The retention class of a subject's registry key (its registration, its document links, and
the subject's row, terms and links folded from them)."""
TAG = "registry"


def _aad(pseudonym: str, kind: str, at: Any) -> bytes:
    """What a sealed entry is bound to: a ciphertext moved onto another entry fails to open."""
    return f"registry\x1f{pseudonym}\x1f{kind}\x1f{ledger.iso_dt(at)}".encode()


def registry_content_of(m: Row) -> str:
    """What a registry entry's chain hash covers: its payload for an entry stored in the clear
    (before schema 0015, as it always did), else a hash of its stored pseudonym, kind, class and
    ciphertext. Why a hash, as a record's leaf holds its content hash: the entry's leaf in the
    transparency log is public (an entries bundle), and the pseudonym would link a subject's
    entries to each other there."""
    sealed = m.get("sealed")
    if sealed is None:
        return str(m["payload"])
    stored = dumps([TAG, m["code"], m["kind"], m["klass"], sealed])
    return f"{TAG}:{hashlib.sha256(stored.encode()).hexdigest()}"


def registry_sealing(store: Any) -> RegistrySealing:
    """The store's :class:`RegistrySealing` over its ``sealing``, made on first use."""
    found: RegistrySealing | None = store.__dict__.get("_registry_sealing")
    if found is None:
        found = store.__dict__["_registry_sealing"] = RegistrySealing(store.sealing)
    return found


class RegistrySealing:
    """Seals registry entries (and the rows folded from them) under each subject's registry key."""

    def __init__(self, sealing: Sealing) -> None:
        self.sealing = sealing
        self.vault = sealing.vault
        self._classes: dict[str, str] = {}

    def cipher(self, code: str) -> tuple[str, str, AESGCM]:
        """The subject's pseudonym, and its live registry key's class and cipher (made if it has
        none; after a destroyed one, the next generation)."""
        p = self.sealing.pseudonym(code)
        klass = self._classes.get(p, REGISTRY_CLASS)
        cached = self.vault.cached((p, klass))  # made or read by :meth:`prepare`: most calls
        if cached:
            return p, klass, cached[(p, klass)]
        while True:
            found = self.vault.keys([(p, klass)], create=True).get((p, klass))
            if found is not None:
                if klass != REGISTRY_CLASS:
                    remember(self._classes, p, klass)
                return p, klass, found
            head, _, n = klass.partition(".")
            klass = f"{head}.{int(n or 0) + 1}"

    def prepare(self, codes: Iterable[str]) -> None:
        """Make (or read) the registry keys of these subjects in one key-store call, before a
        transaction: :meth:`cipher` then finds them cached."""
        pairs = {}
        for c in dict.fromkeys(codes):
            p = self.sealing.pseudonym(c)
            pairs[c] = (p, self._classes.get(p, REGISTRY_CLASS))
        found = self.vault.keys(pairs.values(), create=True) if pairs else {}
        for c, pair in pairs.items():
            if pair not in found:  # destroyed: the next generation's, made here too
                self.cipher(c)

    def seal(self, code: str, kind: str, text: str, at: Any) -> dict[str, Any]:
        """The stored columns of an entry of ``code`` whose payload is ``text``."""
        p, klass, cipher = self.cipher(code)
        blob = seal(cipher, text.encode(), _aad(p, kind, at))
        return {
            "code": p,
            "kind": kind,
            "payload": "",
            "klass": klass,
            "sealed": base64.b64encode(blob).decode(),
        }

    def seal_value(self, code: str, text: str, aad: str) -> tuple[str, str, str]:
        """``text`` sealed under the subject's registry key, bound to ``aad``: (pseudonym, class,
        ciphertext) for a row folded from the chain (``subjects``, ``tenures``, ``document_links``)."""
        p, klass, cipher = self.cipher(code)
        return p, klass, base64.b64encode(seal(cipher, text.encode(), aad.encode())).decode()

    def open_values(self, rows: Iterable[tuple[str, str, str, str]]) -> list[str | None]:
        """Each (pseudonym, class, ciphertext, aad) opened, in one key read; None where the key
        was destroyed (the row is erased)."""
        rows = list(rows)
        ciphers = self.vault.keys({(p, k) for p, k, _, _ in rows}) if rows else {}
        out: list[str | None] = []
        for p, k, text, aad in rows:
            cipher = ciphers.get((p, k))
            out.append(
                None if cipher is None else unseal(cipher, base64.b64decode(text), aad.encode()).decode()
            )
        return out

    def opened(self, rows: Iterable[Row]) -> list[dict[str, Any]]:
        """Stored entries with their payload opened (a clear one as stored); an entry whose key
        was destroyed is left out."""
        found: list[dict[str, Any]] = [dict(m) for m in rows]
        sealed = [m for m in found if m.get("sealed") is not None]
        texts = self.open_values(
            (m["code"], m["klass"], m["sealed"], _aad(m["code"], m["kind"], m["at"]).decode()) for m in sealed
        )
        opened = {id(m): text for m, text in zip(sealed, texts, strict=True)}
        out = []
        for m in found:
            if m.get("sealed") is None:
                out.append(m)
            elif (text := opened[id(m)]) is not None:
                out.append({**m, "payload": text})
        return out
