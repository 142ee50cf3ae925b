"""The peer floor of ingestion: the same work as ``System.ingest``, written bare in one process.

Why a second floor (decision 0107): issue 20 measures ingest against SQLite copying the finished
rows itself, and a bare ``executemany`` of the same finished rows (``bench/ingest.py``'s floor).
Neither validates, deduplicates, keys, seals or chains anything. This floor does that work, the
way a strong peer would write it in Python with no framework, so that the bench can say how much
of the gap to SQLite's own copy is the work and how much is this implementation:

- each row checked as ingest checks a clean one: its fields' types, the code by python-stdnum
  (``cn.ric`` or ``cn.uscc``; a valid code remembered, as a subject has many records), the item
  known and reported by this source about this kind of subject, the dates parsed and in order,
  the evidence and details;
- the keyed pseudonym, the keyed record id and the keyed claim (HMAC-SHA256 from copied pads),
  deduplicated within the chunk and against the ledger (one ``SELECT`` of the chunk's ids);
- a data key per (pseudonym, year): the chunk's existing keys read in one statement, new ones
  made from one ``os.urandom`` a chunk, wrapped by AES-GCM under a master key and inserted into a
  ``WITHOUT ROWID`` key table in the chunk's transaction;
- the code, evidence, details and reference sealed by AES-GCM under the data key, base64;
- the stored form's SHA-256 and the chain's SHA-256 over it;
- one ``executemany`` into the same ``records`` table (same columns and indexes, same settings)
  and the chain's head, one transaction a chunk.

It leaves out what ingest also does: the Merkle tiles (6 % of ingest, ``bench/tlog.py``), the
batch's row, the sealing helper process (it runs in one process: its CPU is the figure to set
beside two cores), the decision states a chunk empties, the quarantine's sealed rows (the bench's
rows are clean). What it leaves out can only make it faster: it is not a handicapped floor.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum.cn import ric, uscc

KEYS = """CREATE TABLE IF NOT EXISTS peer_keys (
    pseudonym TEXT NOT NULL, klass TEXT NOT NULL, wrapped BLOB NOT NULL,
    PRIMARY KEY (pseudonym, klass)) WITHOUT ROWID"""
Pair = tuple[str, str]
"""A data key's (pseudonym, year)."""


class Peer:
    """One ingest into the SQLite file at ``path``, whose ``records`` table the store made."""

    def __init__(self, path: Path, registry: Any, *, cache_mib: int = 256) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{cache_mib * 1024}"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(KEYS)
        self.sources: Mapping[str, Any] = registry.sources_by_item
        self.kinds: Mapping[str, Any] = registry.kinds_by_item
        self.master = AESGCM(os.urandom(32))
        self.mac = hmac.new(os.urandom(32), digestmod="sha256")
        self.codes: dict[str, str] = {}
        self.pseudonyms: dict[str, str] = {}
        self.seq, self.head = 0, ""

    def _kind(self, code: Any) -> str | None:
        kind = self.codes.get(code)
        if kind is None and type(code) is str:
            if len(code) == 18 and ric.is_valid(code):
                kind = "person"
            elif len(code) == 18 and uscc.is_valid(code):
                kind = "organisation"
            if kind is not None:
                self.codes[code] = kind
        return kind

    def _keyed(self, text: str) -> str:
        m = self.mac.copy()
        m.update(text.encode())
        return m.hexdigest()

    def chunk(self, rows: Sequence[Mapping[str, Any]], batch: str, now: dt.datetime) -> tuple[int, int]:
        """Check, key, seal, chain and insert ``rows``: (accepted, refused)."""
        today, received = now.date(), now.isoformat(" ", "microseconds")
        clean: list[tuple[Any, ...]] = []
        ids: set[str] = set()
        refused = 0
        for row in rows:
            get = row.get
            code, item, src, srid = get("subject"), get("item"), get("source"), get("source_record_id")
            kind = self._kind(code)
            allowed = self.sources.get(item)  # type: ignore[arg-type]
            if kind is None or allowed is None or src not in allowed or kind not in self.kinds[item]:  # type: ignore[index]
                refused += 1
                continue
            if type(srid) is not str or not 0 < len(srid) <= 128 or get("action") not in (None, "", "report"):
                refused += 1
                continue
            try:
                occurred = dt.date.fromisoformat(row["occurred_on"])
                text = row.get("reported_at")
                reported = dt.datetime.fromisoformat(text) if text else now.replace(microsecond=0)
            except (TypeError, ValueError):
                refused += 1
                continue
            if occurred > today or reported > now or reported.date() < occurred:
                refused += 1
                continue
            evidence, details = row.get("evidence"), row.get("details") or {}
            if (evidence is not None and type(evidence) is not str) or type(details) is not dict:
                refused += 1
                continue
            details_text = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            pseudonym = self.pseudonyms.get(code)  # type: ignore[arg-type]
            if pseudonym is None:
                pseudonym = self.pseudonyms[code] = self._keyed(code)  # type: ignore[index,arg-type]
            rid = self._keyed(f"{src}\x1f{srid}")[:32]
            if rid in ids:
                refused += 1
                continue
            ids.add(rid)
            claimed = f"{code}|{item}|{src}|{srid}|{occurred}|{text or ''}|{evidence or ''}|{details_text}"
            claim = self._keyed(claimed)
            given = bool(text)
            fields = (rid, pseudonym, kind, item, src, srid, occurred, reported, given, evidence)
            clean.append((*fields, details_text, claim, code))
        known = self._known([c[0] for c in clean])
        clean = [c for c in clean if c[0] not in known]
        ciphers, new = self._keys({(c[1], str(c[6])[:4]) for c in clean})
        nonces = os.urandom(12 * len(clean))
        out: list[tuple[Any, ...]] = []
        for k, c in enumerate(clean):
            rid, p, kind, item, src, srid, occurred, reported, given, evidence, details, claim, code = c
            klass = str(occurred)[:4]
            nonce = nonces[12 * k : 12 * k + 12]
            plain = f"{code}\x1f{evidence or ''}\x1f{details}\x1f{srid}".encode()
            blob = nonce + ciphers[(p, klass)].encrypt(nonce, plain, rid.encode())
            sealed = base64.b64encode(blob).decode()
            at = reported.isoformat(" ", "microseconds")
            stored = f"{rid}|{p}|{kind}|{item}|{src}|{occurred}|{at}|{given}|report|{klass}|{sealed}|{claim}"
            content = hashlib.sha256(stored.encode()).hexdigest()
            self.seq += 1
            link = f"{self.head}|{self.seq}|{content}|{received}|{batch}"
            self.head = hashlib.sha256(link.encode()).hexdigest()
            first = (self.seq, rid, p, kind, item, src, "", occurred.isoformat(), at, given, None, "report")
            out.append((*first, None, "", received, batch, content, claim, self.head, klass, sealed))
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany("INSERT INTO peer_keys VALUES (?, ?, ?)", new)
        marks = ", ".join("?" * 21)
        self.conn.executemany(f"INSERT INTO records VALUES ({marks})", out)
        head = "INSERT OR REPLACE INTO chain_heads (chain, count, head) VALUES ('records', ?, ?)"
        self.conn.execute(head, (self.seq, self.head))
        self.conn.execute("COMMIT")
        return len(out), refused + len(known)

    def _known(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 900):
            part = ids[i : i + 900]
            sql = f"SELECT record_id FROM records WHERE record_id IN ({', '.join('?' * len(part))})"
            found.update(r[0] for r in self.conn.execute(sql, part))
        return found

    def _keys(self, pairs: set[tuple[str, str]]) -> tuple[dict[Pair, AESGCM], list[tuple[str, str, bytes]]]:
        """Each pair's cipher: read if kept, else made (and returned to be inserted)."""
        subjects = sorted({p for p, _ in pairs})
        ciphers: dict[Pair, AESGCM] = {}
        for i in range(0, len(subjects), 900):
            part = subjects[i : i + 900]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT pseudonym, klass, wrapped FROM peer_keys WHERE pseudonym IN ({marks})"
            for p, klass, wrapped in self.conn.execute(sql, part):
                if (p, klass) in pairs:
                    aad = f"{p}\x1f{klass}".encode()
                    ciphers[(p, klass)] = AESGCM(self.master.decrypt(wrapped[:12], wrapped[12:], aad))
        missing = sorted(pairs - ciphers.keys())
        fresh = os.urandom(44 * len(missing))
        new: list[tuple[str, str, bytes]] = []
        for k, (p, klass) in enumerate(missing):
            key, nonce = fresh[44 * k : 44 * k + 32], fresh[44 * k + 32 : 44 * k + 44]
            new.append((p, klass, nonce + self.master.encrypt(nonce, key, f"{p}\x1f{klass}".encode())))
            ciphers[(p, klass)] = AESGCM(key)
        return ciphers, new

    def close(self) -> None:
        self.conn.close()


def time_peer(
    path: Path, rows: Sequence[Mapping[str, Any]], registry: Any, chunk: int
) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, rows stored) of the peer's ingest of ``rows`` into the store's
    empty SQLite file at ``path``, chunks of ``chunk``."""
    from socialcredit.store import Store

    Store(f"sqlite:///{path}").close()  # the same schema, indexes and page size as the ingest's
    peer = Peer(path, registry)
    try:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        c0, t0 = time.process_time(), time.perf_counter()
        stored = 0
        for i in range(0, len(rows), chunk):
            stored += peer.chunk(rows[i : i + chunk], f"peer{i // chunk:06d}", now)[0]
        return time.perf_counter() - t0, time.process_time() - c0, stored
    finally:
        peer.close()
