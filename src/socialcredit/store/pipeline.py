"""A two-stage pipeline for appending chunks: chunk N's transaction on a writer thread while this
thread prepares chunk N+1 (decision 0104).

Why a thread helps where it did not on SQLite (decision 0011): on PostgreSQL most of a chunk's
transaction is the server's (the ``COPY`` into the records' indexes, the dedup probe, the Merkle
tiles, the commit), and psycopg waits for the server with the GIL released. While it waits, this
thread encrypts the next chunk (``Sealing.seal_chunk``) and takes it from the sealing helper. The
bare ``COPY`` the ingest is measured against has the server doing the same work, so the overlap
is the one a peer's loader gets by streaming.

What stays as it was: chunks are written one at a time, in order, each in its own transaction, so
the chain, the dedup and a crash's loss (at most the chunk in flight) are those of the plain loop.
A chunk's outcome is yielded before the next chunk's transaction starts, so a caller that stops
after an outcome leaves nothing written it was not told of; preparing writes nothing but data
keys, which a chunk never written leaves unused, as a helper's sealing ahead always could.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socialcredit.ledger import Quarantined

if TYPE_CHECKING:
    from socialcredit.store.records import PendingChunk


@dataclass(frozen=True, slots=True)
class Prepared:
    """A chunk made ready for its transaction (``RecordStore._prepare`` in ``store/records.py``):
    the rows as stored (``maybe``: None where the key was destroyed; ``stored``: the others), each
    stored row's converted record in the clear, row number and submitted row, the quarantined rows
    so far, and the month's quarantine key."""

    chunk: PendingChunk
    maybe: Sequence[tuple[Any, ...] | None]
    stored: Sequence[tuple[Any, ...]]
    plains: Sequence[tuple[Any, ...]]
    numbers: Sequence[int]
    raws: Sequence[Mapping[str, Any]]
    q_out: list[Quarantined]
    qclass: str
    qcipher: AESGCM | None


_C = TypeVar("_C")
_P = TypeVar("_P")
_O = TypeVar("_O")


def pipelined(
    chunks: Iterable[_C], prepare: Callable[[_C], _P], write: Callable[[_P], _O]
) -> Iterator[tuple[_C, _O]]:
    """Each chunk with what ``write`` gave for it, in order: ``prepare`` runs here, ``write`` on one
    writer thread, chunk N's write alongside chunk N+1's taking and preparing. An error in either
    stops the batch: a chunk whose write started is finished and yielded first (so its commit is
    counted), then the error is raised."""
    with ThreadPoolExecutor(1, thread_name_prefix="ledger-writer") as writer:
        it = iter(chunks)
        pending: tuple[_C, Future[_O]] | None = None
        while True:
            try:
                chunk = next(it, _END)
                if chunk is _END:
                    break
                ready = prepare(chunk)  # type: ignore[arg-type]
            except BaseException:
                if pending is not None:  # the write in flight is committed (or fails) first
                    yield pending[0], pending[1].result()
                raise
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (chunk, writer.submit(write, ready))  # type: ignore[assignment]
        if pending is not None:
            yield pending[0], pending[1].result()


_END = object()
