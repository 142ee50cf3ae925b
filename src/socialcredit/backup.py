"""Backup and restore of the whole state, between any two stores (SQLite and PostgreSQL alike).

Why a logical backup of our own rather than the databases' tools: the same file must restore
into either backend (an installation outgrowing its embedded SQLite moves to PostgreSQL this
way), and a restore must *prove* the history it brings in before accepting it. A backup is
therefore one gzip-compressed JSON Lines file: a header (format, time, the chain heads, rows per
table), one line per row of every table, and a trailer with the row count and a SHA-256 of every
line before it, so a truncated or altered file is refused before anything is read into a store.

Restore first loads the file into a scratch SQLite database and runs the very same chain
verification ``socialcredit verify`` runs; only if every chain holds is it copied into the target,
in one transaction. The target must be empty: a restore never merges two histories.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Date, DateTime, LargeBinary, MetaData, Table, create_engine, delete, func, select
from sqlalchemy.engine import Connection

from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.shredding import Erasure, KeyStore, WrappedKey
from socialcredit.store import Store, migrations
from socialcredit.store import tables as t
from socialcredit.store.dialect import Dialect, dialect_for

FORMAT = "socialcredit-backup/1"
CHAINS = ("records", "audit", "cases", "registry")
BATCH = 5_000
KEY_TABLES = ("data_keys", "erasures")
"""The key store's rows a backup carries after the ledger's (decision 0046)."""


class BackupError(Refused):
    """The backup cannot be made or restored; the target was not changed."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds (or a restore brought in)."""

    created_at: str
    tables: dict[str, int]
    chains: dict[str, dict[str, Any]]
    schema: str = migrations.BASELINE
    """The schema revision of the database it was taken from (backups before revisions: 0001)."""


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):  # the transparency log's tiles
        return base64.b64encode(bytes(value)).decode()
    return value


def _decoder(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Turn a row read from the file back into the column types (times were written as text)."""
    times = {c.name: dt.datetime.fromisoformat for c in table.columns if isinstance(c.type, DateTime)}
    days = {c.name: dt.date.fromisoformat for c in table.columns if isinstance(c.type, Date)}
    blobs = {c.name: base64.b64decode for c in table.columns if isinstance(c.type, LargeBinary)}
    convert: dict[str, Callable[[Any], Any]] = {**times, **days, **blobs}
    names = {c.name for c in table.columns}

    def decode(row: dict[str, Any]) -> dict[str, Any]:
        unknown = set(row) - names
        if unknown:
            raise BackupError(
                N_("table {table}: unknown column {column!r}", table=table.name, column=sorted(unknown)[0])
            )
        return {k: (convert[k](v) if k in convert and v is not None else v) for k, v in row.items()}

    return decode


def _snapshot(store: Store) -> Connection:
    """A connection whose reads all see one moment: SQLite's write lock (taken at BEGIN by the
    store) keeps writers out; PostgreSQL gives a repeatable-read snapshot without blocking them."""
    conn = store.dialect.snapshot(store.engine.connect())
    conn.begin()
    return conn


def _order(table: Table) -> list[Any]:
    return list(table.primary_key.columns) or list(table.columns)


def dump(store: Store, path: Path, now: dt.datetime) -> Summary:
    """Write every table of ``store`` to ``path`` (refused if a chain is already broken: a backup
    is made to be trusted later)."""
    broken = [c for c in CHAINS if getattr(store, f"verify_{c}")()]
    if broken:
        raise BackupError(
            N_("the {chains} chain is broken; run `socialcredit verify` first", chains=", ".join(broken))
        )
    digest = hashlib.sha256()
    tmp = path.with_name(path.name + ".partial")
    conn = _snapshot(store)
    try:
        counts = {
            tb.name: int(conn.execute(select(func.count()).select_from(tb)).scalar_one())
            for tb in t.metadata.sorted_tables
        }
        key_rows = _key_rows(store.sealing.vault.store)
        for name in KEY_TABLES:
            counts[name] = sum(1 for n, _ in key_rows if n == name)
        chains = {
            c: {"count": int(n), "head": h}
            for c, n, h in conn.execute(
                select(t.chain_heads.c.chain, t.chain_heads.c.count, t.chain_heads.c.head)
            )
        }
        header: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.replace(microsecond=0).isoformat() + "Z",
            "tables": counts,
            "chains": chains,
            "schema": migrations.HEAD,
        }
        with gzip.open(tmp, "wb") as fh:

            def put(obj: dict[str, Any]) -> None:
                line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                digest.update(line)
                fh.write(line)

            put(header)
            total = 0
            for tb in t.metadata.sorted_tables:
                result = conn.execution_options(yield_per=BATCH).execute(select(tb).order_by(*_order(tb)))
                for m in result.mappings():
                    put({"t": tb.name, "r": {k: _encode(v) for k, v in m.items()}})
                    total += 1
            for name, row in key_rows:
                put({"t": name, "r": row})
                total += 1
            trailer = {"end": True, "rows": total, "sha256": digest.hexdigest()}
            fh.write(json.dumps(trailer).encode() + b"\n")
    finally:
        conn.rollback()
        conn.close()
    tmp.replace(path)  # a crash mid-backup never leaves a file that looks complete
    return Summary(header["created_at"], counts, chains, migrations.HEAD)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with gzip.open(path, "rb") as fh:
            for raw in fh:
                yield json.loads(raw)
    except (OSError, EOFError, gzip.BadGzipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(
            N_(
                "{file}: not a readable backup ({problem})",
                file=path.name,
                problem=f"{exc.__class__.__name__}: {exc}",
            )
        ) from None


def check_file(path: Path) -> Summary:
    """Read the whole file once: format, every line accounted for, the digest matches."""
    if not path.is_file():
        raise BackupError(N_("{file}: no such file", file=str(path)))
    digest = hashlib.sha256()
    header: dict[str, Any] | None = None
    rows = 0
    trailer: dict[str, Any] | None = None
    for obj in _lines(path):
        if trailer is not None:
            raise BackupError(N_("{file}: lines after the end of the backup", file=path.name))
        if obj.get("end") is True:
            trailer = obj
            continue
        digest.update(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        if header is None:
            if obj.get("format") != FORMAT:
                raise BackupError(N_("{file}: not a {format} file", file=path.name, format=FORMAT))
            header = obj
        else:
            rows += 1
    if header is None or trailer is None:
        raise BackupError(N_("{file}: the backup is truncated (no end marker)", file=path.name))
    if trailer.get("rows") != rows or trailer.get("sha256") != digest.hexdigest():
        raise BackupError(
            N_("{file}: the backup was altered or damaged (its checksum does not match)", file=path.name)
        )
    if sum(header["tables"].values()) != rows:
        raise BackupError(
            N_(
                "{file}: the header counts {counted} rows, it holds {rows}",
                file=path.name,
                counted=sum(header["tables"].values()),
                rows=rows,
            )
        )
    schema = str(header.get("schema", migrations.BASELINE))
    if schema not in migrations.revisions():
        raise BackupError(
            N_(
                "{file}: taken from a database of schema revision {schema}, made by a newer release "
                "than this one (which knows up to {head}); restore it with that release",
                file=path.name,
                schema=schema,
                head=migrations.HEAD,
            )
        )
    return Summary(header["created_at"], header["tables"], header["chains"], schema)


def _key_rows(keys: KeyStore) -> list[tuple[str, dict[str, Any]]]:
    """The live data keys (wrapped: the master key is never in a backup) and the erasure log, as
    backup lines. A key destroyed before the backup is not in it; one destroyed after is, and a
    restore destroys it again by replaying the live erasure log (:func:`_restore_keys`)."""
    out: list[tuple[str, dict[str, Any]]] = [
        ("data_keys", {**w._asdict(), "wrapped": base64.b64encode(w.wrapped).decode()})
        for w in keys.all_wrapped()
    ]
    out += [("erasures", {**asdict(e), "at": e.at.isoformat()}) for e in keys.erasures()]
    return out


def _restore_keys(path: Path, keys: KeyStore) -> None:
    """Bring a backup's keys into the target's key store, then replay every erasure either log
    knows: the target's own log (kept with the keys, outside what a restore replaces) destroys
    the keys an older backup brought back; the backup's log is kept for what records read."""
    wrapped, logged = [], []
    for obj in _lines(path):
        if obj.get("t") == "data_keys":
            r = obj["r"]
            wrapped.append(WrappedKey(**{**r, "wrapped": base64.b64decode(r["wrapped"])}))
        elif obj.get("t") == "erasures":
            r = obj["r"]
            logged.append(Erasure(**{**r, "at": dt.datetime.fromisoformat(r["at"])}))
    keys.add_wrapped_keys(wrapped)
    keys.destroy([*keys.erasures(), *logged])


def _load(path: Path, conn: Connection, dialect: Dialect, shape: MetaData = t.metadata) -> None:
    """Load the backup's rows into tables of ``shape``: this release's, or for a backup of an
    older revision the tables that revision had (a later one may have reshaped a table: 0015)."""
    tables = {tb.name: tb for tb in shape.sorted_tables}
    decoders = {name: _decoder(tb) for name, tb in tables.items()}
    conn.execute(delete(t.chain_heads))
    pending: dict[str, list[dict[str, Any]]] = {}

    def flush(name: str) -> None:
        if pending.get(name):
            conn.execute(tables[name].insert(), pending.pop(name))

    first = True
    for obj in _lines(path):
        if first or obj.get("end") is True:
            first = False
            continue
        name = obj.get("t")
        if name in KEY_TABLES:
            continue  # the key store's, restored apart (_restore_keys)
        if name not in tables:
            raise BackupError(N_("unknown table {table!r} in the backup", table=name))
        pending.setdefault(name, []).append(decoders[name](obj["r"]))
        if len(pending[name]) >= BATCH:
            flush(name)
    for name in list(pending):
        flush(name)
    dialect.after_load(conn, list(tables.values()))


def _is_empty(conn: Connection) -> bool:
    for tb in t.metadata.sorted_tables:
        if tb is not t.chain_heads and conn.execute(select(func.count()).select_from(tb)).scalar_one():
            return False
    return all(n == 0 for (n,) in conn.execute(select(t.chain_heads.c.count)))


def restore(path: Path, target: Store) -> Summary:
    """Restore ``path`` into the empty store ``target``, after proving every chain in it."""
    summary = check_file(path)
    with target.engine.connect() as conn:
        if not _is_empty(conn):
            raise BackupError(N_("the target database is not empty; restore into a new database"))
    with tempfile.TemporaryDirectory(prefix="sc-restore-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'staging.db'}"
        if summary.schema != migrations.HEAD:  # an older release's backup: upgraded on the way
            path, summary = _upgraded(path, summary, url, Path(scratch))
            url = f"sqlite:///{Path(scratch) / 'upgraded.db'}"
        staging = Store(url)
        try:
            with staging.engine.begin() as conn:
                _load(path, conn, staging.dialect)
            problems = {c: getattr(staging, f"verify_{c}")() for c in CHAINS}
        finally:
            staging.close()
        broken = {c: p for c, p in problems.items() if p}
        if broken:
            named = "; ".join(f"{c}: {p[0]}" for c, p in broken.items())
            raise BackupError(
                N_(
                    "{file}: the chains in the backup do not verify ({named}); nothing restored",
                    file=path.name,
                    named=named,
                )
            )
        done = _into(path, summary, target)
        _restore_keys(path, target.sealing.vault.store)
        return done


def _upgraded(path: Path, summary: Summary, url: str, scratch: Path) -> tuple[Path, Summary]:
    """A backup of an older schema revision, loaded into a scratch database of that revision,
    upgraded by the same migrations an installation runs, and written out again at this one."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), summary.schema)
            then = MetaData()
            then.reflect(conn)
            _load(path, conn, dialect_for(url), then)
        migrations.bring_up_to_date(engine)
    finally:
        engine.dispose()
    upgraded = Store(url)
    try:
        newer = scratch / "upgraded.jsonl.gz"
        dump(upgraded, newer, dt.datetime.fromisoformat(summary.created_at.rstrip("Z")))
    finally:
        upgraded.close()
    return newer, check_file(newer)


def _into(path: Path, summary: Summary, target: Store) -> Summary:
    """Copy a proven backup into the empty ``target``, in one transaction."""
    with target.engine.begin() as conn:  # one transaction: all of it or none of it
        if not _is_empty(conn):
            raise BackupError(N_("the target database is not empty; restore into a new database"))
        _load(path, conn, target.dialect)
        heads = {
            c: {"count": int(n), "head": h}
            for c, n, h in conn.execute(
                select(t.chain_heads.c.chain, t.chain_heads.c.count, t.chain_heads.c.head)
            )
        }
        if heads != summary.chains:
            raise BackupError(
                N_("{file}: its chain heads do not match its header; nothing restored", file=path.name)
            )
    return summary
