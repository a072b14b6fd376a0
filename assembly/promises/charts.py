"""An indicator over time as an inline SVG line chart, drawn on the server (no script): the same
markup on the page, in the printed booklet and in the PDF.

The chart has an accessible name and description; the page shows the same values as a table.
Time runs left to right in every language; the labels are the reader's, given formatted.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 10


@dataclass
class Series:
    points: list[tuple[dt.date, float]]  # (day, value), oldest first
    start: dt.date
    end: dt.date
    due: dt.date | None
    baseline: float | None
    target: float | None
    maximum: float | None = None  # the top of the scale (100 for percentages); else from the values


def _scale_top(series: Series) -> float:
    if series.maximum is not None:
        return series.maximum
    values = [v for _d, v in series.points] + [v for v in (series.baseline, series.target) if v is not None]
    top = (max(values, default=1.0) or 1.0) * 1.1
    step = 10 ** max(len(str(int(top))) - 1, 0)  # a round top: 6, 50, 700, 8000 …
    return float(-(-top // step) * step)


def indicator_chart(series: Series, *, title: str, description: str, scale_label: Callable[[float], str],
                    chart_id: str) -> Markup:
    """The SVG of `series`: the recorded values as a line, the baseline (grey) and the target
    (green) as dashed lines, the due date as a red dotted line. Its only texts are its name and
    description and the numbers of the scale (digits in any script read the same in both
    directions); the dates and the words of the legend are HTML beside it (`templates/promises/
    _commitment.html`), where the reader's script is laid out correctly on screen and in the PDF."""
    span = max((series.end - series.start).days, 1)
    top = _scale_top(series)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        days = min(max((day - series.start).days, 0), span)
        return round(LEFT + inner_w * days / span, 1)

    def y(value: float) -> float:
        return round(TOP + inner_h * (1 - min(max(value / top, 0), 1)), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
             f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" fill="#fafafa" stroke="#888"/>']
    for fraction in (0, 0.5, 1):  # the scale: 0, half, top
        value = top * fraction
        label = scale_label(value)
        if label:
            parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end" font-size="12" fill="#333">'
                         f'{escape(label)}</text>')
    if series.due is not None:
        parts.append(f'<line x1="{x(series.due)}" y1="{TOP}" x2="{x(series.due)}" y2="{TOP + inner_h}" '
                     f'stroke="#a33" stroke-width="1.5" stroke-dasharray="2 3"/>')
    for value, colour in ((series.baseline, "#666"), (series.target, "#1a6b36")):
        if value is not None:
            parts.append(f'<line x1="{LEFT}" y1="{y(value)}" x2="{WIDTH - RIGHT}" y2="{y(value)}" '
                         f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="6 4"/>')
    if series.points:
        path = " ".join(f"{x(day)},{y(value)}" for day, value in series.points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2d5f8b" stroke-width="2.5"/>')
        for day, value in series.points:
            parts.append(f'<circle cx="{x(day)}" cy="{y(value)}" r="3.5" fill="#2d5f8b"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
