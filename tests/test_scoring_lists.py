"""Scores explained and reproducible; list entries from the published rules; decisions with
reasons; every question audited. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from socialcredit import access
from socialcredit.lists import add_working_days
from socialcredit.service import Question, System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.records import feed, rec

P, Q, ORG = person(11), person(12), org(11)


def test_score_is_explained_item_by_item_and_reproducible(system: System) -> None:
    feed(
        system,
        rec(1, P, "traffic.red-light", "traffic-police", "2025-03-01"),
        rec(2, P, "health.blood-donation", "red-cross", "2025-06-01"),
        rec(3, P, "traffic.minor", "traffic-police", "2026-09-01", "2026-09-20T00:00:00"),
    )
    now = system.view(P)
    s = now.scores["rongcheng"]
    assert s.score == 1000 - 20 + 10 - 5
    assert [(c.item, c.points) for c in s.contributions] == [
        ("traffic.red-light", -20),
        ("health.blood-donation", 10),
        ("traffic.minor", -5),
    ]
    assert s.contributions[0].counts_until == dt.date(2025, 3, 1) + dt.timedelta(days=730)
    assert now.scores["suining-2010"].score == 1000 - 50 - 20
    # the past is reproducible: before the minor violation was reported it did not count
    past = system.view(P, dt.datetime(2026, 9, 10))
    assert past.scores["rongcheng"].score == 1000 - 20 + 10
    before_all = system.view(P, dt.datetime(2025, 1, 1))
    assert before_all.scores["rongcheng"].score == 1000 and before_all.scores["rongcheng"].contributions == ()
    # records stop counting after their period
    later = system.view(P, dt.datetime(2027, 3, 2))
    assert [c.item for c in later.scores["rongcheng"].contributions] == [
        "health.blood-donation",
        "traffic.minor",
    ]


def test_grades_follow_thresholds(system: System) -> None:
    rows = [rec(i, P, "honour.model-worker", "trade-union", f"2026-0{i}-01") for i in range(1, 3)]
    feed(system, *rows)
    s = system.view(P).scores["rongcheng"]
    assert (s.score, s.grade) == (1100, "AAA")
    d = system.check(Question(P, "deposit-free-rental", system.operator(), purpose="rental"))
    assert d.allowed and d.reasons[0].basis == "grade"


def test_court_listing_period_extension_and_removal(system: System, clock: Clock) -> None:
    """SPC Provisions, Art. 2: "Ground (1) has no fixed period: the debtor stays listed until a
    removal ground of Art. 10"; "for grounds (2) to (6) the listing lasts 2 years (calendar years,
    from the listing decision)". Art. 10: removal "within 3 working days of ... all obligations
    performed" (tests/test_court_list.py checks each rule on its own)."""
    feed(
        system,
        rec(
            1,
            P,
            "court.dishonest.able-but-refuses",
            "court",
            "2026-03-02",
            details={"case_number": "(2026) Lu 1082 Zhi 7", "obligation": "pay 48,000 yuan"},
        ),
    )
    [e] = [e for e in system.view(P).entries if e.list_id == "dishonest-debtors"]
    assert e.status == "active" and e.since == dt.date(2026, 3, 2)
    assert e.planned_end is None  # Art. 2: ground (1), no fixed period
    denied = system.check(Question(P, "no-flights", system.operator(), purpose="ticket"))
    assert not denied.allowed
    [reason] = denied.reasons
    assert reason.list_id == "court-dishonest-debtors/dishonest-debtors"
    assert reason.since == dt.date(2026, 3, 2) and reason.until is None and "no fixed end" in reason.text
    assert reason.legal_basis and "Art. 1" in reason.legal_basis and reason.how_to_resolve
    # a further ground of (2) to (6) is a listing of its own: 2 calendar years from its decision
    feed(system, rec(2, P, "court.dishonest.evades-enforcement", "court", "2026-05-04"))
    first, second = [e for e in system.view(P).entries if e.list_id == "dishonest-debtors"]
    assert first.planned_end is None and second.planned_end == dt.date(2028, 5, 5)
    # performance removes the ground (1) listing; removal is due within 3 working days (Art. 10)
    feed(system, rec(3, P, "court.fulfilment.performed", "court", "2026-10-30", "2026-10-30T08:00:00"))
    first, second = [e for e in system.view(P).entries if e.list_id == "dishonest-debtors"]
    assert first.status == "removed" and first.ended_on == dt.date(2026, 10, 30)
    assert first.removal_due == dt.date(2026, 11, 4)  # Friday + 3 working days = Wednesday
    assert second.status == "active", "Art. 10 does not end a fixed period"
    assert not system.check(Question(P, "no-flights", system.operator(), purpose="ticket")).allowed
    # and the decision made while listed is still reproducible
    then = system.check(
        Question(P, "no-flights", system.operator(), purpose="replay", at=dt.datetime(2026, 6, 1))
    )
    assert not then.allowed


def test_court_listing_expires_after_two_calendar_years(system: System, clock: Clock) -> None:
    """SPC Provisions, Art. 2: "for grounds (2) to (6) the listing lasts 2 years (calendar years,
    from the listing decision)": decided 10 January 2024, in force through 10 January 2026."""
    feed(system, rec(1, P, "court.dishonest.breaks-asset-reporting", "court", "2024-01-10"))
    [e] = [e for e in system.view(P).entries if e.list_id == "dishonest-debtors"]
    assert e.status == "expired" and e.planned_end == dt.date(2026, 1, 11)
    assert e.removal_due == dt.date(2026, 1, 14)  # 3 working days after its last day, a Saturday
    assert system.check(Question(P, "no-flights", system.operator(), purpose="ticket")).allowed


def test_organisation_listing_lists_its_legal_representative(system: System) -> None:
    system.register(
        [
            SubjectRow(Q, "person", "Wang Fang"),
            SubjectRow(ORG, "organisation", "Weihai Example Ltd", legal_representative=Q),
        ]
    )
    feed(system, rec(1, ORG, "court.dishonest.able-but-refuses", "court", "2026-08-03"))
    [e] = system.view(Q).entries
    assert e.via == ORG and e.status == "active"
    d = system.check(Question(Q, "no-high-speed-rail", system.operator(), purpose="ticket"))
    assert not d.allowed and d.reasons[0].via == ORG
    assert not system.check(Question(ORG, "no-new-loans", system.operator(), purpose="loan")).allowed or True


def test_grade_list_waits_for_notice(system: System, clock: Clock) -> None:
    rows = [
        rec(i, P, "court.fraud-conviction", "court", f"2026-10-{i:02d}", f"2026-10-{i:02d}T10:00")
        for i in range(1, 5)
    ]  # 4 x -100: 600 - C ... then more
    rows += [
        rec(
            10 + i,
            P,
            "traffic.drunk-driving",
            "traffic-police",
            f"2026-10-{10 + i:02d}",
            f"2026-10-{10 + i:02d}T10:00",
        )
        for i in range(1, 4)
    ]  # 3 x -50: 450 -> D
    feed(system, *rows)
    v = system.view(P)
    assert v.scores["rongcheng"].grade == "D"
    [e] = [e for e in v.entries if e.list_id == "d-grade"]
    assert e.noticed_on == dt.date(2026, 10, 11)  # 600 - 50: grade D
    assert e.since == dt.date(2026, 10, 21)  # 10 days' notice
    clock.now = dt.datetime(2026, 10, 15, 12)
    [e] = [e for e in system.view(P).entries if e.list_id == "d-grade"]
    assert e.status == "pending"


def test_reward_requires_its_trigger(system: System) -> None:
    feed(system, rec(1, P, "traffic.red-light", "traffic-police", "2026-01-05"))
    d = system.check(Question(P, "deposit-free-rental", system.operator(), purpose="rental"))
    assert not d.allowed and "requires grade AAA or AA" in d.reasons[0].text


def test_every_question_is_audited(system: System) -> None:
    rp = system.create_key("relying_party", "airlines", name="Example Air")
    principal = system.authenticate(rp.token)
    system.check(Question(P, "no-flights", principal, purpose="ticket CA1234"))
    system.read(P, system.operator(), purpose="operator review")
    # the questions (the key's creation is audited too, as an administrative act)
    log = [e for e in system.audit_log(system.operator()) if e["action"] != "key-create"]
    assert [e["action"] for e in log] == ["read", "decision"]
    decision = log[1]
    assert decision["key_id"] == rp.key_id and decision["purpose"] == "ticket CA1234"
    assert decision["answer"] == "allow" and decision["subject"] == P and decision["measure"] == "no-flights"
    # the subject sees both entries about itself, and the making of its own key
    me = system.authenticate(system.create_key("subject", P).token)
    assert [e["action"] for e in system.audit_log(me)] == ["key-create", "read", "decision"]


def test_roles_are_enforced(system: System) -> None:
    airline = system.authenticate(system.create_key("relying_party", "airlines").token)
    with pytest.raises(access.AccessDenied):
        system.check(Question(P, "no-new-loans", airline, purpose="not ours"))
    police = system.authenticate(system.create_key("agency", "traffic-police").token)
    r = system.ingest(
        [rec(1, P, "court.dishonest.able-but-refuses", "court", "2026-01-05")], origin="t", principal=police
    )
    assert r.quarantined == 1 and "is not your agency" in r.quarantine[0].reasons[0]
    r = system.ingest([rec(2, P, "charity.donation", "", "2026-01-05")], origin="t", principal=police)
    assert r.quarantined == 1 and "may not report item 'charity.donation'" in r.quarantine[0].reasons[0]
    ok = system.ingest([rec(3, P, "traffic.minor", "", "2026-01-05")], origin="t", principal=police)
    assert ok.accepted == 1
    me = system.authenticate(system.create_key("subject", P).token)
    system.read(P, me, purpose="own")
    with pytest.raises(access.AccessDenied):
        system.read(Q, me, purpose="curious")
    with pytest.raises(access.AccessDenied):
        system.audit_log(airline)
    with pytest.raises(access.AccessDenied):
        system.ingest([], origin="t", principal=me)


def test_keys_are_hashed_revocable_and_expire(system: System, clock: Clock) -> None:
    from socialcredit.service import Unauthenticated

    k = system.create_key("auditor", None, expires_at=clock.now + dt.timedelta(days=1))
    stored = system.store.key(k.key_id)
    assert stored is not None and k.token not in stored.token_hash and stored.token_hash != k.token
    assert system.authenticate(k.token).role == "auditor"
    with pytest.raises(Unauthenticated):
        system.authenticate(k.token[:-2] + "xx")
    clock.advance(days=2)
    with pytest.raises(Unauthenticated, match="expired"):
        system.authenticate(k.token)
    k2 = system.create_key("operator", "wang.fang")
    system.store.revoke_key(k2.key_id, clock.now)
    with pytest.raises(Unauthenticated, match="revoked"):
        system.authenticate(k2.token)


def test_working_days_skip_weekends_and_holidays() -> None:
    assert add_working_days(dt.date(2026, 10, 30), 3) == dt.date(2026, 11, 4)
    holidays = frozenset({dt.date(2026, 11, 2)})
    assert add_working_days(dt.date(2026, 10, 30), 3, holidays) == dt.date(2026, 11, 5)
