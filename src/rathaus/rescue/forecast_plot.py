"""Server-rendered SVG of a forecast with its 80 % and 95 % bands (no JavaScript, no styles).

Only presentation attributes are used, so the picture passes a strict Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import numpy as np

from rathaus.rescue.forecasting import Forecast

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 40


def forecast_svg(
    forecast: Forecast,
    *,
    history_dates: list[dt.date],
    history_values: list[float],
    title: str,
    labels: dict[str, str],
) -> str:
    """An accessible SVG line chart: history, forecast mean, 80 % and 95 % bands."""
    days = forecast.dates()
    all_days = history_dates + days
    if not all_days:
        return ""
    lo_values = [v for v in history_values if v == v] + list(forecast.lower95)
    hi_values = [v for v in history_values if v == v] + list(forecast.upper95)
    y_min, y_max = float(min(lo_values)), float(max(hi_values))
    if y_max <= y_min:
        y_max = y_min + 1.0
    pad = (y_max - y_min) * 0.05
    y_min, y_max = max(0.0, y_min - pad), y_max + pad
    first, last = all_days[0], all_days[-1]
    span = max((last - first).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return LEFT + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - y_min) / (y_max - y_min))

    def line(points: list[tuple[dt.date, float]]) -> str:
        return " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points if v == v)

    def band(lower: np.ndarray, upper: np.ndarray) -> str:
        top = [(d, float(v)) for d, v in zip(days, upper, strict=True)]
        bottom = [(d, float(v)) for d, v in zip(days, lower, strict=True)][::-1]
        return line(top + bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="fc-title" width="100%">',
        f'<title id="fc-title">{escape(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        f'stroke="#6b6b6b" stroke-width="1"/>',
    ]
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#e0e0e0" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#1b1b1b">{value:.0f}</text>'
        )
    month_starts = sorted({d.replace(day=1) for d in all_days if d.replace(day=1) >= first})
    for d in month_starts:
        parts.append(
            f'<line x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            f'stroke="#e0e0e0" stroke-width="1"/>'
            f'<text x="{x(d) + 3:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="11" '
            f'fill="#1b1b1b">{d:%Y-%m}</text>'
        )
    parts += [
        f'<polygon points="{band(forecast.lower95, forecast.upper95)}" fill="#c6dbef"/>',
        f'<polygon points="{band(forecast.lower80, forecast.upper80)}" fill="#6baed6"/>',
        f'<polyline points="{line(list(zip(history_dates, history_values, strict=True)))}" '
        f'fill="none" stroke="#1b1b1b" stroke-width="1.5"/>',
        f'<polyline points="{line(list(zip(days, map(float, forecast.mean), strict=True)))}" '
        f'fill="none" stroke="#08306b" stroke-width="2" stroke-dasharray="5 3"/>',
    ]
    legend = [
        ("#1b1b1b", labels["history"]),
        ("#08306b", labels["forecast"]),
        ("#6baed6", labels["band80"]),
        ("#c6dbef", labels["band95"]),
    ]
    lx = LEFT
    for colour, text in legend:
        parts.append(
            f'<rect x="{lx}" y="{HEIGHT - 16}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{HEIGHT - 6}" font-size="12" fill="#1b1b1b">'
            f"{escape(text)}</text>"
        )
        lx += 28 + 7 * len(text)
    parts.append("</svg>")
    return "".join(parts)
