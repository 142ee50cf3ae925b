"""Charts worth looking at (issue 18, point 6): every label whole, honest axes, units named."""

from __future__ import annotations

import html
import re

from socialcredit.web import charts

LONG = "List of Dishonest Judgment Debtors (Supreme People's Court, Art. 1)"


def text_of(svg: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", svg).split()))


def test_every_label_is_whole_and_the_unit_named() -> None:
    svg = str(charts.bar_chart([(LONG, 45.0), ("Rongcheng D list", 7.0)], title="t", unit="subjects"))
    assert "…" not in svg
    assert all(word in text_of(svg) for word in LONG.split())
    assert "bars in subjects" in svg and "45 subjects" in svg  # on the axis and in the description


def test_bars_start_at_zero_and_dots_show_small_differences() -> None:
    bars = str(charts.bar_chart([("a", 988.0), ("b", 992.0)], title="t", unit="points"))
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', bars)]
    assert abs(widths[0] / widths[1] - 988 / 992) < 1e-3  # lengths from zero, in proportion
    dots = str(charts.dot_chart([("a", 988.0), ("b", 992.0)], title="t", unit="points (mean score)"))
    xs = [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', dots)]
    assert xs[1] - xs[0] > 0.5 * (charts.WIDTH - 270)  # a visible gap, not a pixel
    assert "not from 0" in dots and "points (mean score)" in dots
