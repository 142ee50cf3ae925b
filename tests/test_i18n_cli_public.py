"""``public transparency`` and ``public sources`` in the reader's language (issue 18.2; decision
0095): a tier rating's groups by their grades, named as the tiers are in Chinese, never a "mean"
(issue 18: "a mean 1.2 is shown for a tier rating"; the command line printed "None"); the
sources table's columns in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.cli import app
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import SubjectRow
from tests.conftest import person
from tests.support.cli import runner
from tests.support.english import english_in

WIDE = {"COLUMNS": "400", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
P, Q = person(41), person(42)


@pytest.fixture
def tiered(system: System, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> System:
    """Two people of one district with an Honest Shanghai rating, on the command line's database."""
    del env
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    system.register(
        [
            SubjectRow(P, "person", "Zhang Wei", district="Huancui"),
            SubjectRow(Q, "person", "Li Na", district="Huancui"),
        ]
    )
    rows = [
        {"subject": code, "item": "honest-shanghai.applied", "source": "self", "source_record_id": f"a-{n}",
         "occurred_on": "2026-05-01"}
        for n, code in enumerate((P, Q))
    ]  # fmt: skip
    assert system.ingest(list(enumerate(rows, 1)), origin="test", principal=system.operator()).accepted == 2
    return system


def test_a_tier_rating_is_reported_by_its_grades_not_a_mean(tiered: System) -> None:
    zh = runner.invoke(app, ["--lang", "zh-CN", "public", "transparency"], env=WIDE)
    en = runner.invoke(app, ["--lang", "en", "public", "transparency"], env=WIDE)
    assert zh.exit_code == en.exit_code == 0, zh.output
    tier_zh = next(line for line in zh.stdout.splitlines() if line.strip().startswith("honest-shanghai 按区"))
    tier_en = next(line for line in en.stdout.splitlines() if "honest-shanghai by district" in line)
    assert "None" not in tier_zh and "None" not in tier_en, (tier_zh, tier_en)
    grade_en = tier_en.split("Huancui: ")[1].split()[0]
    assert f"Huancui: {grade_en} 2" in tier_en, tier_en  # both people, by their tier's name
    assert "Huancui: " in tier_zh and tier_zh.split("Huancui: ")[1][0] >= "\u4e00", tier_zh
    assert english_in([tier_zh]) == []


def test_the_sources_columns_are_chinese(tiered: System) -> None:
    zh = runner.invoke(app, ["--lang", "zh-CN", "public", "sources"], env=WIDE)
    assert zh.exit_code == 0, zh.output
    header = next(line for line in zh.stdout.splitlines() if "来源" in line)
    for chinese in ("来源", "记录", "被推翻", "比例", "更正天数中位数", "移除", "逾期报告", "逾期天数中位数"):
        assert chinese in header, header
    assert english_in([header.replace("┃", " ")]) == [] and "source" not in header, header
    en = runner.invoke(app, ["--lang", "en", "public", "sources"], env=WIDE)
    assert "median days to correct" in en.stdout and "self" in en.stdout
