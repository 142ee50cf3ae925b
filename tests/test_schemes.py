"""The shipped schemes model the documented pilots, and malformed schemes fail with useful messages."""

from __future__ import annotations

from typing import Any

import pytest

from socialcredit.schemes import lint, shipped_registry
from socialcredit.schemes.loader import shipped_names, shipped_scheme

AGENCIES = {
    "self",  # the subject itself: joining or leaving an opt-in scheme
    "online-platforms",  # a private platform's purchase records (Sesame)
    "court",
    "traffic-police",
    "public-security",
    "tax",
    "market-regulation",
    "environment",
    "power-grid",
    "water-utility",
    "civil-affairs",
    "red-cross",
    "volunteer-federation",
    "banks",
    "transport",
    "education",
    "health",
    "housing",
    "human-resources",
    "customs",
    "emergency-management",
    "trade-union",
}

COURT_LIST = "court-dishonest-debtors/dishonest-debtors"


# --- the shipped set ------------------------------------------------------------------------------


def test_exactly_the_seven_schemes_are_shipped() -> None:
    assert shipped_names() == [
        "court-dishonest-debtors",
        "enterprise-credit",
        "honest-shanghai",
        "joint-memorandum-2016",
        "rongcheng",
        "sesame",
        "suining-2010",
    ]


def test_shipped_registry_loads_and_cross_checks() -> None:
    reg = shipped_registry()
    assert set(reg.schemes) == set(shipped_names())
    for name in shipped_names():
        assert reg.scheme(name) is shipped_scheme(name)
        assert reg.scheme(name).description


def test_shipped_schemes_lint_without_errors() -> None:
    for scheme in shipped_registry().schemes.values():
        errors = [f for f in lint(scheme) if f.level == "error"]
        assert errors == [], scheme.id


def test_shipped_sources_are_known_agencies() -> None:
    used: set[str] = set()
    for scheme in shipped_registry().schemes.values():
        for item in scheme.items:
            assert set(item.sources) <= AGENCIES, item.code
            used.update(item.sources)
    assert used == AGENCIES


def test_shared_item_codes_describe_the_same_fact() -> None:
    """An item code is a global fact type: schemes differ only in points and legal basis."""
    first: dict[str, tuple[Any, ...]] = {}
    for scheme in shipped_registry().schemes.values():
        for it in scheme.items:
            fact = (
                it.title,
                it.area,
                it.polarity,
                sorted(it.sources),
                sorted(it.subjects),
                it.base_rate_per_year,
            )
            assert first.setdefault(it.code, fact) == fact, it.code


def test_base_rates_give_about_three_records_per_subject_per_year() -> None:
    items = shipped_registry().items().values()
    for kind in ("person", "organisation"):
        total = sum(i.base_rate_per_year for i in items if kind in i.subjects)
        assert 1.5 <= total <= 4.0, (kind, total)
    # joining or leaving an opt-in scheme is a choice, not conduct drawn at a rate
    assert all(i.base_rate_per_year > 0 for i in items if i.category != "enrolment")


def test_every_shipped_item_is_well_described() -> None:
    for scheme in shipped_registry().schemes.values():
        for it in scheme.items:
            assert it.legal_basis and it.sources and it.subjects, it.code


# --- Rongcheng --------------------------------------------------------------------------------


def test_rongcheng_model_and_grades() -> None:
    s = shipped_scheme("rongcheng")
    assert s.model is not None
    assert (s.model.base, s.model.minimum) == (1000, 0)
    assert [(g.grade, g.min_score) for g in s.model.grades] == [
        ("AAA", 1050),
        ("AA", 1030),
        ("A", 960),
        ("B", 850),
        ("C", 600),
        ("D", 0),
    ]
    scored = [i for i in s.items if i.points]  # the consent items (decision 0042) score nothing
    assert 15 <= len(scored) <= 25
    assert {i.area for i in scored} == {"administrative", "commercial", "social", "judicial"}
    assert {i.polarity for i in scored} == {"positive", "negative"}
    assert {i.code for i in s.items if not i.points} == {
        "rongcheng.publicity-consent",
        "rongcheng.publicity-withdrawn",
    }


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (1200, "AAA"),
        (1050, "AAA"),
        (1049, "AA"),
        (1030, "AA"),
        (1029, "A"),
        (1000, "A"),
        (960, "A"),
        (959, "B"),
        (850, "B"),
        (849, "C"),
        (600, "C"),
        (599, "D"),
        (0, "D"),
        (-5, "D"),
    ],
)
def test_rongcheng_scores_map_to_grades(score: int, grade: str) -> None:
    model = shipped_scheme("rongcheng").model
    assert model is not None
    assert model.grade_of(score) == grade


def test_rongcheng_lists() -> None:
    s = shipped_scheme("rongcheng")
    honour, d = s.list_def("honour-roll"), s.list_def("d-grade")
    assert honour is not None and d is not None
    assert (honour.kind, honour.criteria.grade_at_least, honour.period_days) == ("red", "AAA", 365)
    assert honour.notice.required is False
    assert honour.published_fields == ["name", "grade", "district"]
    # "stories of integrity" only with the subject's consent (issue 19, point 3; decision 0042)
    assert honour.publication_consent is not None and d.publication_consent is None
    consent = s.item("rongcheng.publicity-consent")
    assert consent is not None and consent.sources == ["self"]
    assert (d.kind, d.criteria.grade_at_most, d.period_days) == ("black", "D", 365)
    assert (d.notice.required, d.notice.days) == (True, 10)
    assert honour.legal_basis and d.legal_basis


# --- Suining ------------------------------------------------------------------------------------


def test_suining_documented_points_are_exact() -> None:
    s = shipped_scheme("suining-2010")
    documented = {
        "traffic.minor": -20,
        "traffic.red-light": -50,
        "traffic.drunk-driving": -50,
        "corruption.paying-bribe": -50,
        "family.elderly-care-neglect": -50,
        "online.false-accusation": -100,
        "honour.model-worker": 100,
    }
    for code, points in documented.items():
        item = s.item(code)
        assert item is not None, code
        assert item.points == points, code
    accusation = s.item("online.false-accusation")
    assert accusation is not None
    assert "Public Security Administration Punishments Law" in (accusation.legal_basis or "")
    assert "Art. 42" in (accusation.legal_basis or "")


def test_suining_model() -> None:
    s = shipped_scheme("suining-2010")
    assert s.model is not None
    assert (s.model.base, s.model.maximum) == (1000, 1000)
    assert [g.grade for g in s.model.grades] == ["A", "B", "C", "D"]
    assert "ASSUMPTION" in (s.description or "")
    assert s.model.grade_of(1000) == "A"
    assert s.model.grade_of(950) == "B"  # one red light


# --- the court's list ---------------------------------------------------------------------------


def test_court_list_follows_the_spc_provisions() -> None:
    """SPC Provisions, Art. 2: "for grounds (2) to (6) the listing lasts 2 years (calendar years,
    from the listing decision)... the court may extend it by 1 to 3 years... Ground (1) has no
    fixed period: the debtor stays listed until a removal ground of Art. 10"; Art. 10: removal
    "within 3 working days" of seven grounds, which do not apply to a fixed period (the rules
    themselves: tests/test_court_list.py)."""
    s = shipped_scheme("court-dishonest-debtors")
    assert s.model is None
    lst = s.list_def("dishonest-debtors")
    assert lst is not None
    assert lst.kind == "black"
    assert lst.period_days is None and len(lst.periods) == 2
    none, fixed = lst.periods
    assert (none.grounds, none.years, none.extension) == (["court.dishonest.able-but-refuses"], "none", None)
    assert len(none.removal.on_items) == 7 and none.removal.within_working_days == 3
    assert fixed.years == 2 and len(fixed.grounds) == 5 and fixed.extension is not None
    assert (fixed.extension.min_years, fixed.extension.max_years) == (1, 3)
    assert (
        fixed.removal.on_items == ["court.decision.early-removal"] and fixed.removal.within_working_days == 3
    )
    assert lst.notice.required is False
    assert lst.lists_representative is True
    assert lst.published_fields == [
        "name",
        "sex",
        "age",
        "id_number_masked",
        "legal_representative",
        "obligation",
        "performance",
        "conduct",
        "case_number",
        "court",
    ]
    assert len(lst.criteria.items) == 6
    assert len(lst.removal_items) == 8
    for code in lst.criteria.items:
        it = s.item(code)
        assert it is not None
        assert (it.sources, it.area, it.polarity, it.points, it.severity) == (
            ["court"],
            "judicial",
            "negative",
            0,
            "serious",
        )
        assert it.legal_basis and "Art. 1(" in it.legal_basis
    for code in (*lst.removal_items, *lst.extension_items):
        it = s.item(code)
        assert it is not None
        assert (it.polarity, it.points, it.sources) == ("neutral", 0, ["court"])
        assert it.legal_basis and ("Art. 10(" in it.legal_basis or it.legal_basis.endswith("Art. 2"))
    assert s.public_lookup == ["organisation"]


# --- the memorandum -----------------------------------------------------------------------------


def test_memorandum_punishments_and_rewards() -> None:
    s = shipped_scheme("joint-memorandum-2016")
    assert not s.items and s.model is None
    required = {
        "no-flights": ["airlines"],
        "no-high-speed-rail": ["railway"],
        "no-first-class-rail": ["railway"],
        "no-luxury-hotels": ["hotels"],
        "no-high-fee-private-schools": ["schools"],
        "no-civil-service-hiring": ["civil-service"],
        "no-travel-abroad": ["exit-entry"],
    }
    for mid, by in required.items():
        m = s.measure(mid)
        assert m is not None, mid
        assert m.kind == "punishment"
        assert m.implemented_by == by
        assert m.trigger.lists == [COURT_LIST]
        assert m.how_to_resolve and "3 working days" in m.how_to_resolve
        assert m.legal_basis and "[2016] No. 141" in m.legal_basis
    rewards = [m for m in s.measures if m.kind == "reward"]
    assert len(rewards) >= 3
    deposit = s.measure("deposit-free-rental")
    assert deposit is not None
    assert deposit.trigger.scheme == "rongcheng" and deposit.trigger.grades == ["AAA", "AA"]
    assert set(deposit.implemented_by) == {"car-rental", "bike-share", "hotels"}
    green = s.measure("green-lane-services")
    assert green is not None and green.trigger.lists == ["rongcheng/honour-roll"]
    transport = s.measure("cheaper-public-transport")
    assert transport is not None and transport.trigger.grades == ["AAA", "AA", "A"]
    d_grade = [m for m in s.measures if m.trigger.lists == ["rongcheng/d-grade"]]
    assert d_grade and all(m.kind == "punishment" for m in d_grade)
    for m in s.measures:
        assert m.legal_basis and m.how_to_resolve, m.id


def test_memorandum_triggers_resolve() -> None:
    reg = shipped_registry()
    for m in reg.measures().values():
        for ref in m.trigger.lists:
            assert reg.list_def(ref).id == ref.partition("/")[2]


def test_a_copy_with_other_items_answers_with_them() -> None:
    """A scheme copied with other items (a variant, a scenario) must not answer from the
    original's cached item index: found by the evaluators' contract (tests/test_contract.py),
    where a decaying copy scored without decay per subject."""
    scheme = shipped_registry().scheme("rongcheng")
    assert scheme.item("traffic.minor") is not None  # the index is cached now
    items = [i.model_copy(update={"half_life_days": 99}) for i in scheme.items]
    copy = scheme.model_copy(update={"items": items})
    found = copy.item("traffic.minor")
    assert found is not None and found.half_life_days == 99
    assert scheme.item_index["traffic.minor"].half_life_days is None
