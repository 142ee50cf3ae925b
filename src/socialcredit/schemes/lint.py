"""The scheme linter: safeguards a scheme must meet beyond being well formed.

Why a linter and not validation: the loader rejects what cannot work (a typo, a dangling
reference); the linter rejects what works but should not be allowed. The reporting this project is
built from names the two failures that matter most:

* Recording without a legal basis. Every item, list and measure must cite the regulation that
  allows it, so a subject can challenge the rule as well as the record.
* Use for political ends. A Jiangsu pilot deducted points for petitioning the authorities, and the
  private scores counted "interpersonal relationships" (the scores of one's contacts). Shipped
  schemes score no political expression, religion, petitioning or association, and nothing a
  person's contacts say or score; the ``protected-activity`` rule flags any item, list or measure
  whose code, title or description touches them, in English or Chinese.

The keyword patterns are phrases on word boundaries rather than bare substrings, so that ordinary
words do not trip them ("apolitical", "cultural", "assembly line", "good faith", a "Volunteer
Association" named in a title, a "bankruptcy petition"). Sources are agency ids and are not
scanned at all. A false negative is possible
(a determined author can always rename a thing), which is why the findings are also shown to
reviewers; a false positive would teach authors to ignore the linter, which is worse.

Warnings point at items that can have no effect (unused, or a reward worth nothing) and at minor
items that count for longer than the 7 years after which US credit reporting ages most negative
items off (15 U.S.C. 1681c), the benchmark for a right to be forgotten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from socialcredit.dueprocess import restoration
from socialcredit.schemes.loader import load_scheme
from socialcredit.schemes.model import FactorModel, Item, ListDef, Measure, PointsModel, Scheme, TierModel

Level = Literal["error", "warning"]

SEVEN_YEARS_DAYS = 7 * 365 + 2
"""Seven years including their leap days: the US ageing period for most negative items."""


@dataclass(frozen=True)
class Finding:
    """One problem found in a scheme."""

    level: Level
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message} [{self.rule}]"


def _en(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(rf"\b(?:{p})\b", re.IGNORECASE) for p in patterns]


def _zh(*terms: str) -> list[re.Pattern[str]]:
    # Chinese has no word boundaries; the terms are chosen to be specific on their own.
    return [re.compile(re.escape(t)) for t in terms]


_GOVT = r"(?:the\s+)?(?:government|party|state|authorities|officials|leaders(?:hip)?|cadres)"

PROTECTED: dict[str, list[re.Pattern[str]]] = {
    "petitioning": [
        *_en(
            # not a court filing: "bankruptcy petition", "petition for divorce"
            r"(?<!bankruptcy\s)(?<!divorce\s)petition(?:s|er|ers|ing|ed)?"
            r"(?!\s+(?:the\s+court\s+)?for\s+(?:bankruptcy|divorce|retrial|review|winding))",
            r"letters\s+and\s+visits",
            r"xinfang",
            r"shangfang",
        ),
        *_zh("上访", "信访", "请愿", "越级访", "缠访", "闹访"),
    ],
    "religion": [
        *_en(
            r"religio(?:n|ns|us|sly)",
            r"church(?:es)?",
            r"mosques?",
            r"temples?",
            r"monaster(?:y|ies)",
            r"worship(?:s|ped|ping|pers)?",
            r"pray(?:s|ed|ing|er|ers)?",
            r"cults?",
            r"falun(?:\s*gong)?",
            r"bibles?",
            r"qur'?an|koran",
            r"clergy|imams?|priests?|pastors?|monks?|nuns?",
            r"faith\s+(?:group|community|activit(?:y|ies)|practice)s?",
        ),
        *_zh("宗教", "信仰", "教会", "寺庙", "寺院", "清真寺", "邪教", "传教", "礼拜活动"),
    ],
    "political expression": [
        *_en(
            r"politic(?:s|al|ally)",
            r"dissent(?:s|ed|ing|er|ers)?",
            r"dissidents?",
            r"criticis(?:e|es|ed|ing|m)\s+(?:of\s+)?" + _GOVT,
            r"criticiz(?:e|es|ed|ing)\s+(?:of\s+)?" + _GOVT,
            r"critical\s+of\s+" + _GOVT,
            r"freedom\s+of\s+(?:speech|expression|the\s+press)",
            r"free\s+speech",
            r"political\s+(?:speech|opinions?|views?)",
            r"(?:online\s+)?opinions?\s+(?:about|on)\s+" + _GOVT,
            r"sensitive\s+(?:posts?|speech|content|topics?)",
            r"human\s+rights\s+(?:defen[cs]e|activis[mt]s?|lawyers?)",
        ),
        *_zh("政治", "言论", "异见", "批评政府", "妄议", "敏感言论"),
    ],
    "assembly": [
        *_en(
            r"assembl(?:y|ies)(?!\s+lines?\b)",
            r"demonstrat(?:ion|ions|or|ors)(?!\s+(?:cit(?:y|ies)|zones?|projects?|sites?|areas?))",
            r"protest(?:s|ed|ing|er|ers)?",
            r"rall(?:y|ies)",
            r"sit-?ins?",
            r"strikes?\s+(?:by|of)\s+workers",
        ),
        *_zh("集会", "游行", "示威", "抗议"),
    ],
    "association": [
        *_en(
            r"freedom\s+of\s+association",
            # "associating with", "her association with": not "run in association with the Red Cross"
            r"associat(?:ing|es?)\s+with",
            r"(?:his|her|their|one's|a\s+person's|the\s+subject's)\s+associations?\s+with",
            r"(?:join(?:s|ed|ing)?|form(?:s|ed|ing)?|founding|membership\s+(?:of|in)|"
            r"members?\s+of)\s+(?:an?\s+|the\s+)?(?:unregistered\s+|illegal\s+|banned\s+|"
            r"independent\s+)?(?:associations?|societ(?:y|ies)|organi[sz]ations?|unions?)",
            r"(?:unregistered|illegal|banned|unauthori[sz]ed|independent)\s+"
            r"(?:associations?|societ(?:y|ies)|organi[sz]ations?|(?:trade\s+)?unions?|groups?)",
        ),
        *_zh("结社", "非法组织", "非法社会组织", "独立工会"),
    ],
    "what a person's contacts say or score": [
        *_en(
            r"(?:contacts|friends|relatives|family\s+members|associates|followers|"
            r"acquaintances|connections)['\u2019]?\s+(?:scores?|ratings?|grades?|credit|"
            r"records?|behaviou?r|posts?|views|opinions|statements|speech|says?|said|reports?)",
            r"(?:scores?|ratings?|grades?)\s+of\s+(?:one's\s+|a\s+person's\s+|their\s+|his\s+|"
            r"her\s+|the\s+subject's\s+)?(?:contacts|friends|relatives|associates|connections)",
            r"interpersonal\s+relationships?",
            r"social\s+(?:graph|network\s+scor(?:e|es|ing))",
            r"guilt\s+by\s+association",
        ),
        *_zh("人际关系", "社交关系", "好友信用", "亲友信用", "联系人信用", "联系人评分"),
    ],
}
"""Categories of protected activity, each with the patterns that detect it."""

SPEECH_ADJACENT: list[re.Pattern[str]] = [
    *_en(r"rumou?rs?", r"rumou?r-?mongering", r"spreading\s+(?:false\s+)?information"),
    *_zh("造谣", "谣言", "传谣"),
]
"""Offences defined by speech, often used against expression; reviewed, not rejected."""


def _normalise(text: str) -> str:
    # Codes and ids separate words with dots, hyphens and underscores: read them as spaces.
    return re.sub(r"[._\-]+", " ", text)


def _first_match(text: str, patterns: list[re.Pattern[str]]) -> str | None:
    for pat in patterns:
        m = pat.search(text)
        if m:
            return m.group(0)
    return None


def protected_terms(text: str) -> list[tuple[str, str]]:
    """(category, matched term) for every protected category the text touches."""
    norm = _normalise(text)
    out: list[tuple[str, str]] = []
    for category, patterns in PROTECTED.items():
        term = _first_match(text, patterns) or _first_match(norm, patterns)
        if term is not None:
            out.append((category, term))
    return out


def _texts(thing: Item | ListDef | Measure) -> list[tuple[str, str]]:
    if isinstance(thing, Item):
        fields = [("code", thing.code), ("title", thing.title), ("description", thing.description)]
    else:
        fields = [("id", thing.id), ("title", thing.title)]
    return [(name, value) for name, value in fields if value]


def _scan(where: str, thing: Item | ListDef | Measure) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for field_name, text in _texts(thing):
        for category, term in protected_terms(text):
            if category in seen:
                continue
            seen.add(category)
            out.append(
                Finding(
                    "error",
                    where,
                    "protected-activity",
                    f"{field_name} mentions {term!r} ({category}); schemes must not record or "
                    "score political expression, religion, petitioning, assembly, association or "
                    "what a person's contacts say or score",
                )
            )
        if "speech" not in seen:
            speech = _first_match(text, SPEECH_ADJACENT)
            if speech is not None:
                seen.add("speech")
                out.append(
                    Finding(
                        "warning",
                        where,
                        "speech-offence",
                        f"{field_name} mentions {speech!r}: an offence defined by speech; record it "
                        "only on a court judgment or penalty decision naming a harmed person, "
                        "never for opinions",
                    )
                )
    return out


def _no_basis(where: str, what: str, legal_basis: str | None) -> list[Finding]:
    if legal_basis and legal_basis.strip():
        return []
    return [
        Finding(
            "error",
            where,
            "no-legal-basis",
            f"{what} has no legal_basis: cite the regulation that allows it, so that subjects "
            "can challenge the rule as well as the record",
        )
    ]


def _item_findings(scheme: Scheme, item: Item, listed: set[str]) -> list[Finding]:
    where = f"items.{item.code}"
    out = _no_basis(where, "item", item.legal_basis)
    out += _scan(where, item)
    model = scheme.model
    if isinstance(model, PointsModel):
        scored = item.points != 0
    elif model is not None:
        scored = item.code in model.items_read(scheme)
    else:
        scored = False
    if not scored and item.code not in listed:
        if isinstance(model, TierModel | FactorModel):
            why = "no rule or counting factor of the model reads it and no list of this scheme uses it"
        elif item.points == 0:
            why = "it has 0 points and no list of this scheme uses it"
        else:
            why = "its points count for nothing: the scheme has no scoring model and no list uses it"
        out.append(Finding("warning", where, "unused-item", f"recording this item has no effect: {why}"))
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
                "a positive item adds no points in a scored scheme, so good conduct cannot "
                "regain anything through it",
            )
        )
    if item.severity == "minor" and item.counts_for_days > SEVEN_YEARS_DAYS:
        out.append(
            Finding(
                "warning",
                where,
                "minor-counts-too-long",
                f"a minor item counts for {item.counts_for_days} days, beyond 7 years; US credit "
                "reporting ages most negative items off after 7 years, and minor conduct should "
                "be forgotten sooner",
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
                        f"factor {f.id} scores a subject by its contacts' scores (weight {f.weight:g}); "
                        "what a person's contacts score must not count: set enabled: false or weight: 0",
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
                        "a tier model gives tiers, not points: trigger on grades (tiers) instead of a score",
                    )
                )
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
            f"item {code} (not judicial) can start this judicial listing: a credit restoration of its "
            f"record would end a listing that ends only by its own removal grounds; {restoration.RULE}. "
            "Put the item in the judicial area or on a list of its own",
        )
        for lst in scheme.lists
        if restoration.is_judicial(lst, judicial)
        for code in lst.qualifying_items
        if code not in judicial
    ]


def lint(scheme: Scheme) -> list[Finding]:
    """Every finding for one scheme, in file order (items, then lists, then measures)."""
    listed = {code for lst in scheme.lists for code in (*lst.qualifying_items, *lst.removal.on_items)}
    out: list[Finding] = []
    for item in scheme.items:
        out += _item_findings(scheme, item, listed)
    out += _model_findings(scheme)
    out += _restoration_findings(scheme)
    for lst in scheme.lists:
        where = f"lists.{lst.id}"
        out += _no_basis(where, "list", lst.legal_basis)
        out += _scan(where, lst)
    for m in scheme.measures:
        where = f"measures.{m.id}"
        out += _no_basis(where, "measure", m.legal_basis)
        out += _scan(where, m)
    return out


def lint_file(path: str | Path) -> list[Finding]:
    """Load a scheme file and lint it; a malformed file raises :class:`SchemeError`."""
    return lint(load_scheme(path))


def errors(findings: list[Finding]) -> list[Finding]:
    """Only the findings that block shipping a scheme."""
    return [f for f in findings if f.level == "error"]
