"""Models of what only the command line reports: lint findings, ledger exports and rescores,
backups, checkpoints, the demo and a simulation.

Why here, beside :mod:`socialcredit.api.models`: every ``--json`` answer is printed through a
pydantic model, so its shape is declared once and checked when it is built. Where the API has
the same answer (a score, a decision, keys, cases, the public pages) the command line prints the
API's own model; these are the answers the API has no route for, declared the same way, so one
added later serves the same shape.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from socialcredit import i18n
from socialcredit.api.models import UtcDatetime
from socialcredit.schemes.lint import Finding

if TYPE_CHECKING:  # Ibis, PyArrow, SQLAlchemy: only the commands that need them load them
    from socialcredit.backup import Summary
    from socialcredit.engines.base import RescoreResult
    from socialcredit.engines.export import ExportResult


class FindingOut(BaseModel):
    file: str = Field(description="The scheme file it was found in")
    level: Literal["error", "warning"]
    where: str
    rule: str
    message: str


class LintOut(BaseModel):
    """``ok`` when no finding is an error (a scheme with an error is never in force)."""

    ok: bool
    findings: list[FindingOut]

    @classmethod
    def of(cls, findings: list[tuple[str, Finding]]) -> LintOut:
        rows = [
            FindingOut(file=src, **(dataclasses.asdict(f) | {"message": i18n.translate(f.message)}))
            for src, f in findings
        ]  # the message in the reader's language; the level, place and rule as they are
        return cls(ok=not any(f.level == "error" for f in rows), findings=rows)


class ExportOut(BaseModel):
    """A ledger export (``socialcredit export``): what it holds and what this run appended."""

    directory: str
    records: int
    appended: int
    generation: int
    subjects: int
    years: list[int]
    chain_count: int
    chain_head: str
    seconds: float

    @classmethod
    def of(cls, r: ExportResult) -> ExportOut:
        return cls(**{**dataclasses.asdict(r), "directory": str(r.directory), "seconds": round(r.seconds, 3)})


class RescoreOut(BaseModel):
    """A population rescore: grades per scheme and kind, list entries per list and status, what
    could not be derived and why, where it was written, how long each stage took."""

    engine: str
    as_of: UtcDatetime
    subjects: int
    records: int
    grades: dict[str, dict[str, dict[str, int]]]
    output: str
    seconds: float
    stages: dict[str, float]
    ledger: dict[str, Any]
    skipped: dict[str, str]
    lists: dict[str, dict[str, int]]
    lists_output: str | None
    lists_refused: dict[str, str]
    lists_suspended: dict[str, int]
    known_at: UtcDatetime | None = None

    @classmethod
    def of(cls, r: RescoreResult) -> RescoreOut:
        fields = dataclasses.asdict(r)
        fields["lists_suspended"] = fields.pop("suspended")
        fields["seconds"] = round(r.seconds, 3)
        fields["stages"] = {k: round(v, 3) for k, v in r.stages.items()}
        return cls(**fields)


class ChainHeadOut(BaseModel):
    count: int
    head: str


class BackupOut(BaseModel):
    """A backup written (``backup``) or brought in (``restore``): rows per table, chain heads."""

    file: str
    created_at: str
    tables: dict[str, int]
    chains: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, file: Path, summary: Summary) -> BackupOut:
        return cls(
            file=str(file), created_at=summary.created_at, tables=summary.tables, chains=summary.chains
        )


class RetentionOut(BaseModel):
    """One ``retention run``: data keys destroyed and records erased, keys kept and why."""

    at: dt.datetime
    erased_keys: int
    erased_records: int
    kept_counting: int
    kept_in_force: int
    purged_files: int = 0
    dropped_snapshots: int = 0


class CheckpointOut(BaseModel):
    """A chain's signed checkpoint (``socialcredit checkpoint``; the note as
    ``GET /log/{chain}/checkpoint`` serves it)."""

    chain: str
    origin: str
    size: int
    root_hash: str
    key_id: str
    note: str


class CheckpointCheckOut(BaseModel):
    """A saved checkpoint checked against the log now: ``ok`` when the log extends it."""

    ok: bool
    chain: str
    checkpoint_size: int
    size_now: int
    problems: list[str]
    epoch: str | None = None
    """The date of the epoch record a checkpoint signed before the chain was sealed verified
    against (``None``: it verified against the chain now)."""
    unbridged: str | None = None
    """The date of an epoch record of an earlier release (it names no tree root) that the
    checkpoint precedes: neither proved nor disproved (``ok`` false, no problems)."""


class ProofVerifyOut(BaseModel):
    """An inclusion proof verified offline (``socialcredit proof verify``)."""

    ok: bool
    origin: str
    leaf_index: int
    tree_size: int
    key_name: str
    key_id: str
    entry: str


class WitnessOut(BaseModel):
    """A witness's round (``socialcredit witness``): the sizes it saw, and the note it cosigned."""

    origin: str
    previous_size: int | None
    size: int
    cosigned: str
    witness_key: str
    """The witness's verifier key, for the log's operator (``socialcredit checkpoint witnesses --add``)."""
    epoch: str | None = None
    """The date of the epoch the log was proved consistent across, if it was re-linked since."""
    submitted: bool | None = None
    """Whether the log accepted the cosignature (``--submit``; ``None`` when not sent)."""


class DemoOut(BaseModel):
    """The demo city: its size, the ingest's counts, grades and lists, subjects to look up, the
    demo keys (shown once) and the time each stage took."""

    database: str
    reused: bool
    residents: int
    organisations: int
    agencies: int
    submitted: int
    accepted: int
    duplicate: int
    quarantined: int
    as_of: UtcDatetime
    grades: dict[str, dict[str, int]]
    lists: dict[str, int]
    examples: dict[str, list[str]]
    seconds: dict[str, float]
    keys: dict[str, str]


class SimulationOut(BaseModel):
    """A simulation's report (``report.json`` in ``out``) summarised: the population, the arms'
    settings and each arm's figures; a run of a scheme that fails the safeguards carries the
    ``stamp`` and the breaches."""

    out: str
    persons: int
    organisations: int
    months: int
    seed: int
    arms_settings: list[dict[str, Any]]
    seconds: float
    stamp: str | None = None
    safeguard_breaches: list[str] = Field(default_factory=list)
    summary: list[dict[str, Any]]

    @classmethod
    def of(cls, out: Path, meta: dict[str, Any], summary: list[dict[str, Any]]) -> SimulationOut:
        return cls(out=str(out), summary=summary, **meta)
