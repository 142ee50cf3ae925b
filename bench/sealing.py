"""Benchmark: the CPU of sealing one record for storage, against a bare loop of the same C calls.

    .venv/bin/python bench/sealing.py [--records N] [--repeat R]

The rows are ``bench/ingest.py``'s (a synthetic city's records), validated and converted as ingest
converts them. Timed in process CPU time, per record, the best of ``--repeat`` passes:

- **sealing, new keys**: ``Sealing.seal_chunk`` over the rows with an empty key cache and table,
  so each (subject, year) gets a new data key (made, wrapped, inserted): what a batch of new
  subjects costs (``bench/ingest.py`` makes a key every 3.3 records);
- **sealing, keys cached**: the same, the keys already in this process's cache;
- **floor**: the same records sealed by a bare loop a peer would write, given the ciphers, the
  pseudonyms and the pads of the HMAC key already at hand: per record the keyed id and the keyed
  claim (HMAC-SHA256 from the precomputed pads), AES-GCM under a slice of one random pool, base64,
  the stored preimage and its SHA-256. It checks nothing and builds nothing else, so it is what
  the Python calls cost with no bookkeeping between them.

The floor's rows are checked against the sealing's (the same ids, claims, classes and pseudonyms;
every ciphertext opens under its key and id). Decision 0092 gives the figures and the load.
"""

from __future__ import annotations

import argparse
import binascii
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import load_average  # noqa: E402
from ingest import make_rows  # noqa: E402

from socialcredit import ledger  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.service import utcnow  # noqa: E402
from socialcredit.service.sealing import Sealer  # noqa: E402
from socialcredit.shredding import Vault  # noqa: E402
from socialcredit.store import Store  # noqa: E402
from socialcredit.store.sealedrows import Sealing  # noqa: E402


def floor(
    rows: Sequence[tuple[Any, ...]], pseud: Sequence[str], classes: Sequence[str], ciphers: Any, vault: Vault
) -> list[tuple[Any, ...]]:
    """The bare loop (module docstring): the stored rows, built from the same C calls."""
    keyed = vault.keyed()
    inner, outer = keyed._inner, keyed._outer  # noqa: SLF001 - the pads, as a bare loop would hold them
    ids_inner = inner.copy()
    ids_inner.update(b"record\x1f")
    ic, rc, oc = inner.copy, ids_inner.copy, outer.copy
    sha256, b64, nul = hashlib.sha256, binascii.b2a_base64, "\x00"
    nonces = os.urandom(12 * len(rows))
    out = []
    keep = out.append
    at = 0
    for r, p, klass in zip(rows, pseud, classes, strict=True):
        unkeyed, subj, kind, item, src, srid, occ, rep, given, ev, act, corr, det, _, plain_claim = r
        h = rc()
        h.update(unkeyed.encode())
        o = oc()
        o.update(h.digest())
        rid = o.hexdigest()[:32]
        h = ic()
        h.update(plain_claim.encode())
        o = oc()
        o.update(h.digest())
        claim = o.hexdigest()
        nonce = nonces[at : at + 12]
        at += 12
        plain = f"{subj}\x1f{nul if ev is None else ev}\x1f{det}\x1f{srid}".encode()
        text = b64(nonce + ciphers[(p, klass)].encrypt(nonce, plain, rid.encode()), newline=False).decode()
        stamp = f"{rep[:10]}T{rep[11:19]}"
        corr_text = "\x00" if corr is None else corr
        pre = (
            f"v2\x1f{rid}\x1f{p}\x1f{kind}\x1f{item}\x1f{src}\x1f\x1f{occ[:10]}\x1f{stamp}\x1f"
            f"{1 if given else 0}\x1f{act}\x1f{corr_text}\x1f{klass}\x1f{text}\x1f{claim}"
        )
        content = sha256(pre.encode()).hexdigest()
        keep((rid, p, kind, item, src, "", occ, rep, given, None, act, corr, "", content, claim, klass, text))
    return out


def run(records: int, repeat: int) -> dict[str, Any]:
    registry = shipped_registry()
    load_before = load_average()
    raws = make_rows(records, 2014, registry)
    work = Path(tempfile.mkdtemp(prefix="sc-bench-sealing-"))
    store = Store(f"sqlite:///{work / 'keys.db'}")
    try:
        sealer = Sealer(registry, utcnow(), None, store.stored_row(), None, content=False)
        rows = [values for values, _ in sealer.many(raws) if values is not None]
        base = store.sealing.vault
        base.keyed()  # the pseudonym key made once, outside every timing
        fresh, cached, bare = [], [], []
        clock = time.process_time
        for _ in range(repeat):
            sealing = Sealing(Vault(base.store, base.master))
            sealing.vault.keyed()
            t0 = clock()
            sealed, refused = sealing.seal_chunk(rows)
            fresh.append(clock() - t0)
            assert not refused and all(s is not None for s in sealed)
            t0 = clock()
            sealing.seal_chunk(rows)
            cached.append(clock() - t0)
            pseud = [sealing.pseudonym(r[1]) for r in rows]
            classes = [str(r[6])[:4] for r in rows]
            ciphers = sealing.vault.keys(list(zip(pseud, classes, strict=True)))
            t0 = clock()
            made = floor(rows, pseud, classes, ciphers, sealing.vault)
            bare.append(clock() - t0)
            check(sealing, sealed, made)
            with store.engine.begin() as conn:  # the next pass makes its keys again
                conn.exec_driver_sql("DELETE FROM data_keys WHERE pseudonym != ''")
        n = len(rows)
        us = 1e6 / n
        best_fresh, best_cached, best_floor = min(fresh) * us, min(cached) * us, min(bare) * us
        return {
            "records": n,
            "keys": len(set(zip(pseud, classes, strict=True))),
            "sealing_new_keys_us": round(best_fresh, 2),
            "sealing_cached_us": round(best_cached, 2),
            "floor_us": round(best_floor, 2),
            "ratio_cached": round(best_cached / best_floor, 2),
            "runs_new_keys_us": [round(s * us, 2) for s in fresh],
            "runs_cached_us": [round(s * us, 2) for s in cached],
            "runs_floor_us": [round(s * us, 2) for s in bare],
            "load_average_before": load_before,
            "load_average": load_average(),
        }
    finally:
        store.close()
        for f in work.iterdir():
            f.unlink()
        work.rmdir()


def check(
    sealing: Sealing, sealed: Sequence[tuple[Any, ...] | None], made: Sequence[tuple[Any, ...]]
) -> None:
    """The floor stored what sealing stores: the same ids, pseudonyms, claims and classes, and a
    ciphertext that opens under the record's key and id to the same content; the stored hash is
    the ledger's own hash of the floor's row."""
    for s, m in zip(sealed, made, strict=True):
        assert s is not None
        if s[:5] != m[:5] or s[14:16] != m[14:16]:
            raise AssertionError(f"the floor sealed {m[:5]}, sealing {s[:5]}")
        cipher = sealing.vault.keys([(m[1], m[15])])[(m[1], m[15])]
        if Sealing.open_one(cipher, m[16], m[0]) != Sealing.open_one(cipher, s[16], s[0]):
            raise AssertionError(f"the floor's ciphertext of {m[0]} does not open to the same content")
        args = (*m[:6], m[6], m[7], m[8], m[10], m[11], m[15], m[16], m[14])
        if ledger.stored_content_hash(*args) != m[13]:
            raise AssertionError(f"the floor's content hash of {m[0]} is not the ledger's")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=40_000)
    p.add_argument("--repeat", type=int, default=5, help="passes of each; the best is kept")
    args = p.parse_args(argv)
    result = run(args.records, args.repeat)
    print(json.dumps(result, indent=2))  # noqa: T201 - a bench's output
    return result


if __name__ == "__main__":
    main()
