"""Chinese for the operator and the caseworker (issue 18.2: "All portal text, CLI messages and API
error messages go through gettext catalogues [...] with zh-CN and en complete"): the linter's
findings and the safeguards' refusal, the refusals deep in the case work, the `public
transparency` lines and the `GET /schemes` listing. Findings stay exactly as strict in either
language: the language changes the words, never what is found."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from socialcredit import i18n
from socialcredit.cli import app
from socialcredit.errors import SocialCreditError
from socialcredit.schemes import Finding, lint, shipped_registry
from socialcredit.schemes.categories import shipped_vocabulary
from socialcredit.schemes.crosscheck import cross_check
from socialcredit.schemes.safeguards import Breach, SafeguardsFailed
from socialcredit.service import System
from socialcredit.settings import get_settings
from tests.conftest import Clock
from tests.support.apps import served
from tests.support.cli import runner
from tests.support.english import Q, english_in, english_lines, rated_world
from tests.support.schemes import item, scheme

CJK = re.compile(r"[\u4e00-\u9fff]")
QUOTED = re.compile(r"'[^']*'")

# a title about each never-scorable category, in English and in Chinese (DOMAIN: the reported
# Jiangsu pilot deducted points for petitioning; Sesame counted "interpersonal relationships")
ABOUT = {
    "political-expression": ("Posting political comments online", "发表不当言论"),
    "criticism-of-officials": ("Criticising the government on social media", "批评政府官员"),
    "online-speech": ("Spreading rumours online", "网络造谣"),
    "news-reporting": ("Giving interviews to foreign journalists", "接受境外媒体采访"),
    "religion-or-belief": ("Attending religious services", "参加宗教活动"),
    "petitioning": ("Petitioning higher authorities in Beijing", "越级上访"),
    "association-and-assembly": ("Taking part in a protest", "参与非法集会"),
    "family-and-private-life": ("Marital status", "婚姻状况"),
    "ethnicity": ("Recorded ethnicity", "民族成分"),
    "contacts": ("Low score among contacts' scores", "联系人评分低"),
    "party-membership": ("Party membership dues", "缴纳党费"),
}


def _said(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.level, f.where, f.rule) for f in findings]


def _chinese(message: str) -> str:
    zh = i18n.translate(message, "zh_CN")
    assert CJK.search(zh) and zh != str(message), message
    return zh


@pytest.mark.parametrize("category", sorted(ABOUT))
def test_every_forbidden_topic_is_found_in_either_language_and_said_in_chinese(category: str) -> None:
    """The linter finds an item about each never-scorable topic, by English or Chinese words, and
    an item filed under it, the same findings whatever the reader's language; a Chinese reader
    reads each in Chinese, the topic by its Chinese name; the English is what it always was."""
    topic = shipped_vocabulary().get(category)
    assert topic is not None and topic.scorable == "never"
    for title in ABOUT[category]:
        s = scheme(item("conduct.other", title=title))
        english = lint(s)
        with i18n.using("zh_CN"):
            chinese = lint(s)
        assert _said(chinese) == _said(english)
        found = [f for f in english if f.rule == "protected-activity" and topic.title.en in f.message]
        assert len(found) == 1 and found[0].level == "error", (title, [str(f) for f in english])
        assert (
            f"filed under Traffic safety (交通安全) but its title says {topic.title.en}" in found[0].message
        )
        zh = _chinese(found[0].message)
        assert "交通安全" in zh and topic.title.zh in zh, zh
        assert english_in([QUOTED.sub("", zh)]) == [], zh  # the scheme's own words quoted aside
    filed = lint(scheme(item("conduct.other", title="Something else", category=category)))
    never = [f for f in filed if f.rule == "never-scorable"]
    assert _said(never) == [("error", "items.conduct.other", "never-scorable")]
    assert never[0].message == f"filed under {topic}: no scheme may record or score it"
    assert topic.title.zh in _chinese(never[0].message)


def _every_kind_of_finding() -> list[Finding]:
    """Findings of most rules: the shipped set's three warnings, and a scheme wrong in many ways."""
    shipped = [f for s in shipped_registry().schemes.values() for f in lint(s)]
    wrong = scheme(
        item(legal_basis=None),
        item("conduct.nothing", category=None, points=0, polarity="positive"),
        item("conduct.odd", category="no-such-category"),
        item("traffic.minor-old", severity="minor", counts_for_days=4000),
        item("health.nappies", title="Buys nappies, so a responsible parent", category="consumption"),
        lists=[{"id": "low", "title": "Low scorers", "kind": "black", "criteria": {"grade_at_most": "D"},
                "period_days": 365}],
        measures=[{"id": "no-school", "title": "No private school for the children of debtors",
                   "kind": "punishment", "implemented_by": ["schools"], "trigger": {"lists": ["town/low"]}}],
    )  # fmt: skip
    return shipped + lint(wrong)


def test_every_kind_of_finding_reads_in_chinese() -> None:
    findings = _every_kind_of_finding()
    rules = {f.rule for f in findings}
    assert {"no-legal-basis", "no-category", "unknown-category", "minor-counts-too-long", "opt-in-only",
            "purchase-inference", "third-party-undeclared", "third-party-measure",
            "consumption-profiling"} <= rules, rules  # fmt: skip
    for f in findings:
        zh = _chinese(f.message)
        assert english_in([QUOTED.sub("", zh)]) == [], zh


def test_the_lint_command_and_the_safeguards_refusal_speak_chinese(tmp_path: Path) -> None:
    """``socialcredit lint FILE`` in Chinese: every line's words Chinese (file, place and rule's
    name as they are), the same findings and exit status as in English; a scheme in force that
    fails refuses in Chinese too."""
    s = scheme(item(legal_basis=None), item("petition.beijing", title="越级上访"))
    file = tmp_path / "town.yaml"
    file.write_text(yaml.safe_dump(s.model_dump(mode="json", exclude_none=True), allow_unicode=True))
    zh = runner.invoke(app, ["--lang", "zh-CN", "lint", str(file)])
    en = runner.invoke(app, ["--lang", "en", "lint", str(file)])
    assert zh.exit_code == en.exit_code == 1, en.output
    assert english_lines(zh.stdout) == [], zh.stdout
    assert "错误" in zh.stdout and "[protected-activity]" in zh.stdout and "[no-legal-basis]" in zh.stdout
    assert "no scheme may record or score it" in en.stdout and "2 errors, 0 warnings" in en.stdout
    assert len(zh.stdout.splitlines()) == len(en.stdout.splitlines())
    zh_json = runner.invoke(app, ["--lang", "zh-CN", "lint", str(file), "--json"]).stdout
    assert '"rule": "protected-activity"' in zh_json and '"level": "error"' in zh_json
    refused = SafeguardsFailed([Breach(str(file), "town", f) for f in lint(s)])
    with i18n.using("zh_CN"):
        worded = refused.describe()
    assert english_in(worded.splitlines()) == [] and str(file) in worded
    assert str(refused) == "\n".join(f"{file}: {f.where}: {f.message} [{f.rule}]" for f in lint(s))


@pytest.fixture
def rated(system: System, clock: Clock) -> System:
    return rated_world(system, clock)


def _refusal(call: object, *args: object, **kwargs: object) -> SocialCreditError:
    assert callable(call)
    with pytest.raises(SocialCreditError) as refused:
        call(*args, **kwargs)
    return refused.value


def test_refusals_in_the_case_work_are_worded_in_chinese(rated: System) -> None:
    """Refusals raised deep in the case work (who may decide, a case's state, what must be given)
    read in Chinese for a Chinese reader, API, command line and portal alike (they all word a
    refusal by ``describe``); ``str`` stays the English of the logs."""
    operator = rated.operator()
    subject = rated.authenticate(rated.create_key("subject", Q).token)
    (case,) = rated.cases(principal=operator, subject=Q)
    refusals = [
        _refusal(rated.decide_objection, principal=subject, objection_id=case.id, upheld=False, reason="x"),
        _refusal(rated.overdue, principal=subject),
        _refusal(rated.file_objection, principal=subject, subject=Q, statement="not me"),
        _refusal(
            rated.file_objection,
            principal=subject,
            subject=Q,
            record_id=case.record_ids[0],
            statement="again",
        ),  # fmt: skip
        _refusal(rated.decide_objection, principal=operator, objection_id=case.id, upheld=False, reason=" "),
        _refusal(rated.appeal, principal=subject, objection_id=case.id, statement="no"),
        _refusal(rated.decide_appeal, principal=operator, objection_id=case.id, upheld=True, reason="x"),
    ]
    rated.decide_objection(principal=operator, objection_id=case.id, upheld=False, reason="checked")
    refusals.append(
        _refusal(rated.decide_objection, principal=operator, objection_id=case.id, upheld=True, reason="x")
    )
    for r in refusals:
        with i18n.using("zh_CN"):
            zh = r.describe()
        assert CJK.search(zh) and english_in([zh]) == [], (str(r), zh)
    assert "is rejected, not under review" in str(refusals[-1])
    with i18n.using("zh_CN"):
        assert "已驳回" in refusals[-1].describe()
    c = TestClient(served(rated))
    token = rated.create_key("subject", Q).token
    answer = c.post(f"/objections/{case.id}/decision", json={"upheld": False, "reason": "x"},
                    headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"})  # fmt: skip
    assert answer.status_code == 403 and "决定异议" in answer.json()["error"], answer.json()


def test_public_transparency_lines_are_chinese(
    rated: System, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    del env
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    zh = runner.invoke(app, ["--lang", "zh-CN", "public", "transparency"])
    en = runner.invoke(app, ["--lang", "en", "public", "transparency"])
    assert zh.exit_code == en.exit_code == 0, zh.output
    assert english_lines(zh.stdout) == [], zh.stdout
    assert "透明度报告" in zh.stdout and "Transparency report" in en.stdout
    assert len(zh.stdout.splitlines()) == len(en.stdout.splitlines())


def test_the_schemes_listing_is_worded_by_accept_language(rated: System) -> None:
    """``GET /schemes``: titles and jurisdictions in Chinese when asked; ids, versions, statuses,
    lists and measures (the machine's) the same in both."""
    c = TestClient(served(rated))
    en = c.get("/schemes").json()
    zh = c.get("/schemes", headers={"Accept-Language": "zh-CN"}).json()
    assert set(zh) == set(en) and zh["count"] == en["count"] > 3
    for e, z in zip(en["data"], zh["data"], strict=True):
        assert {k: v for k, v in z.items() if k not in ("title", "jurisdiction")} == {
            k: v for k, v in e.items() if k not in ("title", "jurisdiction")
        }
        assert CJK.search(z["title"]) and CJK.search(z["jurisdiction"]), z
        assert english_in([z["title"], z["jurisdiction"]]) == [], z
    assert any(english_in([e["title"]]) for e in en["data"])


def test_a_scheme_that_does_not_load_is_refused_in_chinese(tmp_path: Path) -> None:
    """Loading a scheme (``socialcredit lint FILE``, and every command that loads the schemes in
    force): no such file, not YAML, a field missing or refused, a list naming an item the scheme
    does not have; each line in Chinese for a Chinese reader, the file and the field named."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: town\ntitle: [unclosed\n")
    incomplete = tmp_path / "incomplete.yaml"
    incomplete.write_text(yaml.safe_dump({"id": "town", "title": "Town", "items": [{"code": "BAD CODE"}]}))
    wrong = tmp_path / "wrong.yaml"  # a model's own rule: a negative item cannot add points
    wrong.write_text(yaml.safe_dump({**scheme().model_dump(mode="json", exclude_none=True),
                                     "items": [item(points=5)]}))  # fmt: skip
    for file, zh_word in ((tmp_path / "none.yaml", "没有该文件"), (broken, "不是有效的 YAML"),
                          (incomplete, "items.0.code"), (wrong, "负面事项不能加分")):  # fmt: skip
        zh = runner.invoke(app, ["--lang", "zh-CN", "lint", str(file)])
        en = runner.invoke(app, ["--lang", "en", "lint", str(file)])
        assert zh.exit_code == en.exit_code == 2, en.output
        assert zh_word in zh.output and str(file.name) in zh.output, zh.output
        ours = [line if file != broken else line.rsplit("：", 1)[0] for line in zh.output.splitlines()]
        assert english_in([QUOTED.sub("", line) for line in ours]) == [], (
            zh.output
        )  # PyYAML's own words aside
        assert len(zh.output.splitlines()) == len(en.output.splitlines())
    s = scheme(lists=[{"id": "low", "title": "Low", "kind": "black", "legal_basis": "x",
                       "criteria": {"items": ["no.such.item"]}, "period_days": 365}])  # fmt: skip
    problems = list(cross_check({"town": s}))
    assert [str(p) for p in problems] == [
        "town: list low: item 'no.such.item' is not in this scheme's catalogue"
    ]
    assert all(CJK.search(_chinese(p)) for p in problems)
