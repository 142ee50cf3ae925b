"""One explanation model for every model kind, the same in the API, the CLI and the portal
(issue 18, point 1):

- "Tier: which rule decided the tier, the records that met it, and what the next tier needs."
- "Factor: each factor's value, weight and points, adding up to the score, with the records behind
  each factor."
- "Points: one line per record, plus a line for any cap."
- "Reason codes: the at most four factors or records that lowered the score most, in plain words,
  on every score and every adverse decision (the practice credit bureaus must follow)."

The defects that prompted it: Honest Shanghai (a tier model) was explained with the points
template ("starts at 1 points", a score of 0 "bad"), and Sesame's 650 + 30 was shown as 747. Each
shipped scored scheme's explanation is read from ``GET /subjects/{code}``, from ``socialcredit
score --json`` and from the portal's HTML, and the three must be equal; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.schemes.loader import shipped_scheme
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import Score, dispatch
from socialcredit.scoring.explanation import Explanation, Line, records_section
from socialcredit.scoring.kinds import registry
from socialcredit.scoring.result import Contribution, ReasonCode
from socialcredit.service import Question, System
from socialcredit.store import SubjectRow
from tests.conftest import org, person
from tests.support.apps import served
from tests.support.cli import jrun
from tests.support.portal import client_for
from tests.support.records import feed, rec

P, ORG = person(181), org(181)
DAY = "2026-10-31"
SRC = Path(__file__).parent.parent / "src" / "socialcredit"


@pytest.fixture
def filed(system: System, store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> System:
    """P: in Honest Shanghai and Sesame, with a fraud conviction (Honest Shanghai's "bad" rule), a
    minor traffic record and two unpaid bills; ORG: a food-safety violation (the enterprise rating's
    red tier). The command line reads the same store."""
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    from socialcredit.settings import get_settings

    get_settings.cache_clear()
    system.register(
        [SubjectRow(P, "person", "Wang Wu"), SubjectRow(ORG, "organisation", "Example Foods Ltd")]
    )
    feed(
        system,
        rec(1, P, "honest-shanghai.applied", "self", "2026-01-05"),
        rec(2, P, "identity.verified", "public-security", "2026-01-05"),
        rec(3, P, "court.fraud-conviction", "court", "2026-03-01"),
        rec(4, P, "traffic.minor", "traffic-police", "2026-04-01"),
        rec(5, P, "utility.unpaid-bill", "power-grid", "2026-05-01"),
        rec(6, P, "utility.unpaid-bill", "water-utility", "2026-06-01"),
        rec(7, ORG, "food.safety-violation", "market-regulation", "2026-07-01"),
    )
    return system


def _portal(page: str, scheme: str) -> dict[str, Any]:
    """A scheme's explanation as the portal's HTML shows it, in the API's shape."""
    start = page.index(f'id="scheme-{scheme}"')
    part = page[start : page.index("</section>", start)]
    part = part[: part.index("<h3>", part.index("<h3>") + 1)]  # up to the grades

    def text(s: str) -> str:
        return html.unescape(re.sub(r"<[^>]+>", "", s)).strip()

    head = re.search(r'data-testid="headline-[^"]+">(.*?)</p>', part, re.S)
    assert head
    lines = [
        {"label": text(label), "points": float(points), "kind": kind}
        for kind, label, points in re.findall(
            r'<tr class="line-(\w+)"><th scope="row">(.*?)</th><td class="num" data-points="([^"]*)">', part
        )
    ]
    sections = []
    for table in re.findall(r'<table class="records">(.*?)</table>', part, re.S):
        body = table[table.index("<tbody>") :]
        sections.append(
            {
                "caption": text(re.findall(r"<caption>(.*?)</caption>", table, re.S)[0]),
                "columns": [text(c) for c in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table)],
                "rows": [
                    [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
                    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
                    if "colspan" not in row
                ],
            }
        )
    nxt = re.search(r'data-testid="next-[^"]+"><strong>.*?</strong>(.*?)</p>', part, re.S)
    reasons = re.search(r'data-testid="reasons-[^"]+">(.*?)</ul>', part, re.S)
    return {
        "headline": text(head.group(1)),
        "lines": lines,
        "sections": sections,
        "next_tier": text(nxt.group(1)) if nxt else None,
        "reasons": [text(x) for x in re.findall(r"<li>(.*?)</li>", reasons.group(1), re.S)]
        if reasons
        else [],
    }


def _comparable(e: dict[str, Any]) -> dict[str, Any]:
    """The API's (or the CLI's) explanation in the shape :func:`_portal` reads."""
    return {
        "headline": e["headline"],
        "lines": [{"label": x["label"], "points": float(x["points"]), "kind": x["kind"]} for x in e["lines"]],
        "sections": [{k: s[k] for k in ("caption", "columns", "rows")} for s in e["sections"]],
        "next_tier": e["next_tier"],
        "reasons": [r["text"] for r in e["reasons"]],
    }


def _three_ways(
    system: System, code: str
) -> dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Each scheme's explanation from the API, the command line and the portal."""
    token = system.create_key("operator", "op-explain").token
    api = TestClient(served(system)).get(
        f"/subjects/{code}", params={"as_of": DAY}, headers={"X-API-Key": token, "Accept-Language": "en"}
    )
    assert api.status_code == 200, api.text
    cli = jrun("score", code, "--at", DAY)
    page = client_for(served(system), token).get(f"/portal/subjects/{code}", params={"as_of": DAY})
    assert page.status_code == 200
    by_cli = {s["scheme"]: s for s in cli["scores"]}
    out = {}
    for s in api.json()["scores"]:
        out[s["scheme"]] = (
            s,
            _comparable(s["explained"]),
            _comparable(by_cli[s["scheme"]]["explained"]),
        )
        assert out[s["scheme"]][1] == out[s["scheme"]][2], s["scheme"]  # API == CLI --json
        assert _portal(page.text, s["scheme"]) == out[s["scheme"]][1], s["scheme"]  # == the portal
    return out


def test_every_kind_is_explained_alike_in_the_api_the_cli_and_the_portal(filed: System) -> None:
    person_schemes = _three_ways(filed, P)
    assert set(person_schemes) == {"rongcheng", "suining-2010", "honest-shanghai", "sesame"}
    # points: the base, the records (one row each, their points adding up), any cap
    for scheme in ("rongcheng", "suining-2010"):
        raw, e, _ = person_schemes[scheme]
        assert e["lines"][0]["kind"] == "start" and sum(x["points"] for x in e["lines"]) == raw["score"]
        (records,) = e["sections"]
        assert sum(int(row[4]) for row in records["rows"]) == e["lines"][1]["points"]
        assert len(records["rows"]) == len(raw["explanation"])
    # tier (Honest Shanghai): no points, no score line; the deciding rule and what "good" needs
    raw, e, _ = person_schemes["honest-shanghai"]
    assert raw["grade"] == "bad" and e["lines"] == []
    assert e["headline"].startswith("Rated bad by the rule") and "serious negative record" in e["headline"]
    met = e["sections"][0]
    assert met["caption"] == "The records that met the deciding rule"
    assert [row[0] for row in met["rows"]] == [
        shipped_scheme("honest-shanghai").item_index["court.fraud-conviction"].title
    ]
    assert e["next_tier"] and e["next_tier"].startswith("good, the default, needs the rule")
    assert e["reasons"] and all(r["effect"] < 0 for r in raw["explained"]["reasons"])
    assert "points" not in e["headline"]  # the defect: "starts at 1 points"
    page = client_for(served(filed), filed.create_key("operator", "op-grades").token).get(
        f"/portal/subjects/{P}", params={"as_of": DAY}
    )
    block = page.text[page.text.index('id="scheme-honest-shanghai"') :].split("</section>")[0]
    grades = re.findall(r"<li[^>]*><strong>([^<]*)</strong>([^<]*)</li>", block)
    assert [g for g, _ in grades] == ["very-good", "good", "bad"]  # by name: no levels shown as points
    assert not any(re.search(r"\d", rest) for _, rest in grades)
    # factor (Sesame): the minimum and each factor's points add up to the score (with the rounding)
    raw, e, _ = person_schemes["sesame"]
    assert e["lines"][0] == {"label": "Minimum", "points": 350.0, "kind": "start"}
    assert abs(sum(x["points"] for x in e["lines"]) - raw["score"]) < 1e-9
    factors = [x for x in e["lines"] if x["kind"] == "part"]
    assert len(factors) == len(raw["factors"])
    # the records behind each factor, grouped under it: the two unpaid bills under one factor
    bills = [s for s in e["sections"] if len(s["rows"]) == 2]
    assert len(bills) == 1 and {row[1] for row in bills[0]["rows"]} == {"power-grid", "water-utility"}
    assert sum(len(s["rows"]) for s in e["sections"]) == len(raw["explanation"])
    # reason codes: at most four, each lowering the score, the largest first
    effects = [r["effect"] for r in raw["explained"]["reasons"]]
    assert 0 < len(effects) <= 4 and all(x < 0 for x in effects) and effects == sorted(effects)
    # the enterprise rating (a tier model) on an organisation
    (org_raw, org_e, _) = _three_ways(filed, ORG)["enterprise-credit"]
    assert org_raw["grade"] == "red" and org_e["lines"] == [] and org_e["headline"].startswith("Rated red")
    assert any("Food" in row[0] or "food" in row[0] for row in org_e["sections"][0]["rows"])


def test_the_explanation_is_in_chinese_on_a_chinese_page(filed: System) -> None:
    token = filed.create_key("operator", "op-explain").token
    page = client_for(served(filed), token, lang="zh-CN").get(f"/portal/subjects/{P}", params={"as_of": DAY})
    hs = _portal(page.text, "honest-shanghai")
    assert hs["headline"].startswith("依规则") and hs["sections"][0]["caption"] == "满足决定性规则的记录"
    assert hs["sections"][0]["rows"][0][0] == "因诈骗被判处刑罚"  # the item's Chinese title
    assert hs["reasons"] and all("Convicted" not in x for x in hs["reasons"])
    assert _portal(page.text, "rongcheng")["lines"][0]["label"] == "基础分"


def test_an_adverse_decision_carries_the_reason_codes(filed: System) -> None:
    """A denial from the enterprise rating's red tier states what lowered the rating, in the API's
    answer, the command line's and the portal's check page."""
    op = filed.operator()
    d = filed.check(Question(ORG, "enterprise-no-public-procurement", op, purpose="tender"))
    assert not d.allowed
    (graded,) = [x for x in d.reasons if x.basis == "grade"]
    rating = filed.view(ORG).scores["enterprise-credit"]
    assert graded.explanation == tuple(r.text for r in rating.adverse) and graded.explanation
    assert len(graded.explanation) <= 4 and all(r.effect < 0 for r in rating.adverse)
    body = jrun("check", ORG, "enterprise-no-public-procurement")
    assert body["answer"] == "deny"
    assert [x for x in body["reasons"] if x["basis"] == "grade"][0]["explanation"] == list(graded.explanation)


class Toy:
    """A model kind of its own (a subject's score is its number of counting records), put in the
    registry in the points model's place: every adapter renders its explanation with no display
    code of its own, since they render the one structure. What it does not define (its history,
    its population forms) is the points model's."""

    kind = "points"

    def score(
        self,
        subject: str,
        records: Sequence[Record],
        scheme: Scheme,
        as_of: dt.datetime,
        contacts: Sequence[int],
    ) -> Score:
        lines = tuple(
            Contribution(r.record_id, r.item, r.item, r.source, r.occurred_on, r.occurred_on, 1)
            for r in records
            if r.reported_at <= as_of and scheme.item(r.item) is not None
        )
        return Score(scheme.id, subject, as_of, 0, len(lines), "toy-grade", lines)

    def explain(self, score: Score, scheme: Scheme) -> Explanation:
        return Explanation(
            N_("Rated {grade}", grade=score.grade),
            score.score,
            score.grade,
            (Line(N_("Minimum"), 0, "start"), Line(N_("Points"), score.score)),
            (records_section(N_("One line per counting record"), score.contributions, scheme.id),),
            (ReasonCode(None, None, N_("Next:"), -1),),
            None,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(POINTS, name)


POINTS = dispatch.KINDS["points"]


def test_a_new_kind_renders_with_no_display_change(filed: System, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        dispatch, "KINDS", registry(Toy(), *(k for n, k in dispatch.KINDS.items() if n != "points"))
    )  # type: ignore[arg-type]
    schemes = _three_ways(filed, P)
    raw, e, _ = schemes["rongcheng"]
    assert e["headline"] == "Rated toy-grade" and raw["score"] == e["lines"][1]["points"] > 0
    assert e["reasons"] == ["Next:"]
    # and no adapter names a kind: the display has no branch on it
    for path in ("web/templates/explanation.html", "web/templates/subject.html", "cli/subjects.py"):
        source = (SRC / path).read_text()
        assert not re.search(r"""kind\s*[!=]=\s*["'](points|tier|factor)["']""", source), path
