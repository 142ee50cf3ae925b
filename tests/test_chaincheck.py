"""``verify`` names exactly what changed, and nothing else (issue #17): a removal is "missing
between seq N and M" (the surviving neighbours), a swap "reordered: seq A and seq B", an edit
"altered: seq N", on each of the three chains, each fault once. The stored chains run on SQLite
and PostgreSQL; the diagnosis itself is also driven by random faults on chains in memory."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from socialcredit.chaincheck import Entry, verify_chain
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.ledger import GENESIS, chain_hash
from socialcredit.service import Question, System
from socialcredit.store import Store
from socialcredit.store.tlog import LOGS
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.prepared import Prepared
from tests.support.worlds import world_store

N = 8  # entries in each chain
TABLES = {"records": "records", "audit": "audit", "cases": "case_events", "registry": "registry"}
EDITS = {
    "records": "evidence = 'tampered'",
    "audit": "purpose = 'tampered'",
    "cases": "payload = '{}'",
    "registry": "sealed = 'dGFtcGVyZWQ='",
}
P = person(17)


def build_chains(system: System) -> None:
    """The four chains, N entries each, intact."""
    system.register([SubjectRow(person(100 + i), "person") for i in range(N)])
    rows = [
        (i, {"subject": P, "item": "traffic.minor", "source": "traffic-police", "source_record_id": f"v-{i}",
             "occurred_on": "2026-04-01", "evidence": f"photo {i}"})
        for i in range(N)
    ]  # fmt: skip
    assert system.ingest(rows, origin="test", principal=system.operator()).accepted == N
    for i in range(N - 1):  # and the batch's own audit entry makes N
        system.check(Question(P, "no-flights", system.operator(), purpose=f"ticket {i}"))
    for i in range(N):
        system.store.append_case_event(
            CaseEvent(f"obj-{i}", "objection", "filed", system.clock(), P, None, None, {"n": i})
        )


@pytest.fixture
def store(store_url: str, prepared: Prepared, clock: Clock) -> Iterator[Store]:
    """Every stored test here starts from the chains: built once per test process and copied
    into the test's own database (tests/support/worlds.py, decision 0093), since it tampers."""
    s, _ = world_store(store_url, prepared, clock, "chaincheck-chains", build_chains)
    yield s
    s.close()


@pytest.fixture
def chains(system: System) -> System:
    """A system whose four chains hold N entries each, intact."""
    assert {c: system.store.head(c)[0] for c in TABLES} == dict.fromkeys(TABLES, N)
    assert system.verify() == {"records": [], "audit": [], "cases": [], "registry": []}
    return system


def _sql(system: System, *statements: str) -> None:
    with system.store.engine.begin() as conn:
        for s in statements:
            conn.execute(text(s))


def delete(system: System, chain: str, *seqs: int) -> None:
    _sql(system, f"DELETE FROM {TABLES[chain]} WHERE seq IN ({', '.join(map(str, seqs))})")


def swap(system: System, chain: str, a: int, b: int) -> None:
    """Exchange two entries' positions, each row (and its stored hash) intact."""
    t = TABLES[chain]
    _sql(
        system,
        f"UPDATE {t} SET seq = -1 WHERE seq = {a}",
        f"UPDATE {t} SET seq = {a} WHERE seq = {b}",
        f"UPDATE {t} SET seq = {b} WHERE seq = -1",
    )


def edit(system: System, chain: str, seq: int) -> None:
    _sql(system, f"UPDATE {TABLES[chain]} SET {EDITS[chain]} WHERE seq = {seq}")


SCENARIOS = [
    ("delete one", [(delete, 4)], ["missing between seq 3 and 5"]),
    ("delete two adjacent", [(delete, 4, 5)], ["missing between seq 3 and 6"]),
    ("delete the first", [(delete, 1)], ["missing before seq 2"]),
    ("delete the newest", [(delete, N)], [f"missing after seq {N - 1}"]),
    ("swap two", [(swap, 2, 6)], ["reordered: seq 2 and seq 6"]),
    ("swap neighbours", [(swap, 4, 5)], ["reordered: seq 4 and seq 5"]),
    ("swap with the newest", [(swap, 3, N)], [f"reordered: seq 3 and seq {N}"]),
    ("edit one", [(edit, 3)], ["altered: seq 3"]),
    ("edit the newest", [(edit, N)], [f"altered: seq {N}"]),
    ("edit one, delete another far away", [(edit, 2), (delete, 7)],
     ["altered: seq 2", "missing between seq 6 and 8"]),
    ("delete one, swap two far away", [(delete, 2), (swap, 5, 7)],
     ["missing between seq 1 and 3", "reordered: seq 5 and seq 7"]),
    ("intact", [], []),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_verify_names_exactly_what_changed(
    chains: System, steps: list[tuple[Any, ...]], expected: list[str]
) -> None:
    """Each chain tampered alike: each names the faults, each once, and no other seq."""
    for chain in TABLES:
        for step, *seqs in steps:
            step(chains, chain, *seqs)
    found = chains.verify()
    assert {c: [p.problem for p in v] for c, v in found.items()} == dict.fromkeys(TABLES, expected)
    for problems in found.values():
        for p in problems:
            assert re.findall(r"\d+", p.problem) == [str(s) for s in p.seqs]


def test_the_entries_named_are_the_ones_changed(chains: System) -> None:
    """A finding names the entries it concerns (a record's id), in the order of their seqs, and
    none for a removal."""
    ids = {seq: rid for seq, rid in _column(chains, "SELECT seq, record_id FROM records")}
    swap(chains, "records", 2, 4)
    delete(chains, "records", 6)
    edit(chains, "records", 8)
    reordered, missing, altered = chains.verify()["records"]
    assert (reordered.kind, reordered.seqs, reordered.entries) == ("reordered", (2, 4), (ids[4], ids[2]))
    assert (missing.kind, missing.seqs, missing.entries) == ("missing", (5, 7), ())
    assert (altered.kind, altered.seqs, altered.entries) == ("altered", (8,), (ids[8],))
    assert str(altered) == f"altered: seq 8 ({ids[8]})" and str(missing) == "missing between seq 5 and 7"


def _column(system: System, sql: str) -> list[tuple[int, str]]:
    with system.store.engine.connect() as conn:
        return [(int(a), str(b)) for a, b in conn.execute(text(sql))]


def test_a_record_edited_beside_a_removal_is_named_by_its_own_hash(chains: System) -> None:
    """The entry after a removed one has no predecessor to check its link against; a record
    still carries its own content hash, so an edit there is named too."""
    delete(chains, "records", 4)
    edit(chains, "records", 5)
    assert [p.problem for p in chains.verify()["records"]] == [
        "missing between seq 3 and 5",
        "altered: seq 5",
    ]


@pytest.mark.parametrize("chain", ["audit", "cases", "registry"])
def test_an_audit_entry_or_case_event_edited_beside_a_removal_is_named_by_its_own_hash(
    chains: System, chain: str
) -> None:
    """Issue 17 point 5: "an edit 'altered: seq N'", also right after a removed entry, whose link
    cannot be checked: an audit entry and a case event keep their own hash (decision 0071), and
    a registry entry since schema 0015 (decision 0074)."""
    delete(chains, chain, 4)
    edit(chains, chain, 5)
    assert [p.problem for p in chains.verify()[chain]] == ["missing between seq 3 and 5", "altered: seq 5"]
    # its own hash changed alone is an alteration too
    _sql(chains, f"UPDATE {TABLES[chain]} SET own_hash = '{'0' * 64}' WHERE seq = 7")
    assert [p.problem for p in chains.verify()[chain]][-1] == "altered: seq 7"


def test_an_entry_stored_before_own_hashes_edited_beside_a_removal_is_not_named(chains: System) -> None:
    """An entry appended before schema 0014 has no own hash: beside a removal, only the removal
    is named (a signed checkpoint still shows the edit)."""
    _sql(chains, "UPDATE audit SET own_hash = NULL WHERE seq = 5")
    delete(chains, "audit", 4)
    edit(chains, "audit", 5)
    assert [p.problem for p in chains.verify()["audit"]] == ["missing between seq 3 and 5"]


def test_an_edited_content_hash_is_named(chains: System) -> None:
    """The stored content hash is part of the record: changing it alone is an alteration."""
    # a different first digit, whatever it was: the sealed content hash is random (its own key and
    # nonce), and one in sixteen began with the 'f' this wrote, which changed nothing
    flip = "CASE WHEN substr(content_hash, 1, 1) = 'f' THEN '0' ELSE 'f' END || substr(content_hash, 2)"
    _sql(chains, f"UPDATE records SET content_hash = {flip} WHERE seq = 6")
    assert [p.problem for p in chains.verify()["records"]] == ["altered: seq 6"]


def test_rows_moved_in_place_of_a_removed_one(chains: System) -> None:
    """Entry 5 removed and entry 3 renumbered into its place: both said, the rest untouched."""
    delete(chains, "cases", 5)
    _sql(chains, "UPDATE case_events SET seq = 5 WHERE seq = 3")
    assert [p.problem for p in chains.verify()["cases"]] == [
        "reordered: seq 3 and seq 5",
        "missing between seq 4 and 6",
    ]


def test_verify_json_and_text_carry_the_findings(chains: System) -> None:
    """The API's (and ``--json``'s) problem keeps its fields and adds ``kind`` and ``seqs``."""
    from socialcredit.api.models import VerifyOut

    swap(chains, "audit", 1, 2)
    body = json.loads(VerifyOut.of(chains.verify(), records=N, audit_entries=N).model_dump_json())
    assert body["ok"] is False and body["problems"]["records"] == [] and body["problems"]["cases"] == []
    assert body["problems"]["audit"] == [
        {
            "seq": 1,
            "record_id": "audit#1",  # the entry now stored at seq 1
            "problem": "reordered: seq 1 and seq 2",
            "kind": "reordered",
            "seqs": [1, 2],
        }
    ]


def rewrite(system: System, chain: str, seq: int) -> None:
    """Edit an entry and recompute its chain hash from the entry stored before it, as one who can
    write the table and knows the chain's layout would: its link then recomputes."""
    edit(system, chain, seq)
    table, entry = LOGS[chain]
    with system.store.engine.begin() as conn:
        rows = {
            int(m["seq"]): m
            for m in conn.execute(select(table).where(table.c.seq.in_([seq - 1, seq]))).mappings()
        }
        prev = str(rows[seq - 1]["chain_hash"]) if seq > 1 else GENESIS
        conn.execute(
            table.update().where(table.c.seq == seq).values(chain_hash=entry(rows[seq]).link(prev, seq))
        )


def rehash(system: System, chain: str, seq: int) -> None:
    """Change an entry's stored chain hash alone, its content left as it was."""
    flip = "CASE WHEN substr(chain_hash, 1, 1) = '0' THEN '1' ELSE '0' END || substr(chain_hash, 2)"
    _sql(system, f"UPDATE {TABLES[chain]} SET chain_hash = {flip} WHERE seq = {seq}")


REWRITES = [
    ("a stored hash changed alone", [(rehash, 4)], ["altered: seq 4"]),
    ("rewrite one", [(rewrite, 4)], ["altered: seq 4"]),
    ("rewrite the first", [(rewrite, 1)], ["altered: seq 1"]),
    ("rewrite the newest", [(rewrite, N)], [f"altered: seq {N}"]),
    ("rewrite one, delete another", [(rewrite, 3), (delete, 6)],
     ["altered: seq 3", "missing between seq 5 and 7"]),
    ("rewrite one, swap two", [(rewrite, 2), (swap, 5, 7)], ["altered: seq 2", "reordered: seq 5 and seq 7"]),
]  # fmt: skip


@pytest.mark.parametrize("chain", ["audit", "cases", "registry"])
@pytest.mark.parametrize(("steps", "expected"), [s[1:] for s in REWRITES], ids=[s[0] for s in REWRITES])
def test_an_entry_rewritten_with_its_hash_is_named_by_the_log(
    chains: System, chain: str, steps: list[tuple[Any, ...]], expected: list[str]
) -> None:
    """An audit entry, case event or registry entry edited with its chain hash recomputed links
    again; the leaf the transparency log kept for it (its level-0 tile, written when it was
    appended) does not recompute, so it is named, and the next entry, whose link fails only
    because the hash before it changed, is not."""
    for step, *seqs in steps:
        step(chains, chain, *seqs)
    found = chains.verify()
    assert [p.problem for p in found[chain]] == expected
    assert all(v == [] for c, v in found.items() if c != chain)


def test_the_api_names_the_rewritten_entry_as_verify_does(chains: System, client: TestClient) -> None:
    """The API's ``/verify`` (the CLI's ``--json`` and the portal's integrity view show the same
    findings, ``test_cli_json``) names the rewritten case event, not its successor."""
    rewrite(chains, "cases", 5)
    body = client.get("/verify", headers=h(chains, "auditor")).json()
    assert body["ok"] is False
    assert [(p["kind"], p["seqs"], p["problem"]) for p in body["problems"]["cases"]] == [
        ("altered", [5], "altered: seq 5")
    ]


# ------------------------------------------------------------------ the diagnosis on chains in memory

AT = dt.datetime(2026, 1, 1)
Row = tuple[int, str, str]  # (seq, content, stored chain hash)


def _chain(n: int) -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS
    for i in range(1, n + 1):
        prev = chain_hash(prev, i, f"c{i}", AT, "b")
        rows.append((i, f"c{i}", prev))
    return rows


def _leaves(n: int) -> dict[int, bytes]:
    """The leaf hashes the log kept of ``_chain(n)`` as appended, by seq."""
    out: list[bytes] = []
    prev = GENESIS
    for i in range(1, n + 1):
        prev = chain_hash(prev, i, f"c{i}", AT, "b", out)
    return dict(enumerate(out, start=1))


def _verify(rows: list[Row], head: tuple[int, str], logged: dict[int, bytes] | None = None) -> list[str]:
    """The findings on ``rows``, with the log's leaves (``logged``, by seq) when given."""
    entries = [Entry(s, c, c, AT, "b", h) for s, c, h in sorted(rows)]
    return [
        p.problem for p in verify_chain(entries, head=head, logged=None if logged is None else logged.get)
    ]


def _renumber(rows: list[Row], moves: dict[int, int]) -> list[Row]:
    return [(moves.get(s, s), c, h) for s, c, h in rows]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_one_fault_anywhere_is_named_exactly(data: st.DataObject) -> None:
    n = data.draw(st.integers(3, 40), label="length")
    rows = _chain(n)
    head = (n, rows[-1][2])
    fault = data.draw(st.sampled_from(["delete", "swap", "swap content", "edit"]))
    a = data.draw(st.integers(1, n), label="a")
    if fault == "delete":
        last = data.draw(st.integers(a, min(n, a + 3)), label="last")
        rows = [r for r in rows if not a <= r[0] <= last]
        if a == 1 and last == n:
            expected = ["missing: every entry"]
        elif a == 1:
            expected = [f"missing before seq {last + 1}"]
        elif last == n:
            expected = [f"missing after seq {a - 1}"]
        else:
            expected = [f"missing between seq {a - 1} and {last + 1}"]
    elif fault == "edit":
        rows[a - 1] = (a, "edited", rows[a - 1][2])
        expected = [f"altered: seq {a}"]
    else:
        b = data.draw(st.integers(1, n).filter(lambda b: b != a), label="b")
        if fault == "swap":
            rows = _renumber(rows, {a: b, b: a})
        else:  # the contents exchanged, each position's stored hash left in place
            (_, ca, ha), (_, cb, hb) = rows[a - 1], rows[b - 1]
            rows[a - 1], rows[b - 1] = (a, cb, ha), (b, ca, hb)
        expected = [f"reordered: seq {min(a, b)} and seq {max(a, b)}"]
    assert _verify(rows, head) == expected
    assert _verify(rows, head, _leaves(n)) == expected  # the log's leaves name nothing more


def _relinked(rows: list[Row], start: int) -> list[Row]:
    """``rows`` with every chain hash from seq ``start`` on recomputed over what they hold."""
    out: list[Row] = []
    prev = GENESIS
    for s, c, stored in rows:
        linked = chain_hash(prev, s, c, AT, "b") if s >= start else stored
        out.append((s, c, linked))
        prev = linked
    return out


def test_an_entry_rewritten_with_its_hash_is_told_by_the_log_alone() -> None:
    """Entry 5 edited and its chain hash recomputed: without the log, only the link after it fails
    and the untouched entry 6 would be named; the log's leaf names entry 5, and nothing else. A
    chain re-linked from there to its head names entry 5 alone: the entries after it are vouched
    for by no leaf (the hash before each was rewritten), and nothing is said against them."""
    whole, leaves = _chain(10), _leaves(10)
    edited = [(s, "edited" if s == 5 else c, x) for s, c, x in whole]
    rows = _relinked(edited, 5)
    one = [(s, c, rows[4][2] if s == 5 else x) for s, c, x in edited]  # only entry 5's hash recomputed
    assert _verify(one, (10, whole[-1][2])) == ["altered: seq 6"]  # what the links alone say
    assert _verify(one, (10, whole[-1][2]), leaves) == ["altered: seq 5"]
    assert _verify(rows, (10, rows[-1][2])) == []  # re-linked to a new head: the links say nothing
    assert _verify(rows, (10, rows[-1][2]), leaves) == ["altered: seq 5"]


def test_a_stored_hash_changed_alone_names_its_entry_only() -> None:
    """Entry 4's stored chain hash changed, nothing else: the links alone name it and entry 5,
    whose link fails against it; the log vouches for entry 4's content and place, so entry 5 is
    checked against the hash entry 4 had, and only entry 4 is named."""
    whole = _chain(10)
    rows = [(s, c, "0" * 64 if s == 4 else x) for s, c, x in whole]
    assert _verify(rows, (10, whole[-1][2])) == ["altered: seq 4", "altered: seq 5"]
    assert _verify(rows, (10, whole[-1][2]), _leaves(10)) == ["altered: seq 4"]


def test_two_swaps_and_a_rotation_are_each_one_finding() -> None:
    rows = _renumber(_chain(12), {2: 4, 4: 2, 7: 8, 8: 9, 9: 7})
    assert _verify(rows, (12, rows[-1][2])) == [
        "reordered: seq 2 and seq 4",
        "reordered: seq 7, seq 8 and seq 9",
    ]


def test_faults_side_by_side_are_told_apart() -> None:
    """A swap whose entry followed a removed one, and an edited entry that was then moved: each
    fault named, the moved entry's predecessor being gone or its content changed."""
    whole = _chain(10)
    head = (10, whole[-1][2])
    rows = _renumber([r for r in whole if r[0] != 4], {2: 5, 5: 2})
    assert _verify(rows, head) == ["reordered: seq 2 and seq 5", "missing between seq 3 and 5"]
    rows = _renumber([(s, "edited" if s == 4 else c, h) for s, c, h in whole], {4: 7, 7: 4})
    assert _verify(rows, head) == ["reordered: seq 4 and seq 7", "altered: seq 7"]


def test_a_renumbered_tail_is_named_as_moved() -> None:
    """Entry 3 removed and every later one renumbered down to close the gap: the removal named
    between its original neighbours, and the renumbered entries as moved, none as altered."""
    whole = _chain(6)
    rows = _renumber([r for r in whole if r[0] != 3], {4: 3, 5: 4, 6: 5})
    assert _verify(rows, (6, whole[-1][2])) == [
        "missing between seq 2 and 4",
        "reordered: seq 3, seq 4, seq 5 and seq 6",
    ]


def test_a_chain_broken_wholesale_is_named_entry_by_entry() -> None:
    """Past what the bounded search can place (hundreds of entries out of place), each entry
    whose link fails is named altered: nothing hides, and verify still ends quickly."""
    whole = _chain(300)
    rows = _renumber([r for r in whole if r[0] != 3], {s: s - 1 for s in range(4, 301)})
    found = _verify(rows, (300, whole[-1][2]))
    assert found == [f"altered: seq {s}" for s in range(3, 300)] + ["missing after seq 299"]


def test_a_head_that_no_longer_matches_names_the_newest_entry() -> None:
    rows = _chain(5)
    assert _verify(rows, (5, "0" * 64)) == ["altered: seq 5"]
    assert _verify(rows, (4, rows[3][2])) == []  # entries appended after the head was read
