"""Charts as inline SVG, drawn on the server.

Why server-side SVG: a chart then needs no script, no build step and no third-party code, works
with scripts off, prints, and can be checked in a test like any other markup. Each chart is an
``<svg role="img">`` with a title and a description stating its data in words, and the pages
that use one also give the numbers in a table, so nothing is conveyed by the picture alone.

>>> import datetime as dt
>>> svg = score_history([(dt.date(2025, 3, 1), 950, "A")], base=1000,
...                     start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 1), grades=[("A", 960)])
>>> svg.startswith('<svg') and 'role="img"' in svg and "950" in svg
True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from markupsafe import Markup, escape

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


def score_history(
    points: Sequence[tuple[dt.date, int, str]],
    *,
    base: int,
    start: dt.date,
    end: dt.date,
    grades: Sequence[tuple[str, float]],
    title: str = "Score history",
    chart_id: str = "chart",
) -> Markup:
    """A step chart of a score over time, from ``points`` as
    :func:`socialcredit.scoring.points.score_timeline` gives them (the score at the end of each
    day it changed), with a dashed line at each grade threshold in view."""
    end = max(end, start + dt.timedelta(days=1))
    before = [p for p in points if p[0] < start]
    value = before[-1][1] if before else base
    steps: list[tuple[dt.date, int]] = [(start, value)]
    for day, score, _grade in points:
        if start <= day <= end:
            steps.append((day, score))
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
    for day in _ticks(start, end):
        xx = x(day)
        label = day.isoformat()[:7] if span > 120 else day.isoformat()
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="{GRID}" '
            f'stroke-width="0.5"/><text x="{xx:.1f}" y="{HEIGHT - 12}" font-size="12" '
            f'text-anchor="middle" fill="{INK}">{label}</text>'
        )
    path = [f"M{x(steps[0][0]):.1f},{y(steps[0][1]):.1f}"]
    for day, v in steps[1:]:
        path.append(f"H{x(day):.1f}V{y(v):.1f}")
    path.append(f"H{x(end):.1f}")
    parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    for day, v in steps[1:]:
        parts.append(f'<circle cx="{x(day):.1f}" cy="{y(v):.1f}" r="3" fill="{LINE}"/>')
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="{INK}"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{INK}"/>'
    )
    changes = "; ".join(f"{d.isoformat()}: {v}" for d, v in steps[1:]) or "no change"
    desc = (
        f"Score from {start.isoformat()} to {end.isoformat()}: {steps[0][1]} at the start, "
        f"{steps[-1][1]} at the end. Changes: {changes}."
    )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>{"".join(parts)}</svg>'
    )


def bar_chart(
    rows: Sequence[tuple[str, float]], *, title: str, unit: str = "", chart_id: str = "bars"
) -> Markup:
    """Horizontal bars, one per ``(label, value)``, each labelled with its value."""
    label_w, value_w, bar_h, gap = 220, 70, 22, 8
    height = TOP + len(rows) * (bar_h + gap) + 8
    top = max((v for _, v in rows), default=0) or 1
    plot_w = WIDTH - label_w - value_w
    parts: list[str] = []
    for i, (label, value) in enumerate(rows):
        yy = TOP + i * (bar_h + gap)
        w = max(plot_w * value / top, 1 if value else 0)
        shown = escape(label if len(label) <= 32 else label[:31] + "…")
        parts.append(
            f'<text x="{label_w - 8}" y="{yy + bar_h * 0.7:.1f}" font-size="13" text-anchor="end" '
            f'fill="{INK}">{shown}</text>'
            f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar_h}" fill="{LINE}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{yy + bar_h * 0.7:.1f}" font-size="13" fill="{INK}">'
            f"{_fmt(value)}{escape(unit)}</text>"
        )
    desc = "; ".join(f"{label}: {_fmt(v)}{unit}" for label, v in rows) or "no data"
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>{"".join(parts)}</svg>'
    )
