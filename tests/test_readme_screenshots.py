"""The pictures the README and docs show are the browser tests' (issue 18: "the screenshots in docs
are refreshed", "the README shows the subject page in Chinese beside the English one"): each image
named is committed, and a browser test saves it under that name, so
``SOCIALCREDIT_UPDATE_SCREENSHOTS=1`` refreshes every one of them and none is a leftover."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMED = re.compile(r"docs/screenshots/([A-Za-z0-9_-]+)\.png")
SAVED = re.compile(r'(?:shot(?:_down_to)?\([^,()]+, |SHOTS / )f?"([A-Za-z0-9_{}-]+?)(?:\.png)?"')
"""A browser test saving a screenshot: ``shot(page, "name")``, ``shot_down_to(page, "name", …)``
or ``page.screenshot(path=str(SHOTS / f"name-{lang}.png"))``."""


def named_in_docs() -> set[str]:
    """Every screenshot the README and the docs show, by name."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    return {m for page in pages for m in NAMED.findall(page.read_text(encoding="utf-8"))}


def saved_by_browser_tests() -> str:
    """The browser tests' sources, where each screenshot is saved by its name."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").glob("test_e2e*.py")))


def test_every_screenshot_shown_is_committed_and_made_by_a_browser_test() -> None:
    names = named_in_docs()
    assert {"subject", "subject-zh"} <= names  # the subject page in both languages, side by side
    missing = [n for n in sorted(names) if not (ROOT / "docs" / "screenshots" / f"{n}.png").is_file()]
    assert missing == []
    saved = SAVED.findall(saved_by_browser_tests())
    made = {n for n in saved if "{lang}" not in n}
    made |= {n.replace("{lang}", lang) for n in saved for lang in ("en", "zh-CN") if "{lang}" in n}
    assert [n for n in sorted(names) if n not in made] == [], made
