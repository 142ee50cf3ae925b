"""Records encrypted at rest: the one place a record's row is sealed for storage and opened again.

Why one place: every read (a subject's view, lists, exports, the engines' input, disclosure) must
decrypt the same way and must agree on what an erased record is (a row whose data key was
destroyed: counted by ``verify``, read by nothing else). Ingestion seals a chunk with one read of
the key store for the chunk's (pseudonym, retention class) pairs and one AES-GCM call per record
(issue 21 point 5). Rows stored before schema 0006 (no ``sealed``) read as they were.

A sealed row keeps in the clear only what the chain needs and nothing guessable without a key:
the keyed pseudonym for ``subject``, the item, source and dates, the keyed claim hash, and the
ciphertext of the subject's code, evidence and details; ``details`` holds "" and ``evidence`` NULL.
Since decision 0075 the agency's own reference (``source_record_id``: a court case number names
a case) is sealed too, after the details, and the column holds ""; rows sealed before keep it in
the clear. A record's id is keyed too (decision 0080): :meth:`Sealing.record_id`, an HMAC under
the pseudonym key of ``ledger.record_id_for``'s unkeyed hash of (source, reference), computed here
as rows are sealed (the AES-GCM associated data is the id). Rows stored before keep their unkeyed
ids; the append path recognises them by both (``store/recordids.py``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socialcredit import ledger
from socialcredit.ledger import Record
from socialcredit.rules.days import day_of
from socialcredit.shredding import (
    NONCE,
    ErasedRecord,
    ErasureRead,
    KeyedHash,
    KeyRead,
    Vault,
    remember,
    unseal,
)

STORED_FIELDS: tuple[str, ...] = (*ledger.SEALED_FIELDS, "klass", "sealed")
"""A sealed record's values as stored, in order: the fields of ``ledger.Sealed`` (with the
pseudonym for ``subject`` and the keyed claim hash) then the retention class and ciphertext."""
_RID, _SUBJ, _KIND, _ITEM, _SRC, _SRID, _OCC, _REP, _GIVEN, _EV, _ACT, _CORR, _DET, _CONT, _CLAIM = range(15)
PSEUDONYM_LENGTH = 32


@dataclass(frozen=True, slots=True)
class ErasedRow:
    """A row refused because its subject's key of its class was destroyed, before its reason is
    worded: the id it would be stored under (keyed, decision 0080) and its unkeyed id, the
    class, and the erasure's day and rule. Why not the words at once: sealing (in ingest's
    helper process too) reads no ledger, and a record stored before keyed ids is held, and
    found by its agency, under its unkeyed id; the store knows which (decision 0094)."""

    keyed_id: str
    unkeyed_id: str
    klass: str
    at: dt.datetime
    rule: str

    def reason(self, record_id: str) -> str:
        """The quarantine reason, naming ``record_id``: the id the ledger holds the record
        under, or the keyed id it would have had if it holds none."""
        return (
            f"source_record_id: record {record_id} is of a subject whose records of {self.klass} "
            f"were erased on {day_of(self.at)} under rule {self.rule!r}; an erased record is not "
            "taken in again"
        )


"""A pseudonym's length; a subject code is 18 characters, so a value of ``subject`` is one or the other."""
SEP = "\x1f"
NUL = "\x00"
"""How a missing evidence is spelled in the sealed text."""


def is_pseudonym(value: str) -> bool:
    return len(value) == PSEUDONYM_LENGTH


class Sealing:
    """Seal rows for storage and open stored rows, through one :class:`~shredding.Vault`."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._pseudonyms: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        """Pseudonym to code, for every record this process has sealed or opened."""
        self._ids: KeyedHash | None = None
        """The pseudonym key's HMAC with the record ids' prefix taken in (:meth:`keyed_ids`)."""

    def pseudonym(self, code: str) -> str:
        p = self._pseudonyms.get(code)
        if p is None:
            p = self.vault.pseudonym(code)
            remember(self._pseudonyms, code, p)
            remember(self.codes, p, code)
        return p

    def learn(self, rows: Sequence[tuple[Any, ...]], sealed: Sequence[tuple[Any, ...] | None]) -> None:
        """Remember the pseudonym of each code of ``rows`` (converted sealed records) from the
        same rows as stored (``sealed``, encrypted elsewhere: a helper process), as sealing them
        here would have: later reads of these subjects open no row to learn their codes."""
        known, codes = self._pseudonyms, self.codes
        for r, s in zip(rows, sealed, strict=True):
            if s is not None and r[_SUBJ] not in known:
                remember(known, r[_SUBJ], s[_SUBJ])
                remember(codes, s[_SUBJ], r[_SUBJ])

    def record_id(self, source: str, source_record_id: str) -> str:
        """The id a record the source gives this reference is stored under since decision 0080:
        what a caller that has just sent a record names it by (``ledger.record_id_for`` is only
        the id of a record stored before, and the input of this one)."""
        return self.keyed_ids([ledger.record_id_for(source, source_record_id)])[0]

    def keyed_ids(self, unkeyed: Sequence[str]) -> list[str]:
        """Each unkeyed id (``ledger.record_id_for``) as keyed: the first 32 hex digits of
        HMAC-SHA256(pseudonym key, "record" US unkeyed id). Why over the unkeyed id rather than the
        (source, reference) it hashes: the store can then key any id validation computed (a
        correction by reference names its target so, in a helper process too) without the
        reference, which is sealed; and nobody without the key can compute it (decision 0080)."""
        if self._ids is None:  # "record" US taken in once (decision 0092)
            self._ids = self.vault.keyed().prefixed(f"record{SEP}".encode())
        return [h[:32] for h in self._ids.hexdigests(unkeyed)]  # the first 16 bytes

    def keyed_claim(self, plain: str) -> str:
        """The stored claim hash: the plain claim hash (``ledger.seal_fields``) keyed, so that
        nobody without the pseudonym key can test a guessed (code, item, date) against it."""
        return self.vault.keyed().hexdigest(plain.encode())

    def seal_rows(
        self,
        rows: Sequence[tuple[Any, ...]],
        classes: Sequence[str] | None = None,
        pseudonyms: Sequence[str] | None = None,
        keep_ids: bool = False,
        ciphers: Mapping[tuple[str, str], AESGCM] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Converted sealed records (``Store.stored_row`` of ``ledger.Sealed``) as stored: one
        key-store read for the chunk, one AES-GCM call and two hashes per record. A record whose
        (subject, class) key was destroyed cannot be sealed: it raises :class:`ErasedClass`
        (``seal_chunk`` sorts those out first, and gives the class and pseudonym of each row: its
        year, or the year's next generation after an erasure on request). The source record id
        is sealed with the code, evidence and details (decision 0075); the column keeps "". Each
        record's id is keyed (:meth:`keyed_ids`, decision 0080) unless ``keep_ids`` (a record
        stored before, sealed now: ``store/epochs.py``). ``ciphers``: the keys of the chunk's
        pairs, if ``seal_chunk`` already read them (a second lookup of every pair cost a tenth of
        sealing: decision 0081)."""
        if pseudonyms is None:
            known, pseudonym = self._pseudonyms, self.pseudonym
            pseudonyms = [known.get(r[_SUBJ]) or pseudonym(r[_SUBJ]) for r in rows]
        pseud = pseudonyms
        if classes is None:
            classes = [str(r[_OCC])[:4] for r in rows]  # ledger.retention_class, inlined
        if ciphers is None:
            ciphers = self.vault.keys(zip(pseud, classes, strict=True), create=True)
        # the chunk's keyed claims in one loop (shredding.KeyedHash.hexdigests)
        claims = self.vault.keyed().hexdigests([r[_CLAIM] for r in rows])
        # decision 0080: the keyed ids, before encrypting (the associated data is the id)
        ids = [r[_RID] for r in rows] if keep_ids else self.keyed_ids([r[_RID] for r in rows])
        sha256, b64 = hashlib.sha256, binascii.b2a_base64
        preimage, cipher_of, nul = ledger.stored_preimage, ciphers.get, NUL
        # every nonce of the chunk from one call to the system's generator, not one call per row:
        # the same randomness, a distinct random 96-bit nonce per encryption
        nonces = os.urandom(NONCE * len(rows))
        out: list[tuple[Any, ...]] = []
        keep = out.append
        at = 0
        for r, rid, p, klass, claim in zip(rows, ids, pseud, classes, claims, strict=True):
            cipher = cipher_of((p, klass))
            if cipher is None:
                raise ErasedClass((p, klass))
            # the row unpacked whole, once (a slice first was a copy more per record, 0092)
            _, subj, kind, item, src, srid, occ, rep, given, ev, act, corr, det, _, _ = r
            nonce = nonces[at : at + 12]  # NONCE
            at += 12
            # the separator a literal (SEP) and NUL a local: no global lookup per record
            plain = f"{subj}\x1f{nul if ev is None else ev}\x1f{det}\x1f{srid}".encode()
            text = b64(nonce + cipher.encrypt(nonce, plain, rid.encode()), newline=False).decode()
            stored = preimage(rid, p, kind, item, src, "", occ, rep, given, act, corr, klass, text, claim)
            keep(
                (
                    rid,
                    p,
                    kind,
                    item,
                    src,
                    "",
                    occ,
                    rep,
                    given,
                    None,
                    act,
                    corr,
                    "",
                    sha256(stored.encode()).hexdigest(),
                    claim,
                    klass,
                    text,
                )
            )
        return out

    def seal_chunk(
        self, rows: Sequence[tuple[Any, ...]]
    ) -> tuple[list[tuple[Any, ...] | None], dict[int, ErasedRow]]:
        """:meth:`seal_rows` of a chunk, with None in place of each record whose subject's key of
        its class was destroyed, and why to quarantine it by position (worded by the store,
        which knows which id the ledger holds it under: ``ErasedRow.reason``)."""
        known, pseudonym = self._pseudonyms, self.pseudonym
        pseud = [known.get(r[_SUBJ]) or pseudonym(r[_SUBJ]) for r in rows]
        classes = [str(r[_OCC])[:4] for r in rows]  # ledger.retention_class, inlined
        pairs = list(zip(pseud, classes, strict=True))
        # each pair once, for the key lookup and the check after it (one pass over the chunk)
        asked = dict.fromkeys(pairs)
        live = self.vault.keys(asked, create=True)
        unkeyed = [p for p in asked if p not in live] if len(live) < len(asked) else []
        gone = self.vault.store.erasures_of(unkeyed) if unkeyed else {}
        if not gone:
            return list(self.seal_rows(rows, classes, pseud, ciphers=live)), {}
        moved = self._next_generations(list(gone))
        pairs = [(p, moved.get((p, k), k)) for p, k in pairs]
        gone = {p: e for p, e in gone.items() if p not in moved}
        keep = [i for i, p in enumerate(pairs) if p not in gone]
        sealed = self.seal_rows([rows[i] for i in keep], [pairs[i][1] for i in keep])
        out: list[tuple[Any, ...] | None] = [None] * len(rows)
        for i, row in zip(keep, sealed, strict=True):
            out[i] = row
        reasons = {}
        for i, p in enumerate(pairs):
            if p in gone:
                e = gone[p]
                rid = self.keyed_ids([rows[i][_RID]])[0]  # the id it would have (decision 0080)
                reasons[i] = ErasedRow(rid, rows[i][_RID], p[1], e.at, e.rule)
        return out, reasons

    def _next_generations(self, erased: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """For each (pseudonym, class) whose key was destroyed, the class its subject's later
        records of that year are sealed under: ``YEAR.1``, ``YEAR.2``, ... the first not erased
        (decision 0054). Why: a destroyed key is never made again, and without a new class every
        later record of the subject and year would be refused as erased: after an erasure on
        request a subject could shed a year's future records by asking; after retention a
        court's listing decision of that year reported late (ground (1): listed until removed,
        SPC Art. 2) would never list the debtor. A re-sent erased record, or a correction of
        one, is still refused, by its id (``store/records.py``)."""
        out: dict[tuple[str, str], str] = {}
        for p, klass in erased:
            year, n = klass.split(".")[0], 1
            while True:
                nxt = f"{year}.{n}"
                e = self.vault.store.erasures_of([(p, nxt)]).get((p, nxt))
                if e is None:
                    break
                n += 1
            out[(p, klass)] = nxt
        if out:
            self.vault.keys([(p, k) for (p, _), k in out.items()], create=True)
        return out

    def open_rows(self, rows: Iterable[Mapping[Any, Any]], read: KeyRead | None = None) -> list[Record]:
        """Stored rows as records, decrypted; a row whose key was destroyed is left out (erased).
        ``read`` reads the keys not cached (``Vault.keys``)."""
        rows = list(rows)
        pairs = [(m["subject"], m["klass"]) for m in rows if m["sealed"] is not None]
        ciphers = self.vault.keys(pairs, read=read) if pairs else {}
        out = []
        for m in rows:
            if m["sealed"] is None:
                out.append(_record(m, m["subject"], m["evidence"], m["details"], None))
                continue
            cipher = ciphers.get((m["subject"], m["klass"]))
            if cipher is None:
                continue
            code, ev, details, srid = self.open_one(cipher, m["sealed"], m["record_id"])
            remember(self.codes, m["subject"], code)
            out.append(_record(m, code, ev, details, (m["klass"], m["sealed"]), srid))
        return out

    def erased_in(
        self,
        rows: Iterable[Mapping[Any, Any]],
        read: KeyRead | None = None,
        erasures: ErasureRead | None = None,
    ) -> list[ErasedRecord]:
        """The records among these stored rows (in ledger order) whose key was destroyed, each
        with when and under what rule: ``Store.erased_records`` from rows a reader has already
        read (a subject's view, decision 0076). A sealed row always had a key, so a row whose
        key is not live is erased: the erasure log is asked about those only (usually none).
        ``read`` and ``erasures`` read the key table and the log in the reader's transaction."""
        sealed = [m for m in rows if m["sealed"] is not None]
        if not sealed:
            return []
        pairs = sorted({(m["subject"], m["klass"]) for m in sealed})
        live = self.vault.keys(pairs, read=read)  # the view just opened these: cached
        gone = [pair for pair in pairs if pair not in live]
        if not gone:
            return []
        erased = (erasures or self.vault.store.erasures_of)(gone)
        return [
            ErasedRecord(m["record_id"], e.at, e.rule)
            for m in sealed
            if (e := erased.get((m["subject"], m["klass"])))
        ]

    @staticmethod
    def plain(m: Mapping[Any, Any]) -> Record:
        """A row stored in the clear (before schema 0006) as its record."""
        return _record(m, m["subject"], m["evidence"], m["details"], None)

    @staticmethod
    def open_one(cipher: AESGCM, sealed: str, record_id: str) -> tuple[str, str | None, str, str | None]:
        """A record's (code, evidence, details text, source record id) from its ciphertext; the
        source record id is None where the row keeps it in the clear (sealed before schema 0016).
        Details are JSON, which escapes every control character, so the separator after them is
        the reference's own."""
        plain = unseal(cipher, base64.b64decode(sealed), record_id.encode()).decode()
        code, ev, details = plain.split(SEP, 2)
        srid = None
        if SEP in details:
            details, srid = details.split(SEP, 1)
        return code, (None if ev == "\x00" else ev), details, srid


class ErasedClass(Exception):
    """A record to seal under a (pseudonym, class) whose key was destroyed (a bug to reach: the
    append path sorts these out first, ``Sealing.seal_chunk``)."""


def _record(
    m: Mapping[Any, Any], code: str, evidence: str | None, details: str, stored: Any, srid: str | None = None
) -> Record:
    return Record(
        record_id=m["record_id"],
        subject=code,
        subject_kind=m["subject_kind"],
        item=m["item"],
        source=m["source"],
        source_record_id=m["source_record_id"] if srid is None else srid,
        occurred_on=m["occurred_on"],
        reported_at=m["reported_at"],
        reported_given=bool(m["reported_given"]),
        evidence=evidence,
        action=m["action"],
        corrects=m["corrects"],
        details=json.loads(details),
        seq=m["seq"],
        received_at=m["received_at"],
        batch_id=m["batch_id"],
        content_hash=m["content_hash"],
        claim_hash=m["claim_hash"],
        chain_hash=m["chain_hash"],
        stored=stored,
    )


def own_hash_ok(m: Mapping[Any, Any]) -> tuple[str, bool]:
    """A stored row's content hash recomputed from what is stored now, and whether it and (for a
    row stored in the clear) its claim hash match: what ``verify`` checks, needing no key."""
    if m["sealed"] is None:
        r = _record(m, m["subject"], m["evidence"], m["details"], None)
        seal = ledger.sealed(r)
        return seal.content_hash, seal.content_hash == m["content_hash"] and seal.claim_hash == m[
            "claim_hash"
        ]
    content = ledger.stored_content_hash(
        m["record_id"],
        m["subject"],
        m["subject_kind"],
        m["item"],
        m["source"],
        m["source_record_id"],
        m["occurred_on"],
        m["reported_at"],
        bool(m["reported_given"]),
        m["action"],
        m["corrects"],
        m["klass"],
        m["sealed"],
        m["claim_hash"],
    )
    return content, content == m["content_hash"] and m["details"] == "" and m["evidence"] is None
