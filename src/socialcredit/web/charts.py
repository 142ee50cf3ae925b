"""Charts as inline SVG, drawn on the server.

Why server-side SVG: a chart then needs no script, no build step and no third-party code, works
with scripts off, prints, and can be checked in a test like any other markup. Each chart is an
``<svg role="img">`` with a title and a description stating its data in words, and the pages
that use one also give the numbers in a table, so nothing is conveyed by the picture alone.

Issue 18.6 ("every label whole, honest axes, units named"): every label is drawn whole (wrapped,
never cut), a numeric axis names its unit, and a rating without points (a tier model) is drawn
by its tiers' names (:func:`tier_history`), never as the numeric levels it is stored as. A
chart's own words (axis notes, its description) are in ``lang``, the page's language.

>>> import datetime as dt
>>> svg = score_history([(dt.date(2025, 3, 1), 950, "A")], base=1000,
...                     start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 1), grades=[("A", 960)])
>>> svg.startswith('<svg') and 'role="img"' in svg and "950" in svg
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from socialcredit.i18n import N_, translate

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 60, 16, 34
INK = "#1b1b1b"
LINE = "#005ea5"
GRID = "#b1b4b6"
BAND = "#6f777b"


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:.1f}"


def _ticks(start: dt.date, end: dt.date, count: int = 5) -> list[dt.date]:
    """About ``count`` evenly spaced dates from ``start`` to ``end``, on the first of a month
    when the span is long enough for months to mean something."""
    span = (end - start).days
    if span <= 0:
        return [start]
    out: list[dt.date] = []
    for i in range(count + 1):
        day = start + dt.timedelta(days=span * i / count)
        if span > 120:
            day = day.replace(day=1)
        if start <= day <= end and (not out or day > out[-1]):
            out.append(day)
    return out


def _steps(
    points: Sequence[tuple[dt.date, int, str]], base: int, start: dt.date, end: dt.date
) -> list[tuple[dt.date, int]]:
    """The value at ``start`` (the last change before it, else ``base``), then each change up to
    ``end``."""
    before = [p for p in points if p[0] < start]
    steps = [(start, before[-1][1] if before else base)]
    return steps + [(day, value) for day, value, _grade in points if start <= day <= end]


def _time_and_steps(
    steps: Sequence[tuple[dt.date, int]],
    start: dt.date,
    end: dt.date,
    x: Callable[[dt.date], float],
    y: Callable[[int], float],
    *,
    grid: tuple[float, float] | None,
) -> list[str]:
    """The time axis's labels (months over a long span), with a vertical grid line from
    ``grid[0]`` to ``grid[1]`` when given, and the step line with a dot where it changes."""
    span = (end - start).days
    parts = []
    for day in _ticks(start, end):
        xx = x(day)
        label = day.isoformat()[:7] if span > 120 else day.isoformat()
        if grid is not None:
            parts.append(
                f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{grid[0]}" y2="{grid[1]}" stroke="{GRID}" '
                f'stroke-width="0.5"/>'
            )
        parts.append(
            f'<text x="{xx:.1f}" y="{HEIGHT - 12}" font-size="12" text-anchor="middle" fill="{INK}">'
            f"{label}</text>"
        )
    path = [f"M{x(steps[0][0]):.1f},{y(steps[0][1]):.1f}"]
    path += [f"H{x(day):.1f}V{y(v):.1f}" for day, v in steps[1:]]
    path.append(f"H{x(end):.1f}")
    parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    parts += [f'<circle cx="{x(day):.1f}" cy="{y(v):.1f}" r="3" fill="{LINE}"/>' for day, v in steps[1:]]
    return parts


def score_history(
    points: Sequence[tuple[dt.date, int, str]],
    *,
    base: int,
    start: dt.date,
    end: dt.date,
    grades: Sequence[tuple[str, float]],
    title: str = "Score history",
    chart_id: str = "chart",
    lang: str | None = None,
) -> Markup:
    """A step chart of a score over time, from ``points`` as
    :func:`socialcredit.scoring.points.score_timeline` gives them (the score at the end of each
    day it changed), with a dashed line at each grade threshold in view, and the unit (points)
    named on the axis."""
    end = max(end, start + dt.timedelta(days=1))
    steps = _steps(points, base, start, end)
    values = [v for _, v in steps]
    lo, hi = min(values), max(values)
    pad = max(25, (hi - lo) * 0.15)
    lo_v, hi_v = lo - pad, hi + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (end - start).days

    def x(day: dt.date) -> float:
        return LEFT + plot_w * (day - start).days / span

    def y(v: float) -> float:
        return TOP + plot_h * (hi_v - v) / (hi_v - lo_v)

    parts: list[str] = []
    for label, threshold in grades:
        if lo_v < threshold < hi_v:
            yy = y(threshold)
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{BAND}" '
                f'stroke-dasharray="4 4" stroke-width="1"/>'
                f'<text x="{LEFT + plot_w + 4}" y="{yy + 4:.1f}" font-size="12" fill="{INK}">'
                f"{escape(label)} ≥ {_fmt(threshold)}</text>"
            )
    for v in (lo, hi) if lo != hi else (lo,):
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" font-size="12" text-anchor="end" fill="{INK}">'
            f"{v}</text>"
        )
    parts += _time_and_steps(steps, start, end, x, y, grid=(TOP, TOP + plot_h))
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="{INK}"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{INK}"/>'
        f'<text x="4" y="{TOP - 4}" font-size="12" fill="{BAND}">{escape(translate(POINTS, lang))}</text>'
    )
    changes = "; ".join(f"{d.isoformat()}: {v}" for d, v in steps[1:]) or translate(NO_CHANGE, lang)
    desc = N_(
        "Score from {start} to {end}: {first} at the start, {last} at the end. Changes: {changes}.",
        start=start.isoformat(),
        end=end.isoformat(),
        first=steps[0][1],
        last=steps[-1][1],
        changes=changes,
    )
    return _svg(chart_id, title, translate(desc, lang), HEIGHT, parts)


POINTS = N_("points")
NO_CHANGE = N_("no change")


def _text_width(text: str, size: int = 12) -> float:
    """About how wide ``text`` is drawn at ``size`` px: a CJK character is a full em, a Latin
    one a little over half, so a margin can be made wide enough for a label whole."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.62 for ch in text)


def tier_history(
    points: Sequence[tuple[dt.date, int, str]],
    *,
    tiers: Sequence[tuple[int, str]],
    base: int,
    start: dt.date,
    end: dt.date,
    title: str,
    chart_id: str = "chart",
    lang: str | None = None,
) -> Markup:
    """A step chart of a rating without points (a tier model) over time: one row per tier,
    labelled by its name (``tiers``: each level with its name in the page's language, lowest
    first), the line stepping from tier to tier on the days it changed. The levels a tier model
    stores are an order, not a quantity: no number is drawn, and the rows are evenly spaced."""
    names = dict(tiers)
    levels = sorted(names)
    end = max(end, start + dt.timedelta(days=1))
    steps = _steps(points, base, start, end)
    left = max(LEFT, 14 + max(_text_width(n) for n in names.values()))
    plot_w, plot_h = WIDTH - left - 24, HEIGHT - TOP - BOTTOM
    span = (end - start).days
    row = plot_h / len(levels)

    def x(day: dt.date) -> float:
        return left + plot_w * (day - start).days / span

    def y(level: int) -> float:  # the middle of the tier's row; the best tier on top
        return TOP + row * (len(levels) - 1 - levels.index(level) + 0.5)

    parts: list[str] = []
    for level in levels:
        yy = y(level)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{GRID}" '
            f'stroke-dasharray="2 3" stroke-width="1"/><text x="{left - 8:.1f}" y="{yy + 4:.1f}" '
            f'font-size="12" text-anchor="end" fill="{INK}">{escape(names[level])}</text>'
        )
    parts += _time_and_steps(steps, start, end, x, y, grid=None)
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{INK}"/>'
    )
    changes = "; ".join(f"{d.isoformat()}: {names[v]}" for d, v in steps[1:]) or translate(NO_CHANGE, lang)
    desc = N_(
        "Tier from {start} to {end}: {first} at the start, {last} at the end. Changes: {changes}.",
        start=start.isoformat(),
        end=end.isoformat(),
        first=names[steps[0][1]],
        last=names[steps[-1][1]],
        changes=changes,
    )
    return _svg(chart_id, title, translate(desc, lang), HEIGHT, parts)


def _wrap(label: str, width: float = 216, size: int = 13) -> list[str]:
    """A label over lines at most ``width`` px wide at ``size`` px, never cut short: broken
    between words, and between any two Chinese characters (Chinese has no spaces to break at,
    so a long Chinese title would otherwise run off the chart's left edge). A single word wider
    than a line keeps a line of its own, whole."""
    lines: list[str] = []
    for space, token in re.findall(
        r"(\s*)([\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]|[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+)",
        label,
    ):
        joined = (lines[-1] + (" " if space else "") + token) if lines else token
        if lines and _text_width(joined, size) <= width:
            lines[-1] = joined
        else:
            lines.append(token)
    return lines or [""]


def _svg(chart_id: str, title: str, desc: str, height: float, parts: Sequence[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>{"".join(parts)}</svg>'
    )


def _rows_layout(rows: Sequence[tuple[str, float]]) -> tuple[list[list[str]], list[float], float]:
    """Each row's label lines, each row's top, and the chart's height."""
    lines = [_wrap(label) for label, _ in rows]
    tops, y = [], float(TOP)
    for ls in lines:
        tops.append(y)
        y += max(22, 16 * len(ls) + 6) + 8
    return lines, tops, y + 28


def _label(lines: list[str], x: float, top: float) -> str:
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if i == 0 else 16}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text x="{x}" y="{top + 15:.1f}" font-size="13" text-anchor="end" fill="{INK}">{spans}</text>'


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str,
    chart_id: str = "bars",
    lang: str | None = None,
) -> Markup:
    """Horizontal bars from zero, one per ``(label, value)``: every label whole (wrapped, never
    cut), each bar labelled with its value, and the unit named under the axis. Bars always start
    at zero, so their lengths compare honestly; for values that differ little against their size
    (mean scores), use :func:`dot_chart`."""
    label_w, value_w = 230, 90
    lines, tops, height = _rows_layout(rows)
    top = max((v for _, v in rows), default=0) or 1
    plot_w = WIDTH - label_w - value_w
    parts: list[str] = []
    for (_label_text, value), ls, yy in zip(rows, lines, tops, strict=True):
        bar_h = max(22, 16 * len(ls) + 6)
        w = max(plot_w * value / top, 1 if value else 0)
        parts.append(
            _label(ls, label_w - 8, yy)
            + f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar_h}" fill="{LINE}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{yy + 15:.1f}" font-size="13" fill="{INK}">'
            f"{_fmt(value)}{escape(_suffix(unit))}</text>"
        )
    axis = N_("0; bars in {unit}", unit=unit)
    parts.append(
        f'<line x1="{label_w}" y1="{TOP - 4}" x2="{label_w}" y2="{height - 26:.1f}" stroke="{GRID}"/>'
        f'<text x="{label_w}" y="{height - 8:.1f}" font-size="12" fill="{BAND}">'
        f"{escape(translate(axis, lang))}</text>"
    )
    desc = "; ".join(f"{label}: {_fmt(v)} {unit}" for label, v in rows) or translate(NO_DATA, lang)
    return _svg(chart_id, title, desc, height, parts)


NO_DATA = N_("no data")


def _suffix(unit: str) -> str:
    return unit if unit == "%" else ""


def dot_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str,
    chart_id: str = "dots",
    lang: str | None = None,
) -> Markup:
    """One dot per ``(label, value)`` on an axis spanning the values (with a margin), its ticks
    and unit named, so that 988 and 992 look as different as they are; the axis is labelled as not
    starting at zero, since a dot's position, not a bar's length, carries the value."""
    label_w, right = 230, 40
    lines, tops, height = _rows_layout(rows)
    values = [v for _, v in rows]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = max((hi - lo) * 0.15, 1.0)
    lo, hi = lo - pad, hi + pad
    plot_w = WIDTH - label_w - right

    def x(v: float) -> float:
        return label_w + plot_w * (v - lo) / (hi - lo)

    parts: list[str] = []
    axis_y = height - 26
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(
            f'<line x1="{x(v):.1f}" y1="{TOP - 4}" x2="{x(v):.1f}" y2="{axis_y:.1f}" stroke="{GRID}" '
            f'stroke-dasharray="2 3"/><text x="{x(v):.1f}" y="{axis_y + 14:.1f}" font-size="12" '
            f'text-anchor="middle" fill="{BAND}">{_fmt(round(v, 1))}</text>'
        )
    for (_label_text, value), ls, yy in zip(rows, lines, tops, strict=True):
        cy = yy + 11
        parts.append(
            _label(ls, label_w - 8, yy) + f'<circle cx="{x(value):.1f}" cy="{cy:.1f}" r="6" fill="{LINE}"/>'
            f'<text x="{x(value) + 10:.1f}" y="{cy + 4:.1f}" font-size="13" fill="{INK}">{_fmt(value)}</text>'
        )
    axis = N_("{unit} (axis from {low}, not from 0)", unit=unit, low=_fmt(round(lo, 1)))
    parts.append(
        f'<text x="{WIDTH - right}" y="{height - 0:.1f}" font-size="12" text-anchor="end" fill="{BAND}">'
        f"{escape(translate(axis, lang))}</text>"
    )
    desc = "; ".join(f"{label}: {_fmt(v)} {unit}" for label, v in rows) or translate(NO_DATA, lang)
    return _svg(chart_id, title, desc, height + 4, parts)
