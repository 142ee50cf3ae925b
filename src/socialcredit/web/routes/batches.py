"""The agency's batches: upload a file of records (CSV or JSON Lines, as ``socialcredit ingest``
and ``POST /records`` take) through the one ingest path (``System.ingest``: the file is read by
``formats.read_rows`` and validated by ``intake``, no second validator), see at once how many rows
were accepted, duplicate or quarantined and why, and look back at the agency's past batches and
each one's quarantined rows, downloadable to fix and send again. An agency sees only the batches
it submitted; an operator sees every batch."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from socialcredit import access, formats, i18n
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.ledger import IngestResult
from socialcredit.service.records import SEE_BATCHES
from socialcredit.web.base import PREFIX, CheckedPage, Page, PageDep, PageRoute, finish, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)
# the file itself, within the bulk body limit the server applies to this path (api/limits.py:
# 8 MiB, about 20,000 records, a day's file of one agency); bigger files go through the CLI
MAX_BYTES = 8 * 1024 * 1024 - 64 * 1024
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def _page(page: Page, p: access.Principal, status: int = 200, **extra: Any) -> Response:
    return render(
        page,
        "batches.html",
        status,
        batches=page.system.batches(p),
        agency=p.principal if p.role == "agency" else None,
        limit_mib=round(MAX_BYTES / (1024 * 1024)),
        **{"result": None, "error": None, "filename": None, **extra},
    )


@router.get("/batches")
def batches_page(page: PageDep) -> Response:
    p = page.require_role(SEE_BATCHES, "agency", "operator")
    return _page(page, p)


def _kind(name: str) -> str:
    kind = SUFFIXES.get(Path(name).suffix.lower())
    if kind is None:
        raise Refused(N_("send a .csv or .jsonl file"), field="file")
    return kind


@router.post("/batches")
def upload(page: CheckedPage, file: Annotated[UploadFile, File()]) -> Response:
    """Ingest an uploaded file as one batch, submitted as the agency (an operator's rows name
    their source); a file refused whole (its encoding, its header, its size) adds nothing."""
    p = page.require_role(SEE_BATCHES, "agency", "operator")
    name = Path(file.filename or "").name[:200]
    try:
        kind = _kind(name)
        with tempfile.TemporaryDirectory(prefix="sc-upload-") as tmp:
            path = Path(tmp) / name  # its own name: a refusal of the file names it
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out, 1024 * 1024)
            if path.stat().st_size > MAX_BYTES:
                raise Refused(
                    N_("the file is larger than {mib} MiB; split it, or ingest it with the command line",
                       mib=round(MAX_BYTES / (1024 * 1024))),
                    field="file",
                )  # fmt: skip
            if path.stat().st_size == 0:
                raise Refused(N_("the file is empty"), field="file")
            result: IngestResult = page.system.ingest(
                formats.read_rows(path, kind), origin=f"portal:{name}", principal=p
            )
    except Refused as exc:
        return _page(page, p, exc.status, error=exc, filename=name)
    return _page(page, p, result=result, filename=name)


@router.get("/batches/{batch_id}")
def batch_page(page: PageDep, batch_id: str) -> Response:
    p = page.require_role(SEE_BATCHES, "agency", "operator")
    batch, quarantined = page.system.batch(p, batch_id[:32])
    return render(page, "batch.html", batch=batch, quarantined=quarantined)


@router.get("/batches/{batch_id}/quarantine.csv")
def quarantine_csv(page: PageDep, batch_id: str) -> Response:
    """A batch's quarantined rows to fix and send again: the row number, the reasons, and the
    row as it was sent (JSON)."""
    p = page.require_role(SEE_BATCHES, "agency", "operator")
    batch, quarantined = page.system.batch(p, batch_id[:32])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row_number", "reasons", "row"])
    for q in quarantined:
        row = json.dumps(q["raw"], ensure_ascii=False, sort_keys=True)
        writer.writerow([q["row_number"], "; ".join(i18n.reword(r, page.lang) for r in q["reasons"]), row])
    response = Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="quarantine-{batch["batch_id"]}.csv"'},
    )
    return finish(page, response)
