"""Chains with entries in each of the four logs, for the transparency log's tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from socialcredit import checkpoints
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.service.decisions import Question
from socialcredit.store import Store
from socialcredit.subjects import SubjectRow
from socialcredit.tlog import note
from tests.conftest import person

P, Q = person(17), person(18)
"""The records' subject, and the case events' (apart, so P's decisions fold no case)."""
LOGS = ("records", "audit", "cases", "registry")


def fill(system: System, n: int, *, start: int = 0) -> None:
    """Append ``n`` entries (about) to each chain through its real append path: registrations,
    an ingest of records about ``P`` (with its own audit entry), decisions, case events."""
    system.register([SubjectRow(person(100 + start + i), "person") for i in range(n)])
    ingest_records(system, n, start=start)
    for i in range(n - 1):
        system.check(Question(P, "no-flights", system.operator(), purpose=f"ticket {start + i}"))
    for i in range(n):
        system.store.append_case_event(
            CaseEvent(f"obj-{start + i}", "objection", "filed", system.clock(), Q, None, None, {"n": i})
        )


def ingest_records(system: System, n: int, *, start: int = 0) -> None:
    """Append ``n`` records about ``P`` in one batch (with its evidence, which no leaf holds)."""
    rows = [
        (i, {"subject": P, "item": "traffic.minor", "source": "traffic-police",
             "source_record_id": f"v-{start + i}", "occurred_on": "2026-04-01", "evidence": f"photo {i}"})
        for i in range(n)
    ]  # fmt: skip
    assert system.ingest(rows, origin="test", principal=system.operator()).accepted == n


def installation(tmp: Path) -> tuple[str, Path, note.Signer, System, Path]:
    """A SQLite installation under ``tmp`` to serve: its URL, its home, the log's signer (the
    home's key, as the server started there signs with), a System over it and the published PEM."""
    url = f"sqlite:///{tmp / 'log.db'}"
    home = tmp / "home"
    signer = note.Signer(checkpoints.DEFAULT_ORIGIN, checkpoints.load_or_create_key(home))
    system = System(Store(url), shipped_registry(), signer=signer)
    pem = tmp / "log.pem"
    pem.write_text(checkpoints.public_pem(signer.public))
    return url, home, signer, system, pem


def independent_root(hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1's MTH over leaf hashes, written apart from the server's ``tlog/merkle.py``."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + independent_root(hashes[:k]) + independent_root(hashes[k:])).digest()
