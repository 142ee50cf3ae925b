"""The linter judges what an item is about (issue 16, point 5): its category from the vocabulary
first, its words second; consumption only in an opt-in scheme; measures on third parties; the
operator's own categories; and a corpus of items from the public record with their verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from socialcredit.schemes import Scheme, shipped_registry, shipped_vocabulary
from socialcredit.schemes.categories import CategoryError, extend, parse_categories
from socialcredit.schemes.keywords import NEVER
from socialcredit.schemes.lint import Finding, lint
from socialcredit.schemes.safeguards import breaches
from tests.support.schemes import HERITAGE as OWN
from tests.support.schemes import item, rules, scheme

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "lint_corpus.yaml").read_text(encoding="utf-8"))

NEVER_IDS = {
    "political-expression",
    "criticism-of-officials",
    "online-speech",
    "news-reporting",
    "religion-or-belief",
    "petitioning",
    "association-and-assembly",
    "family-and-private-life",
    "ethnicity",
    "contacts",
    "party-membership",
}
"""The never-scorable categories the issue names, one for one."""


def opt_in(*items: dict[str, Any]) -> Scheme:
    """An opt-in private scheme (enrolment) with these items."""
    join = item(
        "identity.verified",
        title="Identity verified",
        category="identity-verification",
        polarity="positive",
        points=10,
        sources=["public-security"],
    )
    return scheme(join, *items, enrolment={"item": "identity.verified"})


def on(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.where == f"items.{code}"]


# --- the vocabulary ----------------------------------------------------------------------------


def test_the_vocabulary_is_documented_and_the_never_scorable_set_is_the_issues() -> None:
    vocab = shipped_vocabulary()
    assert {c.id for c in vocab.never()} == NEVER_IDS
    assert set(NEVER) == NEVER_IDS  # every never-scorable category has its keywords
    assert [c.id for c in vocab.categories.values() if c.scorable == "opt-in-only"] == [
        "consumption",
        "financial-capacity",
    ]
    for c in vocab.categories.values():
        assert c.title.en and c.title.zh and c.description and c.examples, c.id
    docs = (Path(__file__).parents[1] / "docs" / "categories.md").read_text(encoding="utf-8")
    for c in vocab.categories.values():
        assert f"`{c.id}`" in docs, f"{c.id} is not documented in docs/categories.md"


def test_every_shipped_item_has_a_category_and_one_per_code() -> None:
    reg = shipped_registry()
    seen: dict[str, str | None] = {}
    for s in reg.schemes.values():
        for i in s.items:
            assert i.category is not None and shipped_vocabulary().get(i.category), (s.id, i.code)
            assert seen.setdefault(i.code, i.category) == i.category, i.code
    assert breaches([(s.id, s) for s in reg.schemes.values()], shipped_vocabulary()) == []


# --- the first line: the category -----------------------------------------------------------------


def test_an_item_without_a_category_is_an_error() -> None:
    findings = lint(scheme(item(category=None)))
    assert rules(findings) == [("error", "items.traffic.red-light", "no-category")]
    assert "docs/categories.md" in findings[0].message


def test_an_unknown_category_is_an_error() -> None:
    findings = lint(scheme(item(category="civic-virtue")))
    assert rules(findings) == [("error", "items.traffic.red-light", "unknown-category")]
    assert "'civic-virtue'" in findings[0].message


@pytest.mark.parametrize("category", sorted(NEVER_IDS))
def test_every_never_scorable_category_is_an_error(category: str) -> None:
    findings = lint(scheme(item("conduct.x", title="Conduct", category=category)))
    assert rules(findings) == [("error", "items.conduct.x", "never-scorable")]
    assert str(shipped_vocabulary().get(category)) in findings[0].message


def test_an_item_that_passes_the_words_fails_by_its_category() -> None:
    """The old linter's blind spot: a reported item in innocent words is caught by what it is."""
    innocent = item("conduct.visits", title="Visits to the county office", category="petitioning")
    assert rules(lint(scheme(innocent))) == [("error", "items.conduct.visits", "never-scorable")]


# --- the second line: words under a harmless category ------------------------------------------------


def test_a_political_item_under_a_harmless_category_is_an_error_naming_both() -> None:
    s = scheme(item("transport.posts", title="Posting political comments online", category="public-services"))
    found = on(lint(s), "transport.posts")
    assert {f.rule for f in found} == {"protected-activity"}
    assert any(
        "filed under Public services and transport (公共服务与交通运输) but its title says "
        "Political opinion or expression (政治观点与表达): 'political'" in f.message
        for f in found
    )


def test_words_in_chinese_and_in_the_description_are_read() -> None:
    s = scheme(item("tax.x", category="tax", title="Tax", description="纳税人在微博上造谣"))
    (f,) = on(lint(s), "tax.x")
    assert f.rule == "protected-activity" and "its description says Online speech" in f.message


# --- consumption: opt-in only, with a warning --------------------------------------------------------


def test_consumption_is_an_error_in_a_scheme_that_scores_everyone() -> None:
    games = item("consumption.games", title="Playing video games many hours a day", category="consumption")
    (f,) = lint(scheme(games))
    assert (f.level, f.rule) == ("error", "opt-in-only") and "opt-in private scheme" in f.message


def test_consumption_is_a_warning_in_an_opt_in_scheme() -> None:
    games = item("consumption.games", title="Playing video games many hours a day", category="consumption")
    assert rules(on(lint(opt_in(games)), "consumption.games")) == [
        ("warning", "items.consumption.games", "consumption-profiling")
    ]


# --- measures on someone other than the subject -----------------------------------------------------


def _measure(**over: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "id": "no-private-school",
        "title": "No high-fee private school",
        "kind": "punishment",
        "implemented_by": ["schools"],
        "trigger": {"scheme": "town", "grades": ["D"]},
        "legal_basis": "SPC provisions on restricting high consumption, Art. 3(7)",
    }
    m.update(over)
    return m


def test_a_measure_on_a_third_party_is_a_warning_with_its_own_basis() -> None:
    ok = scheme(measures=[_measure(third_party={"who": "the debtor's children", "legal_basis": "Art. 3(7)"})])
    assert rules(lint(ok)) == [("warning", "measures.no-private-school", "third-party-measure")]
    assert "the debtor's children" in lint(ok)[0].message
    bare = scheme(measures=[_measure(third_party={"who": "the debtor's children"})])
    assert rules(lint(bare)) == [
        ("warning", "measures.no-private-school", "third-party-measure"),
        ("error", "measures.no-private-school", "third-party-no-basis"),
    ]


@pytest.mark.parametrize(
    "title", ["Children barred from high-fee private schools", "子女不得就读高收费私立学校"]
)
def test_a_measure_whose_words_name_a_third_party_must_declare_it(title: str) -> None:
    findings = lint(scheme(measures=[_measure(title=title)]))
    assert rules(findings) == [("error", "measures.no-private-school", "third-party-undeclared")]


# --- the operator's categories --------------------------------------------------------------------------


def test_an_operator_may_add_categories() -> None:
    vocab = extend(shipped_vocabulary(), OWN, "home/categories.yaml")
    assert vocab.get("heritage-protection") is not None and vocab.get("tax") is not None
    assert vocab.added == {"heritage-protection": "home/categories.yaml"}
    relic = item("heritage.damage", title="Damaging a protected relic", category="heritage-protection")
    assert lint(scheme(relic), vocab) == []
    assert rules(lint(scheme(relic))) == [("error", "items.heritage.damage", "unknown-category")]


def test_an_operator_may_not_redefine_a_never_scorable_category() -> None:
    weakened = OWN.replace("heritage-protection", "petitioning")
    with pytest.raises(CategoryError) as exc:
        extend(shipped_vocabulary(), weakened, "home/categories.yaml")
    assert str(exc.value) == (
        "home/categories.yaml: category petitioning: Petitioning and complaints to authorities "
        "(信访与投诉) is never scorable and cannot be redefined or weakened"
    )


def test_an_operator_may_not_redefine_a_scorable_category() -> None:
    with pytest.raises(CategoryError, match="category tax: already defined"):
        extend(shipped_vocabulary(), OWN.replace("heritage-protection", "tax"), "c.yaml")


def test_an_operator_may_not_add_a_never_scorable_category_under_another_name() -> None:
    renamed = OWN.replace("Heritage protection", "Civic opinions").replace(
        "Penalties for damaging protected cultural relics.", "Political opinions posted online."
    )
    with pytest.raises(CategoryError, match=r"category heritage-protection: its words are about Political"):
        extend(shipped_vocabulary(), renamed, "c.yaml")
    stricter = renamed.replace("scorable: yes", "scorable: never")
    assert extend(shipped_vocabulary(), stricter, "c.yaml").get("heritage-protection") is not None


def test_a_vocabulary_file_is_validated_naming_the_file() -> None:
    assert parse_categories(OWN.replace("scorable: yes", "scorable: no"), "c.yaml")[0].scorable == "never"
    with pytest.raises(CategoryError, match=r"c.yaml: categories.0.scorable"):
        parse_categories(OWN.replace("scorable: yes", "scorable: sometimes"), "c.yaml")
    with pytest.raises(CategoryError, match="defined twice"):
        parse_categories(OWN + OWN.split("categories:\n")[1], "c.yaml")


def test_one_kind_of_fact_has_one_category_across_schemes() -> None:
    a = scheme(item(category="traffic-safety"))
    b = scheme(item(category="public-services"), id="city")
    (found,) = breaches([("a.yaml", a), ("b.yaml", b)], shipped_vocabulary())
    assert (found.source, found.finding.rule) == ("b.yaml", "category-differs")
    assert "'traffic-safety' in a.yaml" in found.finding.message


# --- the corpus from the public record --------------------------------------------------------------


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    assert len(CORPUS) >= 40
    cats = {e["category"] for e in CORPUS}
    assert cats >= NEVER_IDS and "consumption" in cats
    assert {e["verdict"] for e in CORPUS} == {"error", "warning", "clean"}
    assert sum(e["verdict"] == "clean" for e in CORPUS) >= 15


@pytest.mark.parametrize("entry", CORPUS, ids=[f"{n}-{e['title'][:40]}" for n, e in enumerate(CORPUS)])
def test_corpus_verdict(entry: dict[str, Any]) -> None:
    positive = entry.get("polarity") == "positive"
    it = item(
        "corpus.entry",
        title=entry["title"],
        description=entry.get("zh"),
        category=entry["category"],
        polarity="positive" if positive else "negative",
        points=5 if positive else -10,
        legal_basis="The regulation that allows it (corpus)",
        sources=["agency"],
    )
    findings = on(lint(opt_in(it) if entry.get("opt_in") else scheme(it)), "corpus.entry")
    levels = {f.level for f in findings}
    verdict = "error" if "error" in levels else "warning" if levels else "clean"
    assert verdict == entry["verdict"], [str(f) for f in findings]
    assert {f.rule for f in findings} == set(entry.get("rules", [])), [str(f) for f in findings]
