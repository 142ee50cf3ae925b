"""Chinese pages draw Chinese glyphs in the Chromium the browser tests use (issue 18; decision
0098): with no font that has them, Chromium draws every Chinese character as the same empty
box, and the phone-width tests measure those boxes instead of the text (the committed Chinese
screenshots showed them until 2026-12-07). ``scripts/test.sh`` installs Debian's
``fonts-wqy-microhei`` beside chromium.

How it is seen: each character is drawn on a canvas in the portal's own font stack and its
pixels compared. Different Chinese characters must draw differently, and none like a code
point no font has (U+0378, unassigned), which is the box. ``document.fonts.check`` cannot
tell: it answers for web fonts to load, and is true for a system font that lacks the glyph.
The check is run once more in a Chromium whose fontconfig sees only DejaVu (no Chinese), where
it must fail: it is trusted because it can."""

from __future__ import annotations

import os
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.support.browser import ROOT, chromium

pytestmark = pytest.mark.slow

CSS = ROOT / "src" / "socialcredit" / "web" / "static" / "portal.css"
CHINESE = "信用名单异议"
"""Characters of the portal's Chinese pages (credit, list, objection)."""
BOX = "\u0378"
"""An unassigned code point: no font has it, so Chromium draws its box."""

DRAW = """([family, chars]) => chars.map((ch) => {
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const pen = canvas.getContext('2d');
  pen.font = '48px ' + family; pen.textBaseline = 'top';
  pen.fillText(ch, 4, 4);
  const rgba = pen.getImageData(0, 0, 64, 64).data;
  const alpha = [];
  for (let i = 3; i < rgba.length; i += 4) alpha.push(rgba[i]);
  return alpha;
})"""


def drawn(browser: Browser) -> dict[str, tuple[int, ...]]:
    """Each of :data:`CHINESE` and :data:`BOX` as Chromium draws it in the font of the body of
    a Chinese page styled by the portal's stylesheet: its pixels' coverage."""
    page = browser.new_page()
    try:
        style = CSS.read_text(encoding="utf-8")
        page.set_content(f'<html lang="zh-CN"><style>{style}</style><body><h1>{CHINESE}</h1></body></html>')
        family = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        assert re.search(r"sans-serif", family), family  # the portal's stack, read by the page
        chars = [*CHINESE, BOX]
        images: list[list[int]] = page.evaluate(DRAW, [family, chars])
        return {ch: tuple(img) for ch, img in zip(chars, images, strict=True)}
    finally:
        page.close()


def boxes(images: dict[str, tuple[int, ...]]) -> list[str]:
    """What shows Chinese drawn without its glyphs: a character drawn as the box, two different
    characters drawn alike, or a character drawn with no ink."""
    found = [f"{ch} drawn as the box" for ch in CHINESE if images[ch] == images[BOX]]
    found += [f"{a} drawn as {b}" for a, b in combinations(CHINESE, 2) if images[a] == images[b]]
    found += [f"{ch} has no ink" for ch in CHINESE if not any(images[ch])]
    return found


def test_chinese_is_drawn_with_chinese_glyphs() -> None:
    """In the Chromium the browser tests use, each Chinese character of a portal page is drawn
    as itself: the phone-width tests lay out real glyphs (run ``scripts/test.sh``, or
    ``apt-get install fonts-wqy-microhei``, when this fails)."""
    with chromium() as browser:
        assert boxes(drawn(browser)) == []


def test_the_check_fails_where_no_font_has_chinese(tmp_path: Path) -> None:
    """The same check in a Chromium whose fontconfig sees only DejaVu, which has no Chinese:
    every character is the box, and the check says so."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}/cache</cachedir>"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    env: dict[str, Any] = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    with chromium(env) as browser:
        found = boxes(drawn(browser))
    assert {f"{ch} drawn as the box" for ch in CHINESE} <= set(found), found
