"""The scheme linter flags missing legal bases and protected activity, and no error in the shipped set.

Categories, the vocabulary, consumption, third parties and the public-record corpus are in
``tests/test_lint_categories.py``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialcredit.schemes import Finding, SchemeError, lint, shipped_registry
from socialcredit.schemes.lint import SEVEN_YEARS_DAYS, lint_file, protected_terms
from tests.support.schemes import item, rules, scheme

# --- the shipped set is clean -------------------------------------------------------------------


def test_shipped_schemes_have_no_errors_and_three_known_warnings() -> None:
    """Every shipped item has a category that may be scored; the three warnings are meant: a
    measure on a debtor's children (with its own legal basis), Sesame's verified assets, which
    only an opt-in scheme may score, and Sesame's video-game hours, consumption profiling as
    reported (issue 19: the README says what the behaviour factor shows)."""
    found = {s.id: lint(s) for s in shipped_registry().schemes.values()}
    assert [(sid, f.where, f.rule) for sid, fs in found.items() for f in fs] == [
        ("joint-memorandum-2016", "measures.no-high-fee-private-schools", "third-party-measure"),
        ("sesame", "items.finance.assets-verified", "opt-in-only"),
        ("sesame", "items.consumption.video-game-hours", "consumption-profiling"),
    ]
    assert all(f.level == "warning" for fs in found.values() for f in fs)


def test_clean_scheme_has_no_findings() -> None:
    assert lint(scheme()) == []


# --- legal basis --------------------------------------------------------------------------------


def test_item_without_legal_basis_is_an_error() -> None:
    findings = lint(scheme(item(legal_basis=None)))
    assert rules(findings) == [("error", "items.traffic.red-light", "no-legal-basis")]


def test_blank_legal_basis_is_an_error() -> None:
    assert rules(lint(scheme(item(legal_basis="   ")))) == [
        ("error", "items.traffic.red-light", "no-legal-basis")
    ]


@pytest.mark.parametrize("basis", ["none", "N/A", "TBD", "-", "unknown", "无", "暂无", "待定"])
def test_a_legal_basis_that_says_there_is_none_is_an_error(basis: str) -> None:
    """DOMAIN.md: "A city's catalogue may add a measure only with a legal basis, which the linter
    checks." A basis written "none" (or n/a, 无, 待定 ...) cites nothing, as a blank one does."""
    s = scheme(
        item(legal_basis=basis),
        measures=[
            {"id": "no-permit", "title": "No permit", "kind": "punishment", "implemented_by": ["town hall"],
             "trigger": {"scheme": "town", "grades": ["D"]}, "legal_basis": basis}
        ],
    )  # fmt: skip
    assert rules(lint(s)) == [
        ("error", "items.traffic.red-light", "no-legal-basis"),
        ("error", "measures.no-permit", "no-legal-basis"),
    ]


def test_list_and_measure_without_legal_basis_are_errors() -> None:
    s = scheme(
        lists=[
            {
                "id": "low",
                "title": "Low scorers",
                "kind": "black",
                "criteria": {"grade_at_most": "D"},
                "period_days": 365,
            }
        ],
        measures=[
            {
                "id": "no-bikes",
                "title": "No shared bikes",
                "kind": "punishment",
                "implemented_by": ["bike-share"],
                "trigger": {"lists": ["town/low"]},
            }
        ],
    )
    assert rules(lint(s)) == [
        ("error", "lists.low", "no-legal-basis"),
        ("error", "measures.no-bikes", "no-legal-basis"),
    ]


# --- protected activity -------------------------------------------------------------------------


def protected(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "protected-activity"]


def test_petitioning_item_is_flagged() -> None:
    findings = protected(
        lint(scheme(item("petition.beijing", title="Petitioning higher authorities in Beijing")))
    )
    assert len(findings) == 1
    f = findings[0]
    assert (f.level, f.where) == ("error", "items.petition.beijing")
    assert "'petition'" in f.message.lower()
    assert "filed under Traffic safety (交通安全) but its code says Petitioning" in f.message


def test_chinese_petitioning_item_is_flagged() -> None:
    findings = protected(lint(scheme(item("conduct.abnormal-visit", title="越级上访"))))
    assert len(findings) == 1
    assert "'上访'" in findings[0].message
    assert findings[0].where == "items.conduct.abnormal-visit"


def test_religion_item_is_flagged() -> None:
    findings = protected(
        lint(scheme(item("conduct.gathering", title="Attending an unregistered church", area="social")))
    )
    assert [f.level for f in findings] == ["error"]
    assert "Religion or belief" in findings[0].message


@pytest.mark.parametrize(
    ("field", "value", "category"),
    [
        ("title", "Posting political comments online", "Political opinion or expression"),
        ("title", "Criticising the government on social media", "Criticism of officials"),
        ("title", "Taking part in a protest", "Association and assembly"),
        ("title", "Joining an unregistered association", "Association and assembly"),
        ("title", "Low score among contacts' scores", "Contacts' conduct or scores"),
        (
            "description",
            "Scored from the interpersonal relationships of the subject",
            "Contacts' conduct or scores",
        ),
        ("description", "Attending religious services", "Religion or belief"),
        ("title", "发表不当言论", "Political opinion or expression"),
        ("title", "参加宗教活动", "Religion or belief"),
        ("title", "参与非法集会", "Association and assembly"),
        ("title", "信访记录", "Petitioning and complaints to authorities"),
        ("title", "政治表现", "Political opinion or expression"),
        ("title", "结社活动", "Association and assembly"),
        ("title", "Spreading rumours online", 'Online speech and "rumours"'),
        ("title", "Giving interviews to foreign journalists", "News reporting"),
        ("title", "Marital status", "Family and private life"),
        ("title", "Recorded ethnicity", "Ethnicity"),
        ("title", "缴纳党费", "Party membership or donations"),
    ],
)
def test_protected_phrases_are_flagged(field: str, value: str, category: str) -> None:
    findings = protected(lint(scheme(item("conduct.other", **{field: value}))))
    assert findings and all(f.level == "error" for f in findings)
    said = [f for f in findings if category in f.message]
    assert len(said) == 1, [f.message for f in findings]
    assert f"filed under Traffic safety (交通安全) but its {field} says {category}" in said[0].message


def test_code_alone_is_scanned() -> None:
    findings = protected(lint(scheme(item("religion.attendance", title="Attendance"))))
    assert [f.where for f in findings] == ["items.religion.attendance"]


def test_lists_and_measures_are_scanned() -> None:
    s = scheme(
        lists=[
            {
                "id": "petitioners",
                "title": "Repeat visitors",
                "kind": "black",
                "criteria": {"grade_at_most": "D"},
                "period_days": 365,
                "legal_basis": "x",
            }
        ],
        measures=[
            {
                "id": "no-travel",
                "title": "No travel for protesters",
                "kind": "punishment",
                "implemented_by": ["railway"],
                "trigger": {"lists": ["town/petitioners"]},
                "legal_basis": "x",
            }
        ],
    )
    assert rules(protected(lint(s))) == [
        ("error", "lists.petitioners", "protected-activity"),
        ("error", "measures.no-travel", "protected-activity"),
    ]


def test_what_a_score_is_made_of_and_what_is_published_are_scanned() -> None:
    """DOMAIN.md: "the scheme linter flags such items"; no scheme may score political expression,
    religion, petitioning, association or what a person's contacts do. A counting factor titled
    "Friends' scores" over a harmless item is the relationships factor in other words; a grade
    that says who its members are, a list extended by a details field, a list publishing a
    field, and a measure's way out say what the scheme is about as much as an item's title."""
    joined = item(
        "identity.verified",
        title="Identity verified",
        category="identity-verification",
        polarity="positive",
        points=10,
        sources=["platform"],
    )
    standing = item("social.standing", title="Standing", category="public-services")
    factors = {
        "kind": "factor",
        "minimum": 350,
        "maximum": 950,
        "grades": [
            {"grade": "good", "min_score": 600},
            {"grade": "poor", "min_score": 350, "description": "上访人员"},
        ],
        "factors": [
            {
                "id": "circle",
                "title": "Friends' scores",
                "weight": 30,
                "items": ["social.standing"],
                "map": [[-100, 0], [0, 1]],
            },
            {
                "id": "identity",
                "title": "Identity",
                "weight": 10,
                "items": ["identity.verified"],
                "map": [[0, 0], [10, 1]],
            },
            {
                "id": "off",
                "title": "Religious activity (off)",
                "weight": 0,
                "items": ["traffic.red-light"],
                "map": [[0, 0], [10, 1]],
            },
        ],
    }
    s = scheme(item(), joined, standing, model=factors, enrolment={"item": "identity.verified"})
    assert rules(protected(lint(s))) == [
        ("error", "model.factors.circle", "protected-activity"),
        ("error", "model.grades.poor", "protected-activity"),
    ]
    court = item(
        "court.ruling", title="Court ruling", category="court-judgment", area="judicial", sources=["court"]
    )
    ext = item(
        "court.extension",
        title="Extension decision",
        category="court-judgment",
        area="judicial",
        polarity="neutral",
        points=0,
        sources=["court"],
    )
    listed = {
        "id": "listed",
        "title": "Listed",
        "kind": "black",
        "legal_basis": "x",
        "criteria": {"items": ["court.ruling"]},
    }
    s = scheme(
        court,
        ext,
        lists=[
            {
                **listed,
                "periods": [
                    {
                        "grounds": ["court.ruling"],
                        "years": 2,
                        "extension": {"on_items": ["court.extension"], "years_field": "petitions_filed"},
                    }
                ],
            },
            {**listed, "id": "shown", "period_days": 365, "published_fields": ["name", "religion"]},
        ],
        measures=[
            {
                "id": "no-flights",
                "title": "No flights",
                "kind": "punishment",
                "legal_basis": "x",
                "implemented_by": ["airlines"],
                "trigger": {"lists": ["town/shown"]},
                "how_to_resolve": "停止上访",
            }
        ],
    )
    found = protected(lint(s))
    assert rules(found) == [
        ("error", "lists.listed", "protected-activity"),
        ("error", "lists.shown", "protected-activity"),
        ("error", "measures.no-flights", "protected-activity"),
    ]
    assert [
        m for f in found for m in ("years_field", "published_fields", "how_to_resolve") if m in f.message
    ] == ["years_field", "published_fields", "how_to_resolve"]


@pytest.mark.parametrize(
    "title",
    [
        "Apolitical misconduct",
        "Damage to cultural heritage",
        "Assembly line safety violation",
        "Acting in good faith",
        "Service hours logged by the Volunteer Association",
        "Filing a bankruptcy petition without grounds",
        "Donations run in association with the Red Cross",
        "Failing to care for elderly relatives",
        "Falsely accusing others online (defamation or false accusation)",
        "National social credit demonstration city award",
        "Temperature control violation in cold storage",
        "消费者投诉处理",
        "Back-dating invoices to evade tax",
        "Maternity insurance (生育保险) contributions not paid",
        "Shareholder liable after the corporate veil is pierced",
        "Failing to pay the third party members of a consortium",
        "Domestic violence protection order breached (家庭暴力)",
        "Online shopping platform selling counterfeit goods",
    ],
)
def test_no_false_positives(title: str) -> None:
    assert protected(lint(scheme(item("conduct.other", title=title)))) == []


def test_sources_are_not_scanned() -> None:
    s = scheme(item(sources=["trade-union", "religious-affairs-bureau"]))
    assert protected(lint(s)) == []


def test_rumour_under_a_harmless_category_is_an_error() -> None:
    """Rumours were a warning; online speech is never scorable, so now an error."""
    findings = lint(scheme(item("online.rumours", title="Spreading rumours online")))
    assert rules(findings) == [("error", "items.online.rumours", "protected-activity")]


def test_protected_terms_reports_every_category() -> None:
    found = dict(protected_terms("Petitioning about a church, then a protest"))
    assert set(found) == {"petitioning", "religion-or-belief", "association-and-assembly"}


# --- warnings -----------------------------------------------------------------------------------


def test_zero_point_item_that_nothing_uses_is_warned() -> None:
    findings = lint(
        scheme(
            item(), item("court.record", title="A record", polarity="neutral", points=0, sources=["court"])
        )
    )
    assert rules(findings) == [("warning", "items.court.record", "unused-item")]


def test_zero_point_item_used_by_a_list_is_not_warned() -> None:
    s = scheme(
        item("court.refuses", title="Refuses to perform", points=0, sources=["court"]),
        scored=False,
        lists=[
            {
                "id": "debtors",
                "title": "Debtors",
                "kind": "black",
                "criteria": {"items": ["court.refuses"]},
                "period_days": 730,
                "notice": {"required": False, "days": 0},
                "legal_basis": "x",
            }
        ],
    )
    assert lint(s) == []


def test_points_in_an_unscored_scheme_are_warned() -> None:
    assert rules(lint(scheme(scored=False))) == [("warning", "items.traffic.red-light", "unused-item")]


def test_positive_item_without_points_in_scored_scheme_is_warned() -> None:
    findings = lint(
        scheme(
            item(),
            item(
                "volunteer.service",
                title="Volunteering",
                polarity="positive",
                points=0,
                area="social",
                sources=["volunteer-federation"],
            ),
        )
    )
    assert ("warning", "items.volunteer.service", "positive-without-points") in rules(findings)
    assert all(f.level == "warning" for f in findings)


def test_minor_item_counting_beyond_seven_years_is_warned() -> None:
    long = lint(scheme(item(severity="minor", counts_for_days=SEVEN_YEARS_DAYS + 1)))
    assert rules(long) == [("warning", "items.traffic.red-light", "minor-counts-too-long")]
    assert "7 years" in long[0].message
    assert lint(scheme(item(severity="minor", counts_for_days=SEVEN_YEARS_DAYS))) == []
    assert lint(scheme(item(severity="serious", counts_for_days=3650))) == []


# --- the API ------------------------------------------------------------------------------------


def test_finding_is_frozen() -> None:
    f = Finding("error", "items.x", "no-legal-basis", "m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.level = "warning"  # type: ignore[misc]
    assert str(f) == "error: items.x: m [no-legal-basis]"


def test_lint_file(tmp_path: Path) -> None:
    data = {
        "id": "town",
        "title": "Town",
        "jurisdiction": "Town",
        "items": [item("petition.visit", title="Visit")],
    }
    p = tmp_path / "town.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert [f.rule for f in lint_file(p) if f.level == "error"] == ["protected-activity"]


def test_lint_file_propagates_scheme_errors(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("id: town\ntitle: [\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="bad.yaml"):
        lint_file(p)


def test_a_judicial_list_that_restoration_could_end_is_an_error() -> None:
    """National credit restoration measures (DOMAIN.md): restoration "does not end a judicial
    listing such as the court's list, which ends only by that list's own rules" (SPC provisions,
    Art. 10). A list that a court's record starts is a judicial listing; a non-judicial item that
    can start it too would let a restoration of its record end the listing: an error naming the
    item and the rule. A list of judicial items only, or of no judicial item, is clean."""
    court = item("court.listed", area="judicial", points=0, sources=["court"])
    tax = item("tax.owed", area="administrative", points=-30, sources=["tax"])

    def listing(*codes: str) -> dict[str, Any]:
        return {"id": "debtors", "title": "Debtors", "kind": "black", "period_days": 730,
                "criteria": {"items": list(codes)}, "legal_basis": "SPC provisions, Art. 1"}  # fmt: skip

    found = [f for f in lint(scheme(court, tax, lists=[listing("court.listed", "tax.owed")]))
             if f.rule == "restoration-ends-judicial-listing"]  # fmt: skip
    assert [(f.level, f.where) for f in found] == [("error", "lists.debtors")]
    assert "item tax.owed (not judicial) can start this judicial listing" in found[0].message
    assert "national credit restoration measures" in found[0].message and "Art. 10" in found[0].message
    for clean in (listing("court.listed"), listing("tax.owed")):
        rules = {f.rule for f in lint(scheme(court, tax, lists=[clean]))}
        assert "restoration-ends-judicial-listing" not in rules


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("zongjiao.huodong", "Religion or belief"),
        ("jidujiao.juhui", "Religion or belief"),
        ("xinfang.shangfang", "Petitioning and complaints to authorities"),
        ("wangluo.zaoyao", 'Online speech and "rumours"'),
        ("hunyin.zhuangkuang", "Family and private life"),
        ("dangyuan.dangfei", "Party membership or donations"),
    ],
)
def test_a_code_in_pinyin_is_read(code: str, category: str) -> None:
    """A Chinese catalogue writes its item codes in pinyin: ``zongjiao.huodong`` is 宗教活动
    (religious activity), which no scheme may record or score (DOMAIN.md)."""
    findings = protected(lint(scheme(item(code, title="Record"))))
    assert [f.where for f in findings] == [f"items.{code}"] and category in findings[0].message


@pytest.mark.parametrize(
    "code", ["huanjing.zhengzhi", "tax.jidu-declaration", "xinyang.traffic", "fangyi.kangyi"]
)
def test_pinyin_with_other_meanings_is_not_read(code: str) -> None:
    """整治 (rectification), 季度 (a quarter), the city of Xinyang and 抗疫 (epidemic control)
    are written in pinyin as 政治, 基督, 信仰 and 抗议 are: they are not read as those."""
    assert protected(lint(scheme(item(code, title="Record")))) == []
