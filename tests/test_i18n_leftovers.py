"""The last English on Chinese pages, lines and replies (issue 18.2: "All portal text, CLI messages
and API error messages go through gettext catalogues [...]. A test fails on any untranslated
string"; decision 0072): a list criterion's refusal of a scheme, the sealing's refusals, the
portal's refusal of a date, and the simulator's HTML report with its charts."""

from __future__ import annotations

import json
import re
from contextlib import closing
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from socialcredit import i18n
from socialcredit.api import create_app
from socialcredit.cli import app
from socialcredit.dueprocess.calendar import WorkingCalendar
from socialcredit.errors import Refused, SocialCreditError, Unavailable
from socialcredit.schemes.loader import SchemeError, parse_scheme, shipped_registry
from socialcredit.service import System
from socialcredit.shredding import MasterKey
from socialcredit.sim.scenario import Settings, scenario_registry
from tests.conftest import person
from tests.support.cli import runner
from tests.support.english import english_in, english_left

CJK = re.compile(r"[\u4e00-\u9fff]")


def _chinese(exc: SocialCreditError) -> str:
    """``exc`` as a Chinese reader reads it: some Chinese, and no English sentence."""
    with i18n.using("zh_CN"):
        zh = exc.describe()
    assert CJK.search(zh) and english_in([zh]) == [], zh
    return zh


@pytest.mark.parametrize(
    "change,english",
    [
        ({"grade_at_most": "Z"}, "grade 'Z' is not a grade of this scheme"),
        ({"enrolment": True}, "an opt-in scheme (enrolment) cannot list by grade"),
        ({"model": None}, "grade criteria need a scoring model"),
    ],
)
def test_a_list_criterions_refusal_is_in_the_readers_language(
    change: dict[str, object], english: str
) -> None:
    """Each refusal of a list by grade (``criteria/grade.py``), worded for a Chinese reader, the
    list named; the English is what it was."""
    data = (
        shipped_registry()
        .scheme("sesame" if change.get("enrolment") else "suining-2010")
        .model_dump(mode="json")
    )
    grade = data["model"]["grades"][-1]["grade"]
    crit = {"by": "grade", "grade_at_most": change.get("grade_at_most", grade)}
    data["lists"] = [
        {
            "id": "poor",
            "title": "Poor",
            "kind": "black",
            "criteria": crit,
            "period_days": 365,
            "legal_basis": "x",
        }
    ]
    if "model" in change:
        data["model"] = None
        data["measures"] = [m for m in data["measures"] if m["trigger"].get("scheme") is None]
    with pytest.raises(SchemeError) as caught:
        parse_scheme(yaml.safe_dump(data), "town.yaml")
    assert english in str(caught.value) and "poor" in str(caught.value)
    assert "poor" in _chinese(caught.value)


def test_the_sealings_refusals_are_in_the_readers_language() -> None:
    """A master key of the wrong length or not base64 (``shredding.py``): the installation's fault
    (a logged 500, decision 0069), naming the field, in Chinese for a Chinese reader."""
    for bad in (lambda: MasterKey.of(b"short"), lambda: MasterKey.from_text("not base64!")):
        with pytest.raises(Unavailable) as caught:
            bad()
        assert caught.value.field == "master_key"
        _chinese(caught.value)


def test_the_portals_date_refusal_is_in_the_readers_language(system: System) -> None:
    """A knowledge time that is not a date (``web/timeaxes.py``): the Chinese page says so in
    Chinese, naming the parameter; the English page in English."""
    with closing(TestClient(create_app(system))) as client:
        zh = client.get(
            "/portal/transparency", params={"known_at": "yesterday"}, headers={"Accept-Language": "zh-CN"}
        )
        en = client.get(
            "/portal/transparency", params={"known_at": "yesterday"}, headers={"Accept-Language": "en"}
        )
    assert zh.status_code == en.status_code == 422
    assert "is not an ISO date" in en.text and "known_at" in en.text
    assert "known_at" in zh.text and "is not an ISO date" not in zh.text and english_left(zh.text) == [], (
        zh.text
    )


def test_the_simulation_report_is_in_the_readers_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``simulate --lang zh-CN``: the report's page (headings, table labels, explanation, the
    arms' names) and its charts (titles, axes, legends) hold no English sentence; in English they
    read as before; the figures in report.json are the same."""
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    args = ["simulate", "--population", "600", "--years", "1", "--seed", "5", "--vs", "due-process=off"]
    pages: dict[str, str] = {}
    charts: dict[str, list[str]] = {}
    for lang in ("zh-CN", "en"):
        out = tmp_path / lang
        result = runner.invoke(app, ["--lang", lang, *args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        pages[lang] = (out / "report.html").read_text(encoding="utf-8")
        charts[lang] = [p.read_text(encoding="utf-8") for p in sorted(out.glob("*.svg"))]
        assert len(charts[lang]) >= 6
    zh, en = pages["zh-CN"], pages["en"]
    assert '<html lang="zh-CN">' in zh and "主要数字" in zh and "正当程序" in zh
    assert english_left(zh) == [], english_left(zh)
    for svg in charts["zh-CN"]:
        assert CJK.search(svg) and english_left(svg) == [], english_left(svg)
    assert "Headline figures" in en and "What the scheme does to a population" in en
    assert any("Mean score of persons" in svg for svg in charts["en"])
    figures = [
        json.loads((tmp_path / lang / "report.json").read_text())["summary"] for lang in ("zh-CN", "en")
    ]
    assert figures[0] == figures[1]


def test_the_last_literal_refusals_are_in_the_readers_language() -> None:
    """Refusals that were raised with literal English (a holidays file's line, the simulator's
    scheme, an API date): each names what it refuses, in Chinese for a Chinese reader."""
    with pytest.raises(Refused) as holidays:
        WorkingCalendar.parse("2025-10-01\nnational day\n")
    assert "holidays line 2: 'national day' is not an ISO date" in str(holidays.value)
    assert "national day" in _chinese(holidays.value)
    with pytest.raises(SchemeError) as unknown:
        scenario_registry(shipped_registry().schemes.values(), Settings(scheme="atlantis"))
    assert "no scheme 'atlantis'" in str(unknown.value)
    with i18n.using("zh_CN"):
        zh = unknown.value.describe()  # the ids it lists are names, the same in both
    assert zh.startswith("没有方案 'atlantis'") and "have" not in zh, zh
    with pytest.raises(SchemeError) as no_model:
        scenario_registry(shipped_registry().schemes.values(), Settings(scheme="court-dishonest-debtors"))
    assert "no scoring model" in str(no_model.value)
    _chinese(no_model.value)


@pytest.mark.parametrize(
    ("args", "chinese"),
    [
        (["keys", "revoke", "nope"], "没有有效的密钥 'nope'"),
        (["score", "12"], "CODE"),
        (["db", "status"], "架构"),
        (["documents", "list", person(83)], "没有关联的证件"),
    ],
)
def test_the_commands_last_english_lines_are_chinese(env: Path, args: list[str], chinese: str) -> None:
    """``keys``, ``db``, ``documents`` and a code refused on the command line, under ``--lang
    zh-CN``: Chinese, with no English sentence left (the ids, codes and commands quoted stay)."""
    (env / "home").mkdir(exist_ok=True)  # where a SQLite database is made
    result = runner.invoke(app, ["--lang", "zh-CN", *args])
    said = result.stdout + result.stderr
    prose = re.sub(r"`[^`]*`", "", said)  # a command quoted to run is the machine's
    assert chinese in said and english_in(prose.splitlines()) == [], said


def test_a_role_refused_on_the_command_line_is_chinese(env: Path) -> None:
    """The roles it lists are the machine's names; the sentence around them is Chinese."""
    result = runner.invoke(app, ["--lang", "zh-CN", "keys", "create", "king"])
    assert result.exit_code == 2 and "'king' 不是" in result.stderr and "is not one of" not in result.stderr


def test_an_agencys_ingest_is_told_in_chinese(env: Path, tmp_path: Path) -> None:
    """``ingest`` under ``--lang zh-CN``: the counts line and each quarantined row's reasons (a
    malformed line, a row the ledger refuses) in Chinese, and a file refused whole (an unknown
    column) in Chinese too, naming the file; ``--json`` and the stored reasons keep the English."""
    (env / "home").mkdir(exist_ok=True)
    good = f"1,{person(84)},traffic.red-light,traffic-police,2026-06-01"
    path = tmp_path / "feed.csv"
    path.write_text(
        "source_record_id,subject,item,source,occurred_on\n"
        f"{good}\n"
        "2,12345,traffic.red-light,traffic-police,2026-06-01\n"
        "3,only,three\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--lang", "zh-CN", "ingest", str(path)])
    said = result.stdout + result.stderr
    assert result.exit_code == 0, said
    assert "接受 1" in said and "隔离 2" in said and "第 4 行：有 3 个单元格" in said, said
    assert "第 4 行：第 4 行" not in said  # a reader's line is named once
    assert english_in([line for line in said.splitlines() if line.strip()]) == [], said
    bad = tmp_path / "colour.csv"
    bad.write_text("source_record_id,colour\n1,red\n", encoding="utf-8")
    refused = runner.invoke(app, ["--lang", "zh-CN", "ingest", str(bad)])
    assert refused.exit_code == 2 and "colour.csv: 未知的列 'colour'" in refused.stderr, refused.stderr
    english = runner.invoke(app, ["--lang", "en", "ingest", str(bad)])
    assert "colour.csv: unknown column 'colour'" in english.stderr


@pytest.mark.slow  # a rescore on DuckDB
def test_export_and_rescore_say_what_they_did_in_chinese(env: Path, tmp_path: Path) -> None:
    """``export`` and ``rescore`` under ``--lang zh-CN``: their summary lines (counts, lists and
    their entries by status) in Chinese; paths, ids and engine names stay as they are."""
    (env / "home").mkdir(exist_ok=True)
    path = tmp_path / "feed.csv"
    path.write_text(
        "source_record_id,subject,item,source,occurred_on\n"
        f"1,{person(85)},court.dishonest.able-but-refuses,court,2026-06-01\n"
        f"2,{person(86)},traffic.red-light,traffic-police,2026-06-01\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0
    export = runner.invoke(app, ["--lang", "zh-CN", "export", str(tmp_path / "exp")])
    rescore = runner.invoke(app, ["--lang", "zh-CN", "rescore", "--from", str(tmp_path / "exp")])
    for result in (export, rescore):
        said = result.stdout + result.stderr
        assert result.exit_code == 0, said
        prose = re.sub(r"/\S+|\S+/\S+|\b[\w.-]+\.parquet\b", "", said)  # paths and list ids stay
        assert english_in([line for line in prose.splitlines() if line.strip()]) == [], said
    assert "写入 2 条记录" in export.stdout and "重新评分" in rescore.stdout, rescore.stdout
    assert "名单 court-dishonest-debtors/dishonest-debtors：" in rescore.stdout, rescore.stdout
