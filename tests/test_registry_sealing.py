"""The registry sealed at rest (issue 21 point 1; decision 0074): its chain, ``subjects`` and
``tenures`` name subjects by keyed pseudonym and keep their codes, names and representatives
sealed under each subject's registry key.

Issue 21: "Every table that holds personal data is covered the same way: records, audit entries,
case events, quarantined rows, the registry", and "No hash kept in the clear may be computed from
guessable personal data without a key". The published rule the reads still follow: the Supreme
People's Court's provisions, Art. 2 (../shared/DOMAIN.md): the list names "for a legal person or
other organisation, its name, unified social credit code, and the name of its legal
representative", so a representative's term outlives nothing it grounds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select, update

from socialcredit import backup
from socialcredit.documents import parse
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.shredding import Erasure
from socialcredit.store import tables as t
from socialcredit.store.sql import Store
from socialcredit.subjects import SubjectRow, Tenure
from tests.conftest import Clock, org, person

P, Q, ORG = person(81), person(82), org(81)
NAME, ORG_NAME = "Zhou Jiebin", "Zibo Rongcheng Steel"
PASSPORT = "passport:CHN:E12345678"


def _registered(system: System, clock: Clock) -> None:
    """P (with a record), Q, and ORG represented by Q since 2020."""
    clock.now = dt.datetime(2026, 3, 2, 2, 0)
    system.register([SubjectRow(P, "person", NAME, None, "Zhangdian"), SubjectRow(Q, "person", "Chen Ling")])
    system.register([SubjectRow(ORG, "organisation", ORG_NAME, None, None, Q, dt.date(2020, 1, 1))])
    row = {
        "subject": P,
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": "v-1",
        "occurred_on": "2026-03-01",
    }
    assert system.ingest([(1, row)], origin="test", principal=system.operator()).accepted == 1
    system.store.link_document(P, parse(PASSPORT), "seen at the border post", clock.now)


def _raw(store: Store) -> str:
    with store.engine.connect() as conn:
        rows = {
            x.name: [dict(m) for m in conn.execute(select(x)).mappings()]
            for x in (t.registry, t.subjects, t.tenures)
        }
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_no_code_or_name_in_a_raw_row_and_every_lookup_reads_as_registered(
    system: System, clock: Clock
) -> None:
    _registered(system, clock)
    dumped = _raw(system.store)
    secrets = (P, Q, ORG, NAME, ORG_NAME, "Chen Ling", "Zhangdian", "E12345678", "border post")
    assert not [s for s in secrets if s in dumped]
    store = system.store
    assert store.subject(P) == SubjectRow(P, "person", NAME, None, "Zhangdian")
    assert store.represented_by(Q) == [ORG] and store.representatives() == {ORG: Q}
    assert (
        store.terms(person=Q)
        == store.terms(organisation=ORG)
        == [Tenure(ORG, Q, dt.date(2020, 1, 1), None, 3)]
    )
    assert [e.row.name for e in store.registry_history(ORG)] == [ORG_NAME]
    [link] = store.document_links(subject=P)
    assert (link.document, link.subject, link.evidence, link.valid_to) == (
        PASSPORT,
        P,
        "seen at the border post",
        None,
    )
    assert store.document_links(document=PASSPORT) == [link] and store.document_subject(PASSPORT) == P
    # every table folded from the chain reads the same when folded again from it (schema 0015's first open)
    before = (store.subject_rows(), store.terms(), store.document_links())
    store.fold_registry()
    assert (store.subject_rows(), store.terms(), store.document_links()) == before
    # a lookup by code is one HMAC, then the primary key
    with store.engine.connect() as conn:
        keys = [k for (k,) in conn.execute(select(t.subjects.c.subject))]
    assert sorted(keys) == sorted(store.sealing.pseudonym(c) for c in (P, Q, ORG))
    assert system.verify()["registry"] == []


def _erase_records(system: System, code: str, at: dt.datetime) -> None:
    """Destroy the subject's record keys, as a granted erasure on request does (``service/erasures``)."""
    store = system.store
    vault = store.sealing.vault
    p = vault.pseudonym(code)
    classes = {k for (s, k) in store.sealed_groups() if s == p}
    found = vault.store.wrapped_keys([(p, k) for k in classes])
    vault.erase([Erasure(p, k, w.key_id, at, "test") for (p, k), w in found.items()])


def test_a_persons_registration_goes_with_his_last_record_key_and_the_chain_still_verifies(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    _registered(system, clock)
    store = system.store
    at = clock.now + dt.timedelta(days=1)
    p, q, o = (store.sealing.pseudonym(c) for c in (P, Q, ORG))
    # while a record key lives, and while a person represents an organisation, nothing goes
    assert store.erase_registry_keys([p, q, o], at, "test") == 0
    _erase_records(system, P, at)
    assert store.erase_registry_keys([p, q, o], at, "test") == 1  # P's; Q serves ORG; ORG is public
    assert store.subject(P) is None and store.registry_history(P) == []
    assert store.document_links(subject=P) == [] and store.document_subject(PASSPORT) is None
    assert P not in {r.code for r in store.subject_rows()}
    assert store.subject(ORG) is not None and store.represented_by(Q) == [ORG]
    assert all(v == [] for v in system.verify().values()), system.verify()
    # a backup taken after holds no key to read it with; restored, it reads and verifies the same
    path = tmp_path / "after.jsonl.gz"
    backup.dump(store, path, at)
    restored = Store(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        backup.restore(path, restored)
        assert restored.subject(P) is None and restored.subject(ORG) == store.subject(ORG)
        again = System(restored, shipped_registry(), clock=clock)
        assert all(v == [] for v in again.verify().values())
    finally:
        restored.close()
    # registered again, the person's registration goes under the next generation of key
    assert system.register([SubjectRow(P, "person", NAME)]) == (1, 0, 0)
    assert store.subject(P) is not None and store.subject(P).name == NAME  # type: ignore[union-attr]
    with store.engine.connect() as conn:
        klass = conn.execute(select(t.subjects.c.klass).where(t.subjects.c.subject == p)).scalar()
    assert klass == "registry.1"
    assert all(v == [] for v in system.verify().values())


def test_a_registry_entry_edited_beside_a_removal_is_named_by_its_own_hash(
    system: System, clock: Clock
) -> None:
    """Issue 17 point 5: an edit right after a removed entry, whose link cannot be checked, is
    named "altered" by the entry's own hash (decision 0071, for the registry since 0074)."""
    _registered(system, clock)
    with system.store.engine.begin() as conn:
        conn.execute(t.registry.delete().where(t.registry.c.seq == 1))
        stolen = conn.execute(select(t.registry.c.sealed).where(t.registry.c.seq == 3)).scalar()
        conn.execute(t.registry.update().where(t.registry.c.seq == 2).values(sealed=stolen))
    assert [x.problem for x in system.verify()["registry"]] == ["altered: seq 2", "missing before seq 2"]


def test_a_registry_leaf_is_the_documented_bytes_and_holds_nothing_personal(
    system: System, clock: Clock
) -> None:
    """Issue 22 point 1: "The canonical leaf bytes are defined once, in the docs" and "Personal
    data is stored encrypted or pseudonymised, so a proof never reveals it". Each registry leaf,
    rebuilt here from the stored columns by docs/transparency.md's definition alone (not the
    server's code), is the leaf the log holds; and no leaf holds a code, a name, a document number
    or even the subject's pseudonym."""
    import hashlib

    _registered(system, clock)
    store = system.store
    with store.engine.connect() as conn:
        rows = [dict(m) for m in conn.execute(select(t.registry).order_by(t.registry.c.seq)).mappings()]
    prev, rebuilt = "0" * 64, []
    for m in rows:
        stored = ["registry", m["code"], m["kind"], m["klass"], m["sealed"]]
        canonical = json.dumps(stored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        content = "registry:" + hashlib.sha256(canonical.encode()).hexdigest()
        at = m["at"].strftime("%Y-%m-%dT%H:%M:%S")
        leaf = f"{prev}|{m['seq']}|{content}|{at}|registry".encode()
        assert hashlib.sha256(leaf).hexdigest() == m["chain_hash"]
        rebuilt.append(leaf)
        prev = m["chain_hash"]
    assert list(store.leaves("registry")) == rebuilt and len(rebuilt) == 4
    public = b"".join(rebuilt).decode()
    pseudonyms = (store.sealing.pseudonym(P), store.sealing.pseudonym(ORG))
    secrets = (P, Q, ORG, NAME, ORG_NAME, "E12345678", *pseudonyms)
    assert not [s for s in secrets if s in public]


def test_an_erased_persons_document_can_be_linked_again(system: System, clock: Clock) -> None:
    """DOMAIN.md: relying parties "must match every document a person holds". Once a person's
    registration is erased nothing can read whom their link names, so the link ends with the
    erasure (decision 0094): the document no longer names them, and may be linked again, to a
    person registered since or to the same person registered again. Before, the erased link
    held the unique index of current links and a new link failed."""
    _registered(system, clock)
    store = system.store
    at = clock.now + dt.timedelta(days=1)
    _erase_records(system, P, at)
    assert store.erase_registry_keys([store.sealing.pseudonym(P)], at, "test") == 1
    assert store.document_subject(PASSPORT) is None
    d = t.document_links.c
    with store.engine.connect() as conn:
        ended = conn.execute(
            select(d.valid_to, d.ended_by).where(d.subject == store.sealing.pseudonym(P))
        ).all()
    assert [tuple(r) for r in ended] == [(at, "erasure")]  # the row stays, ended
    link = store.link_document(Q, parse(PASSPORT), "new holder, checked at the counter", at)
    assert store.document_subject(PASSPORT) == Q and store.document_links(document=PASSPORT) == [link]
    assert all(v == [] for v in system.verify().values()), system.verify()


def test_an_erased_link_left_current_by_an_earlier_release_ends_when_the_document_is_linked(
    system: System, clock: Clock
) -> None:
    """A link whose holder's key an earlier release destroyed stayed current: linking the
    document again ends it then, instead of failing on the unique index (decision 0094)."""
    _registered(system, clock)
    store = system.store
    at = clock.now + dt.timedelta(days=1)
    _erase_records(system, P, at)
    store.erase_registry_keys([store.sealing.pseudonym(P)], at, "test")
    d = t.document_links.c
    with store.engine.begin() as conn:  # as the release before left it
        conn.execute(update(t.document_links).values(valid_to=None, ended_by=None))
    later = at + dt.timedelta(days=3)
    assert store.link_document(Q, parse(PASSPORT), "new holder", later).subject == Q
    assert store.document_subject(PASSPORT) == Q
    with store.engine.connect() as conn:
        rows = conn.execute(select(d.valid_to, d.ended_by).order_by(d.linked)).all()
    assert [tuple(r) for r in rows] == [(later, "erasure"), (None, None)]
