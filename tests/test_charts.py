"""Charts worth looking at (issue 18, point 6): every label whole, honest axes, units named."""

from __future__ import annotations

import datetime as dt
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


def _axis_labels(svg: str) -> list[str]:
    """The texts drawn right-aligned left of the plot: the value axis's labels."""
    return re.findall(
        r'<text x="[0-9.]+" y="[0-9.]+" font-size="12" text-anchor="end" fill="#1b1b1b">([^<]*)</text>', svg
    )


def test_a_tier_rating_is_drawn_by_its_tiers_names_never_by_levels() -> None:
    """Issue 18.6 ("honest axes"): a tier model stores its tiers as levels 0, 1, 2 (an order, not
    points); its chart names the tiers on the axis, best on top, in the page's language, and
    says no number."""
    points = [(dt.date(2025, 3, 1), 0, "bad"), (dt.date(2025, 5, 1), 1, "good")]
    for names, lang in ((["bad", "good", "very-good"], "en"), (["较差", "良好", "很好"], "zh_CN")):
        svg = str(
            charts.tier_history(
                points, tiers=list(enumerate(names)), base=1, start=dt.date(2025, 1, 1),
                end=dt.date(2025, 6, 1), title="t", lang=lang,
            )
        )  # fmt: skip
        assert _axis_labels(svg) == names  # lowest first in the markup, drawn bottom to top
        label_at = r'<text x="[0-9.]+" y="([0-9.]+)" font-size="12" text-anchor="end"'
        ys = [float(y) for y in re.findall(label_at, svg)]
        assert ys == sorted(ys, reverse=True)  # the best tier on top
        assert not re.search(r">\s*[012]\s*<", svg)  # no level drawn as a number
        desc = text_of(svg[svg.index("<desc") : svg.index("</desc>")])
        assert f"{names[1]} at the start" in desc if lang == "en" else f"起始为{names[1]}" in desc
        assert "2025-03-01: " + names[0] in desc and "2025-05-01: " + names[1] in desc
    # a label is never cut: the axis leaves room for the longest name
    long = "very good, and trusted for public procurement"
    svg = str(charts.tier_history([], tiers=[(0, "bad"), (1, long)], base=0, start=dt.date(2025, 1, 1),
                                  end=dt.date(2025, 6, 1), title="t"))  # fmt: skip
    assert long in svg
    left = float(re.search(r'<line x1="([0-9.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert left >= charts._text_width(long)


def test_a_score_chart_names_its_unit_in_the_pages_language() -> None:
    args = dict(base=1000, start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 1), grades=[("A", 960)], title="t")
    en = str(charts.score_history([(dt.date(2025, 3, 1), 950, "A")], **args))  # type: ignore[arg-type]
    zh = str(charts.score_history([(dt.date(2025, 3, 1), 950, "A")], lang="zh_CN", **args))  # type: ignore[arg-type]
    assert ">points</text>" in en and "Score from 2025-01-01" in en
    assert ">分</text>" in zh and "的分数：起始 1000，结束 950" in zh
    assert "bars in" not in text_of(str(charts.bar_chart([("a", 1.0)], title="t", unit="人", lang="zh_CN")))


def test_a_long_chinese_label_is_wrapped_whole_inside_the_chart() -> None:
    """Chinese has no spaces to break at: a long Chinese title (a measure's, on the transparency
    page) is broken between characters, each line narrow enough to stay inside the chart."""
    long = "不得以被执行人财产支付子女入学就读高收费私立学校"
    svg = str(charts.bar_chart([(long, 3.0), ("最高 5,000 元的消费信贷", 1.0)], title="t", unit="次"))
    lines = re.findall(r"<tspan [^>]*>([^<]*)</tspan>", svg)
    assert "".join(lines[:-1]) == long and lines[-1] == "最高 5,000 元的消费信贷"  # whole, in order
    assert all(charts._text_width(line, 13) <= 230 - 8 for line in lines)  # none runs off the left
    assert charts._wrap("Rongcheng D list") == ["Rongcheng D list"]
