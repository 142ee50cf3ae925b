"""Benchmark: what the sealed registry costs to write and read (decisions 0074, 0086), one run.

    .venv/bin/python bench/registry.py [--people N] [--organisations M] [--repeat R] [--write]

A city of ``--people`` persons and ``--organisations`` organisations, each organisation with one
of the persons as its legal representative (decision 0074 measured 4,000 and 1,000), registered
in one call into a fresh SQLite file, then each read in a fresh ``Store`` (a new process's:
no key, pseudonym or code cached, so every data key is read and unwrapped once):

- **register**: ``Store.upsert_subjects`` of the whole city (a key made per subject, every
  registration sealed and chained, the terms folded);
- **subject_rows**: ``Store.subject_rows()``, every registration opened;
- **representatives**: ``Store.representatives()``, every organisation's row opened;
- **export**: ``export_ledger`` of the registry (numbering, the subjects file, whose codes come
  from the registry, and ``representatives.parquet``, every term opened).

The **floor** of the two reads is the same work done bare, as a peer would write it for the
sealed table: one ``sqlite3`` query of the rows, their data keys read by pseudonym in chunks
and unwrapped, each row opened by one AES-GCM call and parsed; no SQLAlchemy, no checks.
Each figure is the best of ``--repeat`` runs, in milliseconds, wall and (in brackets) this
process's CPU time: on a shared machine the wall time is mostly waiting for a core.
``--write`` adds them to docs/benchmarks.md; ``tests/test_registry_bench.py`` runs a small one.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, report  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from stdnum.cn import ric, uscc  # noqa: E402

from socialcredit import codes  # noqa: E402
from socialcredit.engines.export import export_ledger  # noqa: E402
from socialcredit.store import Store, SubjectRow  # noqa: E402

SECTION = """## The sealed registry: registering and reading (bench/registry.py)

A city registered in one call, then read by a fresh store (every key read and unwrapped once).
The floor of a read is the same rows opened bare: one `sqlite3` query, the keys read in chunks and
unwrapped, one AES-GCM call a row. Milliseconds, wall (CPU). Decisions 0074 and 0086."""
MARKER = "registry-results"
HEADER = [
    "| Date | People / organisations | Register | subject_rows | its floor | representatives | its floor "
    "| Export | Load |",
    "|---|---|---|---|---|---|---|---|---|",
]
NONCE = 12


def person(n: int) -> str:
    """A valid resident ID number, different for each ``n`` below 360,000."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=n // 1000)
    body = f"371082{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def org(n: int) -> str:
    """A valid Unified Social Credit Code, different for each ``n`` below a million."""
    code8 = f"MA{n:06d}"
    body = "91371082" + code8 + codes.organisation_check_character(code8)
    return body + uscc.calc_check_digit(body)


def city(people: int, organisations: int) -> list[SubjectRow]:
    persons = [person(i) for i in range(people)]
    rows = [
        SubjectRow(p, "person", f"Person {i}", "F" if i % 2 else "M", "Yatou") for i, p in enumerate(persons)
    ]
    since = dt.date(2020, 1, 1)
    for i in range(organisations):
        rows.append(SubjectRow(org(i), "organisation", f"Firm {i}", None, None, persons[i % people], since))
    return rows


def bare_open(path: Path, master: bytes, where: str) -> list[tuple[str, str | None]]:
    """The floor: ``subjects`` rows (``where``) opened bare; each (code, representative's code)."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute(f"SELECT subject, klass, sealed FROM subjects {where}").fetchall()
        wrapping = AESGCM(master)
        ciphers: dict[tuple[str, str], AESGCM] = {}
        names = sorted({p for p, _, _ in rows})
        for i in range(0, len(names), 800):
            part = names[i : i + 800]
            marks = ",".join("?" * len(part))
            q = f"SELECT pseudonym, klass, key_id, wrapped FROM data_keys WHERE pseudonym IN ({marks})"
            for p, k, kid, wrapped in db.execute(q, part):
                aad = f"{p}\x1f{k}\x1f{kid}".encode()
                ciphers[(p, k)] = AESGCM(wrapping.decrypt(wrapped[:NONCE], wrapped[NONCE:], aad))
        out = []
        for p, k, sealed in rows:
            blob = base64.b64decode(sealed)
            text = ciphers[(p, k)].decrypt(blob[:NONCE], blob[NONCE:], f"subject\x1f{p}".encode())
            values = json.loads(text)
            out.append((values[0], values[5] if len(values) > 5 else None))
        return out
    finally:
        db.close()


def best(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """The best wall time and the best CPU time (this process's) of ``repeat`` runs: on a shared
    machine the wall time is mostly waiting for a core, the CPU time is the work."""
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def ms(pair: tuple[float, float]) -> tuple[float, float]:
    return round(pair[0] * 1000, 1), round(pair[1] * 1000, 1)


def measure(people: int, organisations: int, repeat: int, work: Path) -> dict[str, Any]:
    rows = city(people, organisations)
    at = dt.datetime(2026, 12, 7, 10, 0)
    register: list[tuple[float, float]] = []
    path = work / "registry-0.sqlite"
    for n in range(repeat):  # a fresh file each time: registering is a first registration
        path = work / f"registry-{n}.sqlite"
        store = Store(f"sqlite:///{path}")
        try:
            register.append(best(1, lambda s=store: s.upsert_subjects(rows, at)))
        finally:
            store.close()
        assert sum(1 for _ in sqlite3.connect(path).execute("SELECT subject FROM subjects")) == len(rows)
    url = f"sqlite:///{path}"

    def cold(read: Callable[[Store], object]) -> tuple[float, float]:
        """The best of ``repeat`` reads, each by a store opened just before (not timed)."""
        found = []
        for _ in range(repeat):
            store = Store(url)
            try:
                found.append(best(1, lambda s=store: read(s)))
            finally:
                store.close()
        return min(w for w, _ in found), min(c for _, c in found)

    probe = Store(url)
    master = probe.sealing.vault.master.secret
    expected = probe.subject_rows()
    probe.close()
    floor_rows = bare_open(path, master, "")
    assert sorted(c for c, _ in floor_rows) == [r.code for r in expected]  # the floor does the same work
    out = work / "export"
    reps = "WHERE legal_representative IS NOT NULL"
    figures = {
        "register_ms": ms((min(w for w, _ in register), min(c for _, c in register))),
        "subject_rows_ms": ms(cold(lambda s: s.subject_rows())),
        "subject_rows_floor_ms": ms(best(repeat, lambda: bare_open(path, master, ""))),
        "representatives_ms": ms(cold(lambda s: s.representatives())),
        "representatives_floor_ms": ms(best(repeat, lambda: bare_open(path, master, reps))),
        "export_ms": ms(cold(lambda s: export_ledger(s, out, full=True))),
    }
    return {"people": people, "organisations": organisations, **figures}


def write_markdown(r: Mapping[str, Any], doc: Path) -> None:
    def cell(name: str) -> str:
        wall, cpu = r[name]
        return f"{wall:,} ({cpu:,})"

    line = (
        f"| {r['date']} | {r['people']:,} / {r['organisations']:,} | {cell('register_ms')} "
        f"| {cell('subject_rows_ms')} | {cell('subject_rows_floor_ms')} | {cell('representatives_ms')} "
        f"| {cell('representatives_floor_ms')} | {cell('export_ms')} | {r['load']} |"
    )
    add_results(doc, SECTION, MARKER, [*HEADER, line, ""])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=4_000)
    p.add_argument("--organisations", type=int, default=1_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", default=None)
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sc-registry-", dir=args.dir) as tmp:
        os.environ.setdefault("SOCIALCREDIT_HOME", tmp)
        load = load_average()
        result: dict[str, Any] = {"date": now_utc()[:10], "machine": machine()}
        result.update(measure(args.people, args.organisations, args.repeat, Path(tmp)))
        result["load"] = f"{load} / {load_average()}"
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
