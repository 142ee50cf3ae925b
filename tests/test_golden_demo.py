"""No shipped scheme changed behaviour but where a rule deliberately changed: a deterministic demo city
of 1,500 residents, rescored on DuckDB.

- Every score, and every list entry but the court's list's, is what the release before the rules
  kernel refactor (issue 15, commit 0f579c7) wrote to ``tests/data/demo-rescore-0f579c7.jsonl.gz``,
  field for field, though the day boundary moved to China Standard Time (the city reports in
  Chinese office hours, and ``AS_OF`` is the end of the same day in China).
- The court's list changed deliberately (issue 16, point 1; decision 0028; scheme version 2): ground
  (1) has no fixed period and ends only by one of the seven removal grounds of Art. 10 (the city's
  follow-ups now include the four added); grounds (2) to (6) run 2 calendar years from the listing
  decision's own date and end early only by the court's decision; a further ground no longer
  extends a listing; removal is due 3 working days from the removal ground's own date or the end
  of the period. The whole output of that release, court rows included, is
  ``tests/data/demo-rescore-court-rules.jsonl.gz``.
- Two schemes changed deliberately (issue 19): Sesame's behaviour-and-preferences factor reads
  what a member buys (hours of video games, from a platform's purchase records) instead of
  donations, fare evasion and electricity theft, so Sesame scores changed; Honest Shanghai rates
  only those who applied, so the rows of those who did not are gone and the others are as
  before. The city's agency records are as before; applications (source ``self``) and the
  platform's records are drawn in streams of their own after them (``synth.NOT_AGENCIES``). The
  whole output of this release is ``tests/data/demo-rescore-issue19.jsonl.gz``.

- What the demo names in public changed deliberately (issue 19, point 1): since consent to
  publicity became required (decision 0042) Rongcheng's honour roll named no one in public, for
  the city gave no consent; the demo now streams the consents its listed subjects give and
  withdraw, after their records (``synth.consent``, ``demo.stream_consents``), so the roll names
  those whose latest word is consent. Consent is a record of no points that only publication
  reads: the rows (scores and entries) are as before, and ``EXPECTED_CONSENT`` holds the roll.

To regenerate after a deliberate change of behaviour, run ``demo_rows`` on the new tree (the
``__main__`` of this module prints them), add a file beside these (keep them: each is the record of
a release) and say in the commit and here which rule changed and why."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from socialcredit import ledger, synth
from socialcredit.demo import stream_consents
from socialcredit.engines.base import rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store

GOLDEN = Path(__file__).parent / "data" / "demo-rescore-0f579c7.jsonl.gz"
COURT_RULES = Path(__file__).parent / "data" / "demo-rescore-court-rules.jsonl.gz"
ISSUE19 = Path(__file__).parent / "data" / "demo-rescore-issue19.jsonl.gz"
CHANGED = "court-dishonest-debtors/dishonest-debtors"
"""The list whose rules changed since ``GOLDEN`` (issue 16, point 1)."""
RESCORED = ("sesame", "honest-shanghai")
"""The schemes whose rules changed since ``COURT_RULES`` (issue 19)."""

HONOUR_ROLL = "rongcheng/honour-roll"

RECORD_ID = re.compile(r"\b[0-9a-f]{32}\b")
"""A record id wherever an entry names one (its grounds, its reason, why it ended)."""

AS_OF = dt.datetime(2026, 10, 31, 15, 59, 59)
"""The last second of 31 October 2026 in China (23:59:59 there), where every rule counts its days
since the day boundary moved to China Standard Time (``rules.days``); the synthetic city reports in
Chinese office hours, so every record falls on the day it fell on before, and the rows are the same."""


def demo_system(root: Path) -> System:
    """The demo city in a store under ``root``: its records, then the consents to publicity its
    listed subjects give and withdraw (``demo.stream_consents``)."""
    store = Store(f"sqlite:///{root / 'city.db'}")
    system = System(store, shipped_registry())
    city = synth.generate_city(residents=1500, seed=2014, registry=system.registry)
    system.register(city.subjects)
    rows = list(synth.generate_records(city, registry=system.registry, seed=2014))
    system.ingest(enumerate(rows, start=1), origin="demo", principal=system.operator())
    stream_consents(system, city, origin="demo: consent", seed=2014)
    return system


def demo_rows(root: Path, system: System | None = None) -> list[str]:
    system = system or demo_system(root)
    store = system.store
    export_ledger(store, root / "export")
    registry = system.registry
    scored = registry.scored()
    engine = DuckDBEngine()
    rescore(
        engine,
        root / "export",
        scored,
        AS_OF,
        root / "scores.parquet",
        list_schemes=list(registry.schemes.values()),
        lists_out=root / "lists.parquet",
    )
    engine.close()
    # decision 0080: a record's id is keyed under this installation's pseudonym key, so it differs
    # from one installation to the next; the rows name each record by its unkeyed id (source and
    # reference hashed, what every release before 0080 stored), the same wherever the city is built
    unkeyed = {
        r.record_id: ledger.record_id_for(r.source, r.source_record_id)
        for page in store.iter_records()
        for r in page
    }
    store.close()  # the system's too: its public lists are read before (``city``)
    out = []
    for r in sorted(
        pq.read_table(root / "scores.parquet").to_pylist(), key=lambda r: (r["subject"], r["scheme"])
    ):
        out.append(json.dumps({"score": [r["subject"], r["scheme"], int(r["score"]), r["grade"]]}))
    lists = pq.read_table(root / "lists.parquet").to_pylist()
    rows = sorted(
        json.dumps(
            {k: RECORD_ID.sub(lambda m: unkeyed.get(m[0], m[0]), str(v)) for k, v in sorted(r.items())}
        )
        for r in lists
    )
    out.extend('{"entry": ' + r + "}" for r in rows)
    return out


@dataclass(frozen=True)
class Public:
    """What the demo city's honour roll shows in public at ``AS_OF``, and why."""

    active: dict[str, str]
    """Each member in force (code), with their consent then: given, withdrawn or never answered."""
    named: int
    """The rows the public list shows."""
    census: int
    """The rows the list's census counts as published."""


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Public]:
    root = tmp_path_factory.mktemp("golden")
    system = demo_system(root)
    lst = system.registry.list_def(HONOUR_ROLL)
    rule = lst.publication_consent
    assert rule is not None
    active: dict[str, str] = {}
    for s in system.scan(AS_OF):
        if any(e.qualified_id == HONOUR_ROLL and e.status == "active" for e in s.entries):
            marks = sorted(
                (r for r in s.records if r.item in (rule.item, rule.withdrawal_item)), key=lambda r: r.seq
            )
            active[s.code] = "never" if not marks else "given" if marks[-1].item == rule.item else "withdrawn"
    public = Public(
        active, len(system.public_list(HONOUR_ROLL, AS_OF)), system.list_census(AS_OF)[HONOUR_ROLL].published
    )
    return demo_rows(root, system), public


@pytest.fixture(scope="module")
def rows(city: tuple[list[str], Public]) -> list[str]:
    return city[0]


def _unchanged(lines: list[str]) -> list[str]:
    """The rows no deliberate change since ``GOLDEN`` touched: all but the court's list's and the
    scores of the schemes issue 19 changed."""
    return [
        line
        for line in lines
        if (line.startswith('{"entry"') and json.loads(line)["entry"]["list"] != CHANGED)
        or (line.startswith('{"score"') and json.loads(line)["score"][1] not in RESCORED)
    ]


def _scores(lines: list[str], scheme: str) -> dict[str, list[object]]:
    return {
        row[0]: row[2:]
        for line in lines
        if line.startswith('{"score"') and (row := json.loads(line)["score"])[1] == scheme
    }


def test_the_demo_city_rescores_as_before_the_refactor(rows: list[str]) -> None:
    want = _unchanged(gzip.decompress(GOLDEN.read_bytes()).decode().splitlines())
    got = _unchanged(rows)
    assert len(got) == len(want) > 3000
    assert sum(1 for line in want if line.startswith('{"entry"')) > 100, "the city has list entries"
    differ = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    assert not differ, f"{len(differ)} rows differ from the previous release, e.g. {differ[:3]}"


def test_issue19_changed_only_sesame_and_honest_shanghai(rows: list[str]) -> None:
    """Against the release before issue 19: every list entry and every score of the other schemes
    is the same; Honest Shanghai rates a part of the city (those who applied), each as before;
    Sesame has the same members, and only their scores moved (the behaviour factor's items)."""
    before = gzip.decompress(COURT_RULES.read_bytes()).decode().splitlines()
    assert _unchanged(rows) == _unchanged(before)
    assert [x for x in rows if x.startswith('{"entry"')] == [x for x in before if x.startswith('{"entry"')]
    hs_now, hs_then = _scores(rows, "honest-shanghai"), _scores(before, "honest-shanghai")
    assert 0.5 * len(hs_then) < len(hs_now) < 0.7 * len(hs_then)  # synth.APPLY_SHARE applied
    assert all(hs_then[code] == v for code, v in hs_now.items())
    sesame_now, sesame_then = _scores(rows, "sesame"), _scores(before, "sesame")
    assert sesame_now.keys() == sesame_then.keys()
    assert any(sesame_now[c] != sesame_then[c] for c in sesame_now)


def test_the_court_list_rescores_by_its_provisions(rows: list[str]) -> None:
    """The whole output as this release wrote it, the court's list by its provisions included: on
    it, listings with no fixed period (ground (1)) and with one (grounds (2) to (6)), active and
    removed, as well as one expired."""
    want = gzip.decompress(ISSUE19.read_bytes()).decode().splitlines()
    assert len(rows) == len(want)
    differ = [(g, w) for g, w in zip(rows, want, strict=True) if g != w]
    assert not differ, f"{len(differ)} rows differ from this release's, e.g. {differ[:3]}"
    court = [json.loads(line)["entry"] for line in want if line.startswith('{"entry"') and CHANGED in line]
    seen = {(e["status"], e["planned_end"] == "None") for e in court}
    assert {
        ("active", True),
        ("removed", True),
        ("active", False),
        ("removed", False),
        ("expired", False),
    } <= seen


def test_the_honour_roll_names_in_public_only_those_who_consent(city: tuple[list[str], Public]) -> None:
    """Issue 19, point 1: the demo city streams the consents its honour-roll members give, as a
    city sees them (``synth.consent``: most consent within a month of their entry, some never
    answer, a few withdraw later), so the roll is no longer empty in public; the roll names a member
    only while their latest word is consent (decision 0042: "an entry is published while the
    subject's latest record of ``item`` or ``withdrawal_item`` is of ``item``"). Scores and entries
    are as before (the tests above): consent is a record of no points, and only publication reads
    it. These counts are this release's, at ``AS_OF``."""
    _rows, public = city
    states = Counter(public.active.values())
    assert states == EXPECTED_CONSENT, states
    assert public.named == public.census == states["given"]


EXPECTED_CONSENT = Counter({"given": 14, "never": 2, "withdrawn": 1})
"""The honour roll's members in force at ``AS_OF`` by their consent then (this release's demo)."""


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        sys.stdout.write("\n".join(demo_rows(Path(d))) + "\n")
