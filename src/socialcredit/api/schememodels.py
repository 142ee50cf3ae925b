"""The schemes as ``GET /schemes`` and ``socialcredit schemes --json`` show them: each with its
versions, the day each applies from and which is in force now (decision 0038).

Why a model of its own: the API and the command line print the same answer, declared once."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from socialcredit.schemes import titles
from socialcredit.schemes.loader import Registry

Status = Literal["in force", "earlier", "later", "replaced"]


class VersionOut(BaseModel):
    version: str
    effective_from: dt.date | None = Field(description="The day the file says it applies from")
    applies_from: dt.date | None = Field(
        description="The first day it is in force (a correction: the day of the version it "
        "corrects); null: from the beginning, or never for a replaced version"
    )
    status: Status = Field(
        description="In force today, earlier, later, or replaced by a correction (kept only to "
        "reproduce receipts and show what the correction changed)"
    )


class SchemeSummaryOut(BaseModel):
    id: str
    title: str = Field(
        description="In the reader's language (Accept-Language): a shipped scheme's Chinese title "
        "for a Chinese reader, else the scheme's own"
    )
    jurisdiction: str = Field(description="In the reader's language, as the title is")
    version: str = Field(description="The version shown: the one in force today, else the newest")
    effective_from: dt.date | None
    in_force: str | None = Field(description="The version in force today; null: not yet in force")
    versions: list[VersionOut]
    items: int
    lists: list[str]
    measures: list[str]
    scored: bool


class SchemesOut(BaseModel):
    ok: bool = True
    data: list[SchemeSummaryOut]
    count: int

    @classmethod
    def of(cls, registry: Registry, today: dt.date) -> SchemesOut:
        """Every scheme of ``registry`` as it stands on ``today`` (a day in China)."""
        now = registry.at(today)
        rows = []
        for sid, newest in registry.schemes.items():
            s = now.schemes.get(sid, newest)
            versions = [
                VersionOut(
                    version=v.version,
                    effective_from=v.effective_from,
                    applies_from=v.applies_from,
                    status=v.status,
                )
                for v in registry.version_rows(sid, today)
            ]
            rows.append(
                SchemeSummaryOut(
                    id=s.id,
                    title=titles.title_of("scheme", s.id, s.title, s.id),
                    jurisdiction=titles.prose(s.jurisdiction),
                    version=s.version,
                    effective_from=s.effective_from,
                    in_force=now.schemes[sid].version if sid in now.schemes else None,
                    versions=versions,
                    items=len(s.items),
                    lists=[x.id for x in s.lists],
                    measures=[m.id for m in s.measures],
                    scored=s.model is not None,
                )
            )
        return cls(data=rows, count=len(rows))
