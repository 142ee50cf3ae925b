"""The scheme linter: safeguards a scheme must meet beyond being well formed.

Why a linter and not validation: the loader rejects what cannot work (a typo, a dangling
reference); the linter rejects what works but should not be allowed. A scheme with a lint error is
never in force: every command that serves, scores, decides or ingests refuses to start with it
(:mod:`.safeguards`). The reporting this project is built from names the failures that matter most:

* Recording without a legal basis. Every item, list and measure must cite the regulation that
  allows it, so a subject can challenge the rule as well as the record.
* Use for political ends. A Jiangsu pilot deducted points for petitioning the authorities, and the
  private scores counted "interpersonal relationships" (the scores of one's contacts). No item may
  score political expression, criticism of officials, online speech, news reporting, religion,
  petitioning, association, family and private life, ethnicity, party membership, or what a
  person's contacts do. Every item declares a ``category`` (:mod:`.categories`) and is judged by
  what it is about: a never-scorable category is an error, consumption only in an opt-in private
  scheme and with a warning (consumption profiling), and never as an inference about family,
  health or belief from what a person buys (nappies taken to show "a responsible parent"). The
  words are the second line (:mod:`.keywords`): an item filed
  under a harmless category whose code, title or description is about a never-scorable one is an
  error, and lists and measures, which have no category, are judged by their words.
* Measures on the wrong person. A measure that falls on someone other than its subject (a debtor's
  children's schooling) is a warning, and needs a legal basis of its own for them.

Warnings also point at items that can have no effect (unused, or a reward worth nothing) and at
minor items that count for longer than the 7 years after which US credit reporting ages most
negative items off (15 U.S.C. 1681c), the benchmark for a right to be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from socialcredit.dueprocess import restoration
from socialcredit.i18n import N_
from socialcredit.schemes.categories import Category, Vocabulary, shipped_vocabulary
from socialcredit.schemes.keywords import PURCHASE_INFERENCE, THIRD_PARTY, first_match, never_terms
from socialcredit.schemes.loader import load_scheme
from socialcredit.schemes.model import FactorModel, Item, ListDef, Measure, PointsModel, Scheme, TierModel
from socialcredit.schemes.titles import Prose

Level = Literal["error", "warning"]

SEVEN_YEARS_DAYS = 7 * 365 + 2
"""Seven years including their leap days: the US ageing period for most negative items."""


@dataclass(frozen=True)
class Finding:
    """One problem found in a scheme. Its ``message`` is marked for translation (a
    :class:`socialcredit.i18n.Text`: English as ``str``, worded in the reader's language by
    ``i18n.translate``); ``rule`` and ``where`` are names, the same in every language."""

    level: Level
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message} [{self.rule}]"


def protected_terms(text: str) -> list[tuple[str, str]]:
    """(never-scorable category id, matched term) for every such category the text's words are
    about (:func:`.keywords.never_terms`)."""
    return never_terms(text)


Words = list[tuple[str, str | None]]
"""(field, text) pairs whose words the linter reads; an empty text is skipped."""


def _texts(thing: Item | ListDef | Measure | Words) -> list[tuple[str, str]]:
    """The words of a thing: an item's code, title and description; a list's id, title, the
    details field its extension reads and the fields it publishes; a measure's id, title and how
    to resolve it; or the (field, text) pairs given (a factor's, a grade's, a tier's)."""
    fields: Words
    if isinstance(thing, Item):
        fields = [("code", thing.code), ("title", thing.title), ("description", thing.description)]
    elif isinstance(thing, ListDef):
        fields = [("id", thing.id), ("title", thing.title)]
        fields += [("published_fields", f) for f in thing.published_fields]
        fields += [("years_field", t.extension.years_field) for t in thing.tracks if t.extension]
    elif isinstance(thing, Measure):
        fields = [("id", thing.id), ("title", thing.title), ("how_to_resolve", thing.how_to_resolve)]
    else:
        fields = thing
    return [(name, value) for name, value in fields if value]


def _scan(
    where: str,
    thing: Item | ListDef | Measure | Words,
    vocab: Vocabulary,
    filed: Category | str | None,
) -> list[Finding]:
    """The second line: words about a never-scorable category. ``filed`` names the category an
    item is filed under (its own words then contradict it); lists, measures, grades, tiers and
    factors have none."""
    out: list[Finding] = []
    seen: set[str] = set()
    for field_name, text in _texts(thing):
        for category_id, term in never_terms(text):
            if category_id in seen:
                continue
            seen.add(category_id)
            never = vocab.get(category_id) or category_id
            message = (
                N_(
                    "filed under {category} but its {field} says {never}: {term!r}; no scheme may "
                    "record or score it",
                    category=filed,
                    field=field_name,
                    never=never,
                    term=term,
                )
                if filed
                else N_(
                    "its {field} says {never}: {term!r}; no scheme may record or score it",
                    field=field_name,
                    never=never,
                    term=term,
                )
            )
            out.append(Finding("error", where, "protected-activity", message))
    return out


def _category_findings(scheme: Scheme, item: Item, vocab: Vocabulary) -> list[Finding]:
    """The first line: what the item says it is about."""
    where = f"items.{item.code}"
    if item.category is None:
        return [
            Finding(
                "error",
                where,
                "no-category",
                N_(
                    "the item declares no category: every item must say what it is about, from the "
                    "category vocabulary (docs/categories.md)"
                ),
            ),
            *_scan(where, item, vocab, None),
        ]
    category: Category | None = vocab.get(item.category)
    if category is None:
        return [
            Finding(
                "error",
                where,
                "unknown-category",
                N_(
                    "category {category!r} is not in the vocabulary (docs/categories.md); an "
                    "operator may add categories in their own categories.yaml",
                    category=item.category,
                ),
            ),
            *_scan(where, item, vocab, repr(item.category)),
        ]
    if category.scorable == "never":
        said = N_("filed under {category}: no scheme may record or score it", category=category)
        return [Finding("error", where, "never-scorable", said)]
    out = []
    if category.scorable == "opt-in-only":
        if scheme.enrolment is None:
            out.append(
                Finding(
                    "error",
                    where,
                    "opt-in-only",
                    N_(
                        "filed under {category}, which only an opt-in private scheme (one with "
                        "enrolment) may score: this scheme scores everyone",
                        category=category,
                    ),
                )
            )
        elif category.id == "consumption":
            out.append(
                Finding(
                    "warning",
                    where,
                    "consumption-profiling",
                    N_(
                        "filed under {category}: it scores what a person buys, which says much about "
                        "their life and little about whether they keep their word; allowed only because "
                        "only those who joined are scored: say in the scheme what the factor shows",
                        category=category,
                    ),
                )
            )
        else:
            out.append(
                Finding(
                    "warning",
                    where,
                    "opt-in-only",
                    N_(
                        "filed under {category}, which only an opt-in private scheme may score: "
                        "allowed here because only those who joined are scored; keep it out of any "
                        "scheme that scores everyone",
                        category=category,
                    ),
                )
            )
    if category.id == "consumption":
        out += _inference_findings(where, item)
    return out + _scan(where, item, vocab, category)


def _inference_findings(where: str, item: Item) -> list[Finding]:
    """A purchase read as a sign of family, health or belief: Sesame's reported "someone who
    frequently buys diapers would be considered as probably a parent". Family and belief words
    are never-scorable anywhere (:func:`_scan`); health words and the inference itself are
    refused here, on consumption items only (a public-health item such as blood donation is not a
    purchase)."""
    for field_name, text in _texts(item):
        term = first_match(text, PURCHASE_INFERENCE)
        if term is not None:
            return [
                Finding(
                    "error",
                    where,
                    "purchase-inference",
                    N_(
                        "its {field} reads a purchase as a sign of who the person is ({term!r}): "
                        "no scheme may infer family, health or belief from what a person buys",
                        field=field_name,
                        term=term,
                    ),
                )
            ]
    return []


NO_BASIS = {
    "item": N_(
        "item has no legal_basis: cite the regulation that allows it, so that subjects can "
        "challenge the rule as well as the record"
    ),
    "list": N_(
        "list has no legal_basis: cite the regulation that allows it, so that subjects can "
        "challenge the rule as well as the record"
    ),
    "measure": N_(
        "measure has no legal_basis: cite the regulation that allows it, so that subjects can "
        "challenge the rule as well as the record"
    ),
}
"""One sentence per kind of thing (a Chinese sentence does not start with the English noun)."""


NO_BASIS_WORDS = frozenset(
    {"none", "no", "n/a", "na", "nil", "null", "tbd", "tba", "todo", "unknown", "not applicable",
     "无", "暂无", "没有", "待定", "不详", "未知"}
)  # fmt: skip
"""A legal basis that says there is none: no basis, as a blank one is."""


def has_basis(legal_basis: str | None) -> bool:
    """Whether a legal basis cites something: not blank, and not a word for none."""
    said = (legal_basis or "").strip().strip(".-–—?？。 ").lower()
    return bool(said) and said not in NO_BASIS_WORDS


def _no_basis(where: str, what: str, legal_basis: str | None) -> list[Finding]:
    if has_basis(legal_basis):
        return []
    return [
        Finding(
            "error",
            where,
            "no-legal-basis",
            NO_BASIS[what],
        )
    ]


def _item_findings(scheme: Scheme, item: Item, listed: set[str], vocab: Vocabulary) -> list[Finding]:
    where = f"items.{item.code}"
    out = _no_basis(where, "item", item.legal_basis)
    out += _category_findings(scheme, item, vocab)
    model = scheme.model
    if isinstance(model, PointsModel):
        scored = item.points != 0
    elif model is not None:
        scored = item.code in model.items_read(scheme)
    else:
        scored = False
    joins = (
        scheme.enrolment is not None
        and item.code in (scheme.enrolment.item, scheme.enrolment.withdrawal_item)
    ) or any(
        item.code in (lst.publication_consent.item, lst.publication_consent.withdrawal_item)
        for lst in scheme.lists
        if lst.publication_consent is not None
    )
    if not scored and item.code not in listed and not joins:
        if isinstance(model, TierModel | FactorModel):
            why = N_(
                "recording this item has no effect: no rule or counting factor of the model reads it "
                "and no list of this scheme uses it"
            )
        elif item.points == 0:
            why = N_("recording this item has no effect: it has 0 points and no list of this scheme uses it")
        else:
            why = N_(
                "recording this item has no effect: its points count for nothing: the scheme has no "
                "scoring model and no list uses it"
            )
        out.append(Finding("warning", where, "unused-item", why))
    if (
        not isinstance(model, TierModel)
        and model is not None
        and item.polarity == "positive"
        and item.points == 0
    ):
        out.append(
            Finding(
                "warning",
                where,
                "positive-without-points",
                N_(
                    "a positive item adds no points in a scored scheme, so good conduct cannot "
                    "regain anything through it"
                ),
            )
        )
    if item.severity == "minor" and item.counts_for_days > SEVEN_YEARS_DAYS:
        out.append(
            Finding(
                "warning",
                where,
                "minor-counts-too-long",
                N_(
                    "a minor item counts for {days} days, beyond 7 years; US credit "
                    "reporting ages most negative items off after 7 years, and minor conduct should "
                    "be forgotten sooner",
                    days=item.counts_for_days,
                ),
            )
        )
    return out


def _model_findings(scheme: Scheme) -> list[Finding]:
    """The relationships factor switched on, and score thresholds on a rating that has no score.

    Sesame Credit counted "interpersonal relationships" (the scores of one's contacts): a person's
    score falls for whom they know, the guilt by association critics object to. The factor model
    has it so that it can be examined (and simulated); a scheme that gives it weight is an error."""
    model = scheme.model
    out: list[Finding] = []
    if isinstance(model, FactorModel):
        for f in model.factors:
            if f.source == "contacts" and f.counts:
                out.append(
                    Finding(
                        "error",
                        f"model.factors.{f.id}",
                        "relationships-factor",
                        N_(
                            "factor {id} scores a subject by its contacts' scores (weight {weight}); "
                            "what a person's contacts score must not count: set enabled: false or weight: 0 "
                            "(it may count only in simulation: socialcredit simulate --relationships W)",
                            id=f.id,
                            weight=f"{f.weight:g}",
                        ),
                    )
                )
    if isinstance(model, TierModel):
        for m in scheme.measures:
            t = m.trigger
            if t.scheme == scheme.id and (t.score_at_least is not None or t.score_below is not None):
                out.append(
                    Finding(
                        "error",
                        f"measures.{m.id}",
                        "score-of-a-tier",
                        N_(
                            "a tier model gives tiers, not points: trigger on grades (tiers) instead of "
                            "a score"
                        ),
                    )
                )
    return out


def _model_words(scheme: Scheme, vocab: Vocabulary) -> list[Finding]:
    """The words of what a score is made of and what its grades say: a counting factor (a factor
    "Friends' scores" over harmless items is the relationships factor in other words), a grade's
    or a tier's description, a tier rule's title. A contacts factor is judged by
    :func:`_model_findings` (it may stay in a file, switched off, for the simulator)."""
    model = scheme.model
    out: list[Finding] = []
    if isinstance(model, FactorModel):
        for f in model.factors:
            if f.source == "items" and f.counts:
                out += _scan(f"model.factors.{f.id}", [("id", f.id), ("title", f.title)], vocab, None)
    if isinstance(model, PointsModel | FactorModel):
        for g in model.grades:
            out += _scan(f"model.grades.{g.grade}", [("description", g.description)], vocab, None)
    if isinstance(model, TierModel):
        for t in model.tiers:
            out += _scan(f"model.tiers.{t.tier}", [("description", t.description)], vocab, None)
        for n, r in enumerate(model.rules):
            out += _scan(f"model.rules.{n}", [("title", r.title)], vocab, None)
    return out


def _measure_findings(m: Measure, vocab: Vocabulary) -> list[Finding]:
    """A measure's legal basis and words, and whether it falls on someone other than its subject.

    The reported punishments reach beyond the person listed: a debtor's children may not attend
    high-fee private schools. The subject's listing is no basis for that; the measure must say on
    whom else it falls and cite a basis of its own for them."""
    where = f"measures.{m.id}"
    out = _no_basis(where, "measure", m.legal_basis) + _scan(where, m, vocab, None)
    if m.third_party is not None:
        out.append(
            Finding(
                "warning",
                where,
                "third-party-measure",
                N_(
                    "falls on {who}, not on the subject: they did nothing, and cannot "
                    "object to a listing that is not theirs",
                    who=Prose(m.third_party.who),
                ),
            )
        )
        if not has_basis(m.third_party.legal_basis):
            out.append(
                Finding(
                    "error",
                    where,
                    "third-party-no-basis",
                    N_(
                        "falls on {who} with no third_party.legal_basis: the subject's "
                        "basis does not reach them; cite the regulation that allows it",
                        who=Prose(m.third_party.who),
                    ),
                )
            )
    else:
        for field_name, text in _texts(m):
            term = first_match(text, THIRD_PARTY)
            if term is not None:
                out.append(
                    Finding(
                        "error",
                        where,
                        "third-party-undeclared",
                        N_(
                            "its {field} says it falls on someone other than the subject "
                            "({term!r}): declare third_party with who and its own legal_basis",
                            field=field_name,
                            term=term,
                        ),
                    )
                )
                break
    return out


def _restoration_findings(scheme: Scheme) -> list[Finding]:
    """A judicial list that a non-judicial item can start.

    The national credit restoration measures restore administrative records and do not end a
    judicial listing, which ends only by its own removal grounds (SPC provisions, Art. 10). A list
    that a judicial item starts is a judicial listing; if a non-judicial item can start it too, a
    restoration of that item's record, which the measures allow, would end a court listing. The
    service refuses such an application anyway (``dueprocess.restoration``: a record that can
    start a judicial listing may not be restored), so the finding is about the scheme saying what
    it means: a court's record belongs in the judicial area, anything else on a list of its own."""
    judicial = restoration.judicial_items([scheme])
    return [
        Finding(
            "error",
            f"lists.{lst.id}",
            "restoration-ends-judicial-listing",
            N_(
                "item {item} (not judicial) can start this judicial listing: a credit restoration of its "
                "record would end a listing that ends only by its own removal grounds; {rule}. "
                "Put the item in the judicial area or on a list of its own",
                item=code,
                rule=restoration.RULE,
            ),
        )
        for lst in scheme.lists
        if restoration.is_judicial(lst, judicial)
        for code in lst.qualifying_items
        if code not in judicial
    ]


def lint(scheme: Scheme, vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding for one scheme, in file order (items, then the model, lists and measures),
    with items judged by ``vocabulary`` (default: the shipped categories)."""
    vocab = vocabulary or shipped_vocabulary()
    listed = {
        code
        for lst in scheme.lists
        for code in (*lst.qualifying_items, *lst.removal_items, *lst.extension_items)
    }
    out: list[Finding] = []
    for item in scheme.items:
        out += _item_findings(scheme, item, listed, vocab)
    out += _model_findings(scheme)
    out += _model_words(scheme, vocab)
    out += _restoration_findings(scheme)
    for lst in scheme.lists:
        where = f"lists.{lst.id}"
        out += _no_basis(where, "list", lst.legal_basis)
        out += _scan(where, lst, vocab, None)
    for m in scheme.measures:
        out += _measure_findings(m, vocab)
    return out


def lint_file(path: str | Path, vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Load a scheme file and lint it; a malformed file raises :class:`SchemeError`."""
    return lint(load_scheme(path), vocabulary)


def errors(findings: list[Finding]) -> list[Finding]:
    """Only the findings that block a scheme from being in force."""
    return [f for f in findings if f.level == "error"]
