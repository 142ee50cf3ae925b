"""The portal for a subject: the page that explains each grade line by line (a clamp or a
rounding a line of its own), and due process from the subject's side to the operator's decision:
an objection upheld, a rejection appealed, restoration applied for and granted, a human review
asked beside a listing by rule. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi import FastAPI

from socialcredit.service import System
from tests.conftest import Clock
from tests.support import webworld
from tests.support.portal import client_for, post_form
from tests.support.webworld import COURT_LIST, NAME, OTHER, P, case_id_of, row

# the shared world (tests/support/webworld.py), bound here by name as pytest finds fixtures
built, store, world = webworld.built, webworld.store, webworld.world
tokens, app = webworld.tokens, webworld.app


def test_subject_page_explains_the_grade(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    page = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}").text
    rongcheng = page[
        page.index('id="scheme-rongcheng"') : page.index("</section>", page.index('id="scheme-rongcheng"'))
    ]
    # base 1000, court listing -100... each counting record is one explained line
    view = world.view(P)
    score = view.scores["rongcheng"]
    assert f'data-testid="score-rongcheng">{score.score}<' in rongcheng
    assert f'data-testid="grade-rongcheng">{score.grade}<' in rongcheng
    for c in score.contributions:
        assert c.record_id in rongcheng and f"{c.points:+d}" in rongcheng
    assert "<svg" in rongcheng and 'role="img"' in rongcheng and "score history" in rongcheng
    assert "(current)" in rongcheng
    lists = page[page.index('id="lists"') :]
    assert "List of Dishonest Judgment Debtors" in lists and "own record" in lists
    assert "2026-09-01" in lists
    # an earlier day shows the record as it stood then
    past = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}?as_of=2026-08-01").text
    assert 'data-testid="score-rongcheng">' in past and "List of Dishonest Judgment Debtors" not in past


def _explanation(page: str, scheme: str) -> tuple[str, list[tuple[str, str, float]]]:
    """A scheme's "how the score adds up" table on the subject page, and its lines (kind, label,
    points)."""
    start = page.index(f'id="scheme-{scheme}"')
    table = page[page.index('<table class="explanation"', start) : page.index("</table>", start)]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    lines = re.findall(
        r'<tr class="line-(\w+)"><th scope="row">(.*?)</th><td class="num" data-points="([^"]*)">', body
    )
    return table, [(kind, label, float(points)) for kind, label, points in lines]


def test_a_clamp_or_a_rounding_is_a_line_of_its_own(
    app: FastAPI, world: System, tokens: dict[str, str]
) -> None:
    """Suining's maximum (suining-2010.yaml: "a national honour adds points back up to the
    maximum", ``maximum: 1000``): OTHER's +100 and -50 would make 1,050; a line set apart from the
    records says where the 50 went, and the lines add up to the score (issue 16)."""
    honour = row(OTHER, "honour.model-worker", "trade-union", "h-1", "2026-08-01")[1]
    joins = row(OTHER, "identity.verified", "public-security", "i-1", "2026-08-01")[1]  # Sesame's enrolment
    applies = row(OTHER, "honest-shanghai.applied", "self", "a-1", "2026-08-01")[1]  # Honest Shanghai's
    rows = [(1, honour), (2, joins), (3, applies)]
    assert world.ingest(rows, origin="test", principal=world.operator()).accepted == 3
    page = client_for(app, tokens["operator"]).get(f"/portal/subjects/{OTHER}?lang=en").text
    table, lines = _explanation(page, "suining-2010")
    assert [(k, p) for k, _, p in lines] == [("start", 1000), ("part", 50), ("adjustment", -50)]
    assert lines[-1][1] == "capped at the maximum of 1,000" and "<strong>1000</strong>" in table
    assert all(k != "adjustment" for k, _, _ in _explanation(page, "rongcheng")[1])  # no maximum hit
    # Sesame (a factor model): the minimum, the factors and the rounding add up to the score
    _table, lines = _explanation(page, "sesame")
    assert lines[0][:2] == ("start", "Minimum") and lines[-1][0] == "adjustment"
    assert abs(sum(p for _, _, p in lines) - world.view(OTHER).scores["sesame"].score) < 1e-9
    # a tier model (Honest Shanghai) has no points: its records are listed, never summed
    tier = page[page.index('id="scheme-honest-shanghai"') :].split("</section>")[0]
    assert 'class="explanation"' not in tier and 'class="records"' in tier
    assert 'data-testid="score-honest-shanghai"' not in tier  # no score shown for a rating


def test_objection_upheld_changes_grade_decision_and_list(
    app: FastAPI, world: System, tokens: dict[str, str], clock: Clock
) -> None:
    court = webworld.court_record(world)
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    before = world.view(P).scores["rongcheng"]
    # an empty statement is refused next to the form, and nothing is filed
    r = post_form(subject, me, f"{me}/objections", {"target": f"record:{court}", "statement": " "})
    assert r.status_code == 422 and "statement" in r.text and 'id="objection-error"' in r.text
    assert world.cases(principal=world.operator()) == []
    r = post_form(
        subject,
        me,
        f"{me}/objections",
        {
            "target": f"record:{court}",
            "statement": "I paid the judgment in full in August; the court was told.",
            "evidence": "bank transfer 2026-08-20\nreceipt of the court",
        },
    )
    assert r.status_code == 303
    page = subject.get(r.headers["location"]).text
    case_id = case_id_of(page)
    assert 'id="filed"' in page and "under review" in page and "bank transfer 2026-08-20" in page
    desk = operator.get("/portal/operator").text
    assert case_id in desk and "I paid the judgment in full" in desk
    # a subject may not decide; a decision needs a reason
    r = post_form(subject, me, f"/portal/cases/{case_id}/decision", {"outcome": "uphold", "reason": "x"})
    assert r.status_code == 403
    r = post_form(operator, "/portal/operator", f"/portal/cases/{case_id}/decision", {"outcome": "uphold"})
    assert r.status_code == 422 and "reason" in r.text
    clock.advance(days=2)
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "the court confirms payment on 2026-08-20"},
    )
    assert r.status_code == 303 and operator.get(r.headers["location"]).status_code == 200
    after = world.view(P).scores["rongcheng"]
    assert after.score > before.score
    page = subject.get(me).text
    assert f'data-testid="score-rongcheng">{after.score}<' in page and "the court confirms payment" in page
    rp = client_for(app, tokens["relying_party"])
    r = post_form(
        rp,
        "/portal/decisions/new",
        "/portal/decisions/new",
        {"subject": P, "measure": "no-flights", "purpose": "t"},
    )
    assert 'data-answer="allow">allow<' in r.text
    assert NAME not in client_for(app, None).get(f"/portal/lists/{COURT_LIST}").text


def test_rejected_objection_is_appealed(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    r = post_form(
        subject, me, f"{me}/objections", {"target": f"list:{COURT_LIST}", "statement": "wrong person"}
    )
    case_id = case_id_of(subject.get(r.headers["location"]).text)
    post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "reject", "reason": "same ID"},
    )
    page = subject.get(me).text
    assert "rejected" in page and f'action="/portal/cases/{case_id}/appeal"' in page
    r = post_form(
        subject, me, f"/portal/cases/{case_id}/appeal", {"statement": "the ID was mistyped by the court"}
    )
    assert r.status_code == 303
    assert "under appeal" in subject.get(me).text
    r = post_form(subject, me, f"/portal/cases/{case_id}/appeal", {"statement": "again"})
    assert r.status_code == 409 and "only a rejected objection or review can be appealed" in r.text
    desk = operator.get("/portal/operator").text
    assert "the ID was mistyped by the court" in desk and "on the appeal" in desk
    assert "someone other than wang.fang" in desk
    # Art. 12: the appeal is decided by someone other than the objection's decider
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "mistyped"},
    )
    assert r.status_code == 403 and "wang.fang decided the objection" in r.text and 'id="err-' in r.text
    assert "under appeal" in subject.get(me).text
    colleague = client_for(app, world.create_key("operator", "li.na").token)
    r = post_form(
        colleague,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "mistyped"},
    )
    assert r.status_code == 303
    page = subject.get(me).text
    assert 'by <span class="decider">wang.fang</span>: same ID' in page
    assert 'by <span class="decider">li.na</span>: mistyped' in page
    assert world.view(P).entries == [] or all(e.qualified_id != COURT_LIST for e in world.view(P).entries)


def test_restoration_applied_and_granted(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    court = webworld.court_record(world)
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    minor = world.store.stored_record_id("traffic-police", "t-1")
    fields = {
        "conduct_corrected": "took the course",
        "obligations_fulfilled": "fine paid",
        "commitment": "I will",
    }
    r = post_form(subject, me, f"{me}/restorations", {"record_id": minor, **fields, "commitment": ""})
    assert r.status_code == 422 and "commitment" in r.text and 'id="restoration-error"' in r.text
    assert f'<option value="{court}"' not in subject.get(me).text  # a court listing: never offered
    r = post_form(subject, me, f"{me}/restorations", {"record_id": court, **fields})
    assert r.status_code == 422 and "is a judicial record" in r.text and "Art. 10" in r.text
    r = post_form(subject, me, f"{me}/restorations", {"record_id": minor, **fields})
    assert r.status_code == 303
    case_id = case_id_of(subject.get(r.headers["location"]).text)
    assert case_id.startswith("res-") and case_id in operator.get("/portal/operator").text
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "uphold", "reason": "x"},
    )
    assert r.status_code == 422 and "grant or refuse" in r.text
    r = post_form(
        operator,
        "/portal/operator",
        f"/portal/cases/{case_id}/decision",
        {"outcome": "grant", "reason": "done"},
    )
    assert r.status_code == 303
    page = subject.get(me).text
    assert "granted" in page


def test_human_review_asked_next_to_a_listing_by_rule(
    app: FastAPI, world: System, tokens: dict[str, str]
) -> None:
    court = webworld.court_record(world)
    """GDPR (DOMAIN.md): no "solely automated decision with significant effects without human
    review". The subject page offers a review next to each listing derived by rule (Rongcheng's
    D list, by grade) and not next to the court's (a court's decision: objected to); the desk
    refuses an operator involved in the subject's cases and an uninvolved one decides."""
    rows = [row(P, "court.fraud-conviction", "court", f"f-{n}", f"2026-09-{n:02d}",
                reported_at=f"2026-09-{n:02d}T10:00") for n in range(2, 6)]  # fmt: skip
    assert world.ingest(rows, origin="test", principal=world.operator()).accepted == 4
    subject = client_for(app, tokens["subject"])
    operator = client_for(app, tokens["operator"])
    me = f"/portal/subjects/{P}"
    page = subject.get(me).text
    assert page.count("Ask for a human review") == 1 and "decided by a court: object instead" in page
    # the operator (wang.fang) decides an objection of P's first: involved from then on
    r = post_form(subject, me, f"{me}/objections", {"target": f"record:{court}", "statement": "x"})
    objection = case_id_of(subject.get(r.headers["location"]).text)
    post_form(operator, "/portal/operator", f"/portal/cases/{objection}/decision",
              {"outcome": "reject", "reason": "the judgment stands"})  # fmt: skip
    before = len(world.cases(principal=world.operator()))
    for role in ("agency", "relying_party", "auditor", None):
        c = client_for(app, tokens[role] if role else None)
        r = post_form(c, "/portal/login", f"{me}/reviews", {"list_id": "rongcheng/d-grade", "statement": "s"})
        assert r.status_code == (403 if role else 401)
    assert len(world.cases(principal=world.operator())) == before
    r = post_form(subject, me, f"{me}/reviews", {"list_id": COURT_LIST, "statement": "look"})
    assert r.status_code == 422 and "listed by a court" in r.text and 'id="review-error"' in r.text
    r = post_form(
        subject, me, f"{me}/reviews", {"list_id": "rongcheng/d-grade", "statement": "I was in hospital"}
    )
    assert r.status_code == 303
    page = subject.get(r.headers["location"]).text
    review = case_id_of(page.split('id="filed"', 1)[1])
    assert review.startswith("rev-") and "Human review" in page and "Ask for a human review" not in page
    desk = operator.get("/portal/operator").text
    assert review in desk and "not involved so far (not: wang.fang)" in desk and "Confirm the listing" in desk
    r = post_form(operator, "/portal/operator", f"/portal/cases/{review}/decision",
                  {"outcome": "reject", "reason": "the records stand"})  # fmt: skip
    assert r.status_code == 403 and "wang.fang is already involved" in r.text
    colleague = client_for(app, world.create_key("operator", "li.na").token)
    r = post_form(colleague, "/portal/operator", f"/portal/cases/{review}/decision",
                  {"outcome": "reject", "reason": "the records stand"})  # fmt: skip
    assert r.status_code == 303
    assert 'by <span class="decider">li.na</span>: the records stand' in subject.get(me).text
