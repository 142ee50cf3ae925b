"""Knowledge time on the relational engines (issue 17.1, "exports and the relational engines
follow the same history"): ``rescore --known-at K`` counts only the records the system had
received by K, as the per-subject path does (``System.view(..., known_at=K)``), on DuckDB and
(slow) on Spark; and only the subjects known by K, registered or named by such a record, are
scored and counted, as the transparency report as known at K counts them.

Court's list, Art. 1(1) (DOMAIN.md): the debtor is listed until a removal ground; a withdrawal
received after K, and a traffic record of before K reported late, are not known at K."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.schemes.model import Scheme
from socialcredit.service import System
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, person
from tests.support.dueprocess import feed, rec
from tests.support.late import listed_then_late_news

A, B = person(191), person(192)
LATE = person(193)


def written(out: Path) -> dict[tuple[str, str], tuple[int, str]]:
    table = (
        pq.read_table(out)
        if out.is_file()
        else pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("*.parquet"))])
    )
    return {(r["subject"], r["scheme"]): (r["score"], r["grade"]) for r in table.to_pylist()}


def _about(system: System, *ids: str) -> list[Scheme]:
    """The schemes a check is about (Rongcheng's scores and lists, the court's list): knowledge
    time filters the records and objections before any scheme reads them, every shipped scheme's
    rescore is the golden demo's, and each scheme costs the engine its compiles (decision 0106)."""
    return [system.registry.scheme(i) for i in ids]


def per_subject(
    system: System, at: dt.datetime, known_at: dt.datetime | None
) -> dict[tuple[str, str], tuple[int, str]]:
    out = {}
    for code in (A, B):
        for sid, s in system.view(code, at, known_at=known_at).scores.items():
            out[(code, sid)] = (s.score, s.grade)
    return out


def check_engine(engine: Engine, system: System, clock: Clock, tmp_path: Path) -> None:
    feed(system, rec(2, B, "volunteer.service", "volunteer-federation", "2026-10-01"))  # known throughout
    known, _ = listed_then_late_news(system, clock, A, "traffic.drunk-driving")
    system.register([SubjectRow(LATE, "person", "Sun Li")])  # registered after K: nobody known at K
    export_ledger(system.store, tmp_path / "exp", clock=clock)
    schemes, pool = _about(system, "rongcheng"), _about(system, "rongcheng", "court-dishonest-debtors")
    then = rescore(
        engine, tmp_path / "exp", schemes, known, tmp_path / "then.parquet", list_schemes=pool, known_at=known
    )
    now = rescore(engine, tmp_path / "exp", schemes, known, tmp_path / "now.parquet", list_schemes=pool)
    assert then.known_at == known and now.known_at is None
    as_known = {k: v for k, v in written(tmp_path / "then.parquet").items() if k[0] in (A, B)}
    today = {k: v for k, v in written(tmp_path / "now.parquet").items() if k[0] in (A, B)}
    assert as_known == {k: v for k, v in per_subject(system, known, known).items() if k in as_known}
    assert today == {k: v for k, v in per_subject(system, known, None).items() if k in today}
    assert as_known != today  # the late record and the withdrawal are absent as known at K
    assert {k: v for k, v in as_known.items() if k[0] == B} == {k: v for k, v in today.items() if k[0] == B}
    # the population as known at K: A and B (named by records received by then), not LATE,
    # as the per-subject path's report counts it; today every exported subject
    assert {k[0] for k in written(tmp_path / "then.parquet")} == {A, B}
    assert LATE in {k[0] for k in written(tmp_path / "now.parquet")}
    assert (
        (then.subjects, now.subjects)
        == (2, 3)
        == (
            system.transparency(known_at=known)["subjects"],
            system.transparency()["subjects"],
        )
    )
    assert (then.records, now.records) == (2, 4)
    # the court's list: A listed as known at K, not with today's knowledge
    court = "court-dishonest-debtors/dishonest-debtors"
    assert then.lists.get(court, {}).get("active") == 1
    assert now.lists.get(court, {}).get("active", 0) == 0


def test_rescore_known_at_counts_only_records_received_by_then_on_duckdb(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    check_engine(DuckDBEngine(), system, clock, tmp_path)


@pytest.mark.slow  # a real JVM
def test_rescore_known_at_on_spark(
    request: pytest.FixtureRequest, system: System, clock: Clock, tmp_path: Path
) -> None:
    from socialcredit.engines.spark import SparkEngine

    check_engine(SparkEngine(request.getfixturevalue("spark")), system, clock, tmp_path)


@pytest.mark.slow  # two whole rescores through the command; the DuckDB tests above hold the rule in the loop
def test_cli_rescore_takes_known_at(env: Path) -> None:
    from socialcredit.cli import app
    from socialcredit.cli.common import open_system

    system = open_system()
    feed(system, rec(1, A, "traffic.drunk-driving", "traffic-police", "2026-09-10"))
    runner = CliRunner()
    exp = env / "exp"
    assert runner.invoke(app, ["export", str(exp), "--json"]).exit_code == 0
    # the record was received now: as known on 1 September, nobody has it
    r = runner.invoke(
        app, ["rescore", "--from", str(exp), "--at", "2026-10-01", "--known-at", "2026-09-01", "--json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["known_at"].startswith("2026-09-01T15:59:59")
    before = written(Path(data["output"]))
    r = runner.invoke(
        app,
        ["rescore", "--from", str(exp), "--at", "2026-10-01", "--out", str(env / "now.parquet"), "--json"],
    )
    assert r.exit_code == 0, r.output
    after = written(Path(json.loads(r.stdout)["output"]))
    # A is known only by a record received after K: as known then, nobody to score or count
    assert (A, "rongcheng") not in before and (data["subjects"], data["records"]) == (0, 0)
    assert after[(A, "rongcheng")] != (1000, "A")  # today its record counts against the base
    r = runner.invoke(app, ["rescore", "--from", str(exp), "--known-at", "someday"])
    assert r.exit_code == 2 and "--known-at" in r.output


def test_cli_rescore_refuses_a_known_at_that_is_no_time(env: Path) -> None:
    """The command's own part of ``--known-at``, in the loop: a value that is no time is a usage
    error naming the option, before any export is read."""
    from socialcredit.cli import app

    r = CliRunner().invoke(app, ["rescore", "--from", str(env / "none"), "--known-at", "someday"])
    assert r.exit_code == 2 and "--known-at" in r.output, r.output


def check_objection_known(engine: Engine, system: System, clock: Clock, tmp_path: Path) -> None:
    """Rongcheng's D grade list suspends its measures while an objection is open (the scheme's
    ``during_objection``); an objection filed after K was not known at K, so as known then the
    listing held its measures, as the per-subject path says."""
    rows = [rec(i, A, "court.fraud-conviction", "court", f"2026-09-{i:02d}") for i in range(1, 5)]
    rows += [
        rec(10 + i, A, "traffic.drunk-driving", "traffic-police", f"2026-09-{10 + i:02d}") for i in (1, 2)
    ]
    feed(system, *rows)
    known = clock()
    clock.advance(days=1)
    me = system.authenticate(system.create_key("subject", A).token)
    assert me is not None
    o = system.file_objection(principal=me, subject=A, list_id="rongcheng/d-grade", statement="wrong person")
    export_ledger(system.store, tmp_path / "exp", clock=clock)
    pool = _about(system, "rongcheng")
    at = clock()
    args = (engine, tmp_path / "exp", pool, at)
    then = rescore(*args, tmp_path / "then.parquet", list_schemes=pool, known_at=known)
    now = rescore(*args, tmp_path / "now.parquet", list_schemes=pool)
    d_grade = "rongcheng/d-grade"
    assert then.lists[d_grade].get("active") == now.lists[d_grade].get("active") == 1
    assert d_grade not in then.suspended and now.suspended[d_grade] == 1
    [as_known] = [e for e in system.view(A, at, known_at=known).entries if e.qualified_id == d_grade]
    [today] = [e for e in system.view(A, at).entries if e.qualified_id == d_grade]
    assert (as_known.suspended_by, today.suspended_by) == (None, o.id)


def test_rescore_known_at_reads_the_objections_as_known_then_on_duckdb(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    check_objection_known(DuckDBEngine(), system, clock, tmp_path)


@pytest.mark.slow  # a real JVM
def test_rescore_known_at_reads_the_objections_as_known_then_on_spark(
    request: pytest.FixtureRequest, system: System, clock: Clock, tmp_path: Path
) -> None:
    from socialcredit.engines.spark import SparkEngine

    check_objection_known(SparkEngine(request.getfixturevalue("spark")), system, clock, tmp_path)
