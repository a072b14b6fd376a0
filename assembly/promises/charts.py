"""An indicator over time as an inline SVG line chart, drawn on the server (no script): the same
markup on the page, in the printed booklet and in the PDF.

Time runs left to right in every language (as on a calendar on the wall); the labels are the
reader's (Solar Hijri dates and Persian digits in Persian), given already formatted by the caller.
The chart has an accessible name and description; the page shows the same values as a table.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


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
    top = max(values, default=1.0) or 1.0
    return top * 1.15


def indicator_chart(series: Series, *, title: str, description: str, date_label: Callable[[dt.date], str],
                    value_label: Callable[[float], str], baseline_text: str, target_text: str,
                    due_text: str, chart_id: str) -> Markup:
    """The SVG of `series`; texts are escaped here."""
    span = max((series.end - series.start).days, 1)
    top = _scale_top(series)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        days = min(max((day - series.start).days, 0), span)
        return round(LEFT + inner_w * days / span, 1)

    def y(value: float) -> float:
        return round(TOP + inner_h * (1 - min(max(value / top, 0), 1)), 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" direction="ltr">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
             f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" class="chart-area" fill="#fafafa" '
             f'stroke="#888"/>']
    for fraction in (0, 0.5, 1):  # the scale: 0, half, top
        value = top * fraction
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4}" text-anchor="end" font-size="11" fill="#333">'
                     f'{escape(value_label(value))}</text>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 22}" text-anchor="start" font-size="11" fill="#333">'
                 f'{escape(date_label(series.start))}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 22}" text-anchor="end" font-size="11" fill="#333">'
                 f'{escape(date_label(series.end))}</text>')
    if series.due is not None:
        parts.append(f'<line x1="{x(series.due)}" y1="{TOP}" x2="{x(series.due)}" y2="{TOP + inner_h}" '
                     f'stroke="#a33" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{x(series.due)}" y="{HEIGHT - 6}" text-anchor="middle" font-size="11" fill="#a33">'
                     f'{escape(due_text)}</text>')
    for value, text, colour in ((series.baseline, baseline_text, "#666"), (series.target, target_text, "#1a6b36")):
        if value is None:
            continue
        parts.append(f'<line x1="{LEFT}" y1="{y(value)}" x2="{WIDTH - RIGHT}" y2="{y(value)}" stroke="{colour}" '
                     f'stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{WIDTH - RIGHT - 4}" y="{y(value) - 4}" text-anchor="end" font-size="11" '
                     f'fill="{colour}">{escape(text)}</text>')
    if series.points:
        path = " ".join(f"{x(day)},{y(value)}" for day, value in series.points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2d5f8b" stroke-width="2.5"/>')
        for day, value in series.points:
            parts.append(f'<circle cx="{x(day)}" cy="{y(value)}" r="3.5" fill="#2d5f8b"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
