"""Bad input: whatever an agency sends, ingestion either refuses the whole file with a reason
(before anything reaches the ledger) or gives every row exactly one outcome; it never raises
anything else and never applies half a file. Property tests (hypothesis) over every format,
plus hand-made corrupt, truncated and wrongly encoded files. Runs on SQLite and PostgreSQL.

Why property tests: agencies' exports are produced by dozens of systems we do not control; the
cases nobody thinks of (a NUL in a cell, a float for a date, a nested list for a subject) are
exactly the ones hypothesis generates.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit import formats, ledger
from socialcredit.ledger import FIELDS
from socialcredit.service import System
from tests.conftest import person

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
P = person(41)


def good(n: int, **kw: Any) -> dict[str, Any]:
    return {
        "subject": P,
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": f"g-{n}",
        "occurred_on": "2026-03-01",
        "reported_at": "2026-03-02T08:00:00",
        **kw,
    }


def ingest_file(system: System, path: Path) -> ledger.IngestResult | formats.FileRefused:
    """Ingest a file; a whole-file refusal is returned (the only exception allowed), and a
    refusal must leave the ledger exactly as it was."""
    before = system.store.head("records")
    batches = system.store.batches_by_origin()
    try:
        result = system.ingest(formats.read_rows(path), origin=path.name, principal=system.operator())
    except formats.FileRefused as exc:
        assert system.store.head("records") == before, "a refused file changed the ledger"
        assert system.store.batches_by_origin() == batches, "a refused file left a batch behind"
        assert str(exc)
        return exc
    assert result.accepted + result.duplicate + result.quarantined == result.submitted
    assert all(q.reasons and all(q.reasons) for q in result.quarantine)
    assert system.store.head("records")[0] == before[0] + result.accepted
    return result


# ------------------------------------------------------------------------------ strategies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# mostly plausible values, sometimes junk, so that some rows get through validation
field_values = st.one_of(
    st.sampled_from([P, person(42), "12345", "", " ", "traffic.minor", "traffic-police", "court"]),
    st.sampled_from(["2026-03-01", "2026-02-30", "3000-01-01", "2026-03-02T08:00:00", "x"]),
    st.sampled_from(["report", "correct", "withdraw", '{"a": 1}', "[1]"]),
    json_values,
)
rows = st.dictionaries(
    st.sampled_from([*FIELDS, "colour"]) | st.text(max_size=6), field_values, max_size=len(FIELDS) + 1
)


def _result_ok(system: System, path: Path) -> None:
    out = ingest_file(system, path)
    if isinstance(out, ledger.IngestResult):
        assert system.verify()["records"] == []


# ------------------------------------------------------------------------------ JSON Lines


@SETTINGS
@given(data=st.lists(rows, max_size=8))
def test_jsonl_any_objects(system: System, tmp_path: Path, data: list[dict[str, Any]]) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("".join(json.dumps(r, default=str) + "\n" for r in [good(1), *data]))
    out = ingest_file(system, path)
    assert isinstance(out, ledger.IngestResult) and out.submitted == len(data) + 1


@SETTINGS
@given(blob=st.binary(max_size=600))
def test_jsonl_any_bytes(system: System, tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(json.dumps(good(2)).encode() + b"\n" + blob)
    _result_ok(system, path)


# ------------------------------------------------------------------------------ CSV


@SETTINGS
@given(cells=st.lists(st.lists(st.text(max_size=20), min_size=6, max_size=6), max_size=8))
def test_csv_any_cells(system: System, tmp_path: Path, cells: list[list[str]]) -> None:
    import csv

    path = tmp_path / "x.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "item", "source", "source_record_id", "occurred_on", "details"])
        w.writerow([P, "traffic.minor", "traffic-police", "g-3", "2026-03-01", ""])
        w.writerows(cells)
    _result_ok(system, path)


@SETTINGS
@given(blob=st.binary(max_size=600), header=st.booleans())
def test_csv_any_bytes(system: System, tmp_path: Path, blob: bytes, header: bool) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((b"subject,item,source,source_record_id,occurred_on\n" if header else b"") + blob)
    _result_ok(system, path)


# ------------------------------------------------------------------------------ Parquet

arrow_columns = st.sampled_from(
    [
        (pa.string(), st.text(max_size=20) | st.sampled_from([P, "traffic.minor", "2026-03-01"])),
        (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
        (pa.float64(), st.floats()),
        (pa.bool_(), st.booleans()),
        (pa.binary(), st.binary(max_size=20)),
        (pa.date32(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
        (pa.timestamp("s"), st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1))),
        (pa.timestamp("s", tz="UTC"), st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1))),
        (pa.decimal128(10, 2), st.decimals(-(10**7), 10**7, places=2, allow_nan=False)),
        (pa.list_(pa.string()), st.lists(st.text(max_size=5), max_size=3)),
        (pa.struct([("a", pa.int64())]), st.fixed_dictionaries({"a": st.integers(-100, 100)})),
    ]
)


@st.composite
def parquet_tables(draw: st.DrawFn) -> pa.Table:
    names = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS)))
    n = draw(st.integers(0, 6))
    cols: dict[str, pa.Array] = {}
    for name in names:
        typ, values = draw(arrow_columns)
        data = draw(st.lists(st.none() | values, min_size=n, max_size=n))
        if typ == pa.timestamp("s", tz="UTC"):
            data = [v.replace(tzinfo=dt.UTC) if v is not None else None for v in data]
        if isinstance(typ, pa.Decimal128Type):
            data = [Decimal(v) if v is not None else None for v in data]
        cols[name] = pa.array(data, type=typ)
    return pa.table(cols) if cols else pa.table({"subject": pa.array([], pa.string())})


@SETTINGS
@given(table=parquet_tables())
def test_parquet_any_columns(system: System, tmp_path: Path, table: pa.Table) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(table, path)
    out = ingest_file(system, path)
    assert isinstance(out, ledger.IngestResult) and out.submitted == table.num_rows


def _parquet_bytes(tmp_path: Path, n: int = 3000) -> bytes:
    path = tmp_path / "whole.parquet"
    pq.write_table(pa.Table.from_pylist([good(n + i) for i in range(n)]), path, row_group_size=500)
    return path.read_bytes()


@pytest.fixture
def parquet_blob(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _parquet_bytes(tmp_path_factory.mktemp("pq"))


@SETTINGS
@given(data=st.data())
def test_parquet_corrupted_anywhere_is_all_or_nothing(
    system: System, tmp_path: Path, parquet_blob: bytes, data: st.DataObject
) -> None:
    blob = bytearray(parquet_blob)
    how = data.draw(st.sampled_from(["truncate", "flip", "zero"]))
    at = data.draw(st.integers(0, len(blob) - 1))
    if how == "truncate":
        blob = blob[:at]
    elif how == "flip":
        blob[at] ^= 0xFF
    else:
        blob[at : at + 64] = bytes(len(blob[at : at + 64]))
    path = tmp_path / "damaged.parquet"
    path.write_bytes(bytes(blob))
    out = ingest_file(system, path)
    if isinstance(out, ledger.IngestResult):
        # a flipped byte that the format cannot detect (inside a value) still gives every
        # row an outcome; anything the reader detects refuses the file whole
        assert out.submitted == 3000


# ------------------------------------------------------------------------------ named cases


def test_parquet_damaged_in_a_late_row_group_is_refused_before_anything_is_ingested(
    system: System, tmp_path: Path
) -> None:
    blob = bytearray(_parquet_bytes(tmp_path, 20_000))
    meta = pq.ParquetFile(tmp_path / "whole.parquet").metadata
    last = meta.row_group(meta.num_row_groups - 1).column(0)
    start = last.data_page_offset
    blob[start : start + 200] = b"\xff" * 200  # the last row group's first page is garbage
    path = tmp_path / "late.parquet"
    path.write_bytes(bytes(blob))
    with pytest.raises(formats.FileRefused, match="not a readable Parquet file"):
        system.ingest(formats.read_rows(path), origin="late", principal=system.operator(), chunk_size=500)
    assert system.store.count_records() == 0


def test_parquet_truncated_is_refused(system: System, tmp_path: Path) -> None:
    blob = _parquet_bytes(tmp_path)
    path = tmp_path / "cut.parquet"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(formats.FileRefused, match="not a readable Parquet file"):
        formats.count_rows(path, "parquet")
    assert isinstance(ingest_file(system, path), formats.FileRefused)
    assert system.store.count_records() == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_utf16_and_utf32_files_are_refused_with_the_reason(
    system: System, tmp_path: Path, encoding: str, suffix: str
) -> None:
    import csv
    import io

    rows_ = [good(i) for i in range(3)]
    if suffix == ".csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows_[0]))
        w.writeheader()
        w.writerows(rows_)
        text = buf.getvalue()
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows_)
    path = tmp_path / f"wide{suffix}"
    path.write_bytes(text.encode(encoding))
    out = ingest_file(system, path)
    assert isinstance(out, formats.FileRefused)
    assert "UTF-16" in str(out) or "UTF-32" in str(out)
    assert "save it as UTF-8" in str(out)


def test_latin1_lines_are_quarantined_with_the_reason(system: System, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        b"subject,item,source,source_record_id,occurred_on,evidence\n"
        + f"{P},traffic.minor,traffic-police,l-1,2026-03-01,ok\n".encode()
        + f"{P},traffic.minor,traffic-police,l-2,2026-03-01,caf\xe9\n".encode("latin-1")
    )
    out = ingest_file(system, path)
    assert isinstance(out, ledger.IngestResult)
    assert (out.accepted, out.quarantined) == (1, 1)
    assert "not UTF-8 text" in out.quarantine[0].reasons[0]


def test_utf8_bom_is_accepted_in_both_text_formats(system: System, tmp_path: Path) -> None:
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(good(7)).encode() + b"\n")
    (tmp_path / "bom.csv").write_bytes(
        b"\xef\xbb\xbfsubject,item,source,source_record_id,occurred_on\n"
        + f"{P},traffic.minor,traffic-police,g-8,2026-03-01\n".encode()
    )
    for name in ("bom.jsonl", "bom.csv"):
        out = ingest_file(system, tmp_path / name)
        assert isinstance(out, ledger.IngestResult) and out.accepted == 1, name


def test_truncated_text_files_quarantine_the_cut_line(system: System, tmp_path: Path) -> None:
    text = "".join(json.dumps(good(100 + i)) + "\n" for i in range(5))
    path = tmp_path / "cut.jsonl"
    path.write_text(text[: len(text) - 30])
    out = ingest_file(system, path)
    assert isinstance(out, ledger.IngestResult)
    assert (out.submitted, out.accepted, out.quarantined) == (5, 4, 1)
    assert "not valid JSON" in out.quarantine[0].reasons[0]


def test_empty_and_binary_files(system: System, tmp_path: Path) -> None:
    for name, blob in [
        ("empty.csv", b""),
        ("empty.jsonl", b""),
        ("empty.parquet", b""),
        ("zip.csv", b"PK\x03\x04" + bytes(range(256))),
        ("zip.parquet", b"PK\x03\x04" + bytes(range(256))),
    ]:
        path = tmp_path / name
        path.write_bytes(blob)
        out = ingest_file(system, path)
        if name == "empty.jsonl":
            assert isinstance(out, ledger.IngestResult) and out.submitted == 0
        else:
            assert isinstance(out, formats.FileRefused), name


def test_overlong_and_deeply_nested_lines_are_quarantined(system: System, tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_bytes(
        json.dumps(good(200)).encode()
        + b"\n"
        + b'{"evidence": "'
        + b"x" * 1_000_000
        + b'"}\n'
        + b"[" * 100_000
        + b"\n"
        + json.dumps(good(201)).encode()
        + b"\n"
        + b"y" * 200_000  # no newline at the end of the file either
    )
    out = ingest_file(system, path)
    assert isinstance(out, ledger.IngestResult)
    assert (out.submitted, out.accepted, out.quarantined) == (5, 2, 3)
    reasons = {q.row_number: q.reasons[0] for q in out.quarantine}
    assert "longer than" in reasons[2] and "longer than" in reasons[3] and "longer than" in reasons[5]
    nested = tmp_path / "nested.jsonl"
    nested.write_bytes(b"[" * 30_000 + b"]" * 30_000 + b"\n")
    out = ingest_file(system, nested)
    assert isinstance(out, ledger.IngestResult) and out.quarantined == 1
    header = tmp_path / "wide.csv"
    header.write_bytes(b"subject," * 20_000 + b"\n")
    assert "header line is longer" in str(ingest_file(system, header))
