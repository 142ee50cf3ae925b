"""Reading agency files: CSV, JSON Lines and Parquet, one row at a time.

A reader never stops at a bad row and never drops one: a line that cannot be parsed becomes a
:class:`~socialcredit.ledger.Quarantined` row carrying its line number, the raw text and the
reason, and the ledger's validation judges the rest. Only a file that cannot be read at all (no
such file, unknown format, a header with unknown columns) is refused whole, before anything is
ingested.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from socialcredit.ledger import FIELDS, Quarantined

MAX_LINE = 64_000
Row = tuple[int, dict[str, Any]] | Quarantined


class FileRefused(ValueError):
    """The file as a whole cannot be ingested; nothing was read into the ledger."""


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in ("csv", "jsonl", "parquet"):
            raise FileRefused(f"--format: {fmt!r} is not one of csv, jsonl, parquet")
        return fmt
    suffix = path.suffix.lower()
    known = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
    if suffix not in known:
        raise FileRefused(
            f"{path.name}: cannot tell the format from {suffix or 'no extension'!r}; "
            "use .csv, .jsonl or .parquet, or give --format"
        )
    return known[suffix]


def count_rows(path: Path, fmt: str) -> int | None:
    """Rows in the file, for a progress bar (None when counting would cost a full parse)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as fh:
        lines = sum(1 for line in fh if line.strip())
    return lines - 1 if fmt == "csv" else lines


def read_rows(path: Path, fmt: str | None = None, fields: tuple[str, ...] = FIELDS) -> Iterator[Row]:
    """Yield ``(row_number, fields)`` or a quarantined row, for every row of the file."""
    if not path.is_file():
        raise FileRefused(f"{path}: no such file")
    kind = detect_format(path, fmt)
    if kind == "csv":
        return _csv(path, fields)
    if kind == "jsonl":
        return _jsonl(path)
    return _parquet(path, fields)


def _decode(raw: bytes, n: int) -> str | Quarantined:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Quarantined(
            n,
            {"_raw": raw[:2000].decode("utf-8", "replace")},
            (f"line {n}: not UTF-8 text (byte {exc.start})",),
        )


def _jsonl(path: Path) -> Iterator[Row]:
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            text = _decode(raw, n)
            if isinstance(text, Quarantined):
                yield text
                continue
            if len(raw) > MAX_LINE:
                yield Quarantined(n, {"_raw": text[:2000]}, (f"line {n}: longer than {MAX_LINE} bytes",))
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Quarantined(n, {"_raw": text[:2000]}, (f"line {n}: not valid JSON ({exc.msg})",))
                continue
            if not isinstance(value, dict):
                yield Quarantined(
                    n,
                    {"_raw": text[:2000]},
                    (f"line {n}: a record must be a JSON object, got {type(value).__name__}",),
                )
                continue
            yield n, value


def _csv(path: Path, fields: tuple[str, ...]) -> Iterator[Row]:
    with path.open("rb") as fh:
        header_raw = fh.readline()
        try:
            header_text = header_raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileRefused(f"{path.name}: the header line is not UTF-8 text") from None
        header = next(csv.reader([header_text]), [])
        header = [h.strip() for h in header]
        unknown = [h for h in header if h not in fields]
        if unknown or not header:
            raise FileRefused(
                f"{path.name}: unknown column {unknown[0]!r}; allowed: {', '.join(fields)}"
                if unknown
                else f"{path.name}: empty file (no header line)"
            )
        if len(set(header)) != len(header):
            raise FileRefused(f"{path.name}: a column appears twice in the header")
        for n, raw in enumerate(fh, start=2):
            if not raw.strip():
                continue
            text = _decode(raw, n)
            if isinstance(text, Quarantined):
                yield text
                continue
            try:
                cells = next(csv.reader(io.StringIO(text), strict=True))
            except (csv.Error, StopIteration) as exc:
                yield Quarantined(n, {"_raw": text[:2000]}, (f"line {n}: malformed CSV ({exc})",))
                continue
            if len(cells) != len(header):
                yield Quarantined(
                    n,
                    {"_raw": text[:2000]},
                    (f"line {n}: has {len(cells)} cells, the header has {len(header)}",),
                )
                continue
            yield n, {h: (c if c != "" else None) for h, c in zip(header, cells, strict=True)}


def _parquet(path: Path, fields: tuple[str, ...]) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileRefused(f"{path.name}: not a readable Parquet file ({exc})") from None
    unknown = [c for c in pf.schema_arrow.names if c not in fields]
    if unknown:
        raise FileRefused(f"{path.name}: unknown column {unknown[0]!r}; allowed: {', '.join(fields)}")
    n = 0
    for batch in pf.iter_batches(batch_size=20_000):
        for row in batch.to_pylist():
            n += 1
            yield n, {k: v for k, v in row.items() if v is not None}
