"""The audited floor of ``POST /decisions``: what a strong peer would write for the same work.

Why a second floor: the bare floor of issue 20 (``decisions.bare_app``) parses the body and
answers a constant; it reads no state and writes nothing. ``POST /decisions`` must also answer
from the subject's state and audit every decision durably, exactly once, in a hash chain, with
the subject's code sealed (issue 21), before it replies. This floor does that work and nothing
else, written bare, so that the bench can say how much of the gap to the bare floor is the work
itself and how much is this implementation:

- the same FastAPI ``async def`` endpoint and body as the bare floor, under uvicorn with
  httptools and uvloop, the relying party's key looked up in a dict;
- the code checked by python-stdnum (``cn.ric.is_valid``), as any server must before it answers;
- the answer read on the event loop by one indexed ``SELECT`` from a table of ready answers, one
  row per (code, measure), written beforehand from the bench city's own decision states
  (``prepare``): the same answers, in the plainest form a peer would keep them;
- the audit row appended by one writer thread in groups: a keyed pseudonym of the code (HMAC),
  the code sealed by AES-GCM under one key kept in memory (a peer's simplest sealing: no key per
  subject, no key table), a SHA-256 chain over the row, one ``executemany`` and one synced
  ``COMMIT`` (WAL, ``synchronous=FULL``) a group, a primary key and one index (the subject's, by
  which a subject sees who asked); every reply waits for its group's commit, and the group's
  futures are resolved in one call on the loop.

It is run by ``bench/decisions.py`` beside the bare floor, in the same rounds, and its own audit
rows are counted against the answers it gave (``audited_rows``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field

STATE = """CREATE TABLE IF NOT EXISTS floor_state (
    subject TEXT NOT NULL, measure TEXT NOT NULL, answer TEXT NOT NULL,
    PRIMARY KEY (subject, measure)) WITHOUT ROWID"""
AUDIT = """CREATE TABLE IF NOT EXISTS floor_audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, subject BLOB NOT NULL, sealed BLOB NOT NULL,
    principal TEXT NOT NULL, measure TEXT NOT NULL, purpose TEXT NOT NULL, answer TEXT NOT NULL,
    hash BLOB NOT NULL)"""
AUDIT_INDEX = "CREATE INDEX IF NOT EXISTS ix_floor_audit_subject ON floor_audit (subject, at)"


class Question(BaseModel):
    """Both floors' body: the decision request's fields, validated (at module level, where
    FastAPI resolves the annotation)."""

    subject: str = Field(max_length=64)
    measure: str = Field(max_length=64)
    purpose: str = Field(max_length=500)


Asked = tuple[str, str, str, str, str, "asyncio.Future[None]"]
"""What the writer is handed: code, principal, measure, purpose, answer, the reply's future."""
GROUP = 256
"""The most audit rows one commit takes (the writer takes whatever is waiting, up to this)."""


def prepare(url: str, path: Path, persons: Sequence[str]) -> int:
    """Write the floor's database at ``path`` from the bench city at ``url``: each person's ready
    answers, one row per measure, decoded from the city's own decision states (so the floor
    answers from the same data); and the empty audit table. Returns the rows written."""
    from socialcredit.service.statecodec import opened
    from socialcredit.store import Store

    store = Store(url)
    rows: list[tuple[str, str, str]] = []
    try:
        sealing = store.sealing
        for i in range(0, len(persons), 400):
            named = {sealing.pseudonym(c): c for c in persons[i : i + 400]}
            marks = ", ".join("?" * len(named))
            sql = f"SELECT subject, payload FROM decision_state WHERE subject IN ({marks})"
            with store.reader.connect() as read:
                found = read.exec_driver_sql(sql, tuple(named)).fetchall()
            for pseudonym, payload in found:
                for line in opened(str(payload)).split("\n")[1:]:
                    measure, _, decision = line.partition("\t")
                    kind, allowed, known, reasons = json.loads(decision)
                    answer = {"answer": "allow" if allowed else "deny", "known": known, "reasons": reasons}
                    rows.append((named[pseudonym], measure, json.dumps(answer, ensure_ascii=False)))
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(STATE)
        conn.execute(AUDIT)
        conn.execute(AUDIT_INDEX)
        conn.execute("DELETE FROM floor_state")
        conn.execute("DELETE FROM floor_audit")
        conn.executemany("INSERT INTO floor_state VALUES (?, ?, ?)", rows)
        conn.commit()
    finally:
        conn.close()
    return len(rows)


def audited_rows(path: Path) -> dict[str, int]:
    """How many audit rows the floor wrote for each purpose, after its chain is checked."""
    conn = sqlite3.connect(path)
    try:
        prev = b""
        counts: dict[str, int] = {}
        cols = "seq, at, subject, sealed, principal, measure, purpose, answer, hash"
        for seq, at, subject, sealed, principal, measure, purpose, answer, h in conn.execute(
            f"SELECT {cols} FROM floor_audit ORDER BY seq"
        ):
            if _link(prev, seq, at, subject, sealed, principal, measure, purpose, answer) != h:
                raise AssertionError(f"the audited floor's chain breaks at {seq}")
            prev = h
            counts[purpose] = counts.get(purpose, 0) + 1
        return counts
    finally:
        conn.close()


def _link(prev: bytes, seq: int, at: str, *fields: Any) -> bytes:
    h = hashlib.sha256(prev)
    h.update(f"|{seq}|{at}".encode())
    for f in fields:
        h.update(b"|")
        h.update(f if isinstance(f, bytes) else str(f).encode())
    return h.digest()


class Writer:
    """The audit's one writer thread: takes what is waiting, seals and chains it, commits it
    synced, then resolves the group's futures in one call on the loop."""

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: queue.SimpleQueue[tuple[str, str, str, str, str, asyncio.Future[None]]] = (
            queue.SimpleQueue()
        )
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL"):
            self.conn.execute(f"PRAGMA {pragma}")
        seq, head = self.conn.execute(
            "SELECT coalesce(max(seq), 0), "
            "(SELECT hash FROM floor_audit ORDER BY seq DESC LIMIT 1) FROM floor_audit"
        ).fetchone()
        self.seq, self.head = int(seq), head or b""
        self.aead = AESGCM(os.urandom(32))
        self.mac = hmac.new(os.urandom(32), digestmod="sha256")
        threading.Thread(target=self._run, name="floor-audit", daemon=True).start()

    def _run(self) -> None:
        get, resolve = self.queue.get, self.loop.call_soon_threadsafe
        while True:
            group = [get()]
            while len(group) < GROUP:
                try:
                    group.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            rows = []
            at = time.strftime("%Y-%m-%dT%H:%M:%S")
            nonces = os.urandom(12 * len(group))
            for k, (code, principal, measure, purpose, answer, _) in enumerate(group):
                mac = self.mac.copy()
                mac.update(code.encode())
                pseudonym = mac.digest()
                nonce = nonces[12 * k : 12 * k + 12]
                sealed = nonce + self.aead.encrypt(nonce, code.encode(), pseudonym)
                self.seq += 1
                self.head = _link(
                    self.head, self.seq, at, pseudonym, sealed, principal, measure, purpose, answer
                )
                rows.append((self.seq, at, pseudonym, sealed, principal, measure, purpose, answer, self.head))
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("INSERT INTO floor_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.conn.execute("COMMIT")
            futures = [g[5] for g in group]
            resolve(_settle, futures)


def _settle(futures: list[asyncio.Future[None]]) -> None:
    for f in futures:
        if not f.done():
            f.set_result(None)


def audited_app(path: Path, keys: dict[str, str]) -> Any:
    """The audited floor's app over the floor database at ``path``; ``keys`` maps a relying
    party's key to its name."""
    from fastapi import FastAPI, Header, HTTPException
    from fastapi.responses import Response
    from stdnum.cn import ric

    app = FastAPI()
    read = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    read.execute("PRAGMA journal_mode=WAL")
    box: dict[str, Writer] = {}

    @app.post("/decisions")
    async def decisions(question: Question, x_api_key: str = Header()) -> Response:
        principal = keys.get(x_api_key)
        if principal is None:
            raise HTTPException(401, "unknown key")
        if not ric.is_valid(question.subject):
            raise HTTPException(422, "subject: not a valid resident identity number")
        row = read.execute(
            "SELECT answer FROM floor_state WHERE subject = ? AND measure = ?",
            (question.subject, question.measure),
        ).fetchone()
        answer = row[0] if row else '{"answer": "allow", "known": false, "reasons": []}'
        writer = box.get("w")
        if writer is None:
            writer = box["w"] = Writer(path, asyncio.get_running_loop())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        writer.queue.put((question.subject, principal, question.measure, question.purpose, answer, done))
        await done
        return Response(answer, media_type="application/json")

    return app


def serve(port: int, path: Path, key: str) -> None:
    import uvicorn

    app = audited_app(path, {key: "airlines"})
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="httptools", loop="uvloop")
