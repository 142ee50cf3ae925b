"""Reading agency files: CSV, JSON Lines and Parquet, one row at a time.

A reader never stops at a bad row and never drops one: a line that cannot be parsed becomes a
:class:`~socialcredit.ledger.Quarantined` row carrying its line number, the raw text and the
reason, and the ledger's validation judges the rest. Only a file that cannot be read at all (no
such file, unknown format, a header with unknown columns) is refused whole, before anything is
ingested. A file that is not UTF-8 text (UTF-16 or UTF-32, with or without a byte order mark) is
refused whole with that reason; a Parquet file is checked whole before its first row is given.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from socialcredit.errors import Refused
from socialcredit.i18n import N_, Text
from socialcredit.ledger import FIELDS, Quarantined

MAX_LINE = 64_000
Row = tuple[int, dict[str, Any]] | Quarantined


class FileRefused(Refused):
    """The file as a whole cannot be ingested; nothing was read into the ledger."""


def _unreadable(exc: BaseException) -> Text:
    return N_("not a readable Parquet file ({problem})", problem=str(exc)[:300])


def _unknown_column(name: str, fields: tuple[str, ...]) -> Text:
    return N_("unknown column {name}; allowed: {allowed}", name=repr(name), allowed=", ".join(fields))


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in ("csv", "jsonl", "parquet"):
            raise FileRefused(N_("{fmt} is not one of csv, jsonl, parquet", fmt=repr(fmt)), field="--format")
        return fmt
    suffix = path.suffix.lower()
    known = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
    if suffix not in known:
        raise FileRefused(
            N_(
                "cannot tell the format from {suffix}; use .csv, .jsonl or .parquet, or give --format",
                suffix=repr(suffix) if suffix else N_("no extension"),
            ),
            field=path.name,
        )
    return known[suffix]


def count_rows(path: Path, fmt: str) -> int | None:
    """Rows in the file, for a progress bar (None when counting would cost a full parse)."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowException, OSError) as exc:
            raise FileRefused(_unreadable(exc), field=path.name) from None
    with path.open("rb") as fh:
        lines = sum(1 for line in fh if line.strip())
    return lines - 1 if fmt == "csv" else lines


def read_rows(path: Path, fmt: str | None = None, fields: tuple[str, ...] = FIELDS) -> Iterator[Row]:
    """Yield ``(row_number, fields)`` or a quarantined row, for every row of the file.

    Everything that can refuse the file whole (its encoding, its header, a Parquet file's
    structure and every page of its data) is checked here, before the first row is yielded, so
    a refused file leaves no trace in the ledger: not even an empty batch."""
    if not path.is_file():
        raise FileRefused(N_("no such file"), field=str(path))
    kind = detect_format(path, fmt)
    if kind == "csv":
        return _csv(path, fields)
    if kind == "jsonl":
        return _jsonl(path)
    return _parquet(path, fields)


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _check_encoding(path: Path, first: bytes) -> None:
    """Refuse a file that is not UTF-8 text as a whole, naming what it looks like: every line of
    a UTF-16 export would otherwise be quarantined one by one for the same reason."""
    for bom, name in _BOMS:
        if first.startswith(bom):
            raise FileRefused(
                N_("the file is {encoding} text; save it as UTF-8 and send it again", encoding=name),
                field=path.name,
            )
    if b"\x00" in first:
        raise FileRefused(
            N_(
                "the first line contains NUL bytes (binary data, or UTF-16/UTF-32 text without a byte "
                "order mark); save it as UTF-8 text and send it again"
            ),
            field=path.name,
        )


def _lines(fh: BinaryIO, start: int) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, bytes, too long)`` for each line, never holding more than ``MAX_LINE``
    bytes of one line in memory (a file with no newlines is not read whole)."""
    n = start - 1
    while True:
        raw = fh.readline(MAX_LINE + 1)
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while (rest := fh.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            yield n, raw[:2000], True
            continue
        yield n, raw, False


def _decode(raw: bytes, n: int) -> str | Quarantined:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Quarantined(
            n,
            {"_raw": raw[:2000].decode("utf-8", "replace")},
            (N_("line {n}: not UTF-8 text (byte {byte})", n=n, byte=exc.start),),
        )


def _too_long(n: int, raw: bytes) -> Quarantined:
    return Quarantined(
        n,
        {"_raw": raw[:2000].decode("utf-8", "replace")},
        (N_("line {n}: longer than {limit} bytes", n=n, limit=MAX_LINE),),
    )


def _jsonl(path: Path) -> Iterator[Row]:
    fh = path.open("rb")
    try:
        _check_encoding(path, fh.readline(MAX_LINE))
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return _jsonl_rows(fh)


def _jsonl_rows(fh: BinaryIO) -> Iterator[Row]:
    with fh:
        for n, raw, too_long in _lines(fh, 1):
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte order mark, as some spreadsheet exports write
            if not raw.strip():
                continue
            if too_long:
                yield _too_long(n, raw)
                continue
            text = _decode(raw, n)
            if isinstance(text, Quarantined):
                yield text
                continue
            try:
                value = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                yield Quarantined(
                    n, {"_raw": text[:2000]}, (N_("line {n}: not valid JSON ({problem})", n=n, problem=msg),)
                )
                continue
            except ValueError as exc:  # e.g. an integer with more digits than Python converts
                yield Quarantined(
                    n,
                    {"_raw": text[:2000]},
                    (N_("line {n}: not valid JSON ({problem})", n=n, problem=str(exc)),),
                )
                continue
            if not isinstance(value, dict):
                yield Quarantined(
                    n,
                    {"_raw": text[:2000]},
                    (
                        N_(
                            "line {n}: a record must be a JSON object, got {type}",
                            n=n,
                            type=type(value).__name__,
                        ),
                    ),
                )
                continue
            yield n, value


def _csv(path: Path, fields: tuple[str, ...]) -> Iterator[Row]:
    fh = path.open("rb")
    try:
        header = _csv_header(path, fh, fields)
    except BaseException:
        fh.close()
        raise
    return _csv_rows(fh, header)


def _csv_header(path: Path, fh: BinaryIO, fields: tuple[str, ...]) -> list[str]:
    header_raw = fh.readline(MAX_LINE + 1)
    _check_encoding(path, header_raw)
    if len(header_raw) > MAX_LINE:
        raise FileRefused(N_("the header line is longer than {limit} bytes", limit=MAX_LINE), field=path.name)
    try:
        header_text = header_raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(
            N_("the header line is not UTF-8 text; save it as UTF-8"), field=path.name
        ) from None
    try:
        header = next(csv.reader([header_text], strict=True), [])
    except csv.Error as exc:
        raise FileRefused(
            N_("the header line is malformed CSV ({problem})", problem=str(exc)), field=path.name
        ) from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in fields]
    if unknown or not header:
        raise FileRefused(
            _unknown_column(unknown[0][:40], fields) if unknown else N_("empty file (no header line)"),
            field=path.name,
        )
    if len(set(header)) != len(header):
        raise FileRefused(N_("a column appears twice in the header"), field=path.name)
    return header


def _csv_rows(fh: BinaryIO, header: list[str]) -> Iterator[Row]:
    with fh:
        for n, raw, too_long in _lines(fh, 2):
            if not raw.strip():
                continue
            if too_long:
                yield _too_long(n, raw)
                continue
            text = _decode(raw, n)
            if isinstance(text, Quarantined):
                yield text
                continue
            try:
                cells = next(csv.reader(io.StringIO(text), strict=True))
            except (csv.Error, StopIteration) as exc:
                yield Quarantined(
                    n,
                    {"_raw": text[:2000]},
                    (N_("line {n}: malformed CSV ({problem})", n=n, problem=str(exc)),),
                )
                continue
            if len(cells) != len(header):
                yield Quarantined(
                    n,
                    {"_raw": text[:2000]},
                    (
                        N_(
                            "line {n}: has {cells} cells, the header has {header}",
                            n=n,
                            cells=len(cells),
                            header=len(header),
                        ),
                    ),
                )
                continue
            yield n, {h: (c if c != "" else None) for h, c in zip(header, cells, strict=True)}


def _parquet(path: Path, fields: tuple[str, ...]) -> Iterator[Row]:
    """Check the whole file, then stream it.

    Why two passes: Parquet is read a row group at a time, and a damaged page in the last row
    group would otherwise be found after the earlier chunks were committed, leaving half the
    file in the ledger. The first pass decodes and converts every value (what the second pass
    will do) and discards it, so any damage the format can detect refuses the file whole. It
    costs a second decode, small beside validating and storing the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def refuse(exc: BaseException) -> FileRefused:
        return FileRefused(_unreadable(exc), field=path.name)

    try:
        pf = pq.ParquetFile(path)
        unknown = [c for c in pf.schema_arrow.names if c not in fields]
        if unknown:
            raise FileRefused(_unknown_column(unknown[0], fields), field=path.name)
        n_rows = 0
        for batch in pf.iter_batches(batch_size=20_000):
            batch.validate(full=True)
            n_rows += len(batch.to_pylist())
        if n_rows != pf.metadata.num_rows:
            raise FileRefused(
                N_(
                    "not a readable Parquet file (read {n} rows, its footer says {footer})",
                    n=n_rows,
                    footer=pf.metadata.num_rows,
                ),
                field=path.name,
            )
    except FileRefused:
        raise
    except (pa.ArrowException, OSError, ValueError, OverflowError, KeyError, IndexError) as exc:
        raise refuse(exc) from None
    return _parquet_rows(pf)


def _parquet_rows(pf: Any) -> Iterator[Row]:
    n = 0
    for batch in pf.iter_batches(batch_size=20_000):
        for row in batch.to_pylist():
            n += 1
            yield n, {k: v for k, v in row.items() if v is not None}
