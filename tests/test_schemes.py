"""The shipped schemes model the documented pilots, and malformed schemes fail with useful messages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.schemes import Registry, Scheme, SchemeError, lint, load_scheme, shipped_registry
from socialcredit.schemes.loader import parse_scheme, shipped_names, shipped_scheme
from socialcredit.schemes.model import GradeCriteria, ItemCriteria

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


def minimal() -> dict[str, Any]:
    """A small valid scheme as plain data, for tests to break."""
    return {
        "id": "town",
        "title": "Town pilot",
        "jurisdiction": "Town",
        "model": {
            "base": 1000,
            "grades": [{"grade": "A", "min_score": 900}, {"grade": "B", "min_score": 0}],
        },
        "items": [
            {
                "code": "traffic.red-light",
                "title": "Running a red light",
                "area": "administrative",
                "polarity": "negative",
                "points": -10,
                "legal_basis": "Road Traffic Safety Law of the PRC, Art. 90",
                "sources": ["traffic-police"],
            }
        ],
    }


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "town.yaml") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return p


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


# --- malformed schemes --------------------------------------------------------------------------


def test_minimal_scheme_is_valid(tmp_path: Path) -> None:
    s = load_scheme(write(tmp_path, minimal()))
    assert isinstance(s, Scheme) and s.id == "town"


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    data = minimal()
    data["items"][0]["pionts"] = -5
    p = write(tmp_path, data)
    with pytest.raises(SchemeError) as exc:
        load_scheme(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "items.0.pionts" in msg


def test_wrong_type_names_file_and_field(tmp_path: Path) -> None:
    data = minimal()
    data["items"][0]["points"] = "a lot"
    p = write(tmp_path, data)
    with pytest.raises(SchemeError) as exc:
        load_scheme(p)
    assert str(p) in str(exc.value)
    assert "items.0.points" in str(exc.value)


def test_bad_yaml_gives_line_number(tmp_path: Path) -> None:
    p = write(tmp_path, "id: town\ntitle: Town\nitems:\n  - code: [unclosed\n    title: x\n")
    with pytest.raises(SchemeError) as exc:
        load_scheme(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "not valid YAML at line" in msg


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(SchemeError, match="x.yaml: a scheme must be a mapping"):
        parse_scheme("- just\n- a list\n", "x.yaml")


def test_grades_must_descend() -> None:
    data = minimal()
    data["model"]["grades"] = [{"grade": "B", "min_score": 0}, {"grade": "A", "min_score": 900}]
    with pytest.raises(SchemeError) as exc:
        parse_scheme(yaml.safe_dump(data), "town.yaml")
    assert "town.yaml: model" in str(exc.value)
    assert "highest first" in str(exc.value)


def test_sign_of_points_must_match_polarity() -> None:
    data = minimal()
    data["items"][0]["points"] = 10
    with pytest.raises(SchemeError, match="town.yaml: items.0: .*cannot add points"):
        parse_scheme(yaml.safe_dump(data), "town.yaml")


def test_list_grade_must_exist() -> None:
    data = minimal()
    data["lists"] = [
        {
            "id": "low",
            "title": "Low",
            "kind": "black",
            "criteria": {"grade_at_most": "Z"},
            "period_days": 365,
            "legal_basis": "x",
        }
    ]
    with pytest.raises(SchemeError, match="grade 'Z' is not a grade"):
        parse_scheme(yaml.safe_dump(data), "town.yaml")


def with_list(criteria: dict[str, Any]) -> dict[str, Any]:
    """:func:`minimal` with one list, ``low``, on these criteria."""
    data = minimal()
    data["lists"] = [
        {"id": "low", "title": "Low", "kind": "black", "criteria": criteria, "period_days": 365,
         "legal_basis": "x"}
    ]  # fmt: skip
    return data


@pytest.mark.parametrize(
    ("criteria", "by"),
    [
        ({"items": ["traffic.red-light"]}, "items"),
        ({"by": "items", "items": ["traffic.red-light"], "min_records": 2}, "items"),
        ({"grade_at_most": "B"}, "grade"),
        ({"by": "grade", "grade_at_least": "A"}, "grade"),
    ],
)
def test_list_criteria_are_by_items_or_by_grade_stated_or_not(criteria: dict[str, Any], by: str) -> None:
    """``by`` may be written; without it (files written before it existed) the keys decide."""
    lst = parse_scheme(yaml.safe_dump(with_list(criteria)), "town.yaml").lists[0]
    assert lst.criteria.by == by
    assert isinstance(lst.criteria, ItemCriteria if by == "items" else GradeCriteria)
    assert lst.qualifying_items == (["traffic.red-light"] if by == "items" else [])


@pytest.mark.parametrize(
    "criteria",
    [
        {"items": ["traffic.red-light"], "grade_at_most": "B"},
        {"by": "grade", "grade_at_most": "B", "window_days": 30},
        {"by": "items", "grade_at_most": "B"},
        {"by": "grade", "items": ["traffic.red-light"]},
    ],
)
def test_list_criteria_mixing_items_and_grade_are_refused(criteria: dict[str, Any]) -> None:
    """Named by the list, whether the keys clash with each other or with ``by``."""
    mixed = "town.yaml: lists.0: .*list low: criteria are by items or by grade, not both"
    with pytest.raises(SchemeError, match=mixed):
        parse_scheme(yaml.safe_dump(with_list(criteria)), "town.yaml")


@pytest.mark.parametrize(
    ("criteria", "error"),
    [
        ({"items": []}, "lists.0.criteria.items: List should have at least 1 item"),
        ({"by": "items"}, "lists.0.criteria.items: Field required"),
        ({}, "lists.0.criteria.items: Field required"),
        ({"by": "grade"}, "lists.0.criteria: .*criteria by grade need grade_at_most or grade_at_least"),
        ({"by": "rank", "grade_at_most": "B"}, "lists.0.criteria: .*'items', 'grade'"),
    ],
)
def test_list_criteria_must_say_what_lists(criteria: dict[str, Any], error: str) -> None:
    """A list by items names at least one item: an empty ``items`` is an error, never a list by
    grade."""
    with pytest.raises(SchemeError, match=f"town.yaml: {error}"):
        parse_scheme(yaml.safe_dump(with_list(criteria)), "town.yaml")


def test_shipped_lists_state_their_criteria() -> None:
    """The shipped files are the examples people copy: each list says what it is by."""
    for name in shipped_names():
        text = (Path(__file__).parents[1] / "src/socialcredit/schemes/shipped" / f"{name}.yaml").read_text()
        for lst in yaml.safe_load(text).get("lists", []):
            assert lst["criteria"]["by"] in ("items", "grade"), (name, lst["id"])


def test_an_opt_in_scheme_cannot_list_by_grade() -> None:
    """Sesame's score exists only for those who joined: a list by its grade would list (and
    publish) people by a score they never agreed to, so the scheme is refused, naming the list."""
    data = shipped_scheme("sesame").model_dump(mode="json")
    data["lists"] = [
        {"id": "poor", "title": "Poor", "kind": "black", "criteria": {"grade_at_most": "poor"},
         "period_days": 365, "legal_basis": "x"}
    ]  # fmt: skip
    with pytest.raises(SchemeError, match="town.yaml: .*list poor: an opt-in scheme .*cannot list by grade"):
        parse_scheme(yaml.safe_dump(data), "town.yaml")
    data["enrolment"] = None  # the same list on a score of everyone is a scheme like any other
    assert parse_scheme(yaml.safe_dump(data), "town.yaml").lists[0].id == "poor"


def test_measure_referencing_missing_list_fails_in_registry() -> None:
    data = minimal()
    data["measures"] = [
        {
            "id": "no-bikes",
            "title": "No bikes",
            "kind": "punishment",
            "implemented_by": ["bike-share"],
            "trigger": {"lists": ["town/nowhere"]},
            "legal_basis": "x",
        }
    ]
    town = parse_scheme(yaml.safe_dump(data), "town.yaml")
    with pytest.raises(SchemeError) as exc:
        Registry.of([town])
    msg = str(exc.value)
    assert "town: measure no-bikes" in msg
    assert "'town/nowhere' does not exist" in msg


def test_measure_grade_of_unknown_scheme_fails_in_registry() -> None:
    data = minimal()
    data["measures"] = [
        {
            "id": "perk",
            "title": "Perk",
            "kind": "reward",
            "implemented_by": ["hotels"],
            "trigger": {"scheme": "elsewhere", "grades": ["A"]},
            "legal_basis": "x",
        }
    ]
    with pytest.raises(SchemeError, match="scheme 'elsewhere' has no scoring model"):
        Registry.of([parse_scheme(yaml.safe_dump(data))])


def test_scheme_loaded_twice_fails() -> None:
    town = parse_scheme(yaml.safe_dump(minimal()))
    with pytest.raises(SchemeError, match="loaded twice"):
        Registry.of([town, town])


def test_missing_file() -> None:
    with pytest.raises(SchemeError, match="no such file"):
        load_scheme("/nonexistent/scheme.yaml")


def test_alias_bomb_is_refused() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(SchemeError, match="aliases"):
        parse_scheme("\n".join(levels))


@pytest.mark.parametrize(
    "text",
    ["a: 2001-02-30", "a: " + "1" * 5000, "[" * 3000, "&a [*a]", "id: !!python/object:os.system"],
)
def test_hostile_yaml_gives_scheme_error(text: str) -> None:
    with pytest.raises(SchemeError):
        parse_scheme(text)


# --- property: parse_scheme raises nothing but SchemeError --------------------------------------

KEYS = [
    "id",
    "title",
    "jurisdiction",
    "description",
    "items",
    "model",
    "lists",
    "measures",
    "code",
    "area",
    "polarity",
    "points",
    "sources",
    "subjects",
    "grades",
    "grade",
    "min_score",
    "criteria",
    "trigger",
    "period_days",
    "kind",
    "base",
    "legal_basis",
    "counts_for_days",
]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
keys = st.sampled_from(KEYS) | st.text(max_size=10) | st.integers()
nested = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_parse_arbitrary_text_raises_only_scheme_error(text: str) -> None:
    try:
        parse_scheme(text, "fuzz.yaml")
    except SchemeError as exc:
        assert str(exc).startswith("fuzz.yaml")


@pytest.mark.slow  # 300 nested documents dumped and parsed: four times the other fuzz tests
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, nested, max_size=8))
def test_parse_arbitrary_mapping_raises_only_scheme_error(data: dict[Any, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        parse_scheme(text, "fuzz.yaml")
    except SchemeError as exc:
        assert str(exc).startswith("fuzz.yaml")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_parse_mutated_valid_scheme_raises_only_scheme_error(data: st.DataObject) -> None:
    scheme = copy.deepcopy(minimal())
    item = scheme["items"][0]
    key = data.draw(st.sampled_from(sorted(item)))
    item[key] = data.draw(nested)
    text = yaml.safe_dump(scheme, allow_unicode=True)
    try:
        parse_scheme(text, "fuzz.yaml")
    except SchemeError as exc:
        assert str(exc).startswith("fuzz.yaml")


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
