"""Malformed schemes fail with useful messages: the loader names the file, the field and the line,
refuses hostile YAML, and raises nothing but SchemeError on any text or mapping (split from
tests/test_schemes.py, which holds the shipped set)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.schemes import Registry, Scheme, SchemeError, load_scheme
from socialcredit.schemes.loader import parse_scheme, shipped_names, shipped_scheme
from socialcredit.schemes.model import GradeCriteria, ItemCriteria


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
